"""Exercise 32: GroupNorm in the CIFAR ResNet: channels per group and elements per statistic, stage by stage."""

from symconv import (
    Exercise,
    SymconvError,
    Table,
    Text,
    Worked,
    batchnorm_params,
    derive,
)
from symconv.core.values import divide
from symconv.teaching.domains import AnswerParts, Choice, Constraint

from .ex18_normalisation_statistics import (
    AVERAGED_AXES,
    group_statistic_size,
    statistics,
)


def solve(params):
    groups, widths, sizes = params["groups"], params["widths"], params["sizes"]
    per_sample = {width: statistics(1, width, size, size, groups)["group"] for width, size in zip(widths, sizes)}
    first_width, first_size = widths[0], sizes[0]
    first = derive(group_statistic_size, first_width, groups, first_size, first_size, lhs="elements", unit="")
    rows = tuple(
        (
            f"{index + 1}",
            width,
            f"{size}×{size}",
            divide(width, groups),
            per_sample[width][0],
            per_sample[width][1],
            batchnorm_params(width),
        )
        for index, (width, size) in enumerate(zip(widths, sizes))
    )
    return Worked(
        blocks=(
            Text(
                "GroupNorm with $G = {g}$ splits the $C$ channels of each sample into {g} groups of $C/G$ "
                "consecutive channels and normalises each group over its channels and the whole feature map. "
                "In the first stage ($C$ = {c} channels, $H \\times W$ = {s}×{s} maps) one statistic averages $E$ "
                "elements:",
                {"g": groups, "c": first_width, "s": first_size},
            ),
            first,
            Table(
                ("stage", "$C$", "map", "$C/G$", "elements per statistic", "statistics per sample", "parameters"),
                rows,
            ),
            Text(
                "A statistic covers $(C/G) \\cdot H \\cdot W$ elements: deeper stages put more channels into "
                "a group but have fewer positions per channel, and here it is {most} in the first stage "
                "and {least} in the last. Statistics per sample stay {g}, whatever the batch: none of GroupNorm's axes ({axes}) "
                "is the batch axis. The learnable scale and shift are per channel, as in BatchNorm, so the "
                "parameter count is the same $2C$.",
                {
                    "most": rows[0][4],
                    "least": rows[-1][4],
                    "g": groups,
                    "axes": ", ".join(AVERAGED_AXES["group"]),
                },
            ),
            Text(
                "When to prefer it (Wu and He 2018): when the batch per device is small, as in detection and segmentation where "
                "high-resolution inputs leave room for one or two images per GPU, BatchNorm's batch statistics "
                "become noisy and its accuracy drops, while GroupNorm's do not depend on the batch at all. "
                "What changes in training: no running mean and variance are kept, a sample is normalised the "
                "same way in training and evaluation (no train/eval gap, no need to synchronise statistics "
                "across devices), and the output for one image does not depend on which other images share "
                "its batch. At inference GroupNorm still computes its statistics from each input, so unlike "
                "BatchNorm it cannot be folded into the preceding convolution. The price in accuracy: the statistics no longer add the mild regularising noise of batch "
                "statistics, and on large batches BatchNorm is usually slightly more accurate (Wu and He report "
                "GroupNorm 0.5 points behind it for ResNet-50 on ImageNet at 32 images per device, and far ahead at "
                "2). This CIFAR network trains with batches of about a hundred images, where BatchNorm's statistics "
                "are reliable, so the swap should cost a little accuracy rather than gain any; it pays off only if "
                "the batch per device must shrink."
            ),
        ),
        answers={
            "channels_per_group": [row[3] for row in rows],
            "elements_per_statistic": [row[4] for row in rows],
            "statistics_per_sample": [row[5] for row in rows],
            "learnable_parameters": [row[6] for row in rows],
            "batch_independent": "N" not in AVERAGED_AXES["group"],
        },
        conclusion=Text(
            "; ".join(
                f"{size}×{size} maps: {{channels{index}}} channels per group, {{elements{index}}} elements per statistic"
                for index, size in enumerate(sizes)
            )
            + "; {g} statistics per sample, independent of the batch.",
            {
                "g": groups,
                **{f"channels{index}": row[3] for index, row in enumerate(rows)},
                **{f"elements{index}": row[4] for index, row in enumerate(rows)},
            },
        ),
    )


def _groups_fit(params):
    """Every stage's channels split evenly into the groups (ex18's statistics() decides)."""
    try:
        for width, size in zip(params["widths"], params["sizes"]):
            statistics(1, width, size, size, params["groups"])
    except SymconvError:
        return False
    return True


EXERCISE = Exercise(
    number=32,
    title="GroupNorm in the CIFAR ResNet",
    question=(
        "Replace every BatchNorm of the CIFAR ResNet (stages of {widths} channels on feature maps of side "
        "{sizes}) by GroupNorm with {groups} groups. How many channels fall into each group, and how many "
        "elements does one statistic average, stage by stage? When is GroupNorm the better choice, and what "
        "changes in training?"
    ),
    defaults={"groups": 8, "widths": (16, 32, 64), "sizes": (32, 16, 8)},
    solve=solve,
    topics=("normalisation", "GroupNorm"),
    # The CIFAR ResNet and its wide versions (widths times 2, 4 and 10, as in WRN-28-10).
    domains={
        "groups": Choice(1, 2, 4, 8, 16, 32),
        "widths": Choice((16, 32, 64), (32, 64, 128), (64, 128, 256), (160, 320, 640)),
    },
    constraints=(Constraint("the groups divide every stage's channels", _groups_fit),),
    main_answer=AnswerParts(
        "elements_per_statistic",
        "the number of elements one statistic averages, stage by stage",
        tuple((f"stage {stage + 1}", "elements_per_statistic", (stage,)) for stage in range(3)),
    ),
)
