"""Single-source layer formulas: output sizes, effective kernel, parameter and MAC counts.

Each formula is a plain function whose body is one expression, in the order a person writes it;
the checks that wrap it stay outside it. Conventions: sizes follow PyTorch (floor; pooling's
ceil_mode keeps the last window only if it starts inside the input or the left padding); a MAC is
one multiply-accumulate, bias excluded.
"""

from __future__ import annotations

from typing import Any, Mapping

from symconv.core.checks import require, require_at_least, require_integer
from symconv.core.formula import formula
from symconv.core.values import minimum


def _check_window(values: Mapping[str, Any]) -> None:
    require_at_least(1, values, "n", "kernel_size", "stride", "dilation")
    require_at_least(0, values, "padding")


def _check_output_size(values: Mapping[str, Any], result: Any) -> None:
    require(
        "n",
        values["n"],
        "with these hyperparameters the output size would be below 1 (the padded input is smaller than the kernel)",
        lambda n: result >= 1,
        result,
    )


def _check_conv_transpose(values: Mapping[str, Any]) -> None:
    _check_window(values)
    stride, dilation = values["stride"], values["dilation"]
    require_integer("output_padding", values["output_padding"])
    require("output_padding", values["output_padding"], "must be at least 0", lambda a: a >= 0)
    require(
        "output_padding",
        values["output_padding"],
        f"must be smaller than stride={stride} or dilation={dilation}",
        lambda a: (a < stride) | (a < dilation),
        stride,
        dilation,
    )


def _check_pool(values: Mapping[str, Any]) -> None:
    _check_window(values)
    kernel_size, dilation = values["kernel_size"], values["dilation"]
    # PyTorch checks both the plain and the effective kernel; the plain one is the tighter rule.
    require(
        "padding",
        values["padding"],
        f"must be at most half the kernel size {kernel_size}",
        lambda p: 2 * p <= kernel_size,
        kernel_size,
        dilation,
    )


def _check_kernel(values: Mapping[str, Any]) -> None:
    require_at_least(1, values, "kernel_size", "dilation")


def _check_conv_counts(values: Mapping[str, Any]) -> None:
    counts = ("in_channels", "out_channels", "kernel_size", "kernel_elements", "output_elements", "groups")
    require_at_least(1, values, *(name for name in counts if name in values))
    groups = values.get("groups", 1)
    for channels in ("in_channels", "out_channels"):
        # Named first: mypy cannot infer a lambda with a default argument in place of a one-argument callable.
        divides_channels = lambda g, c=values[channels]: c % g == 0
        require(
            "groups",
            groups,
            f"must divide {channels}={values[channels]}",
            divides_channels,
            values[channels],
        )
    for size in ("out_h", "out_w"):
        if size in values:
            require_at_least(1, values, size)


def _check_tokens(values: Mapping[str, Any]) -> None:
    require_at_least(1, values, *(name for name in ("tokens", "embed_dim", "elements") if name in values))


def _check_features(values: Mapping[str, Any]) -> None:
    require_at_least(1, values, *(name for name in ("in_features", "out_features", "num_features") if name in values))


def _check_elementwise(values: Mapping[str, Any]) -> None:
    require_at_least(1, values, "elements")
    require_at_least(0, values, "per_element")


