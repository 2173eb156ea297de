"""Detection metrics: box IoU, PASCAL VOC average precision, and COCO's mAP@[.5:.95] as pycocotools computes it.

Inputs are COCO's JSON structures (as loaded, or paths to the files): a ground truth with "images",
"annotations" (bbox [x, y, w, h], area, iscrowd, category_id, image_id) and "categories", and a list
of detections {"image_id", "category_id", "bbox", "score"}. Counts stay integers and precision and
recall stay Fractions; only IoU is a float where the coordinates are (COCO compares float IoUs with
float thresholds, so the same comparisons are made here). numpy is imported only to build COCO's
thresholds exactly as pycocotools does.
"""

from __future__ import annotations

import ast
import json
from bisect import bisect_left
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from numbers import Rational, Real
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from symconv.core.errors import invalid
from symconv.core.formula import formula
from symconv.core.transform import constant
from symconv.core.values import divide, exact

# pycocotools' defaults behind stats[0:3]: 100 detections per image and category, area range "all".
MAX_DETECTIONS = 100
AREA_ALL = (0, 1e10)
# The IoU a match must reach is capped just below 1 (pycocotools' guard for a threshold of 1).
MATCH_CAP = 1 - 1e-10


@formula("IoU")
def intersection_over_union(A_overlap, A_det, A_gt):
    """Area shared by the two boxes over the area covered by either of them."""
    return A_overlap / (A_det + A_gt - A_overlap)


def box_overlap(box_a: Sequence[Any], box_b: Sequence[Any]) -> tuple[Any, Any]:
    """Width and height of the intersection of two [x, y, w, h] boxes (0 where they do not overlap)."""
    width = min(box_a[0] + box_a[2], box_b[0] + box_b[2]) - max(box_a[0], box_b[0])
    height = min(box_a[1] + box_a[3], box_b[1] + box_b[3]) - max(box_a[1], box_b[1])
    return max(width, 0), max(height, 0)


def box_iou(detection_box: Sequence[Any], truth_box: Sequence[Any], crowd: bool = False) -> Any:
    """IoU of a detection with a ground-truth box, in pycocotools' arithmetic.

    Against a crowd region the denominator is the detection's own area (the share of the detection
    inside the region). Exact (int or Fraction) when every coordinate is, a float otherwise.
    """
    if not all(isinstance(value, Rational) for value in (*detection_box, *truth_box)):
        detection_box, truth_box = tuple(map(float, detection_box)), tuple(map(float, truth_box))
    width, height = box_overlap(detection_box, truth_box)
    if width <= 0 or height <= 0:
        return 0
    overlap = width * height
    detection_area = detection_box[2] * detection_box[3]
    if crowd:
        return divide(overlap, detection_area)
    if isinstance(overlap, float):  # the float path follows pycocotools' C code operation by operation
        return intersection_over_union.function(overlap, detection_area, truth_box[2] * truth_box[3])
    return exact(intersection_over_union.function(Fraction(overlap), detection_area, truth_box[2] * truth_box[3]))


def precision_envelope(precision: Sequence[Any]) -> list[Any]:
    """Precision made monotone: each entry replaced by the highest precision at its rank or later."""
    envelope = list(precision)
    for index in range(len(envelope) - 2, -1, -1):
        envelope[index] = max(envelope[index], envelope[index + 1])
    return envelope


def voc_ap(recall: Sequence[Any], precision: Sequence[Any], eleven_point: bool = False) -> Any:
    """PASCAL VOC average precision of a ranked list's recall and precision (one entry per detection).

    All-point (VOC2010 and later): the area under the monotone precision envelope,
    sum over recall steps of (r_i - r_(i-1)) times the envelope at i, with r_0 = 0.
    Eleven-point (VOC2007): the mean over t = 0, 1/10, ..., 1 of the highest precision at recall >= t.
    The thresholds t are exactly k/10 here; float code (0.1*k = 0.30000000000000004) can miss a
    recall of exactly 3/10. Exact when the inputs are.
    """
    recall, precision = _curve(recall, precision)
    if eleven_point:
        best = [max((p for r, p in zip(recall, precision) if r >= Fraction(k, 10)), default=0) for k in range(11)]
        return divide(sum(best), 11)
    return exact(sum((after - before) * level for before, after, level in _recall_steps(recall, precision)))


