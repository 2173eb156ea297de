"""Exercise 18: which axes batch, layer, instance and group normalisation average over, and how many statistics."""

from math import prod

from symconv import Exercise, Table, Text, Worked, derive, symbols
from symconv.core.errors import SymconvError, invalid
from symconv.core.values import divide
from symconv.formulas.gradients import syntax
from symconv.teaching.domains import AnswerParts, Choice, Constraint

# The axes each normalisation averages over, for an N×C×H×W tensor; "C/G" are the channels of one group.
AVERAGED_AXES = {
    "batch": ("N", "H", "W"),
    "layer": ("C", "H", "W"),
    "instance": ("H", "W"),
    "group": ("C/G", "H", "W"),
}
NAMES = {"batch": "BatchNorm", "layer": "LayerNorm (over C, H, W)", "instance": "InstanceNorm", "group": "GroupNorm"}
# The same quantities as products written in the tensor's own axis order N, C, H, W (for reading, not computing).
WRITTEN = {
    "batch": ("N·H·W", "C"),
    "layer": ("C·H·W", "N"),
    "instance": ("H·W", "N·C"),
    "group": ("(C/G)·H·W", "N·G"),
}


def group_statistic_size(C, G, H, W):
    """One group statistic averages C/G channels over the whole H×W map of one sample."""
    return C / G * H * W


def statistic_count(N, C, H, W, elements):
    """Every element belongs to exactly one statistic: the tensor's size over the elements per statistic."""
    return N * C * H * W / elements


def statistics(N, C, H, W, G):
    """For each normalisation, (elements per statistic, number of statistics); exact on ints and symbols."""
    if isinstance(G, int) and isinstance(C, int) and C % G:
        raise invalid("groups", G, f"must divide the {C} channels")
    sizes = {"N": N, "C": C, "H": H, "W": W, "C/G": divide(C, G)}
    table = {}
    for norm, axes in AVERAGED_AXES.items():
        elements = prod(sizes[axis] for axis in axes)
        table[norm] = (elements, divide(N * C * H * W, elements))
    return table


