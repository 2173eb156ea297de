"""Exercise 30: fine-tuning an ImageNet ResNet-50 on chest X-rays, with the trainable parameters of each phase."""

from fractions import Fraction

from symconv import Exercise, Rounded, Table, Text, Worked, derive, linear_params
from symconv.teaching.domains import IntRange, MainAnswer

from ._architectures import RESNET50, RESNET50_FEATURES, resnet50_counts, total_of


def backbone_params(P_resnet50, P_fc):
    """The pretrained network without its ImageNet classifier."""
    return P_resnet50 - P_fc


def full_model_params(P_backbone, P_head):
    return P_backbone + P_head


def solve(params):
    classes = params["classes"]
    counts = resnet50_counts()
    backbone = derive(
        backbone_params, total_of(counts, "total"), total_of(counts, "classifier"), lhs="P_backbone", unit="parameters"
    )
    head = derive(linear_params, RESNET50_FEATURES, classes, lhs="P_head")
    everything = derive(full_model_params, backbone.value, head.value, lhs="P_phase2", unit="parameters")
    # Gradual unfreezing from the top: every row adds the next part down (the stem last).
    trainable, rows = head.value, [("head (phase 1)", head.value)]
    for count in reversed(counts[:-1]):
        trainable += count.total
        rows.append((f"+ {count.part}", trainable))
    head_share = Rounded(Fraction(100 * head.value, everything.value), 3)
    return Worked(
        blocks=(
            Text(
                "Starting point: torchvision's ResNet-50 with ImageNet weights; its {imagenet} ImageNet classes are "
                "replaced by a new fully connected head for {classes} classes on the {features} pooled features "
                "(parameters of ResNet-50 as worked out in Exercise 19).",
                {"imagenet": RESNET50["classes"], "classes": classes, "features": RESNET50_FEATURES},
            ),
            backbone,
            head,
            Text(
                "Phase 1: train the head alone. Every backbone parameter is frozen and BatchNorm stays in evaluation "
                "mode, so its running statistics remain ImageNet's. A freshly initialised head produces large, noisy "
                "gradients; if they reached the pretrained filters in the first epochs they would wreck features "
                "learned from ImageNet before the head had learned anything. With the backbone frozen the task is a linear classifier on "
                "fixed features: a few epochs at an ordinary learning rate (say $10^{-3}$ with Adam) suffice. "
                "Trainable parameters: $P_{\\text{phase1}} = P_{\\text{head}} = {trainable}$, {share} % of the model.",
                {"trainable": head.value, "share": head_share},
            ),
            Text(
                "Phase 2: unfreeze and fine-tune, with the learning rate ten to a hundred times lower (say "
                "$10^{-4}$ to $10^{-5}$), decaying it and stopping early on the validation metric. The head now gives "
                "sensible gradients, and small steps adapt the filters to radiographs without forgetting what makes "
                "them useful. Early stages (edges, textures) transfer almost as they are, while the late stages "
                "encode ImageNet object parts, so a lower rate for early stages, or unfreezing from the top down as "
                "in the table, is a sound refinement."
            ),
            everything,
            Table(("what trains", "trainable parameters"), tuple(rows)),
            Text(
                "Data. Radiographs are grey: repeat the channel three times (the stem expects colour) and normalise "
                "with the ImageNet mean and standard deviation the weights were trained with. Augment with what "
                "real acquisitions vary in: a few degrees of rotation, small shifts and zooms, brightness and contrast "
                "changes from different exposures. Avoid vertical flips and be wary of horizontal ones: anatomy has a "
                "fixed orientation (the heart sits on the left), so a flipped image is not a plausible patient. Colour "
                "jitter is pointless on grey images."
            ),
            Text(
                "Class balance. Findings are usually rarer than normal studies: weight the cross-entropy by inverse "
                "class frequency or sample balanced batches, report sensitivity, specificity and ROC AUC instead of "
                "accuracy, choose the decision threshold on validation data, and split by patient so that no "
                "patient appears in both training and test sets."
            ),
        ),
        answers={
            "head_params": head.value,
            "trainable_params_phase1": head.value,
            "trainable_params_phase2": everything.value,
            "backbone_params": backbone.value,
        },
        conclusion=Text(
            "Phase 1 trains the {head} parameters of the new head; phase 2 trains all {all} parameters at a lower learning rate.",
            {"head": head.value, "all": everything.value},
        ),
    )


EXERCISE = Exercise(
    number=30,
    title="Transfer learning for chest X-rays",
    question=(
        "You have a few thousand labelled chest X-rays in {classes} classes and an ImageNet-pretrained ResNet-50. "
        "Lay out a fine-tuning recipe, justify each choice, and give the number of trainable parameters in each "
        "phase."
    ),
    defaults={"classes": 2},
    solve=solve,
    topics=("transfer learning", "parameters", "ResNet"),
    # From one yes/no finding to multi-finding label sets (ChestX-ray14 has fourteen findings and "no finding").
    domains={"classes": IntRange(2, 20)},
    main_answer=MainAnswer("trainable_params_phase2", "the number of trainable parameters in phase 2 (the whole model)"),
)
