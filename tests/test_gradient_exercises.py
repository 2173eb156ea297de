"""Exercises 8, 11-13, 16-18, 23 and 32: their JSON answers, evaluated and checked against PyTorch."""

from fractions import Fraction
from functools import lru_cache

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import symconv

SOME = settings(max_examples=40, deadline=None)


def evaluate(entries, values):
    """Nested lists of sympy syntax, every symbol replaced by values[name], as a float array."""

    def one(text):
        expression = sympy.sympify(text)
        return float(expression.subs({symbol: values[symbol.name] for symbol in expression.free_symbols}))

    return np.array([[one(text) for text in row] for row in entries])


def named(prefix, array):
    """{"x_00": …, "x_01": …} for the entries of a matrix, as the exercises name their symbols."""
    return {f"{prefix}_{i}{j}": float(value) for (i, j), value in np.ndenumerate(array)}


def tensor(array, grad=False):
    return torch.tensor(array, dtype=torch.float64)[None, None].requires_grad_(grad)


def random_integers(shape, seed):
    return np.random.default_rng(seed).integers(-5, 6, shape)


def test_convolution_answer_is_the_true_convolution_of_torch(solve_json):
    answers = solve_json(8)["answers"]
    assert answers["equal"] is True and answers["gradients_correspond"] is True
    assert answers["convolution"] == answers["cross_correlation_turned"]
    x, kernel = random_integers((3, 3), 1), random_integers((2, 2), 2)
    # conv_transpose2d at stride 1 is the full convolution; the valid part is its middle.
    full = F.conv_transpose2d(tensor(x), tensor(kernel))[0, 0].numpy()
    ours = evaluate(answers["convolution"], {**named("x", x), **named("k", kernel)})
    assert np.array_equal(ours, full[1:3, 1:3])


def conv_input_gradient_by_autograd(x, kernel, upstream, **hyper):
    inputs = tensor(x, grad=True)
    F.conv2d(inputs, tensor(kernel), **hyper).backward(tensor(upstream))
    return inputs.grad[0, 0].numpy()


def test_conv_input_gradients_are_autograds(solve_json):
    answers = solve_json(11)["answers"]
    assert answers["matches_full_correlation"] is True and answers["matches_jacobian_transpose"] is True
    assert answers["general_matches"] is True
    x = random_integers((4, 4), 3)
    for size, entries in answers["grad_input_by_kernel_size"].items():
        k = int(size)
        kernel, upstream = random_integers((k, k), 4), random_integers((5 - k, 5 - k), 5)
        ours = evaluate(entries, {**named("x", x), **named("k", kernel), **named("g", upstream)})
        assert np.array_equal(ours, conv_input_gradient_by_autograd(x, kernel, upstream))
    assert answers["grad_input"] == answers["grad_input_by_kernel_size"]["2"]

    defaults = symconv.exercise(11).defaults
    n, k = defaults["general_n"], defaults["general_kernel_size"]
    hyper = {name: defaults[name] for name in ("stride", "padding", "dilation")}
    x, kernel = random_integers((n, n), 6), random_integers((k, k), 7)
    out = F.conv2d(tensor(x), tensor(kernel), **hyper).shape[-1]
    upstream = random_integers((out, out), 8)
    ours = evaluate(answers["general_grad_input"], {**named("k", kernel), **named("g", upstream)})
    assert np.array_equal(ours, conv_input_gradient_by_autograd(x, kernel, upstream, **hyper))


def max_pool_gradient_by_autograd(x, upstream, kernel_size, stride):
    inputs = tensor(x, grad=True)
    F.max_pool2d(inputs, kernel_size, stride).backward(tensor(upstream))
    return inputs.grad[0, 0].numpy()


def test_max_pool_routing_is_autograds_with_the_first_window_maximum_at_1_0(solve_json):
    answers = solve_json(12)["answers"]
    defaults = symconv.exercise(12).defaults
    x = np.array(defaults["input"])
    upstream = np.array([[2.0, 3.0], [5.0, 7.0]])  # distinct, so each routed value names its window
    expected = max_pool_gradient_by_autograd(x, upstream, defaults["kernel_size"], defaults["stride"])
    assert np.array_equal(evaluate(answers["grad_input"], named("g", upstream)), expected)
    assert answers["grad_input"][1][0] == "g_00"  # the top-left window's maximum sits at local (1, 0)
    assert answers["window_maxima"][0][0] == [1, 0]
    assert answers["matches_routing"] is True

    tie = np.array(defaults["tie_window"])
    by_torch = max_pool_gradient_by_autograd(tie, np.array([[3.0]]), tie.shape[0], tie.shape[0])
    assert np.array_equal(evaluate(answers["tie_grad_input"], {"g": 3.0}), by_torch)
    # The window holds its maximum twice: the even split is a subgradient, its shares sum to g.
    assert sum(sympy.sympify(share) for row in answers["tie_even_shares"] for share in row) == sympy.Symbol("g")


