"""Variants of exercises 11-13, 18-20, 23, 24, 26, 30, 32 and 33: every drawn answer recomputed by torch or pycocotools."""

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from test_architecture_exercises import (
    META,
    RESNET50_FC,
    RESNET50_PARAMS,
    Basic,
    Bottleneck,
    Inception,
    cifar_stem,
    count,
    count_of,
    imagenet_stem,
    main_path_layers,
    resnet,
    resnet50,
    trainable,
)
from test_gradient_exercises import evaluate, named, tensor
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from symconv.teaching import exercises, variants

COUNT = 15
SEEDS = range(20)  # exercises that gained variants with issue 17: the first variant of each of 20 seeds


def drawn(number):
    """(parameters, main answer, all answers) of the exercise's first 15 variants for seed 5."""
    exercise = exercises.get(number)
    for variant in variants.sample(exercise, seed=5, count=COUNT):
        answers = variant.solution().answers
        yield variant.params, variants.main_answer(exercise, answers).value(answers), answers


def assert_varies(mains):
    """The declared domains really change the answer a quiz asks for."""
    assert len(mains) == COUNT and len({repr(main) for main in mains}) > 1


def statistic_size(normalise, shape):
    """How many outputs a single input moves: exactly the elements that share its mean and variance."""
    spike = torch.zeros(shape)
    spike.view(-1)[0] = 1.0
    return int(torch.count_nonzero(normalise(spike)))


def group_statistics(shape, groups):
    """How many means GroupNorm keeps for a tensor of this shape (torch returns them from its kernel)."""
    batch, channels, height, width = shape
    return torch.native_group_norm(torch.zeros(shape), None, None, batch, channels, height * width, groups, 1e-5)[1].numel()


def test_normalisation_statistics_variants():
    mains = []
    for p, main, answers in drawn(18):
        shape, groups = (p["batch"], p["channels"], p["height"], p["width"]), p["groups"]
        elements = {
            "batch": statistic_size(lambda x: F.batch_norm(x, None, None, training=True), shape),
            "layer": statistic_size(lambda x: F.layer_norm(x, shape[1:]), shape),
            "instance": statistic_size(F.instance_norm, shape),
            "group": statistic_size(lambda x: F.group_norm(x, groups), shape),
        }
        assert main == [elements[kind] for kind in ("batch", "layer", "instance", "group")]
        assert answers["example_elements_per_statistic"] == elements
        assert answers["example_statistics"]["group"] == group_statistics(shape, groups)
        mains.append(main)
    assert_varies(mains)


def test_inception_channels_variants():
    mains = []
    for p, main, _ in drawn(20):
        module = Inception(
            *(
                p[name]
                for name in ("in_channels", "branch_1x1", "reduce_3x3", "branch_3x3", "reduce_5x5", "branch_5x5", "pool_proj")
            )
        )
        out = module(torch.zeros(1, p["in_channels"], p["size"], p["size"], device=META))
        assert out.shape == (1, main, p["size"], p["size"])
        mains.append(main)
    assert_varies(mains)


def test_focal_loss_variants():
    mains = []
    for p, main, answers in drawn(23):
        gamma, alpha = p["gamma"], p["alpha"]
        probabilities = torch.tensor(
            [float(p[name]) for name in ("p_low", "p_mid", "p_high")], dtype=torch.float64, requires_grad=True
        )
        cross_entropy = F.binary_cross_entropy(probabilities, torch.ones(3, dtype=torch.float64), reduction="none")
        focal = alpha * (1 - probabilities) ** gamma * cross_entropy
        ratios = (focal / cross_entropy).tolist()
        assert all(math.isclose(got, want, rel_tol=1e-12) for got, want in zip(main, ratios, strict=True))
        assert all(math.isclose(got, want, rel_tol=1e-12) for got, want in zip(answers["multipliers"], ratios))
        (slopes,) = torch.autograd.grad(focal.sum(), probabilities)
        for name, slope in zip(("p_low", "p_mid", "p_high"), slopes.tolist()):
            # Names bound to values, so "gamma" is read as the exponent, not sympy's gamma function.
            at = {"p_t": sympy.Rational(p[name]), "gamma": gamma, "alpha_t": alpha}
            assert math.isclose(float(sympy.sympify(answers["derivative"], locals=at)), slope, rel_tol=1e-9)
        mains.append(main)
    assert_varies(mains)