def solve(params):
    n, c, h, w, g = (params[name] for name in ("batch", "channels", "height", "width", "groups"))
    N, C, H, W, G = symbols("N", "C", "H", "W", "G")
    general = statistics(N, C, H, W, G)
    example = statistics(n, c, h, w, g)
    group_size = derive(group_statistic_size, c, g, h, w, lhs="elements", unit="")
    group_count = derive(statistic_count, n, c, h, w, group_size.value, lhs="statistics", unit="")
    as_layer = general["group"][0].subs(G, 1)
    as_instance = general["group"][0].subs(G, C)
    return Worked(
        blocks=(
            Text(
                "Conventions: a tensor of shape $N \\times C \\times H \\times W$ (batch, channels, height, width). "
                "Each normalisation subtracts a mean and divides by a standard deviation computed over some "
                "axes; every group of elements that shares one mean and variance is one statistic. LayerNorm "
                "is taken over $(C, H, W)$, as for a convolutional feature map."
            ),
            Table(
                ("normalisation", "averages over", "elements per statistic", "statistics"),
                tuple((NAMES[norm], ", ".join(axes), *WRITTEN[norm]) for norm, axes in AVERAGED_AXES.items()),
            ),
            Text(
                "Elements per statistic times statistics is always $NCHW$: each element is normalised exactly "
                "once. Only BatchNorm averages over $N$, so only its output for one sample depends on the "
                "other samples in the batch; that is why it needs running averages at inference while the "
                "other three compute the same thing in training and evaluation. GroupNorm interpolates: with "
                "$G = 1$ a statistic covers {as_layer} elements (LayerNorm), with $G = C$ it covers "
                "{as_instance} (InstanceNorm).",
                {"as_layer": as_layer, "as_instance": as_instance},
            ),
            Text(
                "Where each is preferred. BatchNorm (Ioffe and Szegedy 2015) is the default for convolutional "
                "networks trained with large batches, as in image classification: with tens of samples per device its "
                "statistics are accurate, their noise regularises mildly, and at inference the running averages fold "
                "into the preceding convolution at no cost. LayerNorm (Ba, Kiros and Hinton 2016) is the choice for "
                "recurrent networks and transformers: it normalises each sample (in a transformer, each token over its "
                "$D$ features), so it works for a batch of one, for sequences of any length and identically in "
                "training and inference. GroupNorm (Wu and He 2018) is for convolutional networks whose batch per "
                "device is small, as in detection, segmentation and video, where memory allows one or two "
                "high-resolution images per GPU: BatchNorm's error rises sharply as the batch shrinks, GroupNorm's "
                "hardly moves. InstanceNorm (Ulyanov, Vedaldi and Lempitsky 2016) is for style transfer and image "
                "generation, where removing each image's own contrast is the point; for recognition that same "
                "removal discards information, so it is rarely used there."
            ),
            Text(
                "For a batch of {n} maps with {c} channels of {h}×{w} and {g} groups, one group statistic averages $E$ elements:",
                {"n": n, "c": c, "h": h, "w": w, "g": g},
            ),
            group_size,
            Text("and there are"),
            group_count,
            Table(
                ("normalisation", "elements per statistic", "statistics"),
                tuple((NAMES[norm], *example[norm]) for norm in AVERAGED_AXES),
            ),
        ),
        answers={
            "axes": {norm: list(axes) for norm, axes in AVERAGED_AXES.items()},
            "elements_per_statistic": {norm: syntax(entry[0]) for norm, entry in general.items()},
            "statistics": {norm: syntax(entry[1]) for norm, entry in general.items()},
            "example_elements_per_statistic": {norm: entry[0] for norm, entry in example.items()},
            "example_statistics": {norm: entry[1] for norm, entry in example.items()},
            "batch_dependent": {norm: "N" in axes for norm, axes in AVERAGED_AXES.items()},
        },
        conclusion=Text(
            "BatchNorm: {batch_count} statistics of {batch_elements} elements (large-batch CNNs); LayerNorm: "
            "{layer_count} of {layer_elements} (transformers, recurrent networks); InstanceNorm: {instance_count} "
            "of {instance_elements} (style transfer); GroupNorm: {group_count} of {group_elements} (small batches "
            "per device: detection, segmentation). Here a GroupNorm statistic averages {example} elements.",
            {
                **{
                    f"{norm}_{part}": entry[index]
                    for norm, entry in WRITTEN.items()
                    for index, part in enumerate(("elements", "count"))
                },
                "example": example["group"][0],
            },
        ),
    )


def _groups_fit(params):
    """The statistics can be taken: the groups split the channels evenly (statistics() decides)."""
    try:
        statistics(*(params[name] for name in ("batch", "channels", "height", "width", "groups")))
    except SymconvError:
        return False
    return True


EXERCISE = Exercise(
    number=18,
    title="Statistics of the normalisation layers",
    question=(
        "For a feature tensor of shape $N \\times C \\times H \\times W$, over which axes do batch, layer, "
        "instance and group normalisation (with $G$ groups) compute their mean and variance? How many separate "
        "statistics does each compute, and over how many elements each? Evaluate for $N = {batch}$, "
        "$C = {channels}$, $H = {height}$, $W = {width}$, $G = {groups}$. In which contexts is each preferred?"
    ),
    defaults={"batch": 16, "channels": 64, "height": 32, "width": 32, "groups": 32},
    solve=solve,
    topics=("normalisation",),
    domains={
        "batch": Choice(2, 4, 8, 16, 32),
        "channels": Choice(16, 32, 48, 64, 96, 128, 256),
        "height": Choice(7, 8, 14, 16, 28, 32),
        "width": Choice(7, 8, 14, 16, 28, 32),
        "groups": Choice(1, 2, 4, 8, 16, 32),
    },
    constraints=(
        Constraint("the groups divide the channels", _groups_fit),
        Constraint("a square map (the statistics do not depend on its shape)", lambda p: p["height"] == p["width"]),
    ),
    main_answer=AnswerParts(
        "example_elements_per_statistic",
        "the number of elements one statistic averages over, for each normalisation",
        tuple(
            (f"{kind} normalisation", "example_elements_per_statistic", (kind,))
            for kind in ("batch", "layer", "instance", "group")
        ),
    ),
)
