"""Detection metrics against pycocotools (COCO mAP) and against the VOC definition (area under the precision envelope)."""

import contextlib
import copy
import io
import json
import random
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from symconv import SymconvError, exercise
from symconv.formulas.detection import box_iou, coco_map, voc_ap, voc_map

RANDOM_DATA_SETS = 240


def pycocotools_eval(ground_truth, detections):
    """stats[0:3] and the per-threshold AP (mean over evaluated categories) from pycocotools, its prints silenced."""
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = copy.deepcopy(ground_truth)
        truth.createIndex()
        results = truth.loadRes(copy.deepcopy(detections))
        evaluation = COCOeval(truth, results, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    precision = evaluation.eval["precision"][:, :, :, 0, 2]  # T x R x K, area "all", 100 detections
    per_threshold = [float(np.mean(p[:, p[0] > -1])) for p in precision]
    return evaluation.stats[:3], per_threshold


def random_box(rng, around=None):
    """A box on a coarse grid (IoU ties and exact threshold hits happen) or with float coordinates."""
    if around is not None and rng.random() < 0.8:
        x, y, w, h = around
        jitter = lambda: rng.choice([0, 0, 1, -1, 2, -2, 5, -5, 10])
        box = [x + jitter(), y + jitter(), max(1, w + jitter()), max(1, h + jitter())]
    else:
        box = [rng.randrange(0, 80, 2), rng.randrange(0, 80, 2), rng.randrange(2, 50, 2), rng.randrange(2, 50, 2)]
    if rng.random() < 0.3:
        box = [round(value + rng.uniform(-0.5, 0.5), 2) for value in box]
        box[2], box[3] = max(box[2], 0.5), max(box[3], 0.5)
    return box


def random_data_set(seed):
    """Several images and categories, crowd regions, duplicates, misses, images without detections, tied scores."""
    rng = random.Random(seed)
    images = rng.sample(range(1, 50), rng.randint(1, 5))
    categories = rng.sample(range(1, 20), rng.randint(1, 4))
    annotations, detections = [], []
    for image in images:
        for category in categories:
            for _ in range(rng.choice([0, 0, 1, 2, 3, 4, 6])):
                box = random_box(rng)
                crowd = int(rng.random() < 0.15)
                annotations.append(
                    {"image_id": image, "category_id": category, "bbox": box, "area": box[2] * box[3], "iscrowd": crowd}
                )
                for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):  # misses, hits and duplicates
                    detections.append({"image_id": image, "category_id": category, "bbox": random_box(rng, box)})
            if rng.random() < 0.5:  # background false positives
                for _ in range(rng.randint(1, 3)):
                    detections.append({"image_id": image, "category_id": category, "bbox": random_box(rng)})
    if seed % 20 == 0:  # more than 100 detections on one image and category: the cap applies
        detections += [{"image_id": images[0], "category_id": categories[0], "bbox": random_box(rng)} for _ in range(130)]
    if not any(not annotation["iscrowd"] for annotation in annotations):
        box = random_box(rng)
        annotations.append(
            {"image_id": images[0], "category_id": categories[0], "bbox": box, "area": box[2] * box[3], "iscrowd": 0}
        )
    if not detections:
        detections.append({"image_id": images[0], "category_id": categories[0], "bbox": random_box(rng)})
    scores = [0.1, 0.3, 0.5, 0.5, 0.7, 0.9] if seed % 2 else [round(rng.random(), 2) for _ in range(8)]
    for detection in detections:
        detection["score"] = rng.choice(scores)
    rng.shuffle(annotations)
    rng.shuffle(detections)
    for number, annotation in enumerate(annotations, start=1):
        annotation["id"] = number
    if seed % 7 == 0:  # a category nobody annotated, and a detection of it
        categories.append(99)
        detections.append({"image_id": images[0], "category_id": 99, "bbox": random_box(rng), "score": 0.5})
    truth = {
        "images": [{"id": image} for image in images],
        "categories": [{"id": category, "name": str(category)} for category in categories],
        "annotations": annotations,
    }
    return truth, detections


@pytest.mark.parametrize("seed", range(RANDOM_DATA_SETS))
def test_coco_map_equals_pycocotools(seed):
    truth, detections = random_data_set(seed)
    expected, expected_per_threshold = pycocotools_eval(truth, detections)
    result = coco_map(truth, detections)
    assert [float(result.map), float(result.ap50), float(result.ap75)] == pytest.approx(list(expected), abs=1e-9, rel=0)
    assert [float(ap) for _, ap in result.per_threshold] == pytest.approx(expected_per_threshold, abs=1e-9, rel=0)