def vgg16_conv5_3():
    """VGG-16's convolutional part with the fifth pool removed, as Faster R-CNN uses it."""
    layers, in_channels = [], 3
    for block, (convs, channels) in enumerate(((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))):
        for _ in range(convs):
            layers += [nn.Conv2d(in_channels, channels, 3, padding=1, device=META), nn.ReLU()]
            in_channels = channels
        if block < 4:
            layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers)


def roi_bins(cells, pooled):
    """RoI max pooling's bins along one axis, read from torch's adaptive max pooling on the cell indices."""
    index = torch.arange(cells, dtype=torch.float64).view(1, 1, cells)
    starts = (-F.adaptive_max_pool1d(-index, pooled)).flatten().long().tolist()
    ends = (F.adaptive_max_pool1d(index, pooled) + 1).flatten().long().tolist()
    return [[start, end] for start, end in zip(starts, ends)]


def test_faster_rcnn_variants():
    backbone, mains = vgg16_conv5_3(), []
    for p, main, answers in drawn(24):
        features = backbone(torch.zeros(1, 3, p["image_h"], p["image_w"], device=META))
        k = p["anchor_scales"] * p["anchor_ratios"]
        hidden = nn.Conv2d(512, 512, 3, padding=1, device=META)(features)
        scores, offsets = nn.Conv2d(512, 2 * k, 1, device=META)(hidden), nn.Conv2d(512, 4 * k, 1, device=META)(hidden)
        assert main == scores.numel() // 2 == offsets.numel() // 4
        assert answers["feature_map"] == list(features.shape[2:])
        assert answers["rpn_outputs_per_position"] == scores.shape[1] + offsets.shape[1]
        assert answers["roi_row_bins"] == roi_bins(p["roi_h"], p["pooled_size"])
        assert answers["roi_col_bins"] == roi_bins(p["roi_w"], p["pooled_size"])
        mains.append(main)
    assert_varies(mains)


def test_transfer_learning_variants():
    network, mains = resnet50(), []
    for p, main, answers in drawn(30):
        network[-1] = nn.Linear(network[-1].in_features, p["classes"], device=META)
        assert answers["head_params"] == count(network[-1])
        assert main == trainable(network) == RESNET50_PARAMS - RESNET50_FC + count(network[-1])
        mains.append(main)
    assert_varies(mains)


def test_groupnorm_cifar_variants():
    mains = []
    for p, main, answers in drawn(32):
        groups = p["groups"]
        shapes = [(1, width, size, size) for width, size in zip(p["widths"], p["sizes"])]
        elements = [statistic_size(lambda x: F.group_norm(x, groups), shape) for shape in shapes]
        assert main == elements == answers["elements_per_statistic"]
        assert answers["statistics_per_sample"] == [group_statistics(shape, groups) for shape in shapes]
        assert answers["learnable_parameters"] == [count(nn.GroupNorm(groups, width, device=META)) for width in p["widths"]]
        mains.append(main)
    assert_varies(mains)


@pytest.mark.parametrize("block, answer", [(Bottleneck, None), (Basic, "basic_params")])
def test_cifar_bottleneck_variants(block, answer):
    mains = []
    for p, main, answers in drawn(33):
        stages = (p["blocks_per_stage"],) * len(p["widths"])
        expansion = p["expansion"] if block is Bottleneck else 1
        network = resnet(block, cifar_stem(p["stem_channels"]), p["widths"], stages, expansion, p["classes"])
        assert (answers[answer] if answer else main) == count(network)
        mains.append(main)
    assert_varies(mains)


def first_variants(number):
    """(parameters, all answers) of the first variant drawn with each of the 20 seeds."""
    exercise = exercises.get(number)
    for seed in SEEDS:
        variant = variants.sample(exercise, seed=seed, count=1)[0]
        yield variant.params, variant.solution().answers


