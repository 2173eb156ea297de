"""solve_for against brute force through PyTorch: inside a window, the solution set is exactly the set of
values torch accepts and whose output meets the target (empty sets included)."""

import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_truth import conv_length, pool_length, transpose_length

from symconv import (
    SymconvError,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    effective_kernel_size,
    pool_output_size,
)
from symconv.explore.identities import stacked_receptive_field
from symconv.explore.inverse import parse_target, solve_for

SOME = settings(max_examples=40, deadline=None)
WINDOW = 24  # brute force tries every value of the unknown from its least allowed value up to this
RELATIONS = {"=": lambda a, b: a == b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}


def dilated_span(kernel_size, dilation):
    """The span torch's dilated kernel covers: a stride-1 convolution over 200 samples loses span − 1."""
    length = conv_length(200, kernel_size, dilation=dilation)
    return None if length is None else 200 - length + 1


def torch_params(in_channels, out_channels, kernel_size, groups=1, bias=True):
    try:
        layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias, device="meta")
    except (RuntimeError, ValueError):
        return None
    return sum(parameter.numel() for parameter in layer.parameters())


def within_window(inversion, lowest):
    """The solutions between ``lowest`` and WINDOW, each membership decided (an undecided one fails)."""
    members = set()
    for value in range(lowest, WINDOW + 1):
        verdict = inversion.solutions.contains(value)
        assert verdict in (sympy.true, sympy.false), f"membership of {value} undecided: {inversion.solutions}"
        if verdict is sympy.true:
            members.add(value)
    return members


def brute_force(truth, unknown, lowest, relation, target, known):
    found = set()
    for value in range(lowest, WINDOW + 1):
        result = truth(**known, **{unknown: value})
        if result is not None and RELATIONS[relation](result, target):
            found.add(value)
    return found


def check(formula, truth, unknown, lowest, relation, target, known):
    inversion = solve_for(formula, unknown, f"{relation}{target}", **known)
    expected = brute_force(truth, unknown, lowest, relation, target, known)
    assert within_window(inversion, lowest) == expected, inversion.text()
    if not expected and inversion.solutions.is_empty:
        assert inversion.reason


relations = st.sampled_from(sorted(RELATIONS))
small = st.integers(1, 5)


@SOME
@given(
    unknown=st.sampled_from(["n", "kernel_size", "stride", "padding", "dilation"]),
    n=st.integers(1, 20),
    kernel_size=small,
    stride=small,
    padding=st.integers(0, 4),
    dilation=st.integers(1, 3),
    relation=relations,
    target=st.integers(0, 12),
)
def test_conv_output_size_matches_torch(unknown, n, kernel_size, stride, padding, dilation, relation, target):
    known = {"n": n, "kernel_size": kernel_size, "stride": stride, "padding": padding, "dilation": dilation}
    del known[unknown]
    check(conv_output_size, conv_length, unknown, 0 if unknown == "padding" else 1, relation, target, known)


@SOME
@given(
    unknown=st.sampled_from(["n", "kernel_size", "stride", "padding", "dilation"]),
    n=st.integers(1, 20),
    kernel_size=small,
    stride=small,
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    ceil_mode=st.booleans(),
    relation=relations,
    target=st.integers(0, 10),
)
def test_pool_output_size_matches_torch(unknown, n, kernel_size, stride, padding, dilation, ceil_mode, relation, target):
    known = {
        "n": n,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "ceil_mode": ceil_mode,
    }
    del known[unknown]
    check(pool_output_size, pool_length, unknown, 0 if unknown == "padding" else 1, relation, target, known)


@SOME
@given(
    unknown=st.sampled_from(["n", "kernel_size", "stride", "padding", "output_padding", "dilation"]),
    n=st.integers(1, 8),
    kernel_size=small,
    stride=small,
    padding=st.integers(0, 3),
    output_padding=st.integers(0, 2),
    dilation=st.integers(1, 3),
    relation=relations,
    target=st.integers(0, 30),
)
def test_conv_transpose_output_size_matches_torch(
    unknown, n, kernel_size, stride, padding, output_padding, dilation, relation, target
):
    known = {
        "n": n,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }
    del known[unknown]
    check(conv_transpose_output_size, transpose_length, unknown, 0 if "padding" in unknown else 1, relation, target, known)


@SOME
@given(
    unknown=st.sampled_from(["kernel_size", "dilation"]),
    kernel_size=st.integers(1, 7),
    dilation=st.integers(1, 6),
    relation=relations,
    target=st.integers(1, 40),
)
def test_effective_kernel_size_matches_torch(unknown, kernel_size, dilation, relation, target):
    known = {"kernel_size": kernel_size, "dilation": dilation}
    del known[unknown]
    check(effective_kernel_size, dilated_span, unknown, 1, relation, target, known)


