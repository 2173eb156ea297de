"""Exercise 26: average precision of a ranked list of detections, VOC's all-point AP and COCO's mAP@[.5:.95]."""

import ast
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

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
from symconv.teaching.domains import AnswerParts, Choice, Constraint

THRESHOLD = Fraction(1, 2)
IMAGE, CATEGORY = 1, 1

# Objects of a 640×480 photo (x, y, w, h): people, cars and signs at the sizes a detector meets in practice.
LAYOUTS = (
    ((48, 112, 96, 160), (232, 96, 160, 120), (424, 200, 120, 180)),
    ((64, 64, 200, 150), (320, 180, 112, 224), (480, 40, 96, 96)),
    ((32, 240, 144, 112), (216, 208, 176, 144), (440, 120, 128, 256), (120, 40, 80, 80)),
    ((96, 72, 128, 128), (288, 64, 160, 200), (112, 272, 224, 144)),
)
IMAGE_SIZE = (640, 480)
JITTER = 15  # a found object's box moves by up to this share (in %) of its size, in whole pixels


@dataclass(frozen=True)
class DetectionSets:
    """A detector's output on one of the layouts: most objects found with a jittered box, some twice, some
    missed, and one or two boxes on background; every detection with a score of two decimals.

    The layout is drawn here too, so a set fits the objects only when it was drawn for them (a constraint
    checks that it finds some); a set's count of distinct values is bounded below by the first box's jitters.
    """

    layouts: tuple
    lower_bound = True  # count is a lower bound of the distinct sets

    @property
    def count(self):
        return len(self.layouts) * (2 * JITTER + 1) ** 4

    def draw(self, rng):
        layout = self.layouts[int(rng.random() * len(self.layouts))]
        found = []
        for box in layout:
            if rng.random() < 0.85:
                found.append((jittered(rng, box, JITTER), 60 + 39 * rng.random()))
            if rng.random() < 0.4:
                found.append((jittered(rng, box, 2 * JITTER), 30 + 50 * rng.random()))
        for _ in range(1 + int(rng.random() * 2)):
            w, h = 40 + int(rng.random() * 120), 40 + int(rng.random() * 120)
            box = (int(rng.random() * (IMAGE_SIZE[0] - w)), int(rng.random() * (IMAGE_SIZE[1] - h)), w, h)
            found.append((box, 10 + 80 * rng.random()))
        return tuple((*box, round(strength) / 100) for box, strength in found)

    def __str__(self):
        return f"detections around one of {len(self.layouts)} layouts of 3-4 objects in a 640×480 photo"


def jittered(rng, box, percent):
    """The box moved and resized by up to ``percent`` % of its width and height, in whole pixels, inside the photo."""
    x, y, w, h = box
    shift = lambda size: round(size * percent / 100 * (2 * rng.random() - 1))  # noqa: E731
    w, h, x, y = max(8, w + shift(w)), max(8, h + shift(h)), x + shift(w), y + shift(h)
    # Kept inside the photo, as a detector's boxes are clipped to the image.
    x, y = min(max(x, 0), IMAGE_SIZE[0] - w), min(max(y, 0), IMAGE_SIZE[1] - h)
    return (x, y, w, h)


@lru_cache(maxsize=4096)
def ranking(truths, detections):
    return voc_ranking(load_dataset(*coco_inputs(truths, detections)), CATEGORY, THRESHOLD)


def hits(params):
    return sum(row.true_positive for row in ranking(params["truths"], params["detections"]))


def envelope_matters(params):
    """Precision rises again after a false positive, so the envelope is not precision itself."""
    precision = [row.precision for row in ranking(params["truths"], params["detections"])]
    return precision_envelope(precision) != precision


def duplicate(params):
    rows = ranking(params["truths"], params["detections"])
    return any(not row.true_positive and row.truth is not None and row.iou >= THRESHOLD for row in rows)


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


def inside(detection):
    x, y, w, h = detection[:4]
    return x >= 0 and y >= 0 and x + w <= IMAGE_SIZE[0] and y + h <= IMAGE_SIZE[1]


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
    """IoU of the best-ranked detection that overlaps an object at all, worked out."""
    rank, row = next(((rank, row) for rank, row in enumerate(rows, start=1) if row.iou > 0), (None, None))
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
        answers={
            "ap50": coco.ap50,
            "ap75": coco.ap75,
            "map_coco": coco.map,
            "voc_ap": voc.value,
            "precision": precision,
            "recall": recall,
        },
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
    domains={"truths": Choice(*LAYOUTS), "detections": DetectionSets(LAYOUTS)},
    constraints=(
        Constraint("every detection inside the photo", lambda p: all(inside(box) for box in p["detections"])),
        Constraint(
            "distinct scores, so the ranking is unambiguous",
            lambda p: len({d[4] for d in p["detections"]}) == len(p["detections"]),
        ),
        Constraint("at most 7 detections", lambda p: len(p["detections"]) <= 7),
        Constraint("at least two hits and a false positive at IoU 0.5", lambda p: 2 <= hits(p) < len(p["detections"])),
        Constraint("precision rises after a false positive (the envelope is not precision itself)", envelope_matters),
        Constraint("a second box on an object already found", duplicate, share=0.5),
        Constraint("an object never found", lambda p: hits(p) < len(p["truths"]), share=0.5),
    ),
    main_answer=AnswerParts(
        "voc_ap",
        "the measures of this ranking",
        (
            ("precision after the last rank", "precision", (-1,)),
            ("recall after the last rank", "recall", (-1,)),
            ("VOC (all-point) AP at IoU 0.5", "voc_ap", ()),
            ("COCO AP50", "ap50", ()),
            ("COCO AP75", "ap75", ()),
            ("COCO mAP@[.5:.95]", "map_coco", ()),
        ),
    ),
)