def test_coco_map_reads_json_files(tmp_path):
    truth, detections = random_data_set(3)
    (tmp_path / "gt.json").write_text(json.dumps(truth))
    (tmp_path / "dt.json").write_text(json.dumps(detections))
    expected, _ = pycocotools_eval(truth, detections)
    result = coco_map(str(tmp_path / "gt.json"), tmp_path / "dt.json")
    assert float(result.map) == pytest.approx(expected[0], abs=1e-9, rel=0)


def test_coco_thresholds_are_pycocotools_own():
    from symconv.formulas.detection import coco_thresholds

    params = COCOeval(iouType="bbox").params
    assert coco_thresholds() == (tuple(params.iouThrs.tolist()), tuple(params.recThrs.tolist()))


def test_thresholds_compare_as_pycocotools_floats():
    # The box covers 0.9 of the object; in floats the IoU is 0.8999999999999999, which reaches pycocotools'
    # linspace threshold 0.8999999999999999 but not a nominal 0.9: the detection counts at "0.90".
    truth = {
        "images": [{"id": 1}],
        "categories": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0.01, 1.0, 1.0], "area": 1.0, "iscrowd": 0}],
    }
    detections = [{"image_id": 1, "category_id": 1, "bbox": [0, 0.06, 1.0, 0.9], "score": 0.5}]
    _, expected_per_threshold = pycocotools_eval(truth, detections)
    result = coco_map(truth, detections)
    assert result.per_threshold[8] == (Fraction(9, 10), 1) and expected_per_threshold[8] == pytest.approx(1)
    assert [float(ap) for _, ap in result.per_threshold] == pytest.approx(expected_per_threshold, abs=1e-9, rel=0)