@SOME
@given(
    unknown=st.sampled_from(["in_channels", "out_channels", "kernel_size", "groups"]),
    in_channels=st.integers(1, 12),
    out_channels=st.integers(1, 12),
    kernel_size=st.integers(1, 3),
    groups=st.sampled_from([1, 2, 3]),
    bias=st.booleans(),
    relation=relations,
    target=st.integers(1, 400),
)
def test_conv_params_matches_torch(unknown, in_channels, out_channels, kernel_size, groups, bias, relation, target):
    known = {"in_channels": in_channels, "out_channels": out_channels, "kernel_size": kernel_size, "groups": groups, "bias": bias}
    del known[unknown]
    check(conv_params, torch_params, unknown, 1, relation, target, known)


def test_downsampling_by_two_needs_padding_three_for_a_7x7_and_one_for_a_3x3():
    assert solve_for(conv_output_size, "padding", 112, n=224, kernel_size=7, stride=2).values() == [3]
    assert solve_for(conv_output_size, "padding", 112, n=224, kernel_size=3, stride=2).values() == [1]
    assert conv_length(224, 7, 2, 3) == conv_length(224, 3, 2, 1) == 112


def test_the_stride_that_takes_224_to_56():
    strides = solve_for(conv_output_size, "stride", 56, n=224, kernel_size=3, padding=1).values()
    assert strides == [stride for stride in range(1, 300) if conv_length(224, 3, stride, 1) == 56] == [4]


def test_dilation_for_a_span_of_37():
    assert solve_for(effective_kernel_size, "dilation", 37, kernel_size=3).values() == [18]
    assert dilated_span(3, 18) == 37


def test_same_padding_in_general_and_against_torch():
    same = solve_for(conv_output_size, "padding", "N", n="N", kernel_size="K", dilation="d")
    assert "multiple of 2" in same.text()  # the parity condition on d(K − 1) is spelled out
    assert same.at(K=3, d=2) == sympy.FiniteSet(2)
    for kernel_size in range(1, 8):
        for dilation in range(1, 5):
            expected = {padding for padding in range(0, 20) if conv_length(17, kernel_size, 1, padding, dilation) == 17}
            assert set(same.at(K=kernel_size, d=dilation)) == expected


def test_fewest_stacked_3x3_convolutions_reaching_100():
    depth = solve_for(stacked_receptive_field(), "L", ">= 100", kernel_size=3)
    assert depth.smallest == 50
    assert isinstance(depth.solutions, sympy.Range) and not depth.solutions.is_finite_set

    def stacked_field(depth):
        # The receptive field torch sees: which inputs reach the first output of depth stacked 3-tap convolutions.
        signal = torch.ones(1, 1, 2 * depth + 5, requires_grad=True)
        output = signal
        for _ in range(depth):
            output = F.conv1d(output, torch.ones(1, 1, 3))
        output[0, 0, 0].backward()
        return int((signal.grad != 0).sum())

    assert stacked_field(49) < 100 <= stacked_field(50)


def test_unbounded_answers_are_ranges_and_infeasible_ones_empty_with_a_reason():
    strides = solve_for(conv_output_size, "stride", 1, n=10, kernel_size=3)
    assert isinstance(strides.solutions, sympy.Range) and strides.smallest == 8 and not strides.is_finite
    impossible = solve_for(conv_transpose_output_size, "stride", 9, n=4, kernel_size=3, padding=1)
    assert impossible.solutions.is_empty and impossible.reason
    below_one = solve_for(conv_output_size, "padding", 0, n=5, kernel_size=3)
    assert below_one.solutions.is_empty and "below 1" in below_one.reason


def test_pooling_padding_respects_half_the_kernel():
    allowed = solve_for(pool_output_size, "padding", ">= 1", n=5, kernel_size=3, stride=1)
    assert allowed.values() == [0, 1] == [p for p in range(0, 6) if pool_length(5, 3, 1, p) is not None]


def test_targets_in_every_spelling():
    assert parse_target(">= 100") == parse_target((">=", 100)) == parse_target("≥100") == (">=", 100)
    assert parse_target(sympy.Symbol("r") <= 7) == ("<=", 7)
    assert parse_target(7 <= sympy.Symbol("r")) == (">=", 7)
    assert parse_target("1/2") == ("=", sympy.Rational(1, 2))


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((conv_output_size, "groups", 3), "arguments"),
        ((pool_output_size, "ceil_mode", 3), "whole-number"),
        ((conv_output_size, "padding", "=> 3"), "target"),
    ],
)
def test_bad_questions_are_one_line_errors(arguments, message):
    with pytest.raises(SymconvError, match=message):
        solve_for(*arguments, n=10, kernel_size=3)


def test_working_renders_in_text_latex_and_markdown():
    inversion = solve_for(conv_output_size, "padding", 112, n=224, kernel_size=7, stride=2)
    text = repr(inversion)
    assert "111 ≤ (2p + 217)/2 < 112" in text and "p ∈ {3}" in text
    assert r"\left\lfloor" in inversion.latex() and inversion._repr_latex_().startswith("$$")
    assert "aligned" in inversion.markdown()