def voc_ap_expression(recall: Sequence[Any], precision: Sequence[Any]) -> ast.expr:
    """The all-point sum written out, (r_1 - r_0)·p̂_1 + (r_2 - r_1)·p̂_2 + …, for :func:`symconv.derive_expression`.

    Only ranks where recall grows contribute (a false positive adds a zero-width step).
    """
    recall, precision = _curve(recall, precision)
    terms = [
        ast.BinOp(
            left=ast.BinOp(left=constant(exact(after)), op=ast.Sub(), right=constant(exact(before))),
            op=ast.Mult(),
            right=constant(exact(level)),
        )
        for before, after, level in _recall_steps(recall, precision)
    ]
    if not terms:
        return constant(0)
    total = terms[0]
    for term in terms[1:]:
        total = ast.BinOp(left=total, op=ast.Add(), right=term)
    return total


def _recall_steps(recall: Sequence[Any], precision: Sequence[Any]) -> list[tuple[Any, Any, Any]]:
    """(recall before, recall after, envelope precision) at each rank where recall grows."""
    envelope = precision_envelope(precision)
    steps, before = [], 0
    for after, level in zip(recall, envelope):
        if after != before:
            steps.append((before, after, level))
            before = after
    return steps


def _curve(recall: Sequence[Any], precision: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    recall, precision = list(recall), list(precision)
    if len(recall) != len(precision):
        raise invalid("precision", f"{len(precision)} values", f"must have one value per recall value ({len(recall)})")
    for name, values in (("recall", recall), ("precision", precision)):
        for value in values:
            if not isinstance(value, Real) or isinstance(value, bool) or value < 0 or not value <= 1:
                raise invalid(name, value, "must be a number between 0 and 1")
    for before, after in zip(recall, recall[1:]):
        if after < before:
            raise invalid("recall", after, f"must not decrease along the ranking (follows {before})")
    return recall, precision


class Truth(NamedTuple):
    """A ground-truth box; ``ignore`` marks crowd regions and areas outside COCO's range "all"."""

    box: tuple[Any, ...]
    crowd: bool
    ignore: bool


class Detection(NamedTuple):
    box: tuple[Any, ...]
    score: Real


@dataclass(frozen=True)
class Dataset:
    """Ground truth and detections grouped by (image, category), each group in input order."""

    images: tuple[Any, ...]
    categories: tuple[Any, ...]
    truths: Mapping[tuple[Any, Any], tuple[Truth, ...]]
    detections: Mapping[tuple[Any, Any], tuple[Detection, ...]]


def load_dataset(ground_truth: Any, detections: Any) -> Dataset:
    """Read and check COCO inputs, keeping what pycocotools keeps.

    Images and categories are the ids listed in the ground truth, sorted; annotations and detections
    of other categories are dropped, as are annotations of unlisted images; a detection on an
    unlisted image is an error (pycocotools refuses such results).
    """
    truth = _json(ground_truth, "ground_truth")
    found = _json(detections, "detections")
    if not isinstance(truth, Mapping):
        raise invalid("ground_truth", type(truth).__name__, "must be a COCO dict with images, annotations and categories")
    if not isinstance(found, list):
        raise invalid("detections", type(found).__name__, "must be a list of {image_id, category_id, bbox, score}")
    images = _ids(truth, "images")
    categories = _ids(truth, "categories")
    truths: dict[tuple[Any, Any], list[Truth]] = {}
    for annotation in _field(truth, "annotations", "ground_truth"):
        key = (_field(annotation, "image_id", "annotation"), _field(annotation, "category_id", "annotation"))
        if key[0] in images and key[1] in categories:
            box = _box(annotation)
            area = annotation.get("area", box[2] * box[3])
            crowd = bool(annotation.get("iscrowd", 0))
            outside = area < AREA_ALL[0] or area > AREA_ALL[1]
            truths.setdefault(key, []).append(Truth(box, crowd, crowd or outside))
    found_by_key: dict[tuple[Any, Any], list[Detection]] = {}
    for detection in found:
        key = (_field(detection, "image_id", "detection"), _field(detection, "category_id", "detection"))
        if key[0] not in images:
            raise invalid("detection.image_id", key[0], "must be one of the ground truth's images")
        score = _field(detection, "score", "detection")
        if not isinstance(score, Real) or isinstance(score, bool) or score != score:
            raise invalid("detection.score", score, "must be a number")
        if key[1] in categories:
            found_by_key.setdefault(key, []).append(Detection(_box(detection), score))
    return Dataset(
        tuple(sorted(images)),
        tuple(sorted(categories)),
        {key: tuple(values) for key, values in truths.items()},
        {key: tuple(values) for key, values in found_by_key.items()},
    )


def _json(source: Any, name: str) -> Any:
    if isinstance(source, (str, Path)):
        try:
            with open(source, encoding="utf-8") as file:
                return json.load(file)
        except (OSError, ValueError) as error:
            raise invalid(name, str(source), f"must be a readable JSON file ({error})") from None
    return source


def _ids(truth: Mapping[str, Any], name: str) -> set[Any]:
    ids = {_field(entry, "id", name) for entry in _field(truth, name, "ground_truth")}
    if not ids:
        raise invalid(f"ground_truth[{name!r}]", [], "must list at least one entry")
    return ids


def _field(record: Any, key: str, name: str) -> Any:
    if not isinstance(record, Mapping) or key not in record:
        raise invalid(name, record, f"must have the field {key!r}")
    return record[key]


def _box(record: Mapping[str, Any]) -> tuple[Any, ...]:
    box = record.get("bbox")
    if (
        not isinstance(box, Sequence)
        or len(box) != 4
        or not all(isinstance(value, Real) and not isinstance(value, bool) for value in box)
    ):
        raise invalid("bbox", box, "must be [x, y, width, height] of four numbers")
    if box[2] < 0 or box[3] < 0:
        raise invalid("bbox", box, "width and height must be at least 0")
    return tuple(box)


def _by_score(detections: Iterable[Any], score: Any = lambda detection: detection.score) -> list[Any]:
    """Highest score first; ties keep their order (pycocotools sorts with a stable mergesort)."""
    return sorted(detections, key=lambda detection: -score(detection))


# ---------------------------------------------------------------- PASCAL VOC


@dataclass(frozen=True)
class RankedDetection:
    """One detection in its category's ranking: best overlap, verdict, and precision and recall so far."""

    image_id: Any
    box: tuple[Any, ...]
    score: Real
    truth: int | None  # the box it overlaps most: its position among the image's non-crowd boxes of the category
    iou: Any
    true_positive: bool
    precision: Fraction
    recall: Fraction


@dataclass(frozen=True)
class VOCResult:
    """Mean AP over the categories that have ground truth, and each category's AP."""

    map: Any
    per_category: tuple[tuple[Any, Any], ...]


def voc_ranking(dataset: Dataset, category_id: Any, iou_threshold: Any = Fraction(1, 2)) -> tuple[RankedDetection, ...]:
    """All detections of a category by decreasing score, each judged by the VOC rule.

    A detection is assigned the ground-truth box of its image it overlaps most; it is a true positive
    if that IoU reaches the threshold and the box was not claimed by a higher-scored detection,
    otherwise a false positive (a second detection of a claimed object is a duplicate).
    """
    positives = sum(len(_voc_truths(dataset, image, category_id)) for image in dataset.images)
    if positives == 0:
        raise invalid("category_id", category_id, "has no (non-crowd) ground-truth box: its recall is undefined")
    ranked = _by_score(
        ((image, detection) for image in dataset.images for detection in dataset.detections.get((image, category_id), ())),
        score=lambda entry: entry[1].score,
    )
    claimed: set[tuple[Any, int]] = set()
    rows, hits = [], 0
    for rank, (image, detection) in enumerate(ranked, start=1):
        ious = [box_iou(detection.box, truth.box) for truth in _voc_truths(dataset, image, category_id)]
        best = max(range(len(ious)), key=ious.__getitem__, default=None)  # first of equal overlaps
        iou = ious[best] if best is not None else 0
        hit = best is not None and iou >= iou_threshold and (image, best) not in claimed
        if hit:
            assert best is not None
            claimed.add((image, best))
            hits += 1
        rows.append(
            RankedDetection(
                image, detection.box, detection.score, best, iou, hit, Fraction(hits, rank), Fraction(hits, positives)
            )
        )
    return tuple(rows)


def voc_map(ground_truth: Any, detections: Any, iou_threshold: Any = Fraction(1, 2), eleven_point: bool = False) -> VOCResult:
    """PASCAL VOC mAP on COCO inputs: per category the AP of :func:`voc_ranking`, then the mean.

    Differences from the VOC devkit, stated: boxes are continuous [x, y, w, h] (no +1 pixel), a
    match needs IoU >= threshold (the devkit uses >), ties in score keep input order, and the
    "difficult" flag is not modelled: crowd annotations are left out, so detections on them count
    as false positives. Categories without ground truth are left out of the mean.
    """
    dataset = load_dataset(ground_truth, detections)
    per_category = []
    for category in dataset.categories:
        if any(_voc_truths(dataset, image, category) for image in dataset.images):
            rows = voc_ranking(dataset, category, iou_threshold)
            ap = voc_ap([row.recall for row in rows], [row.precision for row in rows], eleven_point)
            per_category.append((category, ap))
    if not per_category:
        raise invalid("ground_truth", "annotations", "no category has a non-crowd box: mAP is undefined")
    return VOCResult(divide(sum(ap for _, ap in per_category), len(per_category)), tuple(per_category))


def _voc_truths(dataset: Dataset, image: Any, category: Any) -> list[Truth]:
    return [truth for truth in dataset.truths.get((image, category), ()) if not truth.crowd]


# ---------------------------------------------------------------- COCO

TRUE_POSITIVE, FALSE_POSITIVE, IGNORED = "TP", "FP", "ignored"


@dataclass(frozen=True)
class COCOResult:
    """COCO's stats[0:3]: AP averaged over IoU thresholds 0.50:0.05:0.95, AP at 0.50 and at 0.75.

    ``per_threshold`` pairs each threshold (written exactly; compared as pycocotools' float) with its
    AP, the mean over ``categories`` (those with at least one countable ground-truth box).
    """

    map: Any
    ap50: Any
    ap75: Any
    per_threshold: tuple[tuple[Fraction, Any], ...]
    categories: tuple[Any, ...]


@lru_cache(maxsize=1)
def coco_thresholds() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """IoU thresholds and the 101 recall levels, built as pycocotools builds them (np.linspace)."""
    import numpy as np

    iou = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
    recall = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
    return tuple(iou.tolist()), tuple(recall.tolist())


def coco_map(ground_truth: Any, detections: Any) -> COCOResult:
    """mAP@[.5:.95], AP50 and AP75 equal to pycocotools' ``COCOeval(gt, dt, 'bbox').stats[0:3]``.

    Per image and category: detections by score (stable), the first 100 kept; at each IoU threshold
    each detection in turn takes the unclaimed box it overlaps most (at least the threshold), regular
    boxes before ignored ones; a match to a crowd region is ignored, and a crowd region may absorb
    any number of detections. Per category, over all images: detections by score, precision made
    monotone, read at the 101 recall levels 0, 0.01, …, 1 (first rank whose recall reaches the
    level; 0 beyond the last), averaged. A category without a countable box is left out of the means.
    One difference: pycocotools counts a match to an annotation with id 0 as a false positive; here
    annotation ids play no part.
    """
    dataset = load_dataset(ground_truth, detections)
    iou_thresholds, recall_levels = coco_thresholds()
    per_category = {}
    for category in dataset.categories:
        positives = 0
        verdicts: list[tuple[Real, tuple[str, ...]]] = []
        for image in dataset.images:
            truths = dataset.truths.get((image, category), ())
            positives += sum(not truth.ignore for truth in truths)
            found = dataset.detections.get((image, category), ())
            verdicts += _coco_image_verdicts(truths, found, iou_thresholds)
        if positives:
            ranked = _by_score(verdicts, score=lambda entry: entry[0])
            per_category[category] = [
                _coco_ap([entry[1][index] for entry in ranked], positives, recall_levels) for index in range(len(iou_thresholds))
            ]
    if not per_category:
        raise invalid("ground_truth", "annotations", "no category has a countable (non-crowd) box: mAP is undefined")
    per_threshold = tuple(
        (Fraction(round(threshold * 100), 100), divide(sum(aps[index] for aps in per_category.values()), len(per_category)))
        for index, threshold in enumerate(iou_thresholds)
    )
    mean = divide(sum(ap for _, ap in per_threshold), len(per_threshold))
    return COCOResult(
        mean,
        per_threshold[iou_thresholds.index(0.5)][1],
        per_threshold[iou_thresholds.index(0.75)][1],
        per_threshold,
        tuple(per_category),
    )


def _coco_image_verdicts(
    truths: Sequence[Truth], detections: Sequence[Detection], iou_thresholds: Sequence[float]
) -> list[tuple[Real, tuple[str, ...]]]:
    """(score, verdict at each threshold) for the kept detections of one image and category."""
    kept = _by_score(detections)[:MAX_DETECTIONS]
    truths = sorted(truths, key=lambda truth: truth.ignore)  # regular boxes first, order kept
    float_truths = [tuple(map(float, truth.box)) for truth in truths]
    ious = [[box_iou(tuple(map(float, d.box)), box, truth.crowd) for box, truth in zip(float_truths, truths)] for d in kept]
    verdicts: list[list[str]] = [[] for _ in kept]
    for threshold in iou_thresholds:
        claimed = [False] * len(truths)
        for index, detection in enumerate(kept):
            match = _coco_match(ious[index], truths, claimed, min(threshold, MATCH_CAP))
            if match is None:
                area = detection.box[2] * detection.box[3]
                outside = area < AREA_ALL[0] or area > AREA_ALL[1]
                verdicts[index].append(IGNORED if outside else FALSE_POSITIVE)
            else:
                claimed[match] = True
                verdicts[index].append(IGNORED if truths[match].ignore else TRUE_POSITIVE)
    return [(detection.score, tuple(verdict)) for detection, verdict in zip(kept, verdicts)]


def _coco_match(ious: Sequence[float], truths: Sequence[Truth], claimed: Sequence[bool], threshold: float) -> int | None:
    """pycocotools' greedy choice: the best IoU >= threshold (a later box wins a tie), stopping at
    ignored boxes once a regular one matched; claimed boxes are skipped unless crowd regions."""
    best, match = threshold, None
    for index, truth in enumerate(truths):
        if claimed[index] and not truth.crowd:
            continue
        if match is not None and not truths[match].ignore and truth.ignore:
            break
        if ious[index] < best:
            continue
        best, match = ious[index], index
    return match


def _coco_ap(verdicts: Sequence[str], positives: int, recall_levels: Sequence[float]) -> Fraction:
    """Mean over the recall levels of the monotone precision at the first rank reaching each level."""
    hits = misses = 0
    recall, precision = [], []
    for verdict in verdicts:
        if verdict == IGNORED:  # neither a hit nor a miss; dropping it leaves the curve unchanged
            continue
        hits += verdict == TRUE_POSITIVE
        misses += verdict == FALSE_POSITIVE
        recall.append(hits / positives)  # a float, compared with float levels as pycocotools does
        precision.append(Fraction(hits, hits + misses))
    envelope = precision_envelope(precision)
    total = Fraction(0)
    for level in recall_levels:
        rank = bisect_left(recall, level)
        if rank == len(recall):
            break
        total += envelope[rank]
    return total / len(recall_levels)
