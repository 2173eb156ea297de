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
    c, h, w, classes = (params[name] for name in ("channels", "height", "width", "classes"))
    C, H, W, n_classes = symbols("C", "H", "W", "n_classes")
    flatten_general = derive(linear_params, C * H * W, n_classes, lhs="P_flatten")
    gap_general = derive(linear_params, C, n_classes, lhs="P_GAP")
    ratio_general = derive(head_ratio, flatten_general.value, gap_general.value, lhs="ratio", unit="")
    flatten = derive(linear_params, c * h * w, classes, lhs="P_flatten")
    gap = derive(linear_params, c, classes, lhs="P_GAP")
    ratio = Fraction(flatten.value, gap.value)
    return Worked(
        blocks=(
            Text(
                "The last feature map has $C$ channels of $H \\times W$ positions, and the classifier predicts "
                "$n_{\\text{classes}}$ classes with one fully connected layer with bias. A fully connected layer "
                "from $F_{\\text{in}}$ inputs to $F_{\\text{out}}$ outputs has $F_{\\text{out}} F_{\\text{in}}$ "
                "weights and $F_{\\text{out}}$ biases. Flattening feeds it all $CHW$ numbers "
                "($F_{\\text{in}} = CHW$); global average pooling (GAP) first averages each channel over its "
                "positions, which costs no parameters, and feeds it $C$ numbers ($F_{\\text{in}} = C$). Both "
                "heads have $F_{\\text{out}} = n_{\\text{classes}}$ output units."
            ),
            flatten_general,
            gap_general,
            ratio_general,
            Text(
                "The flattened head is about $HW$ times larger: for every class it keeps a separate weight for "
                "every channel at every position. For a {c}×{h}×{w} map" + KNOWN_MAPS.get((c, h, w), "") + " and {k} classes:",
                {"c": c, "h": h, "w": w, "k": classes},
            ),
            flatten,
            gap,
            Table(("head", "inputs", "parameters"), (("flatten + fc", c * h * w, flatten.value), ("GAP + fc", c, gap.value))),
            Text(
                "The flattened head has {ratio} times the parameters for the same {k} output units. Why GAP "
                "overfits less (Lin, Chen and Yan, 2014, who introduced it as a structural regulariser): the "
                "pooling itself has nothing to fit, and the head that follows has {ratio} times fewer weights "
                "to fit to the training set. It has no position-specific weights, so nothing can memorise where "
                "in the training images the evidence happened to sit; each channel must be useful wherever it "
                "fires, which pushes the last convolutional layer to make its channels detectors of class "
                "evidence, closer to category confidence maps.",
                {"ratio": Rounded(ratio, 1), "k": classes},
            ),
            Text(
                "The average is also unchanged when an object moves within the feature map, so the prediction "
                "depends less on position. That invariance is only approximate: a shift of the image moves the "
                "map exactly only when it is a multiple of the network's total stride and stays away from the "
                "borders, where padding changes the values; other shifts change the map itself (the strided "
                "layers alias, Zhang, 2019). The same head also accepts any input size. A side benefit, not a "
                "regulariser: since each class score is a weighted sum of channel averages, weighting the "
                "channel maps by a class's weights shows where the evidence for that class lies (class "
                "activation maps, Zhou et al., 2016), which makes such networks easier to inspect."
            ),
        ),
        answers={"flatten_head_params": flatten.value, "gap_head_params": gap.value},
        conclusion=Text(
            "{flatten} parameters with flattening against {gap} with global average pooling, {ratio} times "
            "fewer for the same output units; with no position-specific weights, GAP has far less to fit and "
            "nothing that can memorise where the evidence sat, so it overfits less.",
            {"flatten": flatten.value, "gap": gap.value, "ratio": Rounded(ratio, 1)},
        ),
    )


EXERCISE = Exercise(
    number=14,
    title="Global average pooling against flattening",
    question=(
        "A network ends in a {channels}×{height}×{width} feature map and must predict {classes} classes. Compare the "
        "parameters of a fully connected classifier on the flattened map with those of one after global average "
        "pooling, first in general and then for these numbers, and explain why global average pooling reduces "
        "overfitting more than the flattened head with the same number of output units."
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