def test_max_pool_backward_variants():
    seen = set()
    for p, answers in first_variants(12):
        x, k, stride = np.array(p["input"]), p["kernel_size"], p["stride"]
        inputs = tensor(x, grad=True)
        pooled, indices = F.max_pool2d(inputs, k, stride, return_indices=True)
        positions = [[list(divmod(int(index), len(x))) for index in row] for row in indices[0, 0]]
        assert answers["window_maxima"] == positions
        # Distinct powers of two as upstream gradient: every sum of routed entries is told apart.
        upstream = 2.0 ** np.arange(pooled.numel()).reshape(pooled.shape[-2:])
        pooled.backward(tensor(upstream))
        assert np.array_equal(evaluate(answers["grad_input"], named("g", upstream)), inputs.grad[0, 0].numpy())
        tie = tensor(np.array(p["tie_window"]), grad=True)
        F.max_pool2d(tie, 2).backward(tensor(np.array([[3.0]])))
        assert np.array_equal(evaluate(answers["tie_grad_input"], {"g": 3.0}), tie.grad[0, 0].numpy())
        assert np.count_nonzero(np.array(p["tie_window"]) == np.max(p["tie_window"])) >= 2
        seen.add((len(x), k, stride))
    assert len(seen) > 2


def test_avg_pool_backward_variants():
    seen = set()
    for p, answers in first_variants(13):
        n, k, stride = p["n"], p["kernel_size"], p["stride"]
        inputs = tensor(np.zeros((n, n)), grad=True)
        pooled = F.avg_pool2d(inputs, k, stride)
        upstream = 2.0 ** np.arange(pooled.numel()).reshape(pooled.shape[-2:])
        pooled.backward(tensor(upstream))
        assert np.array_equal(evaluate(answers["grad_input"], named("g", upstream)), inputs.grad[0, 0].numpy())
        single = tensor(np.zeros((k, k)), grad=True)
        F.avg_pool2d(single, k).backward(tensor(np.ones((1, 1))))
        assert float(answers["share"]) == single.grad[0, 0, 0, 0].item()
        given = tensor(np.zeros((n, n)), grad=True)
        F.avg_pool2d(given, k, stride).backward(tensor(np.array(p["upstream"], dtype=float)))
        assert np.allclose(np.array(answers["grad_input_example"], dtype=float), given.grad[0, 0].numpy(), rtol=1e-15)
        seen.add((n, k, stride))
    assert len(seen) > 2


def integers(shape, seed):
    return np.random.default_rng(seed).integers(-5, 6, shape)


def input_gradient(x, kernel, upstream, **hyper):
    inputs = tensor(x, grad=True)
    F.conv2d(inputs, tensor(kernel), **hyper).backward(tensor(upstream))
    return inputs.grad[0, 0].numpy()


def test_conv_input_gradient_variants():
    seen = set()
    for seed, (p, answers) in zip(SEEDS, first_variants(11)):
        n = p["n"]
        for size, entries in answers["grad_input_by_kernel_size"].items():
            kernel, upstream = integers((size, size), seed), integers((n - size + 1,) * 2, seed + 100)
            ours = evaluate(entries, {**named("k", kernel), **named("g", upstream)})
            assert np.array_equal(ours, input_gradient(np.zeros((n, n)), kernel, upstream))
        gn, gk = p["general_n"], p["general_kernel_size"]
        hyper = {name: p[name] for name in ("stride", "padding", "dilation")}
        kernel = integers((gk, gk), seed + 200)
        out = F.conv2d(tensor(np.zeros((gn, gn))), tensor(kernel), **hyper).shape[-1]
        upstream = integers((out, out), seed + 300)
        ours = evaluate(answers["general_grad_input"], {**named("k", kernel), **named("g", upstream)})
        assert np.array_equal(ours, input_gradient(np.zeros((gn, gn)), kernel, upstream, **hyper))
        assert answers["general_output_size"] == out and np.count_nonzero(ours)
        back = F.conv_transpose2d(tensor(upstream), tensor(kernel), **hyper, output_padding=answers["output_padding"])
        assert back.shape[-1] == gn and np.array_equal(back[0, 0].detach().numpy(), ours)
        seen.add(tuple(hyper.values()))
    assert len(seen) > 3


