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
    classes, per_class = params["classes"], params["images_per_class"]
    images = classes * per_class
    counts = resnet50_counts()
    backbone = derive(
        backbone_params, total_of(counts, "total"), total_of(counts, "classifier"), lhs="P_backbone", unit="parameters"
    )
    head = derive(linear_params, RESNET50_FEATURES, classes, lhs="P_head")
    everything = derive(full_model_params, backbone.value, head.value, lhs="P_phase2", unit="parameters")
    # Gradual unfreezing from the top: every row adds the next part down (the stem last).
    trainable, rows = head.value, [("head (phase 1)", head.value, Rounded(Fraction(head.value, images), 0))]
    for count in reversed(counts[:-1]):
        trainable += count.total
        rows.append((f"+ {count.part}", trainable, Rounded(Fraction(trainable, images), 0)))
    stage4 = rows[1][1]
    head_share = Rounded(Fraction(100 * head.value, everything.value), 3)
    folds = 5
    return Worked(
        blocks=(
            Text(
                "Starting point: ResNet-50 with ImageNet weights (its parameters as counted in Exercise 19). Its "
                "{imagenet}-class classifier is replaced by a new fully connected head for {classes} classes on the "
                "{features} pooled features. The pretrained backbone is the whole network, $P_{\\text{resnet50}}$, without "
                "its ImageNet classifier, $P_{\\text{fc}}$; the new head maps $F_{\\text{in}}$ = {features} features to "
                "$F_{\\text{out}}$ = {classes} classes.",
                {"imagenet": RESNET50["classes"], "classes": classes, "features": RESNET50_FEATURES},
            ),
            backbone,
            head,
            Text(
                "What the data allow. {per_class} images per class make {images} labelled images in all. Fine-tuning "
                "the whole network, {all} parameters, would ask each image to pin down about {per_image} of them, "
                "against about {head_per_image} for the head alone. Every choice below follows from that ratio: "
                "measure with cross-validation, train no more parameters than the data support, regularise "
                "strongly, and start from the best prior available.",
                {
                    "per_class": per_class,
                    "images": images,
                    "all": everything.value,
                    "per_image": Rounded(Fraction(everything.value, images), 0),
                    "head_per_image": Rounded(Fraction(head.value, images), 0),
                },
            ),
            Text(
                "Evaluation. A single validation split of a few dozen images gives an accuracy or AUC uncertain by "
                "several points, too coarse to choose between recipes. Split by patient (no patient in two folds), "
                "use stratified {folds}-fold cross-validation ({val} validation images per fold), take every decision "
                "below on the mean over the folds, and keep a test set, or better an external one from another "
                "hospital, untouched for the final figure, reported with its confidence interval.",
                {"folds": folds, "val": images // folds},
            ),
            Text(
                "Phase 1: train the head alone (a linear probe). Every backbone parameter is frozen and BatchNorm "
                "stays in inference mode, so its running statistics remain ImageNet's. A freshly initialised head "
                "produces large, noisy gradients; reaching the pretrained filters in the first epochs they would "
                "damage features learned from ImageNet before the head had learned anything. With the backbone "
                "frozen the task is a regularised linear classifier on fixed features, a few epochs at an ordinary "
                "learning rate (say $10^{-3}$ with Adam), and with this little data it is a strong baseline that "
                "later phases must beat. Trainable parameters: $P_{\\text{phase1}} = P_{\\text{head}} = {trainable}$, "
                "{share} % of the model.",
                {"trainable": head.value, "share": head_share},
            ),
            Text(
                "Phase 2: unfreeze from the top down, with the learning rate ten to a hundred times lower (say "
                "$10^{-4}$ to $10^{-5}$), decaying it and stopping early on each fold's validation metric. Stage 4 "
                "goes first ({stage4} trainable parameters): the late stages encode ImageNet object parts and need "
                "to adapt most, while early stages (edges, textures) transfer to radiographs almost as they are. "
                "Unfreeze the next stage down only while the cross-validated metric improves; with a few hundred "
                "images the search often stops well before the stem, and fine-tuning everything is the last step, not "
                "the default:",
                {"stage4": stage4},
            ),
            everything,
            Table(("what trains", "trainable parameters", "per labelled image"), tuple(rows)),
            Text(
                "BatchNorm when fine-tuning. In a frozen part, BatchNorm must stay in inference mode: in training "
                "mode its running mean and variance are overwritten by every forward pass, whether or not the "
                "weights receive gradients, and the frozen filters after it would see inputs scaled differently from "
                "those they were trained on. In an unfrozen part, batch statistics are only as good as the batch, "
                "and at high resolution a device holds few radiographs; keeping the ImageNet running statistics "
                "fixed (learning only the scale and shift), or re-estimating them once on the training images after "
                "fine-tuning, avoids training on noisy statistics."
            ),
            Text(
                "Regularisation. Weight decay larger than ImageNet's (tuned by cross-validation), early stopping, "
                "dropout before the head or label smoothing, and augmentation with what real acquisitions vary in: "
                "a few degrees of rotation, small shifts and zooms, brightness and contrast changes from different "
                "exposures. Avoid vertical flips and be wary of horizontal ones: anatomy has a fixed orientation "
                "(the heart sits on the left), so a flipped image is not a plausible patient. At test time the "
                "{folds} fold models can be averaged, an ensemble that the data already paid for.",
                {"folds": folds},
            ),
            Text(
                "Input. Radiographs are grey: repeat the channel three times (the stem expects colour) and normalise "
                "with the ImageNet mean and standard deviation the weights were trained with. Findings such as small "
                "nodules or thin lines can vanish when a radiograph thousands of pixels wide is shrunk to ImageNet's "
                "224×224; the network ends in global average pooling, so it accepts larger inputs unchanged, and "
                "448×448 or 512×512 keeps more detail at 4 to {cost} times the multiply-accumulates (cost grows "
                "with the area) and fewer images per batch, one more reason to keep BatchNorm's statistics fixed.",
                {"cost": Rounded(Fraction(512**2, 224**2), 1)},
            ),
            Text(
                "Pretraining. ImageNet is not the only start, nor for radiographs necessarily the best. Raghu et al. "
                "(2019) found that ImageNet features help medical imaging less than their reputation suggests when "
                "labelled data are plentiful; with {per_class} images per class, though, the prior decides much of "
                "the result. A backbone pretrained on large chest X-ray collections, supervised on ChestX-ray14 "
                "(Wang et al. 2017) or CheXpert (Irvin et al. 2019) or self-supervised on unlabelled radiographs, "
                "has already learned this domain's anatomy and textures and is the better start where one is "
                "available; the recipe above stays the same.",
                {"per_class": per_class},
            ),
            Text(
                "Classes in deployment. The training set is balanced by construction, patients are not: a finding "
                "may be rare in the population the model will see. Report sensitivity, specificity and ROC AUC "
                "rather than accuracy, and choose the decision threshold on the validation folds for the expected "
                "prevalence."
            ),
        ),
        answers={
            "head_params": head.value,
            "trainable_params_phase1": head.value,
            "trainable_params_stage4": stage4,
            "trainable_params_phase2": everything.value,
            "backbone_params": backbone.value,
            "images": images,
        },
        conclusion=Text(
            "With {images} labelled images: cross-validate by patient; phase 1 trains the {head} parameters of the "
            "new head; phase 2 unfreezes from the top at a lower learning rate, {stage4} parameters with stage 4 and "
            "at most all {all}, as far as cross-validation supports; BatchNorm statistics stay fixed in frozen "
            "parts; strong regularisation, higher input resolution and, where available, a backbone pretrained on "
            "radiographs.",
            {"images": images, "head": head.value, "stage4": stage4, "all": everything.value},
        ),
    )


EXERCISE = Exercise(
    number=30,
    title="Transfer learning for chest X-rays",
    question=(
        "You have {images_per_class} labelled chest X-rays per class in {classes} classes and an ImageNet-pretrained "
        "ResNet-50. Lay out a transfer-learning recipe, justify each choice, and give the number of trainable "
        "parameters in each phase."
    ),
    defaults={"classes": 2, "images_per_class": 200},
    solve=solve,
    topics=("transfer learning", "parameters", "ResNet"),
    # From one yes/no finding to multi-finding label sets (ChestX-ray14 has fourteen findings and "no finding").
    domains={"classes": IntRange(2, 20)},
    main_answer=MainAnswer(
        "trainable_params_phase2", "the number of trainable parameters once phase 2 has unfrozen the whole model"
    ),
)