@formula("n_out", "pixels", check=_check_window, check_result=_check_output_size)
def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    """Spatial output size of a convolution along one axis (PyTorch's floor rule)."""
    return (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


@formula("n_out", "pixels", check=_check_conv_transpose, check_result=_check_output_size)
def conv_transpose_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Spatial output size of a transposed convolution along one axis."""
    return (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


@formula(
    "n_out",
    "pixels",
    check=_check_pool,
    check_result=_check_output_size,
    derived_defaults={"stride": lambda values: values["kernel_size"]},
)
def pool_output_size(n, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Spatial output size of max or average pooling; stride defaults to the kernel size.

    Under ceil_mode the last window must start inside the input or the left padding, which is the
    second argument of the minimum: (N_out - 1) s <= N + p - 1.
    """
    return (
        minimum((n + 2 * padding - dilation * (kernel_size - 1) - 1 + (stride - 1)) // stride, (n + padding - 1) // stride) + 1
        if ceil_mode
        else conv_output_size(n, kernel_size, stride, padding, dilation)
    )


@formula("effective_kernel_size", "pixels", check=_check_kernel)
def effective_kernel_size(kernel_size, dilation):
    """Span of a dilated kernel: the taps plus the gaps between them."""
    return dilation * (kernel_size - 1) + 1


@formula("params", "parameters", check=_check_conv_counts)
def conv_params(in_channels, out_channels, kernel_size, groups=1, bias=True):
    """Learnable parameters of a square-kernel convolution: weights plus optional biases."""
    return out_channels * (in_channels // groups) * kernel_size**2 + (out_channels if bias else 0)


@formula("params", "parameters", check=_check_features)
def linear_params(in_features, out_features, bias=True):
    """Learnable parameters of a fully connected layer."""
    return out_features * in_features + (out_features if bias else 0)


@formula("params", "parameters", check=_check_features)
def batchnorm_params(num_features):
    """Learnable parameters of batch normalisation: a scale and a shift per channel."""
    return 2 * num_features


@formula("macs", "MACs", check=_check_conv_counts)
def conv_macs(in_channels, out_channels, kernel_size, out_h, out_w, groups=1):
    """Multiply-accumulates of a convolution: one per weight per output position, bias excluded."""
    return out_h * out_w * kernel_size**2 * (in_channels // groups) * out_channels


@formula("macs", "MACs", check=_check_features)
def linear_macs(in_features, out_features):
    """Multiply-accumulates of a fully connected layer, bias excluded."""
    return in_features * out_features


@formula("params", "parameters", check=_check_conv_counts)
def depthwise_separable_params(in_channels, out_channels, kernel_size, bias=False):
    """A depthwise K x K convolution (groups = C_in) followed by a pointwise 1 x 1 convolution."""
    return conv_params(in_channels, in_channels, kernel_size, in_channels, bias) + conv_params(
        in_channels, out_channels, 1, 1, bias
    )


@formula("macs", "MACs", check=_check_conv_counts)
def depthwise_separable_macs(in_channels, out_channels, kernel_size, out_h, out_w):
    """Multiply-accumulates of a depthwise convolution followed by a pointwise one, bias excluded."""
    return conv_macs(in_channels, in_channels, kernel_size, out_h, out_w, in_channels) + conv_macs(
        in_channels, out_channels, 1, out_h, out_w
    )


@formula("macs", "MACs", check=_check_tokens)
def attention_macs(tokens, embed_dim):
    """Multiply-accumulates of the two attention products, Q K^T and A V, summed over the heads."""
    return 2 * tokens**2 * embed_dim


@formula("params", "parameters", check=_check_tokens)
def embedding_params(tokens, embed_dim):
    """Learnable parameters of a learned embedding: one vector per token."""
    return tokens * embed_dim


@formula("macs", "MACs", check=_check_elementwise)
def elementwise_macs(elements, per_element):
    """A charge per tensor element, as fvcore counts normalisation and adaptive pooling."""
    return per_element * elements


@formula("params", "parameters", check=_check_conv_counts)
def kernel_params(in_channels, out_channels, kernel_elements, groups=1, bias=True):
    """Learnable parameters of a convolution of any kernel shape (kernel_elements taps per channel pair)."""
    return out_channels * (in_channels // groups) * kernel_elements + (out_channels if bias else 0)


@formula("macs", "MACs", check=_check_conv_counts)
def kernel_macs(in_channels, out_channels, kernel_elements, output_elements, groups=1):
    """Multiply-accumulates of a convolution of any kernel shape and dimension: one per weight per output position."""
    return output_elements * kernel_elements * (in_channels // groups) * out_channels
