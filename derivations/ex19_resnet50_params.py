"""Exercise 19: the parameters of ResNet-50 (or -101, -152), stem to classifier, stage by stage."""

from fractions import Fraction

from symconv import (
    Exercise,
    Rounded,
    Text,
    Worked,
    batchnorm_params,
    conv_params,
    derive,
    linear_params,
)
from symconv.teaching.domains import Choice, Constraint, MainAnswer

from ._architectures import (
    CONV_BN_CONVENTION,
    RESNET50,
    Conv,
    counts_table,
    resnet_counts,
    resnet_stages,
    stage_working,
    sum_derivation,
    total_of,
)
from ._shared import GROUPS_NOTE


def weights_only(P_conv, P_fc_weights):
    """Convolution and classifier weights: no biases, no BatchNorm."""
    return P_conv + P_fc_weights


def solve(params):
    stem_channels, classes = params["stem_channels"], params["classes"]
    stages = resnet_stages(stem_channels, params["widths"], params["blocks"], params["expansion"])
    features = stages[-1].out_channels
    counts = resnet_counts(Conv("7×7 stem", 7, 3, stem_channels), stages, "bottleneck", features, classes)
    stage_blocks = tuple(block for stage in stages for block in stage_working(stage, "bottleneck"))
    total = sum_derivation([count.total for count in counts], lhs="P")
    fc_weights = linear_params(features, classes, bias=False)
    weights = derive(weights_only, total_of(counts, "weights"), fc_weights, lhs="P_weights", unit="parameters")
    return Worked(
        blocks=(
            Text(
                "Layout of ResNet-{depth} (He et al. 2016) as the common implementations build it, known as "
                '"v1.5": a downsampling block puts its stride on the 3×3 convolution rather than the first 1×1; '
                "where the stride sits changes the cost, not the parameter count. Each bottleneck block reduces "
                "with a 1×1 convolution to its width, filters with a 3×3 at that width, and expands with a 1×1 to "
                "{expansion} times the width, so the stages output {outputs} channels.",
                {
                    "depth": params["depth"],
                    "expansion": params["expansion"],
                    "outputs": ", ".join(str(stage.out_channels) for stage in stages),
                },
            ),
            Text(CONV_BN_CONVENTION),
            Text(
                "Stem: a $K \\times K$ = 7×7 convolution from the $C_{\\text{in}}$ = 3 colour channels to "
                "$C_{\\text{out}}$ = {stem} channels, its BatchNorm, then a 3×3 max pool (no parameters). " + GROUPS_NOTE,
                {"stem": stem_channels},
            ),
            derive(conv_params, 3, stem_channels, 7, bias=False, lhs="P_conv1"),
            derive(batchnorm_params, stem_channels, lhs="P_bn1"),
            *stage_blocks,
            Text(
                "Head: global average pooling (no parameters) and a fully connected layer from $F_{\\text{in}}$ = "
                "{features} pooled features to $F_{\\text{out}}$ = {classes} classes.",
                {"classes": classes, "features": features},
            ),
            derive(linear_params, features, classes, lhs="P_fc"),
            counts_table(counts),
            total,
            Text(
                "Counting only the weights of convolutions ($P_{\\text{conv}}$, the first column of the table) and of "
                "the classifier ($P_{\\text{fc, weights}}$, without its {classes} biases), without BatchNorm:",
                {"classes": classes},
            ),
            weights,
            Text(
                "Leaving out BatchNorm and the classifier's biases changes the count by {percent} %, far inside a "
                "5 % tolerance: the parameters sit in the convolution weights, above all in the 3×3 and 1×1 layers "
                "of the last two stages ({late} % of the total).",
                {
                    "percent": Rounded(Fraction(100 * (total.value - weights.value), total.value), 2),
                    "late": Rounded(Fraction(100 * (counts[-3].total + counts[-2].total), total.value), 1),
                },
            ),
        ),
        answers={
            "params": total.value,
            "params_weights_only": weights.value,
            "conv_weights": total_of(counts, "weights"),
            "batchnorm_params": total_of(counts, "batchnorm"),
            "fc_params": total_of(counts, "classifier"),
        },
        conclusion=Text(
            "{params} parameters (about {mega} M); {weights} of them are convolution and classifier weights.",
            {"params": total.value, "mega": Rounded(Fraction(total.value, 10**6)), "weights": weights.value},
        ),
    )


EXERCISE = Exercise(
    number=19,
    title="Parameters of a bottleneck ResNet",
    question=(
        "Count the learnable parameters of ResNet-{depth} (bottleneck stages of {blocks} blocks with widths {widths}, "
        "expansion {expansion}, {classes} classes) stage by stage, with and without BatchNorm and biases."
    ),
    defaults={**RESNET50, "depth": 50},
    solve=solve,
    topics=("parameters", "ResNet", "bottleneck"),
    # torchvision's three bottleneck depths (He et al. 2016, table 1) and the class counts of common data sets.
    domains={
        "depth": Choice(50, 101, 152),
        "blocks": Choice((3, 4, 6, 3), (3, 4, 23, 3), (3, 8, 36, 3)),
        "classes": Choice(1000, 365, 100, 10),
    },
    constraints=(
        Constraint(
            "the depth counts the layers: the stem, three convolutions per block and the classifier",
            lambda p: p["depth"] == 2 + 3 * sum(p["blocks"]),
        ),
    ),
    main_answer=MainAnswer("params", "the number of learnable parameters"),
)