def voc_by_definition(truths, detections):
    """VOC's devkit rule in floats: greedy matching by score at IoU 0.5, then the area under the precision envelope."""
    boxes = np.array(truths, dtype=float)
    claimed, hits, precision, recall = set(), 0, [], []
    for rank, (*box, _) in enumerate(sorted(detections, key=lambda d: -d[4]), start=1):
        x, y, w, h = box
        width = np.clip(np.minimum(x + w, boxes[:, 0] + boxes[:, 2]) - np.maximum(x, boxes[:, 0]), 0, None)
        height = np.clip(np.minimum(y + h, boxes[:, 1] + boxes[:, 3]) - np.maximum(y, boxes[:, 1]), 0, None)
        iou = width * height / (w * h + boxes[:, 2] * boxes[:, 3] - width * height)
        best = int(np.argmax(iou))
        if iou[best] >= 0.5 and best not in claimed:
            claimed.add(best)
            hits += 1
        precision.append(hits / rank)
        recall.append(hits / len(truths))
    levels = np.concatenate(([0.0], recall, [1.0]))
    envelope = np.maximum.accumulate(np.concatenate(([0.0], precision, [0.0]))[::-1])[::-1]
    rises = np.flatnonzero(levels[1:] != levels[:-1]) + 1
    return precision, recall, float(np.sum((levels[rises] - levels[rises - 1]) * envelope[rises]))


def test_mean_average_precision_variants():
    from test_detection import pycocotools_eval

    layouts = set()
    for p, answers in first_variants(26):
        truths, detections = p["truths"], p["detections"]
        ground_truth = {
            "images": [{"id": 1}],
            "categories": [{"id": 1}],
            "annotations": [
                {"id": i, "image_id": 1, "category_id": 1, "bbox": list(box), "area": box[2] * box[3], "iscrowd": 0}
                for i, box in enumerate(truths, start=1)
            ],
        }
        found = [{"image_id": 1, "category_id": 1, "bbox": list(d[:4]), "score": d[4]} for d in detections]
        (coco_map, ap50, ap75), _ = pycocotools_eval(ground_truth, found)
        assert [float(answers[name]) for name in ("map_coco", "ap50", "ap75")] == pytest.approx([coco_map, ap50, ap75], abs=1e-12)
        precision, recall, voc = voc_by_definition(truths, detections)
        assert [float(value) for value in answers["precision"]] == pytest.approx(precision, abs=1e-12)
        assert [float(value) for value in answers["recall"]] == pytest.approx(recall, abs=1e-12)
        assert float(answers["voc_ap"]) == pytest.approx(voc, abs=1e-12)
        assert 0 < precision[-1] < 1 and ap50 > coco_map  # a false positive, and boxes that fit loosely
        layouts.add(truths)
    assert len(layouts) > 2


# torchvision's published parameter counts of its ImageNet ResNets (1000 classes).
TORCHVISION_RESNETS = {50: 25_557_032, 101: 44_549_160, 152: 60_192_808}


def test_resnet_depth_variants():
    depths = set()
    for p, answers in first_variants(19):
        network = resnet(Bottleneck, imagenet_stem(p["stem_channels"]), p["widths"], p["blocks"], p["expansion"], p["classes"])
        assert answers["params"] == count(network)
        assert answers["conv_weights"] == count_of(network, nn.Conv2d)
        assert answers["batchnorm_params"] == count_of(network, nn.BatchNorm2d)
        assert answers["fc_params"] == count_of(network, nn.Linear)
        assert main_path_layers(network) == p["depth"]
        if p["classes"] == 1000:
            assert answers["params"] == TORCHVISION_RESNETS[p["depth"]]
        depths.add(p["depth"])
    assert depths == {50, 101, 152}


