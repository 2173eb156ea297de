"""Shortcuts taken for speed give exactly what the slow, general route gives."""

import importlib.util
from pathlib import Path

import sympy

from symconv.core.derive import derive
from symconv.teaching import exercises

DERIVATIONS = Path(__file__).resolve().parent.parent / "derivations"


def load(name):
    spec = importlib.util.spec_from_file_location(name, DERIVATIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_focal_loss_closed_forms_are_what_simplify_gives():
    focal = load("ex23_focal_loss")
    p, g, a = focal.focal_symbols()
    loss = focal.focal_loss(p, g, a)
    ratio = derive(focal.loss_ratio, loss, -sympy.log(p), lhs="ratio", unit="", simplify=False)
    simplified = derive(focal.loss_ratio, loss, -sympy.log(p), lhs="ratio", unit="")
    assert sympy.srepr(ratio.value) == sympy.srepr(simplified.value)
    assert [step.kind for step in ratio.steps] == [step.kind for step in simplified.steps]
    closed = exercises.get(23).solution().blocks
    derivative = sympy.simplify(loss.diff(p))
    shown = [block.value for block in closed if getattr(block, "lhs", None) == "∂FL/∂p_t"]
    assert shown[-1] == derivative and sympy.srepr(shown[-1]) == sympy.srepr(derivative)


def test_convolution_by_hand_matches_torch_for_every_variant_size():
    import torch
    import torch.nn.functional as F

    by_hand = load("ex04_convolve_by_hand")
    for n in range(3, 7):
        for k in (2, 3):
            for stride in (1, 2):
                image = [[row * n + column for column in range(n)] for row in range(n)]
                kernel = [[sympy.Rational(1, k * k)] * k for _ in range(k)]
                expected = F.conv2d(
                    torch.arange(n * n, dtype=torch.float64).reshape(1, 1, n, n),
                    torch.full((1, 1, k, k), 1 / (k * k), dtype=torch.float64),
                    stride=stride,
                )[0, 0]
                found = torch.tensor([[float(value) for value in row] for row in by_hand.cross_correlate(image, kernel, stride)])
                assert found.shape == expected.shape and torch.allclose(found.double(), expected)


def test_coco_thresholds_are_numpy_linspace_to_the_bit():
    import numpy as np

    from symconv.formulas.detection import coco_thresholds

    iou, recall = coco_thresholds()
    assert iou == tuple(np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True).tolist())
    assert recall == tuple(np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True).tolist())


def test_gradient_of_a_sum_is_sympy_diff_entry_by_entry():
    from symconv.formulas.gradients import cross_correlate, gradient, max_pool, symbol_matrix, upstream_loss

    x, kernel = symbol_matrix("x", 4, 4), symbol_matrix("k", 2, 2)
    output = cross_correlate(x, kernel, stride=2)
    pooled = max_pool(x, 2)
    for loss, variables in (
        (upstream_loss(symbol_matrix("g", *output.shape), output), kernel),
        (upstream_loss(symbol_matrix("g", *output.shape), output), x),
        (upstream_loss(symbol_matrix("h", *pooled.shape), pooled), x),
        (sympy.Add(*output) ** 2, kernel),
    ):
        expected = sympy.Matrix(variables.rows, variables.cols, lambda i, j: sympy.diff(loss, variables[i, j]))
        assert sympy.srepr(gradient(loss, variables)) == sympy.srepr(expected)
