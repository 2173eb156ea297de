"""One source, three evaluations: ints, sympy expressions and numpy arrays agree on every formula."""

import numpy as np
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import (
    SymconvError,
    conv_macs,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    depthwise_separable_macs,
    effective_kernel_size,
    pool_output_size,
    symbol,
)
from symconv.core.derive import derive

windows = st.fixed_dictionaries(
    {
        "n": st.integers(1, 300),
        "kernel_size": st.integers(1, 9),
        "stride": st.integers(1, 4),
        "padding": st.integers(0, 4),
        "dilation": st.integers(1, 3),
    }
)


def valid(formula, **arguments):
    try:
        return formula(**arguments)
    except SymconvError:
        return None


@settings(max_examples=300, deadline=None)
@given(window=windows, ceil_mode=st.booleans())
def test_symbolic_output_sizes_substitute_to_the_integer_result(window, ceil_mode):
    n = symbol("n")
    for formula, extra in (
        (conv_output_size, {}),
        (pool_output_size, {"ceil_mode": ceil_mode, "padding": min(window["padding"], window["kernel_size"] // 2)}),
    ):
        arguments = {**window, **extra}
        expected = valid(formula, **arguments)
        if expected is None:
            continue
        symbolic = formula(**{**arguments, "n": n})
        assert symbolic.xreplace({n: arguments["n"]}) == expected


@settings(max_examples=200, deadline=None)
@given(window=windows, sizes=st.lists(st.integers(1, 300), min_size=1, max_size=20))
def test_numpy_arrays_evaluate_element_by_element(window, sizes):
    arguments = {key: value for key, value in window.items() if key != "n"}
    expected = [valid(conv_output_size, n=size, **arguments) for size in sizes]
    if None in expected:
        try:
            conv_output_size(np.array(sizes), **arguments)
        except SymconvError:
            return
        raise AssertionError("an array with an invalid element was accepted")
    assert conv_output_size(np.array(sizes), **arguments).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(window=windows, output_padding=st.integers(0, 3))
def test_transposed_size_symbolic_and_numeric_agree(window, output_padding):
    arguments = {**window, "output_padding": output_padding}
    expected = valid(conv_transpose_output_size, **arguments)
    if expected is not None:
        n = symbol("n")
        assert conv_transpose_output_size(**{**arguments, "n": n}).xreplace({n: window["n"]}) == expected


@settings(max_examples=200, deadline=None)
@given(c_in=st.integers(1, 64), c_out=st.integers(1, 64), k=st.integers(1, 7), h=st.integers(1, 64), w=st.integers(1, 64))
def test_counts_symbolic_numeric_and_vectorised_agree(c_in, c_out, k, h, w):
    C_in, C_out, K, H, W = (symbol(name) for name in ("C_in", "C_out", "K", "H", "W"))
    values = {C_in: c_in, C_out: c_out, K: k, H: h, W: w}
    assert conv_params(C_in, C_out, K).xreplace(values) == conv_params(c_in, c_out, k)
    assert conv_macs(C_in, C_out, K, H, W).xreplace(values) == conv_macs(c_in, c_out, k, h, w)
    assert depthwise_separable_macs(C_in, C_out, K, H, W).xreplace(values) == depthwise_separable_macs(c_in, c_out, k, h, w)
    assert conv_macs(np.array([c_in]), c_out, k, h, w).tolist() == [conv_macs(c_in, c_out, k, h, w)]


@settings(max_examples=300, deadline=None)
@given(window=windows)
def test_the_derivation_ends_where_the_function_does(window):
    expected = valid(conv_output_size, **window)
    if expected is not None:
        assert derive(conv_output_size, **window).value == expected


def test_symbolic_kernel_span():
    d, k = sympy.symbols("d k", positive=True, integer=True)
    assert effective_kernel_size(k, d) == d * (k - 1) + 1