def test_convolution_against_correlation_variants():
    sizes = set()
    for seed, (p, answers) in zip(SEEDS, first_variants(8)):
        n, k = p["n"], p["kernel_size"]
        x, kernel = integers((n, n), seed), integers((k, k), seed + 50)
        values = {**named("x", x), **named("k", kernel)}
        # The signal-processing convolution: conv_transpose2d at stride 1 is the full one, the valid part its middle.
        full = F.conv_transpose2d(tensor(x), tensor(kernel))[0, 0].numpy()
        assert np.array_equal(evaluate(answers["convolution"], values), full[k - 1 : n, k - 1 : n])
        correlated = F.conv2d(tensor(x), tensor(np.flip(kernel).copy()))[0, 0].numpy()
        assert np.array_equal(evaluate(answers["cross_correlation_turned"], values), correlated)
        assert answers["output_shape"] == list(correlated.shape)
        assert answers["equal"] and answers["gradients_correspond"]
        sizes.add((n, k))
    assert len(sizes) > 2


def he_network(depth):
    """He et al.'s network of this depth: ImageNet's 18 and 34 (basic blocks), CIFAR's 6n + 2."""
    if depth % 6 == 2:
        n = (depth - 2) // 6
        return resnet(Basic, cifar_stem(16), (16, 32, 64), (n, n, n), 1, 10)
    return resnet(Basic, imagenet_stem(), (64, 128, 256, 512), {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}[depth], 1, 1000)


def test_degradation_variants():
    pairs = set()
    for p, answers in first_variants(15):
        shallow, deep = main_path_layers(he_network(p["shallow_depth"])), main_path_layers(he_network(p["deep_depth"]))
        assert (shallow, deep) == (p["shallow_depth"], p["deep_depth"]) and answers["extra_layers"] == deep - shallow
        x = torch.tensor(p["activation"], dtype=torch.float64)
        width = len(x)
        identity, zero = nn.Linear(width, width, dtype=torch.float64), nn.Linear(width, width, dtype=torch.float64)
        with torch.no_grad():
            identity.weight.copy_(torch.eye(width)), identity.bias.zero_(), zero.weight.zero_(), zero.bias.zero_()
        assert answers["plain_identity_output"] == torch.relu(identity(x)).tolist()
        assert answers["plain_zero_weights_output"] == torch.relu(zero(x)).tolist()
        # Whatever the branch's first layer holds: a zero second layer makes the block the identity.
        first = nn.Linear(width, width, dtype=torch.float64)
        branch = zero(torch.relu(first(x)))
        assert answers["residual_zero_init_output"] == torch.relu(branch + x).tolist() == list(p["activation"])
        pairs.add((p["shallow_depth"], p["deep_depth"]))
    assert len(pairs) > 3


def test_clip_zero_shot_variants():
    classes = ("dog", "cat", "car")
    scales = set()
    for p, answers in first_variants(31):
        image = torch.tensor(p["image_embedding"], dtype=torch.float64)
        texts = torch.tensor(p["text_embeddings"], dtype=torch.float64)
        cosines = F.cosine_similarity(image[None], texts, dim=1)
        probabilities = torch.softmax(p["logit_scale"] * cosines, dim=0)
        assert [answers["similarities"][name] for name in classes] == pytest.approx(cosines.tolist(), rel=1e-12)
        assert [answers["probabilities"][name] for name in classes] == pytest.approx(probabilities.tolist(), rel=1e-9)
        assert answers["predicted_class"] == classes[int(torch.argmax(probabilities))]
        assert 0.5 < probabilities.max() < 0.99
        scales.add(p["logit_scale"])
    assert len(scales) > 2


def stack_flops(depth, channels, size):
    """FLOPs torch counts for ``depth`` 3×3 convolutions of ``channels`` channels on a size×size map."""
    layers = nn.Sequential(*(nn.Conv2d(channels, channels, 3, padding=1, bias=False, device=META) for _ in range(depth)))
    with FlopCounterMode(display=False) as counter:
        layers(torch.zeros(1, channels, size, size, device=META))
    return counter.get_total_flops()


