"""symconv.formulas.gradients against PyTorch: forward passes and torch.autograd's backward passes on random layers."""

import subprocess
import sys

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import SymconvError
from symconv.formulas.gradients import (
    avg_pool,
    avg_pool_backward,
    conv_input_gradient,
    convolve,
    cross_correlate,
    full_cross_correlate,
    gradient,
    jacobian,
    max_pool,
    max_pool_backward,
    max_pool_indices,
    pad,
    rot180,
    symbol_matrix,
    syntax,
    upstream_loss,
    zero_insert,
)

SOME = settings(max_examples=60, deadline=None)
FEW = settings(max_examples=12, deadline=None)  # sympy differentiation is the slow referee

sizes = st.integers(1, 7)
kernels = st.integers(1, 3)
strides = st.integers(1, 3)
paddings = st.integers(0, 2)
dilations = st.integers(1, 3)


def integers(draw, shape, low=-4, high=4):
    """A random integer matrix: float64 holds every product and sum exactly, so comparisons are exact."""
    return np.array(draw(st.lists(st.integers(low, high), min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]))).reshape(
        shape
    )


def as_array(matrix):
    return np.array(matrix.tolist(), dtype=float)


def batched(array, grad=False):
    return torch.tensor(array, dtype=torch.float64)[None, None].requires_grad_(grad)


@st.composite
def convolutions(draw):
    """A single-channel conv2d with rectangular input and kernel, its input, kernel and hyperparameters."""
    shape = (draw(sizes), draw(sizes))
    kernel_shape = (draw(kernels), draw(kernels))
    hyper = {"stride": draw(strides), "padding": draw(paddings), "dilation": draw(dilations)}
    return integers(draw, shape), integers(draw, kernel_shape), hyper


def torch_conv(x, kernel, **hyper):
    """conv2d's output and input gradient for an upstream gradient of distinct integers, or None if torch refuses."""
    inputs = batched(x, grad=True)
    try:
        output = F.conv2d(inputs, batched(kernel), **hyper)
    except RuntimeError:
        return None
    upstream = torch.arange(1.0, output.numel() + 1, dtype=torch.float64).reshape(output.shape)
    output.backward(upstream)
    return output[0, 0].detach().numpy(), upstream[0, 0].numpy(), inputs.grad[0, 0].numpy()


@SOME
@given(convolutions())
def test_cross_correlation_is_torch_conv2d_and_refuses_what_torch_refuses(case):
    x, kernel, hyper = case
    expected = torch_conv(x, kernel, **hyper)
    if expected is None:
        with pytest.raises(SymconvError):
            cross_correlate(x, kernel, **hyper)
        return
    assert np.array_equal(as_array(cross_correlate(x, kernel, **hyper)), expected[0])


@SOME
@given(convolutions())
def test_input_gradient_is_autograd(case):
    x, kernel, hyper = case
    expected = torch_conv(x, kernel, **hyper)
    if expected is None:
        return
    _, upstream, input_gradient = expected
    ours = conv_input_gradient(upstream.astype(int), kernel, x.shape, **hyper)
    assert np.array_equal(as_array(ours), input_gradient)


@FEW
@given(convolutions())
def test_input_gradient_is_sympy_differentiation_on_symbols(case):
    x, kernel, hyper = case
    if torch_conv(x, kernel, **hyper) is None:
        return
    symbols = symbol_matrix("x", *x.shape)
    output = cross_correlate(symbols, kernel, **hyper)
    upstream = symbol_matrix("g", *output.shape)
    differentiated = gradient(upstream_loss(upstream, output), symbols)
    assert (differentiated - conv_input_gradient(upstream, kernel, x.shape, **hyper)).expand().is_zero_matrix


@SOME
@given(convolutions())
def test_convolution_is_torch_conv2d_with_the_kernel_flipped(case):
    x, kernel, hyper = case
    try:
        expected = F.conv2d(batched(x), batched(kernel).flip(-1, -2), **hyper)[0, 0].numpy()
    except RuntimeError:
        return
    assert np.array_equal(as_array(convolve(x, kernel, **hyper)), expected)


