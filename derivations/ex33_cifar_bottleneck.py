"""Exercise 33: a CIFAR ResNet with bottleneck blocks against the basic-block ResNet of the same depth rule."""

from symconv import (
    Exercise,
    Table,
    Text,
    Worked,
    batchnorm_params,
    conv_params,
    derive,
    linear_params,
)
from symconv.teaching.domains import Choice, MainAnswer

from ._architectures import (
    CONV_BN_CONVENTION,
    Conv,
    counts_table,
    resnet_counts,
    resnet_stages,
    stage_working,
    sum_derivation,
    total_of,
)
from ._shared import GROUPS_NOTE

# Weighted layers per block on the main path: the basic block has two convolutions, the bottleneck three.
CONVS_PER_BLOCK = {"basic": 2, "bottleneck": 3}


def depth(n_stages, n_blocks, L_block):
    """Stem convolution + the blocks' convolutions + the classifier (shortcuts are not counted)."""
    return 1 + n_stages * n_blocks * L_block + 1


def network_working(params, block, expansion, stem_worked=True):
    """Stem, stages, head and total of one CIFAR ResNet, and its counts (the stem worked out once, then cited)."""
    stem_channels, classes, widths = params["stem_channels"], params["classes"], params["widths"]
    stages = resnet_stages(stem_channels, widths, (params["blocks_per_stage"],) * len(widths), expansion)
    features = stages[-1].out_channels
    counts = resnet_counts(Conv("3×3 stem", 3, 3, stem_channels), stages, block, features, classes)
    stem = (
        (
            Text(
                "Stem: a $K \\times K$ = 3×3 convolution from the $C_{\\text{in}}$ = 3 colour channels to "
                "$C_{\\text{out}}$ = {stem} channels and its BatchNorm. " + GROUPS_NOTE,
                {"stem": stem_channels},
            ),
            derive(conv_params, 3, stem_channels, 3, bias=False, lhs="P_stem"),
            derive(batchnorm_params, stem_channels, lhs="P_bn_stem"),
        )
        if stem_worked
        else (Text("The stem is the same as above: {stem} parameters.", {"stem": counts[0].total}),)
    )
    blocks = (
        *stem,
        *(item for stage in stages for item in stage_working(stage, block)),
        Text(
            "Head: global average pooling and a fully connected layer from $F_{\\text{in}}$ = {features} features to "
            "$F_{\\text{out}}$ = {classes} classes:",
            {"features": features, "classes": classes},
        ),
        derive(linear_params, features, classes, lhs="P_fc"),
        counts_table(counts),
        sum_derivation([count.total for count in counts], lhs=f"P_{block}"),
    )
    return blocks, counts, stages


def solve(params):
    n, widths = params["blocks_per_stage"], params["widths"]
    expansion = params["expansion"]
    bottleneck_blocks, bottleneck_counts, _ = network_working(params, "bottleneck", expansion)
    basic_blocks, basic_counts, basic_stages = network_working(params, "basic", 1, stem_worked=False)
    bottleneck_depth = derive(depth, len(widths), n, CONVS_PER_BLOCK["bottleneck"], lhs="L_bottleneck", unit="layers")
    basic_depth = derive(depth, len(widths), n, CONVS_PER_BLOCK["basic"], lhs="L_basic", unit="layers")
    params_bottleneck, params_basic = total_of(bottleneck_counts, "total"), total_of(basic_counts, "total")
    # Option A pads the identity with zero channels instead of projecting: the projections' parameters go.
    projections = sum(
        conv_params(stage.in_channels, stage.out_channels, 1, bias=False) + batchnorm_params(stage.out_channels)
        for stage in basic_stages
        if stage.projection
    )
    return Worked(
        blocks=(
            Text(
                "Assumed layout: a 3×3 stem convolution 3→{stem}, then {stages} stages of $n = {n}$ blocks each; "
                "stage $i$ works at width $w_i$ ({widths}) and the bottleneck expands it {expansion} times; the first "
                "block of every stage after the first halves the map with stride 2. A shortcut is the identity where "
                "the shape allows it and a 1×1 convolution with BatchNorm where it does not (projection, option B). "
                "Global average pooling feeds a fully connected layer to {classes} classes.",
                {
                    "stem": params["stem_channels"],
                    "stages": len(widths),
                    "n": n,
                    "widths": ", ".join(map(str, widths)),
                    "expansion": expansion,
                    "classes": params["classes"],
                },
            ),
            Text(CONV_BN_CONVENTION),
            Text("Bottleneck network (1×1, 3×3, 1×1 in every block):"),
            *bottleneck_blocks,
            Text(
                "Depth counts the weighted layers on the main path: the stem, $L_{\\text{block}}$ convolutions in "
                "each of the $n_{\\text{blocks}}$ blocks of the $n_{\\text{stages}}$ stages, and the classifier "
                "(projection shortcuts are not counted):"
            ),
            bottleneck_depth,
            Text("The basic-block network of the same widths (two 3×3 convolutions per block, no expansion):"),
            *basic_blocks,
            basic_depth,
            Table(
                ("network", "weighted layers", "parameters"),
                (("bottleneck", bottleneck_depth.value, params_bottleneck), ("basic", basic_depth.value, params_basic)),
            ),
            Text(
                "With option A shortcuts (identity padded with zero channels, as in the original CIFAR experiments) "
                "the basic network drops its {projections} projection parameters and has {option_a}.",
                {"projections": projections, "option_a": params_basic - projections},
            ),
        ),
        answers={
            "params": params_bottleneck,
            "basic_params": params_basic,
            "bottleneck_layers": bottleneck_depth.value,
            "basic_layers": basic_depth.value,
        },
        conclusion=Text(
            "{bottleneck} parameters for the {layers}-layer bottleneck network against {basic} for the {basic_layers}-layer "
            "basic one: the 3×3 convolutions keep the same widths, but {expansion} times as many channels flow between "
            "blocks, and the 1×1 layers, the projections and the classifier pay for them.",
            {
                "expansion": expansion,
                "bottleneck": params_bottleneck,
                "layers": bottleneck_depth.value,
                "basic": params_basic,
                "basic_layers": basic_depth.value,
            },
        ),
    )


EXERCISE = Exercise(
    number=33,
    title="A CIFAR ResNet with bottleneck blocks",
    question=(
        "Build a CIFAR-{classes} ResNet from bottleneck blocks (1×1, 3×3, 1×1) with $n = {blocks_per_stage}$ blocks in each "
        "of three stages and expansion {expansion}. Count its parameters and compare them with the basic-block "
        "ResNet of the same widths."
    ),
    defaults={"blocks_per_stage": 3, "widths": (16, 32, 64), "expansion": 4, "stem_channels": 16, "classes": 10},
    solve=solve,
    topics=("parameters", "ResNet", "bottleneck", "CIFAR"),
    # n = 18 is the bottleneck ResNet-164 of He et al. (2016).
    # He et al.'s CIFAR depths: n = 3, 5, 7, 9, 18 blocks per stage (ResNet-20 to -110, and -164 with bottlenecks).
    domains={"blocks_per_stage": Choice(3, 5, 7, 9, 18), "classes": Choice(10, 100), "expansion": Choice(2, 4)},
    main_answer=MainAnswer("params", "the number of parameters of the bottleneck network"),
)