def test_avg_pool_gradient_is_autograds(solve_json):
    answers = solve_json(13)["answers"]
    assert answers["grad_fraction"] == "1/4" and answers["matches_spreading"] is True
    upstream = np.array([[2.0, 3.0], [5.0, 7.0]])
    inputs = tensor(np.zeros((4, 4)), grad=True)
    F.avg_pool2d(inputs, 2, 2).backward(tensor(upstream))
    assert np.array_equal(evaluate(answers["grad_input"], named("g", upstream)), inputs.grad[0, 0].numpy())


def residual_block(first, second):
    return lambda x: second @ torch.tanh(first @ x) + x


def test_residual_jacobian_is_autograds_and_the_stack_expands_to_the_chain_rule(solve_json):
    answers = solve_json(16)["answers"]
    assert answers["jacobian_is_branch_plus_identity"] is True and answers["branch_jacobian_is_chain_rule"] is True
    generator = torch.Generator().manual_seed(0)
    first, second, x = (torch.randn(shape, generator=generator, dtype=torch.float64) for shape in ((2, 2), (2, 2), (2,)))
    values = {**named("w", first.numpy()), **named("v", second.numpy()), "x_0": float(x[0]), "x_1": float(x[1])}
    jacobian = sympy.sympify(answers["jacobian"])
    ours = np.array(jacobian.subs({symbol: values[symbol.name] for symbol in jacobian.free_symbols}).evalf(), dtype=float)
    expected = torch.autograd.functional.jacobian(residual_block(first, second), x).numpy()
    assert np.allclose(ours, expected, rtol=0, atol=1e-12)

    assert answers["identity_term"] is True
    for depth, text in answers["stacked_expansion"].items():
        depth = int(depth)
        assert answers["stacked_terms"][str(depth)] == 2**depth
        blocks = [
            residual_block(*(torch.randn(2, 2, generator=generator, dtype=torch.float64) for _ in range(2))) for _ in range(depth)
        ]
        # The branch Jacobian of each block at the point the stack feeds it.
        branch_jacobians, point = {}, x
        for index, block in enumerate(blocks, start=1):
            branch_jacobians[f"J_{index}"] = torch.autograd.functional.jacobian(block, point).numpy() - np.eye(2)
            point = block(point)
        noncommuting = {name: sympy.Symbol(name, commutative=False) for name in branch_jacobians}
        expansion = sympy.sympify(text, locals=noncommuting)
        assert len(expansion.args) == 2**depth
        total = sum(product_of(term, branch_jacobians) for term in expansion.args)

        def stack(inputs):
            for block in blocks:
                inputs = block(inputs)
            return inputs

        assert np.allclose(total, torch.autograd.functional.jacobian(stack, x).numpy(), rtol=0, atol=1e-12)


def product_of(term, matrices):
    """A product of non-commuting J_l symbols (or 1) as the product of the matrices, left to right."""
    result = np.eye(2)
    for factor in term.args if term.is_Mul else (term,):
        if factor != 1:
            result = result @ matrices[factor.name]
    return result


def batchnorm_first_output(weights, inputs):
    """BN in training mode, eps = 0, of the feature z = u w over the batch; the first sample's output."""
    z = (inputs @ weights)[:, None]
    # F.batch_norm refuses eps = 0 in training; its kernel does not
    return torch.ops.aten.native_batch_norm(z, None, None, None, None, True, 0.0, 0.0)[0][0, 0]


