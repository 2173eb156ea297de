"""Exercise 14: a classifier on the flattened feature map against one after global average pooling."""

from fractions import Fraction

from symconv import (
    Exercise,
    Rounded,
    Table,
    Text,
    Worked,
    derive,
    linear_params,
    symbols,
)
from symconv.teaching.domains import Choice, Constraint, IntRange, MainAnswer

# Where the chapter's feature maps come from, named when the parameters match one.
KNOWN_MAPS = {
    (512, 7, 7): " (the last feature map of VGG-16 or ResNet-18 on a 224×224 image)",
    (2048, 7, 7): " (the last feature map of ResNet-50 on a 224×224 image)",
}


def head_ratio(P_flatten, P_GAP):
    return P_flatten / P_GAP


def solve(params):
    c, h, w, k = (params[name] for name in ("channels", "height", "width", "classes"))
    C, H, W, K = symbols("C", "H", "W", "K")
    flatten_general = derive(linear_params, C * H * W, K, lhs="P_flatten")
    gap_general = derive(linear_params, C, K, lhs="P_GAP")
    ratio_general = derive(head_ratio, flatten_general.value, gap_general.value, lhs="ratio", unit="")
    flatten = derive(linear_params, c * h * w, k, lhs="P_flatten")
    gap = derive(linear_params, c, k, lhs="P_GAP")
    ratio = Fraction(flatten.value, gap.value)
    return Worked(
        blocks=(
            Text(
                "The last feature map has $C$ channels of $H \\times W$ positions; the classifier maps to $K$ classes "
                "with a fully connected layer with bias. Flattening feeds it all $CHW$ numbers; global average "
                "pooling (GAP) first averages each channel over its positions, which costs no parameters, and feeds "
                "it $C$ numbers."
            ),
            flatten_general,
            gap_general,
            ratio_general,
            Text(
                "The flattened head is about $HW$ times larger: for every class it keeps a separate weight for "
                "every channel at every position. For a {c}×{h}×{w} map" + KNOWN_MAPS.get((c, h, w), "") + " and {k} classes:",
                {"c": c, "h": h, "w": w, "k": k},
            ),
            flatten,
            gap,
            Table(("head", "inputs", "parameters"), (("flatten + fc", c * h * w, flatten.value), ("GAP + fc", c, gap.value))),
            Text(
                "The flattened head has {ratio} times the parameters. GAP regularises in three ways. It has no "
                "position-specific weights, so there is nothing that can memorise where in the training images the "
                "evidence happened to sit. The average does not change when an object moves within the map, so the "
                "prediction is robust to translation (and the same head accepts any input size). And since each class "
                "score is a weighted sum of channel averages, the last convolutional layer is pushed to make its "
                "channels detectors whose activation map marks where evidence for a class lies: the class activation "
                "maps that make such networks easy to inspect.",
                {"ratio": Rounded(ratio, 1)},
            ),
        ),
        answers={"flatten_head_params": flatten.value, "gap_head_params": gap.value},
        conclusion=Text(
            "{flatten} parameters with flattening against {gap} with global average pooling, {ratio} times fewer.",
            {"flatten": flatten.value, "gap": gap.value, "ratio": Rounded(ratio, 1)},
        ),
    )


EXERCISE = Exercise(
    number=14,
    title="Global average pooling against flattening",
    question=(
        "A network ends in a {channels}×{height}×{width} feature map and must predict {classes} classes. Compare the "
        "parameters of a fully connected classifier on the flattened map with those of one after global average "
        "pooling, first in general and then for these numbers, and explain why global average pooling acts as a "
        "regulariser."
    ),
    defaults={"channels": 512, "height": 7, "width": 7, "classes": 1000},
    solve=solve,
    topics=("parameters", "global average pooling", "regularisation"),
    domains={
        "channels": Choice(256, 512, 1024, 2048),
        "height": IntRange(3, 14),
        "width": IntRange(3, 14),
        "classes": Choice(10, 100, 200, 1000),
    },
    constraints=(
        Constraint("a square map, as a network's last stage gives on a square image", lambda p: p["height"] == p["width"]),
    ),
    main_answer=MainAnswer("flatten_head_params", "the parameters of the classifier on the flattened map"),
)
