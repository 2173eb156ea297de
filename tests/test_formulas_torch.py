"""Output sizes and parameter counts against PyTorch, over thousands of random layer configurations."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_truth import torch_shape

from symconv import (
    SymconvError,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    pool_output_size,
)

MANY = settings(max_examples=2000, deadline=None)


def ours(formula, **arguments):
    try:
        return formula(**arguments)
    except SymconvError:
        return None


def assert_same_sizes(expected, formula, height, width, **window):
    """Both axes through the formula: torch's (H, W), or both refused."""
    got = (ours(formula, n=height, **window), ours(formula, n=width, **window))
    assert (None if None in got else got) == expected


@MANY
@given(
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    kernel_size=st.integers(1, 7),
    stride=st.integers(1, 4),
    padding=st.integers(0, 4),
    dilation=st.integers(1, 3),
    groups=st.integers(1, 3),
    in_per_group=st.integers(1, 3),
    out_per_group=st.integers(1, 3),
)
def test_conv2d_shape(height, width, kernel_size, stride, padding, dilation, groups, in_per_group, out_per_group):
    window = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    expected = torch_shape(
        lambda: F.conv2d(
            torch.zeros(1, groups * in_per_group, height, width),
            torch.zeros(groups * out_per_group, in_per_group, kernel_size, kernel_size),
            groups=groups,
            **{key: value for key, value in window.items() if key != "kernel_size"},
        )
    )
    assert_same_sizes(expected, conv_output_size, height, width, **window)


@MANY
@given(
    in_channels=st.integers(1, 12),
    out_channels=st.integers(1, 12),
    kernel_size=st.integers(1, 7),
    groups=st.integers(1, 4),
    bias=st.booleans(),
)
def test_conv2d_parameters(in_channels, out_channels, kernel_size, groups, bias):
    try:
        layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias, device="meta")
    except ValueError:  # torch: groups must divide both channel counts
        with pytest.raises(SymconvError, match="groups"):
            conv_params(in_channels, out_channels, kernel_size, groups=groups, bias=bias)
        return
    assert conv_params(in_channels, out_channels, kernel_size, groups=groups, bias=bias) == sum(
        p.numel() for p in layer.parameters()
    )


@MANY
@given(
    n=st.integers(1, 12),
    kernel_size=st.integers(1, 5),
    stride=st.integers(1, 4),
    padding=st.integers(0, 4),
    output_padding=st.integers(0, 3),
    dilation=st.integers(1, 3),
    groups=st.integers(1, 2),
    bias=st.booleans(),
)
def test_conv_transpose2d_shape_and_parameters(n, kernel_size, stride, padding, output_padding, dilation, groups, bias):
    in_channels, out_channels = 2 * groups, 3 * groups
    expected = torch_shape(
        lambda: F.conv_transpose2d(
            torch.zeros(1, in_channels, n, n),
            torch.zeros(in_channels, out_channels // groups, kernel_size, kernel_size),
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
            groups=groups,
        )
    )
    size = ours(
        conv_transpose_output_size,
        n=n,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
    )
    assert (None if size is None else (size, size)) == expected
    layer = torch.nn.ConvTranspose2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias, device="meta")
    assert conv_params(in_channels, out_channels, kernel_size, groups=groups, bias=bias) == sum(
        p.numel() for p in layer.parameters()
    )


@MANY
@given(
    height=st.integers(1, 30),
    width=st.integers(1, 30),
    kernel_size=st.integers(1, 6),
    stride=st.one_of(st.none(), st.integers(1, 4)),
    padding=st.integers(0, 3),
    dilation=st.integers(1, 3),
    ceil_mode=st.booleans(),
)
def test_max_pool2d_shape(height, width, kernel_size, stride, padding, dilation, ceil_mode):
    window = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    expected = torch_shape(lambda: F.max_pool2d(torch.zeros(1, 1, height, width), **window))
    assert_same_sizes(expected, pool_output_size, height, width, **window)


@MANY
@given(
    height=st.integers(1, 30),
    width=st.integers(1, 30),
    kernel_size=st.integers(1, 6),
    stride=st.one_of(st.none(), st.integers(1, 4)),
    padding=st.integers(0, 3),
    ceil_mode=st.booleans(),
    count_include_pad=st.booleans(),
)
def test_avg_pool2d_shape(height, width, kernel_size, stride, padding, ceil_mode, count_include_pad):
    window = dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)
    expected = torch_shape(lambda: F.avg_pool2d(torch.zeros(1, 1, height, width), count_include_pad=count_include_pad, **window))
    assert_same_sizes(expected, pool_output_size, height, width, **window)
