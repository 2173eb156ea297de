"""Exercise 26: average precision of a ranked list of detections, VOC's all-point AP and COCO's mAP@[.5:.95]."""

import ast
from fractions import Fraction

from symconv import Exercise, Rounded, Table, Text, Worked, derive, derive_expression
from symconv.core.transform import constant
from symconv.core.values import exact
from symconv.formulas.detection import (
    box_overlap,
    coco_map,
    coco_thresholds,
    intersection_over_union,
    load_dataset,
    precision_envelope,
    voc_ap,
    voc_ap_expression,
    voc_ranking,
)

THRESHOLD = Fraction(1, 2)
IMAGE, CATEGORY = 1, 1


def coco_inputs(truths, detections):
    """The example as COCO JSON structures: one image, one category."""
    annotations = [
        {"id": number, "image_id": IMAGE, "category_id": CATEGORY, "bbox": list(box), "area": box[2] * box[3], "iscrowd": 0}
        for number, box in enumerate(truths, start=1)
    ]
    truth = {"images": [{"id": IMAGE}], "categories": [{"id": CATEGORY, "name": "object"}], "annotations": annotations}
    found = [
        {"image_id": IMAGE, "category_id": CATEGORY, "bbox": [x, y, w, h], "score": score} for x, y, w, h, score in detections
    ]
    return truth, found


def object_name(index):
    return chr(ord("A") + index)


def verdict(row):
    if row.true_positive:
        return f"TP ({object_name(row.truth)})"
    if row.truth is not None and row.iou >= THRESHOLD:
        return f"FP ({object_name(row.truth)} already found)"
    return "FP (overlap too small)"


def mean_expression(values):
    """(v_1 + v_2 + … + v_n)/n with the values in place."""
    total = constant(values[0])
    for value in values[1:]:
        total = ast.BinOp(left=total, op=ast.Add(), right=constant(value))
    return ast.BinOp(left=total, op=ast.Div(), right=constant(len(values)))


def overlap_blocks(rows, truths):
    """IoU of the best-ranked detection that overlaps an object, worked out."""
    rank, row = next(((rank, row) for rank, row in enumerate(rows, start=1) if row.truth is not None), (None, None))
    if row is None:
        return ()
    box = truths[row.truth]
    width, height = box_overlap(row.box, box)
    return (
        Text(
            "Overlap is measured by intersection over union, boxes being continuous rectangles (x, y, w, h). "
            "The detection ranked {rank} overlaps object {name} in a {w}×{h} rectangle, of area "
            "$A_{\\text{overlap}}$; $A_{\\text{det}}$ and $A_{\\text{gt}}$ are the areas of the detection and of the "
            "annotated box:",
            {"rank": rank, "name": object_name(row.truth), "w": width, "h": height},
        ),
        derive(intersection_over_union, width * height, row.box[2] * row.box[3], box[2] * box[3], lhs="IoU"),
    )


def ranking_table(rows):
    envelope = precision_envelope([row.precision for row in rows])
    return Table(
        ("rank", "score", "box", "IoU", "verdict", "precision", "recall", "envelope"),
        tuple(
            (
                rank,
                row.score,
                ", ".join(map(str, row.box)),
                Rounded(row.iou, 3),
                verdict(row),
                *map(exact, (row.precision, row.recall, level)),
            )
            for rank, (row, level) in enumerate(zip(rows, envelope), start=1)
        ),
    )


def tightness(rows, coco):
    """How many of COCO's thresholds each hit at IoU 0.5 survives, and what that does to the mean."""
    iou_thresholds = coco_thresholds()[0]
    hits = [(rank, row) for rank, row in enumerate(rows, start=1) if row.true_positive]
    values = {"thresholds": len(iou_thresholds), "map": Rounded(coco.map, 3), "ap50": Rounded(coco.ap50, 3)}
    clauses = []
    for index, (rank, row) in enumerate(hits):
        values.update(
            {f"rank{index}": rank, f"iou{index}": Rounded(row.iou, 3), f"count{index}": sum(row.iou >= t for t in iou_thresholds)}
        )
        clauses.append(f"the hit at rank {{rank{index}}} (IoU ≈ {{iou{index}}}) counts at {{count{index}}}")
    weighting = ", ".join(clauses) + " of the {thresholds} thresholds" if hits else "here nothing is found even at 0.5"
    return Text(
        "AP at 0.5 counts a box as a hit however loosely it fits. Averaging over thresholds weights each hit by how "
        f"tightly it fits: {weighting}. A detector only earns the top score if its boxes are also well placed, which "
        "is why mAP@[.5:.95] ≈ {map} can sit well below AP50 ≈ {ap50}. COCO (Lin et al. 2014) made this average its "
        "main metric, and reports it also for small, medium and large objects, where VOC gives one number at one "
        "threshold.",
        values,
    )


