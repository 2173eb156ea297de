"""Exercises 15, 24, 29 and 31 (explanations with computed answers), with PyTorch as referee."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import symconv
from symconv.core.errors import SymconvError
from symconv.render.json import answer_value

SETTINGS = settings(max_examples=30, deadline=None)


def answers(number, **params):
    """A variant's answers as the JSON output writes them."""
    solution = symconv.exercise(number).solution(**params)
    return {name: answer_value(value) for name, value in solution.answers.items()}


def as_list(tensor):
    return [float(value) for value in tensor]


# Exercise 15: identity constructions in a plain net and a residual block (float64 throughout).


def linear(weight, bias):
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0]).double()
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer


def zeros(*shape):
    return torch.zeros(*shape, dtype=torch.float64)


def identity_layer(width):
    """A plain ReLU layer with W = I and b = 0."""
    return torch.nn.Sequential(linear(torch.eye(width, dtype=torch.float64), zeros(width)), torch.nn.ReLU())


def residual_output_with_zero_second_layer(x):
    """ReLU(W2 ReLU(W1 x + b1) + b2 + x) with a random first layer and a zero second layer."""
    width = len(x)
    first = torch.nn.Linear(width, width).double()
    second = linear(zeros(width, width), zeros(width))
    return as_list(torch.relu(second(torch.relu(first(x))) + x))


@torch.no_grad()
def check_identity_answers(found, activation):
    x = torch.tensor([float(v) for v in activation], dtype=torch.float64)
    width = len(activation)
    zero_layer = torch.nn.Sequential(linear(zeros(width, width), zeros(width)), torch.nn.ReLU())
    assert found["plain_identity_output"] == as_list(identity_layer(width)(x))
    assert found["plain_zero_weights_output"] == as_list(zero_layer(x))
    assert found["residual_zero_init_output"] == residual_output_with_zero_second_layer(x) == as_list(x)


def test_degradation_identity_outputs_against_torch(solve_json):
    torch.manual_seed(0)
    check_identity_answers(solve_json(15)["answers"], (3, 0, 5, 2))


@torch.no_grad()
def test_deeper_plain_net_with_identity_layers_copies_the_shallower_one(solve_json):
    """The construction itself: 20 random layers, then the answer's extra layers set to W = I, b = 0."""
    extra = solve_json(15)["answers"]["extra_layers"]
    torch.manual_seed(0)
    width = 8
    hidden = [torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.ReLU()).double() for _ in range(19)]
    classifier = torch.nn.Linear(width, 3).double()
    shallow = torch.nn.Sequential(*hidden, classifier)
    deep = torch.nn.Sequential(*hidden, *(identity_layer(width) for _ in range(extra)), classifier)
    count = lambda net: sum(isinstance(module, torch.nn.Linear) for module in net.modules())
    assert (count(shallow), count(deep)) == (20, 56)
    inputs = torch.randn(16, width, dtype=torch.float64)
    assert torch.equal(deep(inputs), shallow(inputs))


@SETTINGS
@given(st.lists(st.fractions(min_value=0, max_value=50, max_denominator=16), min_size=4, max_size=4))
def test_degradation_identity_outputs_for_any_activation(activation):
    check_identity_answers(answers(15, activation=tuple(activation)), activation)


# Exercise 24: Faster R-CNN on a VGG-16 backbone.

VGG16_CONVS_PER_BLOCK = (2, 2, 3, 3, 3)


def vgg16_conv5(device="cpu"):
    """VGG-16 up to conv5_3 with one channel everywhere (sizes do not depend on width); no pool5."""
    layers = []
    for block, convs in enumerate(VGG16_CONVS_PER_BLOCK):
        layers += [torch.nn.Conv2d(1, 1, 3, padding=1) for _ in range(convs)]
        if block < 4:
            layers.append(torch.nn.MaxPool2d(2, 2))
    return torch.nn.Sequential(*layers).to(device)


def rpn_heads(k, device="cpu"):
    """The RPN's sibling 1x1 convolutions: 2 objectness scores and 4 box offsets per anchor."""
    return torch.nn.Conv2d(1, 2 * k, 1).to(device), torch.nn.Conv2d(1, 4 * k, 1).to(device)