def one_image(boxes, detections, areas=None):
    annotations = [
        {
            "id": number,
            "image_id": 1,
            "category_id": 1,
            "bbox": box,
            "area": (areas or {}).get(number, box[2] * box[3]),
            "iscrowd": 0,
        }
        for number, box in enumerate(boxes, start=1)
    ]
    found = [{"image_id": 1, "category_id": 1, "bbox": box, "score": score} for box, score in detections]
    return {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": annotations}, found


def test_equal_overlaps_go_to_the_later_box():
    # The first detection overlaps both objects by 9/11; pycocotools gives it the later one, so the second
    # detection (IoU 3/7 with the first object, 2/3 with the second) finds nothing at IoU 0.5.
    truth, detections = one_image([[0, 0, 10, 10], [2, 0, 10, 10]], [([1, 0, 10, 10], 0.9), ([4, 0, 10, 10], 0.8)])
    expected, expected_per_threshold = pycocotools_eval(truth, detections)
    result = coco_map(truth, detections)
    assert float(result.ap50) == pytest.approx(expected[1], abs=1e-9, rel=0)
    assert [float(ap) for _, ap in result.per_threshold] == pytest.approx(expected_per_threshold, abs=1e-9, rel=0)


def test_area_range_all_ignores_what_lies_outside_it():
    # An annotation whose stated area exceeds 1e10 is ignored like a crowd; so is an unmatched detection that large.
    truth, detections = one_image(
        [[0, 0, 10, 10], [50, 50, 10, 10]],
        [([50, 50, 10, 10], 0.9), ([0, 0, 2e5, 1e5], 0.8), ([0, 0, 10, 10], 0.7)],
        areas={2: 2e10},
    )
    expected, expected_per_threshold = pycocotools_eval(truth, detections)
    result = coco_map(truth, detections)
    assert result.ap50 == 1
    assert [float(ap) for _, ap in result.per_threshold] == pytest.approx(expected_per_threshold, abs=1e-9, rel=0)


def test_no_detections_give_zero():
    # pycocotools cannot load an empty result list; by definition nothing is found, so every AP is 0.
    truth, _ = random_data_set(5)
    result = coco_map(truth, [])
    assert (result.map, result.ap50, result.ap75) == (0, 0, 0)


def test_errors_name_the_argument():
    truth, detections = random_data_set(1)
    with pytest.raises(SymconvError, match="image_id"):
        coco_map(truth, [{"image_id": 12345, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])
    with pytest.raises(SymconvError, match="bbox"):
        coco_map(truth, [{**detections[0], "bbox": [0, 0, 1]}])
    only_crowd = {**truth, "annotations": [{**a, "iscrowd": 1} for a in truth["annotations"]]}
    with pytest.raises(SymconvError, match="undefined"):
        coco_map(only_crowd, detections)
    with pytest.raises(SymconvError, match="recall"):
        voc_ap([Fraction(1, 2), Fraction(1, 4)], [1, 1])
    with pytest.raises(SymconvError, match="precision"):
        voc_ap([Fraction(1, 2)], [1, 1])


def test_box_iou_by_hand():
    # [0,0,4,4] and [2,0,4,4] share a 2×4 strip: 8 / (16 + 16 − 8) = 1/3; a crowd region divides by the detection's 16.
    assert box_iou([2, 0, 4, 4], [0, 0, 4, 4]) == Fraction(1, 3)
    assert box_iou([2, 0, 4, 4], [0, 0, 4, 4], crowd=True) == Fraction(1, 2)
    assert box_iou([5, 5, 1, 1], [0, 0, 4, 4]) == 0
    assert box_iou([2.0, 0, 4, 4], [0, 0, 4, 4]) == pytest.approx(1 / 3)


# ---------------------------------------------------------------- VOC


@pytest.mark.parametrize(
    ("recall", "precision", "eleven_point", "expected"),
    [
        # TP, TP, FP, FP, TP over 3 objects: envelope 1, 1, 3/5, 3/5, 3/5; area 1/3 + 1/3 + 3/5·1/3.
        ("1/3 2/3 2/3 2/3 1", "1 1 2/3 1/2 3/5", False, Fraction(13, 15)),
        # a perfect ranking, and one that finds nothing
        ("1/2 1", "1 1", False, 1),
        ("0 0", "0 0", False, 0),
        # the first detection a false positive: precision 1/2 at recall 1/2, then 2/3 at recall 1
        ("0 1/2 1", "0 1/2 2/3", False, Fraction(2, 3)),
        # 11-point: levels 0 … 0.5 see precision 1 (6 levels), 0.6 … 1 see 1/2 (5 levels)
        ("1/2 1", "1 1/2", True, Fraction(17, 22)),
        # recall exactly 3/10 reaches the level 0.3: levels 0, 0.1, 0.2, 0.3
        ("3/10", "1", True, Fraction(4, 11)),
    ],
)
def test_voc_ap_by_hand(recall, precision, eleven_point, expected):
    parse = lambda text: [Fraction(value) for value in text.split()]
    assert voc_ap(parse(recall), parse(precision), eleven_point) == expected


def area_under_envelope(recall, precision):
    """The definition, integrated over recall: on (a, b] between consecutive recall values the
    interpolated precision is the best precision at any recall >= b."""
    points = sorted({0, *recall, 1})
    return sum((b - a) * max((p for r, p in zip(recall, precision) if r >= b), default=0) for a, b in zip(points, points[1:]))


fractions = st.fractions(min_value=0, max_value=1, max_denominator=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(fractions, fractions), min_size=1, max_size=12))
def test_voc_ap_is_the_area_under_the_precision_envelope(points):
    recall = sorted(r for r, _ in points)
    precision = [p for _, p in points]
    assert voc_ap(recall, precision) == area_under_envelope(recall, precision)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=20), st.integers(0, 5))
def test_voc_ap_of_rankings(hits, extra_objects):
    positives = sum(hits) + extra_objects or 1  # some objects are never found
    cumulative = np.cumsum(hits).tolist()
    recall = [Fraction(found, positives) for found in cumulative]
    precision = [Fraction(found, rank) for rank, found in enumerate(cumulative, start=1)]
    assert voc_ap(recall, precision) == area_under_envelope(recall, precision)


def voc_truth(boxes_by_category, crowd=()):
    annotations = [
        {
            "id": index,
            "image_id": 1,
            "category_id": category,
            "bbox": box,
            "area": box[2] * box[3],
            "iscrowd": int(index in crowd),
        }
        for index, (category, box) in enumerate(((c, b) for c, boxes in boxes_by_category.items() for b in boxes), start=1)
    ]
    return {"images": [{"id": 1}], "categories": [{"id": c} for c in (1, 2, 3)], "annotations": annotations}


