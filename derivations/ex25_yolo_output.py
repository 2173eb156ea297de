"""Exercise 25: the size of a YOLO output tensor, term by term."""

from symconv import Exercise, Table, Text, Worked, derive
from symconv.teaching.domains import Choice, IntRange, MainAnswer


def cell_depth(B, C):
    """Per cell: B boxes of 4 coordinates and 1 confidence, then C class probabilities shared by the cell."""
    return B * (4 + 1) + C


def outputs(S, D_cell):
    return S**2 * D_cell


def per_box_classes_depth(B, C):
    """The later layout (YOLOv2 on): every box carries its own class probabilities."""
    return B * (4 + 1 + C)


def solve(params):
    grid, boxes, classes = params["grid"], params["boxes"], params["classes"]
    depth = derive(cell_depth, boxes, classes, lhs="D_cell", unit="numbers per cell")
    total = derive(outputs, grid, depth.value, lhs="outputs", unit="numbers")
    per_box = per_box_classes_depth(boxes, classes)
    return Worked(
        blocks=(
            Text(
                "The detector divides the image into an $S \\times S$ grid, $S = {S}$; each cell is responsible for the "
                "objects whose centre falls inside it and predicts a vector of $D_{\\text{cell}}$ numbers: $B = {B}$ boxes "
                "and $C = {C}$ class probabilities (the output layout of the original YOLO, Redmon et al. 2016).",
                {"S": grid, "B": boxes, "C": classes},
            ),
            Table(
                ("term", "meaning", "numbers per cell"),
                (
                    ("box coordinates", "centre x, y in the cell, width, height; per box", 4 * boxes),
                    ("confidence", "object present and box fit; per box", boxes),
                    ("class probabilities", "probability of each class given an object; per cell", classes),
                ),
            ),
            depth,
            total,
            Text(
                "The tensor is {S}×{S}×{D}, one vector per grid cell. (If every box carried its own class "
                "probabilities instead, as from YOLOv2 on, a cell would need $B(5 + C) = {per_box}$ numbers.)",
                {"S": grid, "D": depth.value, "per_box": per_box},
            ),
        ),
        answers={"outputs": total.value, "output_shape": [grid, grid, depth.value]},
        conclusion=Text(
            "{total} numbers in a {S}×{S}×{D} tensor.",
            {"total": total.value, "S": grid, "D": depth.value},
        ),
    )


EXERCISE = Exercise(
    number=25,
    title="Size of a YOLO output",
    question=(
        "A YOLO-style detector uses a {grid}×{grid} grid; each cell predicts {boxes} boxes and one set of "
        "probabilities over {classes} classes. How many numbers does the output hold, and what is its shape? "
        "Explain each term."
    ),
    defaults={"grid": 13, "boxes": 5, "classes": 80},
    solve=solve,
    topics=("detection", "YOLO", "output size"),
    # Grids of inputs from 224 to 608 at stride 32 (YOLOv1's 7 from 448 at stride 64); boxes per cell as in
    # YOLOv1 (2), YOLOv3's three per scale, YOLOv2's five anchors; VOC's 20 classes, COCO's 80 and its 91 label ids.
    domains={"grid": IntRange(7, 19), "boxes": Choice(2, 3, 5), "classes": Choice(20, 80, 91)},
    main_answer=MainAnswer("outputs", "the number of values in the output"),
)