def test_faster_rcnn_sizes_against_torch(solve_json):
    found = solve_json(24)["answers"]
    backbone = vgg16_conv5()
    with torch.no_grad():
        features = backbone(torch.zeros(1, 1, 600, 1000))
        scores, offsets = (head(features) for head in rpn_heads(3 * 3))
    assert found["feature_map"] == list(features.shape[2:]) == [37, 62]
    pool_strides = [module.stride for module in backbone if isinstance(module, torch.nn.MaxPool2d)]
    assert found["feature_stride"] == math.prod(pool_strides)
    assert found["anchors_per_position"] == 9
    assert found["rpn_outputs_per_position"] == scores.shape[1] + offsets.shape[1] == 54
    assert found["anchors"] == scores[0].numel() // 2 == 20646


@SETTINGS
@given(st.integers(16, 1400), st.integers(16, 1400), st.integers(1, 4), st.integers(1, 4))
def test_faster_rcnn_anchor_count_for_any_image(height, width, scales, ratios):
    found = answers(24, image_h=height, image_w=width, anchor_scales=scales, anchor_ratios=ratios)
    k = scales * ratios
    features = vgg16_conv5("meta")(torch.empty(1, 1, height, width, device="meta"))
    scores, offsets = (head(features) for head in rpn_heads(k, "meta"))
    assert found["feature_map"] == list(features.shape[2:])
    assert found["rpn_outputs_per_position"] == scores.shape[1] + offsets.shape[1]
    assert found["anchors"] == scores[0].numel() // 2


def cells_by_adaptive_max_pool(n, bins):
    """The cells each bin reads, found by pooling a one-hot row per cell (adaptive pooling has RoI pooling's bins)."""
    reads = F.adaptive_max_pool1d(torch.eye(n).unsqueeze(1), bins).squeeze(1)  # reads[cell, bin]
    return [torch.nonzero(reads[:, b]).flatten().tolist() for b in range(bins)]


def cells(spans):
    return [list(range(start, end)) for start, end in spans]


def test_roi_pooling_bins_against_torch(solve_json):
    found = solve_json(24)["answers"]
    assert found["roi_row_bins"] == [[0, 2], [1, 4], [3, 5], [4, 7], [6, 8], [7, 10], [9, 11]]
    assert cells(found["roi_row_bins"]) == cells_by_adaptive_max_pool(11, 7)
    assert cells(found["roi_col_bins"]) == cells_by_adaptive_max_pool(16, 7)


@SETTINGS
@given(st.integers(1, 60), st.integers(1, 60), st.integers(1, 9))
def test_roi_pooling_bins_for_any_proposal(roi_h, roi_w, pooled):
    found = answers(24, roi_h=roi_h, roi_w=roi_w, pooled_size=pooled)
    assert cells(found["roi_row_bins"]) == cells_by_adaptive_max_pool(roi_h, pooled)
    assert cells(found["roi_col_bins"]) == cells_by_adaptive_max_pool(roi_w, pooled)


# Exercise 29: segmentation outputs built from a synthetic street scene.

ROAD, SKY, CAR, PERSON = range(4)