def test_voc_map_by_hand():
    truth = voc_truth({1: [[0, 0, 10, 10], [20, 0, 10, 10]], 2: [[0, 20, 10, 10]]})
    detections = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},  # TP (IoU 1)
        {"image_id": 1, "category_id": 1, "bbox": [1, 0, 10, 10], "score": 0.8},  # duplicate: FP
        {"image_id": 1, "category_id": 1, "bbox": [25, 0, 10, 10], "score": 0.7},  # IoU 50/150 = 1/3: FP
        {"image_id": 1, "category_id": 2, "bbox": [0, 25, 10, 10], "score": 0.6},  # IoU 50/150: FP
        {"image_id": 1, "category_id": 2, "bbox": [0, 22, 10, 10], "score": 0.5},  # IoU 80/120 = 2/3: TP
    ]
    # category 1: recall 1/2 at precision 1, never more: AP 1/2. Category 2: precision 1/2 at recall 1: AP 1/2.
    # Category 3 has no boxes and is left out of the mean.
    result = voc_map(truth, detections)
    assert result.per_category == ((1, Fraction(1, 2)), (2, Fraction(1, 2)))
    assert result.map == Fraction(1, 2)
    # at IoU 1/3 the third detection of category 1 is a hit too: envelope 2/3 on recall (1/2, 1]
    assert voc_map(truth, detections, iou_threshold=Fraction(1, 3)).per_category[0] == (
        1,
        Fraction(1, 2) + Fraction(1, 2) * Fraction(2, 3),
    )


def test_voc_map_duplicates_of_a_claimed_best_box_are_false_positives():
    # The second detection overlaps the claimed box A most (IoU 1) and box B by 80/120 = 2/3: VOC still counts it FP.
    truth = voc_truth({1: [[0, 0, 10, 10], [2, 0, 10, 10]]})
    detections = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.8},
    ]
    assert voc_map(truth, detections).map == Fraction(1, 2)


def test_voc_map_leaves_crowd_regions_out():
    truth = voc_truth({1: [[0, 0, 10, 10], [50, 50, 30, 30]]}, crowd={2})
    detections = [
        {"image_id": 1, "category_id": 1, "bbox": [50, 50, 30, 30], "score": 0.9},  # on the crowd region: FP
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.8},  # TP, the only object
    ]
    assert voc_map(truth, detections).map == Fraction(1, 2)


# ---------------------------------------------------------------- exercise 26


def exercise_data_set(params):
    truth = {
        "images": [{"id": 1}],
        "categories": [{"id": 1, "name": "object"}],
        "annotations": [
            {"id": number, "image_id": 1, "category_id": 1, "bbox": list(box), "area": box[2] * box[3], "iscrowd": 0}
            for number, box in enumerate(params["truths"], start=1)
        ],
    }
    detections = [
        {"image_id": 1, "category_id": 1, "bbox": [x, y, w, h], "score": score} for x, y, w, h, score in params["detections"]
    ]
    return truth, detections


def test_exercise_26_answers_match_pycocotools():
    ex = exercise(26)
    solution = ex.solution()
    (expected_map, expected_50, expected_75), _ = pycocotools_eval(*exercise_data_set(ex.defaults))
    assert float(solution.answers["map_coco"]) == pytest.approx(expected_map, abs=1e-9, rel=0)
    assert float(solution.answers["ap50"]) == pytest.approx(expected_50, abs=1e-9, rel=0)
    assert float(solution.answers["ap75"]) == pytest.approx(expected_75, abs=1e-9, rel=0)
    # By hand from the VOC definition: TP, TP, FP, FP, TP over 3 objects gives 1/3 + 1/3 + 1/3·3/5.
    assert solution.answers["voc_ap"] == Fraction(13, 15)


def test_exercise_26_renders_in_every_format():
    from symconv.render import json as json_renderer
    from symconv.render import latex_solution, markdown, text

    solution = exercise(26).solution()
    for renderer in (latex_solution, markdown, text):
        assert "AP" in renderer.render_solution(solution)
    answers = json.loads(json_renderer.render_solution(solution))["answers"]
    assert set(answers) == {"ap50", "ap75", "map_coco", "voc_ap", "precision", "recall"}
    ranks = len(exercise(26).defaults["detections"])
    assert all(isinstance(answers[name], float) for name in ("ap50", "ap75", "map_coco", "voc_ap"))
    assert all(
        len(answers[name]) == ranks and all(isinstance(v, (int, float)) for v in answers[name])
        for name in ("precision", "recall")
    )


def test_importing_detection_loads_no_numpy():
    code = "import sys, symconv.formulas.detection; assert 'numpy' not in sys.modules and 'sympy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