def test_compound_scaling_variants():
    base = stack_flops(20, 20, 20)  # 20 layers, channels and pixels: every multiplier k/20 scales them to whole numbers
    constants = set()
    for p, answers in first_variants(22):
        alpha, beta, gamma = (p[name] for name in ("alpha", "beta", "gamma"))
        scaled = stack_flops(int(20 * alpha), int(20 * beta), int(20 * gamma))
        assert answers["flops_factor_per_phi"] == Fraction(scaled, base)
        assert abs(Fraction(scaled, base) - 2) <= Fraction(1, 10)
        constants.add((alpha, beta, gamma))
    assert len(constants) > 5


def expansion_by_torch(expression, factors):
    """A multiplied-out product of non-commuting J_l (1 for the identity) evaluated on torch matrices."""
    if expression.is_Add:
        return sum(expansion_by_torch(term, factors) for term in expression.args)
    if expression.is_Mul:
        product = torch.eye(len(factors[1]), dtype=torch.float64)
        for factor in expression.args:  # the written order: non-commuting factors keep it
            product = product @ expansion_by_torch(factor, factors)
        return product
    if expression == 1:
        return torch.eye(len(factors[1]), dtype=torch.float64)
    return factors[int(expression.name.split("_")[1])]


def test_residual_jacobian_variants():
    cases = set()
    for seed, (p, answers) in zip(SEEDS, first_variants(16)):
        size = p["size"]
        generator = torch.Generator().manual_seed(seed)
        w, v, x = (
            torch.randn(*shape, dtype=torch.float64, generator=generator) for shape in ((size, size), (size, size), (size,))
        )
        by_autograd = torch.autograd.functional.jacobian(lambda x: v @ torch.tanh(w @ x) + x, x)
        values = {**named("w", w.numpy()), **named("v", v.numpy()), **{f"x_{i}": float(x[i]) for i in range(size)}}
        ours = np.array(answers["jacobian"].subs({s: values[s.name] for s in answers["jacobian"].free_symbols}), dtype=float)
        assert np.allclose(ours, by_autograd.numpy(), rtol=1e-12, atol=1e-12)
        for depth in p["depths"]:
            factors = {
                layer: 0.3 * torch.randn(size, size, dtype=torch.float64, generator=generator) for layer in range(1, depth + 1)
            }
            chained = torch.eye(size, dtype=torch.float64)
            for layer in range(1, depth + 1):
                chained = (torch.eye(size, dtype=torch.float64) + factors[layer]) @ chained
            symbols = {f"J_{layer}": sympy.Symbol(f"J_{layer}", commutative=False) for layer in factors}
            expanded = sympy.sympify(answers["stacked_expansion"][depth], locals=symbols)
            assert torch.allclose(expansion_by_torch(expanded, factors), chained, rtol=1e-12, atol=1e-12)
            assert answers["stacked_terms"][depth] == len(expanded.args) == 2**depth
        cases.add((size, p["depths"]))
    assert len(cases) > 3


def test_batchnorm_scale_variants():
    settings = set()
    for seed, (p, answers) in zip(SEEDS, first_variants(17)):
        a, eta = p["scale"], float(p["learning_rate"])
        generator = torch.Generator().manual_seed(seed)
        u = torch.randn(p["batch_size"], p["in_features"], dtype=torch.float64, generator=generator)
        w = torch.randn(p["in_features"], dtype=torch.float64, generator=generator)

        def first_output_and_gradient(weights):
            weights = weights.clone().requires_grad_(True)
            y = F.batch_norm((u @ weights)[:, None], None, None, training=True, eps=1e-30)[0, 0]  # eps vanishes in float64
            y.backward()
            return y.item(), weights.grad

        (y_w, g_w), (y_aw, g_aw) = first_output_and_gradient(w), first_output_and_gradient(a * w)
        assert y_aw == pytest.approx(y_w, rel=1e-12) and torch.allclose(g_aw, g_w / a, rtol=1e-10)
        # One SGD step at the grown weights, relative to their length, as a step at w would be with the effective rate.
        relative_step = eta * g_aw.norm() / (a * w).norm()
        assert float(answers["effective_learning_rate_example"]) == pytest.approx(float(relative_step / (g_w.norm() / w.norm())))
        settings.add((a, eta))
    assert len(settings) > 5