def street_scene(height, width, cars, people):
    """Sky above, road below, each car and person a rectangle standing on the road, side by side."""
    objects = [CAR] * cars + [PERSON] * people
    band = width // (len(objects) + 1)
    semantic = torch.full((height, width), ROAD)
    semantic[: height // 2] = SKY
    instance_id = torch.zeros(height, width, dtype=torch.long)
    masks, seen = [], {CAR: 0, PERSON: 0}
    for index, label in enumerate(objects):
        mask = torch.zeros(height, width, dtype=torch.bool)
        mask[height // 2 :, index * band : (index + 1) * band] = True
        seen[label] += 1
        semantic[mask], instance_id[mask] = label, seen[label]
        masks.append(mask)
    return {
        "semantic_scores": F.one_hot(semantic, 4).permute(2, 0, 1).float(),
        "semantic_map": semantic,
        "instance_masks": torch.stack(masks) if masks else torch.zeros(0, height, width, dtype=torch.bool),
        "instance_labels": torch.tensor(objects, dtype=torch.long),
        "instance_scores": torch.rand(len(objects)),
        "panoptic": torch.stack((semantic, instance_id), dim=-1),
    }


def check_segmentation_answers(found, height, width, cars, people):
    scene = street_scene(height, width, cars, people)
    assert torch.equal(scene["semantic_scores"].argmax(0), scene["semantic_map"])
    assert found["semantic_scores_shape"] == list(scene["semantic_scores"].shape)
    assert found["semantic_map_shape"] == list(scene["semantic_map"].shape)
    assert found["instance_masks_shape"] == list(scene["instance_masks"].shape)
    assert found["instance_labels_shape"] == list(scene["instance_labels"].shape)
    assert found["instance_scores_shape"] == list(scene["instance_scores"].shape)
    assert found["panoptic_shape"] == list(scene["panoptic"].shape)
    assert found["classes"] == scene["semantic_scores"].shape[0]
    assert found["instances"] == scene["instance_masks"].shape[0]
    assert found["panoptic_segments"] == len(torch.unique(scene["panoptic"].reshape(-1, 2), dim=0))


def test_segmentation_outputs_of_the_street_scene(solve_json):
    found = solve_json(29)["answers"]
    assert (found["instances"], found["panoptic_segments"]) == (5, 7)
    check_segmentation_answers(found, 512, 1024, 2, 3)


@SETTINGS
@given(st.integers(2, 48), st.integers(0, 4), st.integers(0, 4), st.data())
def test_segmentation_outputs_for_any_scene(height, cars, people, data):
    width = data.draw(st.integers(cars + people + 1, 96))
    found = answers(29, height=height, width=width, cars=cars, people=people)
    check_segmentation_answers(found, height, width, cars, people)


# Exercise 31: CLIP's zero-shot probabilities.

CLIP_CLASSES = ("dog", "cat", "car")


def clip_by_torch(image, texts, scale):
    u = torch.tensor(image, dtype=torch.float64)
    t = torch.tensor(texts, dtype=torch.float64)
    cosines = F.cosine_similarity(u.unsqueeze(0), t, dim=1)
    return cosines, torch.softmax(scale * cosines, dim=0)


def check_clip_answers(found, image, texts, scale):
    cosines, probabilities = clip_by_torch(image, texts, scale)
    assert [found["similarities"][name] for name in CLIP_CLASSES] == pytest.approx(cosines.tolist(), abs=1e-12)
    assert [found["probabilities"][name] for name in CLIP_CLASSES] == pytest.approx(probabilities.tolist(), abs=1e-9)
    # Exact ties may differ in the last float bit: any class at the top probability is a right answer.
    leaders = {name for name, p in zip(CLIP_CLASSES, probabilities.tolist()) if p >= probabilities.max().item() - 1e-12}
    assert found["predicted_class"] in leaders


def test_clip_zero_shot_against_torch(solve_json):
    found = solve_json(31)["answers"]
    check_clip_answers(found, (1, 2, 2, 0), ((1, 2, 2, 1), (2, 2, 2, 1), (0, 2, 1, 0)), 100)
    assert found["predicted_class"] == "dog"


nonzero_vector = lambda dim: st.lists(st.integers(-3, 3), min_size=dim, max_size=dim).filter(any).map(tuple)


@SETTINGS
@given(
    st.integers(2, 5).flatmap(lambda dim: st.tuples(nonzero_vector(dim), st.tuples(*[nonzero_vector(dim)] * 3))),
    st.integers(1, 100),
)
def test_clip_zero_shot_for_any_embeddings(embeddings, scale):
    image, texts = embeddings
    check_clip_answers(answers(31, image_embedding=image, text_embeddings=texts, logit_scale=scale), image, texts, scale)


# Bad parameters are reported, naming the argument.


@pytest.mark.parametrize(
    "number, params, argument",
    [
        (15, {"activation": (1, -1, 0, 2)}, "activation"),
        (15, {"deep_depth": 20}, "deep_depth"),
        (24, {"roi_h": 0}, "roi_h"),
        (24, {"image_h": 8}, "n"),
        (29, {"cars": -1}, "cars"),
        (31, {"image_embedding": (0, 0, 0, 0)}, "image_embedding"),
        (31, {"text_embeddings": ((1, 2, 2, 1), (2, 2, 2, 1))}, "text_embeddings"),
    ],
)
def test_bad_parameters_name_the_argument(number, params, argument):
    with pytest.raises(SymconvError, match=rf"^{argument}="):
        symconv.exercise(number).solution(**params)