@SOME
@given(st.data())
def test_valid_convolution_is_the_middle_of_torchs_full_convolution(data):
    # conv_transpose2d at stride 1 scatters every input times the unflipped kernel: the full convolution.
    shape = (data.draw(st.integers(3, 7)), data.draw(st.integers(3, 7)))
    kernel_shape = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    x, kernel = integers(data.draw, shape), integers(data.draw, kernel_shape)
    full = F.conv_transpose2d(batched(x), batched(kernel))[0, 0].numpy()
    valid = full[kernel_shape[0] - 1 : shape[0], kernel_shape[1] - 1 : shape[1]]
    assert np.array_equal(as_array(convolve(x, kernel)), valid)


@SOME
@given(st.data())
def test_full_correlation_is_conv2d_padded_by_the_dilated_span(data):
    shape = (data.draw(sizes), data.draw(sizes))
    kernel_shape = (data.draw(kernels), data.draw(kernels))
    dilation = data.draw(dilations)
    x, kernel = integers(data.draw, shape), integers(data.draw, kernel_shape)
    span = [dilation * (size - 1) for size in kernel_shape]
    expected = F.conv2d(batched(x), batched(kernel), padding=tuple(span), dilation=dilation)[0, 0].numpy()
    assert np.array_equal(as_array(full_cross_correlate(x, kernel, dilation)), expected)


@SOME
@given(st.data())
def test_zero_insertion_is_a_strided_transposed_convolution_with_a_unit_kernel(data):
    shape, factor = (data.draw(sizes), data.draw(sizes)), data.draw(strides)
    x = integers(data.draw, shape)
    expected = F.conv_transpose2d(batched(x), torch.ones(1, 1, 1, 1, dtype=torch.float64), stride=factor)[0, 0].numpy()
    assert np.array_equal(as_array(zero_insert(x, factor)), expected)


@SOME
@given(st.data())
def test_rot180_and_pad_are_torch_flip_and_pad(data):
    shape, amount = (data.draw(sizes), data.draw(sizes)), data.draw(paddings)
    x = integers(data.draw, shape)
    assert np.array_equal(as_array(rot180(x)), torch.tensor(x).flip(0, 1).numpy())
    assert np.array_equal(as_array(pad(x, amount)), F.pad(torch.tensor(x), (amount,) * 4).numpy())


@FEW
@given(convolutions())
def test_jacobian_of_a_convolution_is_torchs(case):
    x, kernel, hyper = case
    try:
        expected = torch.autograd.functional.jacobian(lambda inputs: F.conv2d(inputs, batched(kernel), **hyper), batched(x))
    except RuntimeError:
        return
    symbols = symbol_matrix("x", *x.shape)
    ours = jacobian(cross_correlate(symbols, kernel, **hyper), symbols)
    assert np.array_equal(as_array(ours), expected.reshape(ours.shape).numpy())


def window_in_input(n, kernel_size, stride, padding, dilation, outputs):
    """True when every pooling window along one axis covers at least one input position."""
    return all(any(0 <= stride * index - padding + dilation * tap < n for tap in range(kernel_size)) for index in range(outputs))