def solve(params):
    truths, detections = params["truths"], params["detections"]
    ground_truth, found = coco_inputs(truths, detections)
    rows = voc_ranking(load_dataset(ground_truth, found), CATEGORY, THRESHOLD)
    recall, precision = [row.recall for row in rows], [row.precision for row in rows]
    voc = derive_expression(
        voc_ap_expression(recall, precision),
        lhs="AP_VOC",
        note="All-point interpolation (VOC2010 and later): each rise in recall times the envelope there.",
    )
    eleven_point = voc_ap(recall, precision, eleven_point=True)

    coco = coco_map(ground_truth, found)
    mean = derive_expression(
        mean_expression([ap for _, ap in coco.per_threshold]),
        lhs="mAP",
        note=f"Mean over the {len(coco.per_threshold)} IoU thresholds.",
    )

    blocks = [
        Text(
            "Average precision (AP) scores one ranked list of detections of one class. Sort the detections by "
            "confidence; walking down the list, a detection is a hit (true positive, TP) when it overlaps an "
            "object not yet found by at least the IoU threshold, and a false positive (FP) otherwise. After each "
            "rank, precision is the share of detections so far that are hits and recall the share of objects "
            "found. AP is the area under precision plotted against recall, once precision has been made "
            "non-increasing; mAP is its mean over classes (one class here, so mAP = AP) and, in COCO, also over "
            "IoU thresholds."
        ),
        *overlap_blocks(rows, truths),
        Text(
            "VOC's rule at IoU {t}: each detection, by decreasing score, is assigned the object it overlaps most; "
            "it is a TP if that IoU reaches {t} and the object is still unclaimed, otherwise an FP (a second box on "
            "a found object is a duplicate). With {n} objects:",
            {"t": Rounded(THRESHOLD, 1), "n": len(truths)},
        ),
        ranking_table(rows),
        Text(
            "The envelope replaces each precision by the best precision at that rank or any later one: the best "
            "precision still on offer to someone who wants at least that recall. VOC's AP is the exact area under "
            "the envelope, a sum over the ranks where recall rises:"
        ),
        voc,
        Text(
            "VOC2007's older rule, the mean of the envelope at the eleven recall levels 0, 0.1, …, 1, gives {ap11} ≈ {approx}.",
            {"ap11": eleven_point, "approx": Rounded(eleven_point, 4)},
        ),
        Text(
            "COCO does not integrate: it reads the envelope at the 101 recall levels 0, 0.01, …, 1 (at each level, the "
            "first rank whose recall reaches it; 0 beyond the last recall) and averages them. It also repeats the whole "
            "evaluation at ten IoU thresholds, 0.50 to 0.95 in steps of 0.05, each time matching a detection to the "
            "unclaimed object it overlaps most above the threshold (at most 100 detections per image and class)."
        ),
        Table(
            ("IoU threshold", "AP", "≈"),
            tuple((Rounded(threshold, 2), ap, Rounded(ap, 4)) for threshold, ap in coco.per_threshold),
        ),
        mean,
        tightness(rows, coco),
    ]
    return Worked(
        blocks=tuple(blocks),
        answers={"ap50": coco.ap50, "ap75": coco.ap75, "map_coco": coco.map, "voc_ap": voc.value},
        conclusion=Text(
            "VOC AP at IoU 0.5 = {voc}; COCO: AP50 = {ap50}, AP75 = {ap75}, mAP@[.5:.95] = {map} ≈ {approx}.",
            {"voc": voc.value, "ap50": coco.ap50, "ap75": coco.ap75, "map": coco.map, "approx": Rounded(coco.map, 4)},
        ),
    )


EXERCISE = Exercise(
    number=26,
    title="Mean average precision",
    question=(
        "An image holds the annotated objects {truths}, each box given as (x, y, w, h) in pixels. A detector "
        "reports {detections}, each as (x, y, w, h, score). Rank the detections, decide for each whether it is "
        "a true or a false positive at IoU 0.5, and give precision and recall after every rank and the VOC "
        "(all-point) average precision. Then compute COCO's AP at the IoU thresholds 0.50, 0.55, …, 0.95 and "
        "their mean, mAP@[.5:.95]. What does averaging over thresholds reward that AP at 0.5 does not?"
    ),
    defaults={
        "truths": ((10, 10, 40, 40), (60, 20, 30, 50), (20, 60, 50, 30)),
        "detections": (
            (12, 10, 40, 40, 0.95),
            (62, 26, 30, 52, 0.85),
            (8, 14, 40, 40, 0.70),
            (70, 75, 20, 20, 0.60),
            (28, 64, 50, 30, 0.40),
        ),
    },
    solve=solve,
    topics=("detection", "mAP", "IoU"),
)