def test_batchnorm_gradient_scales_by_one_over_a_as_autograd_finds():
    answers = symconv.solve(17).answers
    assert answers["scale_invariant"] is True and answers["gradient_scales_by_one_over_a"] is True
    assert answers["gradient_orthogonal_to_weights"] is True
    assert sympy.sympify(answers["effective_learning_rate"]) == sympy.sympify("eta/a**2")
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randn(3, 2, generator=generator, dtype=torch.float64)
    weights = torch.randn(2, generator=generator, dtype=torch.float64)
    scale = 3.7

    def gradient_at(w):
        w = w.clone().requires_grad_(True)
        batchnorm_first_output(w, inputs).backward()
        return w.grad

    assert torch.allclose(batchnorm_first_output(scale * weights, inputs), batchnorm_first_output(weights, inputs), atol=1e-12)
    assert float(gradient_at(weights).abs().max()) > 1e-3
    ratio = float(sympy.sympify(answers["gradient_scale"]).subs("a", scale))
    assert torch.allclose(gradient_at(scale * weights), ratio * gradient_at(weights), atol=1e-12)
    assert abs(float(weights @ gradient_at(weights))) < 1e-12


@lru_cache(maxsize=None)
def normalisation_answers():
    return symconv.solve(18).answers


def grouped(x, groups):
    """An N×C×H×W tensor viewed as N×G×(C/G)×H×W, so a group is an axis of its own."""
    n, c, h, w = x.shape
    return x.reshape(n, groups, c // groups, h, w)


# Where each axis name of the answer lives in the plain and the grouped view of the tensor.
AXIS = {"N": 0, "C": 1, "H": 2, "W": 3}
GROUPED_AXIS = {"N": 0, "C/G": 2, "H": 3, "W": 4}


def by_the_answers_axes(x, norm, groups):
    axes = normalisation_answers()["axes"][norm]
    view, positions = (grouped(x, groups), GROUPED_AXIS) if norm == "group" else (x, AXIS)
    dims = tuple(positions[axis] for axis in axes)
    mean = view.mean(dim=dims, keepdim=True)
    variance = view.var(dim=dims, keepdim=True, unbiased=False)
    return ((view - mean) / torch.sqrt(variance + 1e-5)).reshape(x.shape)


def torch_statistics(x, norm, groups):
    """The normalised tensor and the number of means torch computes, from its own kernels."""
    n, c, h, w = x.shape
    if norm == "batch":
        out, mean, _ = torch.ops.aten.native_batch_norm(x, None, None, None, None, True, 0.0, 1e-5)
    elif norm == "layer":
        out, mean, _ = torch.ops.aten.native_layer_norm(x, [c, h, w], None, None, 1e-5)
    elif norm == "instance":
        # instance norm is batch norm on the N·C channels of a batch of one
        out, mean, _ = torch.ops.aten.native_batch_norm(x.reshape(1, n * c, h, w), None, None, None, None, True, 0.0, 1e-5)
        out = out.reshape(x.shape)
        assert torch.allclose(out, F.instance_norm(x), atol=1e-9)
    else:
        out, mean, _ = torch.ops.aten.native_group_norm(x, None, None, n, c, h * w, groups, 1e-5)
        assert torch.allclose(out, F.group_norm(x, groups), atol=1e-9)
    return out, mean.numel()


@SOME
@given(
    n=st.integers(1, 4),
    groups=st.integers(1, 4),
    per_group=st.integers(1, 3),
    h=st.integers(1, 5),
    w=st.integers(1, 5),
    norm=st.sampled_from(("batch", "layer", "instance", "group")),
)
def test_normalisation_axes_and_counts_are_torchs(n, groups, per_group, h, w, norm):
    c = groups * per_group
    single = {"batch": n * h * w, "instance": h * w, "group": per_group * h * w}.get(norm) == 1
    if single:
        return  # torch refuses a statistic over a single value in training mode
    x = torch.randn(n, c, h, w, dtype=torch.float64, generator=torch.Generator().manual_seed(n * 1000 + c * 10 + h + w))
    out, count = torch_statistics(x, norm, groups)
    sizes = {sympy.Symbol(name): size for name, size in {"N": n, "C": c, "H": h, "W": w, "G": groups}.items()}
    names = {symbol.name: symbol for symbol in sizes}  # "N" alone would read as sympy's N()
    answers = normalisation_answers()
    statistics = sympy.sympify(answers["statistics"][norm], locals=names).subs(sizes)
    elements = sympy.sympify(answers["elements_per_statistic"][norm], locals=names).subs(sizes)
    assert statistics == count and elements * count == x.numel()
    assert torch.allclose(by_the_answers_axes(x, norm, groups), out, atol=1e-9)
    assert answers["batch_dependent"][norm] == (norm == "batch")


def test_normalisation_example_counts_are_torchs():
    answers, defaults = normalisation_answers(), symconv.exercise(18).defaults
    x = torch.zeros(defaults["batch"], defaults["channels"], defaults["height"], defaults["width"], dtype=torch.float64)
    for norm in ("batch", "layer", "instance", "group"):
        _, count = torch_statistics(x, norm, defaults["groups"])
        assert answers["example_statistics"][norm] == count
        assert answers["example_elements_per_statistic"][norm] * count == x.numel()


def test_groupnorm_in_the_cifar_resnet_against_torch():
    answers = symconv.solve(32).answers
    defaults = symconv.exercise(32).defaults
    groups = defaults["groups"]
    assert answers["channels_per_group"] == [2, 4, 8] and answers["elements_per_statistic"] == [2048, 1024, 512]
    for index, (c, size) in enumerate(zip(defaults["widths"], defaults["sizes"])):
        x = torch.randn(2, c, size, size, dtype=torch.float64)
        _, mean, _ = torch.ops.aten.native_group_norm(x, None, None, 2, c, size * size, groups, 1e-5)
        assert mean.shape == (2, groups) and answers["statistics_per_sample"][index] == groups
        assert answers["elements_per_statistic"][index] * groups == c * size * size
        # a group is channels_per_group consecutive channels
        manual = by_the_answers_axes(x, "group", groups)
        assert torch.allclose(manual, F.group_norm(x, groups), atol=1e-9)
        assert x.reshape(2, groups, -1, size, size).shape[2] == answers["channels_per_group"][index]
        layer = torch.nn.GroupNorm(groups, c).double()
        assert answers["learnable_parameters"][index] == sum(p.numel() for p in layer.parameters())
        trained = layer(x)
        layer.eval()
        assert torch.equal(layer(x), trained)  # the same in evaluation as in training
        assert torch.allclose(layer(x[:1]), trained[:1], atol=1e-12)  # a sample alone: the same output
    assert answers["batch_independent"] is True


def focal_loss_by_torch(p, gamma, alpha):
    p = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    loss = -alpha * (1 - p) ** gamma * torch.log(p)
    loss.backward()
    return loss.item(), p.grad.item(), -torch.log(p.detach()).item()


def test_focal_multipliers_json_and_exact(solve_json):
    answers = solve_json(23)["answers"]
    assert answers["multipliers"] == [0.81, 0.25, 0.01]
    assert symconv.solve(23).answers["multipliers"] == [Fraction(81, 100), Fraction(1, 4), Fraction(1, 100)]
    defaults = symconv.exercise(23).defaults
    for p, ratio in zip((defaults["p_low"], defaults["p_mid"], defaults["p_high"]), answers["loss_ratios"]):
        loss, _, cross_entropy = focal_loss_by_torch(float(p), defaults["gamma"], defaults["alpha"])
        assert loss / cross_entropy == pytest.approx(ratio, rel=1e-12)


@lru_cache(maxsize=None)
def focal_functions():
    answers = symconv.solve(23).answers
    p, gamma, alpha = sympy.symbols("p_t gamma alpha_t")
    locals_ = {"p_t": p, "gamma": gamma, "alpha_t": alpha}
    derivative = sympy.lambdify((p, gamma, alpha), sympy.sympify(answers["derivative"], locals=locals_))
    ratio = sympy.lambdify((p, gamma, alpha), sympy.sympify(answers["loss_ratio"], locals=locals_))
    return derivative, ratio


@SOME
@given(p=st.floats(0.01, 0.99), gamma=st.floats(0, 5), alpha=st.floats(0.05, 1))
def test_focal_derivative_and_ratio_are_autograds(p, gamma, alpha):
    derivative, ratio = focal_functions()
    loss, slope, cross_entropy = focal_loss_by_torch(p, gamma, alpha)
    assert derivative(p, gamma, alpha) == pytest.approx(slope, rel=1e-9, abs=1e-12)
    assert ratio(p, gamma, alpha) == pytest.approx(loss / cross_entropy, rel=1e-9, abs=1e-12)


def test_every_exercise_renders_in_every_format():
    from symconv.cli.main import render

    for number in (8, 11, 12, 13, 16, 17, 18, 23, 32):
        solution = symconv.solve(number)
        for form in ("text", "latex", "markdown", "json"):
            assert render(solution, form)