@st.composite
def poolings(draw, dilation=True):
    shape = (draw(sizes), draw(sizes))
    kernel_size = draw(kernels)
    hyper = {
        "kernel_size": kernel_size,
        "stride": draw(strides),
        "padding": draw(st.integers(0, kernel_size // 2)),
        **({"dilation": draw(dilations)} if dilation else {}),
    }
    # small values: ties are frequent
    return integers(draw, shape, 0, 2), hyper


def torch_max_pool(x, hyper):
    """max_pool2d's output, indices and input gradient, or None where torch refuses or would read only padding."""
    try:
        shape = F.max_pool2d(batched(x), **hyper).shape[-2:]
    except RuntimeError:
        return None
    axes = zip(x.shape, shape)
    params = (hyper["kernel_size"], hyper["stride"], hyper["padding"], hyper["dilation"])
    if not all(window_in_input(n, *params, outputs) for n, outputs in axes):
        return "padding only"  # torch 2.13 reads out of bounds here (heap corruption); never backward it
    inputs = batched(x, grad=True)
    output, indices = F.max_pool2d(inputs, **hyper, return_indices=True)
    upstream = torch.arange(1.0, output.numel() + 1, dtype=torch.float64).reshape(output.shape)
    output.backward(upstream)
    return output[0, 0].detach().numpy(), indices[0, 0].numpy(), upstream[0, 0].numpy(), inputs.grad[0, 0].numpy()


@SOME
@given(poolings())
def test_max_pooling_forward_indices_and_backward_are_torchs_including_ties(case):
    x, hyper = case
    expected = torch_max_pool(x, hyper)
    if expected is None or expected == "padding only":
        with pytest.raises(SymconvError):
            max_pool_indices(x, **hyper)
        return
    output, indices, upstream, input_gradient = expected
    assert np.array_equal(as_array(max_pool(x, **hyper)), output)
    flat = [[row * x.shape[1] + col for row, col in line] for line in max_pool_indices(x, **hyper)]
    assert np.array_equal(np.array(flat), indices)
    assert np.array_equal(as_array(max_pool_backward(x, upstream.astype(int), **hyper)), input_gradient)


def test_a_tie_goes_to_the_first_maximum_in_row_major_order_as_in_torch():
    window = np.array([[1, 5], [5, 5]])
    inputs = batched(window, grad=True)
    F.max_pool2d(inputs, 2).sum().backward()
    ours = max_pool_backward(window, [[1]], 2)
    assert np.array_equal(as_array(ours), inputs.grad[0, 0].numpy())
    assert ours[0, 1] == 1 and ours[1, 0] == 0


@SOME
@given(poolings(dilation=False))
def test_average_pooling_forward_and_backward_are_torchs(case):
    x, hyper = case
    inputs = batched(x, grad=True)
    try:
        output = F.avg_pool2d(inputs, **hyper)
    except RuntimeError:
        with pytest.raises(SymconvError):
            avg_pool(x, **hyper)
        return
    upstream = torch.arange(1.0, output.numel() + 1, dtype=torch.float64).reshape(output.shape)
    output.backward(upstream)
    assert np.allclose(as_array(avg_pool(x, **hyper)), output[0, 0].detach().numpy(), rtol=0, atol=1e-12)
    ours = avg_pool_backward(upstream[0, 0].numpy().astype(int), x.shape, **hyper)
    assert np.allclose(as_array(ours), inputs.grad[0, 0].numpy(), rtol=0, atol=1e-12)


def test_symbol_names_and_syntax_read_back():
    matrix = symbol_matrix("g", 2, 11)
    assert str(matrix[1, 0]) == "g_10" and str(matrix[0, 10]) == "g_0_10"
    assert sympy.sympify(syntax(sympy.Rational(1, 4))) == sympy.Rational(1, 4)
    assert syntax(sympy.Matrix([[0, matrix[0, 0] / 4]])) == [["0", "g_00/4"]]


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: symbol_matrix("2x", 2, 2), "name"),
        (lambda: symbol_matrix("x", 0, 2), "rows"),
        (lambda: gradient(sympy.Symbol("y"), [[1, 2]]), "variables"),
        (lambda: conv_input_gradient([[1]], [[1, 2], [3, 4]], (3, 3)), "upstream"),
        (lambda: max_pool_indices(symbol_matrix("x", 2, 2), 2), "x"),
        (lambda: max_pool(np.zeros((1, 2)), 2, stride=1, padding=1, dilation=2), "padding"),
        (lambda: zero_insert([[1]], 0), "factor"),
        (lambda: cross_correlate([[]], [[1]]), "x"),
    ],
)
def test_bad_input_is_one_line_naming_the_argument(call, argument):
    with pytest.raises(SymconvError) as error:
        call()
    assert str(error.value).startswith(f"{argument}=") and "\n" not in str(error.value)


def test_importing_the_module_loads_no_sympy_or_numpy():
    code = "import sys, symconv.formulas.gradients; assert 'sympy' not in sys.modules and 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
