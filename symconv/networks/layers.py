"""Leaf layers as values: convolution, pooling, normalisation, linear and element-wise layers, with torch.nn's names.

A leaf layer answers ``forward(shape) -> Effect`` (its output shape, parameters and MACs, computed
by the single-source formulas) and, if it is a sliding window or mixes the whole grid, ``field``.
A container overrides ``trace(signal, walk)`` and visits its children through the walk (see
``symconv.networks.analyze.Walk``: ``visit``, ``leaf``, ``merge``, ``fail``). Shapes exclude the batch:
(C, H, W) for feature maps, (L, D) for token sequences, (F,) for vectors. Any size or width may be
an int, a sympy expression or a string naming a symbol ("C", "H").
"""

from __future__ import annotations

import math
from collections import namedtuple
from numbers import Integral
from typing import Any

from symconv.core.checks import require_flag, require_symbol_name
from symconv.core.errors import invalid
from symconv.core.formula import compute
from symconv.core.values import is_sympy, same
from symconv.formulas.layers import (
    batchnorm_params,
    conv_macs,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    linear_macs,
    linear_params,
    pool_output_size,
)

# What flows between layers: the shape and the receptive field of its units (a Field), None once a
# layer mixes the whole grid (global pooling, flatten, attention).
Signal = namedtuple("Signal", "shape field")
# What a leaf does to its input.
Effect = namedtuple("Effect", "shape params macs", defaults=(0, 0))


# ---- values -------------------------------------------------------------------------------------


def size(name: str, value: Any, minimum: int = 1) -> Any:
    """An int (at least ``minimum``), a sympy expression, or a string naming a symbol; a tuple must be square."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or value[0] != value[1]:
            raise invalid(name, tuple(value), "non-square values are not supported (give one size for both axes)")
        value = value[0]
    if isinstance(value, str):
        from symconv.core.symbols import symbol

        require_symbol_name(name, value)
        return symbol(value)
    if isinstance(value, bool) or not (isinstance(value, Integral) or is_sympy(value)):
        raise invalid(name, value, "must be an int, a sympy expression or the name of a symbol")
    if isinstance(value, Integral) and value < minimum:
        raise invalid(name, value, f"must be at least {minimum}")
    return int(value) if isinstance(value, Integral) else value


def require_same(name: str, value: Any, actual: Any, what: str) -> None:
    if not same(value, actual):
        raise invalid(name, value, f"must equal the {what} of its input, {actual}")


def shape_text(shape: tuple[Any, ...]) -> str:
    return "×".join(str(entry) for entry in shape)


def elements(shape: tuple[Any, ...]) -> Any:
    return math.prod(shape)


def feature_map(shape: tuple[Any, ...]) -> tuple[Any, Any, Any]:
    if len(shape) != 3:
        raise invalid("input", shape_text(shape), "must be a C×H×W feature map")
    return shape


def tokens(shape: tuple[Any, ...]) -> tuple[Any, Any]:
    if len(shape) != 2:
        raise invalid("input", shape_text(shape), "must be an L×D sequence of tokens")
    return shape


class Layer:
    """A layer of a network; ``kind`` (the class name) groups MACs by operation in reports."""

    @property
    def kind(self) -> str:
        return type(self).__name__

    def forward(self, shape: tuple[Any, ...]) -> Effect:
        raise NotImplementedError(f"{self.kind} must define forward(shape) or trace(signal, walk)")

    def field(self, field: Any, shape: tuple[Any, ...]) -> Any:
        """The receptive field after this layer; element-wise by default (K = 1, s = 1)."""
        return field

    def trace(self, signal: Signal, walk: Any) -> Signal:
        return walk.leaf(self, signal)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{self.kind}({arguments})"


class ElementWise(Layer):
    """Shape, parameters and field unchanged: activations, dropout, identity."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # torch's inplace, p, approximate: no effect on counts
        pass

    def forward(self, shape: tuple[Any, ...]) -> Effect:
        return Effect(shape)

    def __repr__(self) -> str:
        return f"{self.kind}()"


class ReLU(ElementWise):
    pass


class ReLU6(ElementWise):
    pass


class SiLU(ElementWise):
    pass


class GELU(ElementWise):
    pass


class Sigmoid(ElementWise):
    pass


class Hardswish(ElementWise):
    pass


class Dropout(ElementWise):
    pass


class Identity(ElementWise):
    pass


# ---- convolution and pooling --------------------------------------------------------------------


class Conv2d(Layer):
    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros"
    ):
        self.in_channels = size("in_channels", in_channels)
        self.out_channels = size("out_channels", out_channels)
        self.kernel_size = size("kernel_size", kernel_size)
        self.stride = size("stride", stride)
        self.dilation = size("dilation", dilation)
        self.padding = _padding(padding, self.kernel_size, self.stride, self.dilation)
        self.groups = size("groups", groups)
        self.bias = require_flag("bias", bias)

    def forward(self, shape):
        channels, height, width = feature_map(shape)
        require_same("in_channels", self.in_channels, channels, "channels")
        sizes = [
            compute(conv_output_size, n, self.kernel_size, self.stride, self.padding, self.dilation) for n in (height, width)
        ]
        return Effect(
            (self.out_channels, *sizes),
            compute(conv_params, self.in_channels, self.out_channels, self.kernel_size, self.groups, self.bias),
            compute(conv_macs, self.in_channels, self.out_channels, self.kernel_size, *sizes, self.groups),
        )

    def field(self, field, shape):
        return field.window(self.kernel_size, self.stride, self.padding, self.dilation)


def _padding(padding: Any, kernel_size: Any, stride: Any, dilation: Any) -> Any:
    """torch's "valid" is 0; "same" keeps the size at stride 1 when the padding is symmetric."""
    if padding == "valid":
        return 0
    if padding == "same":
        span = dilation * (kernel_size - 1)
        if stride != 1 or (isinstance(span, int) and span % 2):
            raise invalid("padding", padding, "is supported for stride 1 and an odd effective kernel only")
        return span // 2
    return size("padding", padding, minimum=0)


class ConvTranspose2d(Layer):
    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
    ):
        self.in_channels = size("in_channels", in_channels)
        self.out_channels = size("out_channels", out_channels)
        self.kernel_size = size("kernel_size", kernel_size)
        self.stride = size("stride", stride)
        self.padding = size("padding", padding, minimum=0)
        self.output_padding = size("output_padding", output_padding, minimum=0)
        self.groups = size("groups", groups)
        self.bias = require_flag("bias", bias)
        self.dilation = size("dilation", dilation)

    def forward(self, shape):
        channels, height, width = feature_map(shape)
        require_same("in_channels", self.in_channels, channels, "channels")
        sizes = [
            compute(
                conv_transpose_output_size, n, self.kernel_size, self.stride, self.padding, self.output_padding, self.dilation
            )
            for n in (height, width)
        ]
        # One MAC per weight per *input* position: the adjoint of a convolution from C_out to C_in.
        return Effect(
            (self.out_channels, *sizes),
            # Its weight is C_in x (C_out / g) x K x K: the same count as a convolution from C_in to C_out.
            compute(conv_params, self.in_channels, self.out_channels, self.kernel_size, self.groups, self.bias),
            compute(conv_macs, self.out_channels, self.in_channels, self.kernel_size, height, width, self.groups),
        )

    def field(self, field, shape):
        return field.transposed(self.kernel_size, self.stride, self.padding, self.dilation)


class MaxPool2d(Layer):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        self.kernel_size = size("kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else size("stride", stride)
        self.padding = size("padding", padding, minimum=0)
        self.dilation = size("dilation", dilation)
        self.ceil_mode = require_flag("ceil_mode", ceil_mode)

    def forward(self, shape):
        channels, height, width = feature_map(shape)
        return Effect(
            (
                channels,
                *(
                    compute(pool_output_size, n, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)
                    for n in (height, width)
                ),
            )
        )

    def field(self, field, shape):
        return field.window(self.kernel_size, self.stride, self.padding, self.dilation)


class AvgPool2d(MaxPool2d):
    """count_include_pad changes the divisor, never the shape; average pooling has no dilation."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        super().__init__(kernel_size, stride, padding, 1, False, ceil_mode)


class AdaptiveAvgPool2d(Layer):
    """Windows adapt to the input size, so the field is the whole input (global pooling)."""

    def __init__(self, output_size):
        pair = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
        if len(pair) != 2:
            raise invalid("output_size", output_size, "must be one size or a pair (H, W)")
        self.output_size = tuple(None if entry is None else size("output_size", entry) for entry in pair)

    def forward(self, shape):
        channels, height, width = feature_map(shape)
        out_h, out_w = (n if wanted is None else wanted for wanted, n in zip(self.output_size, (height, width)))
        for name, value in (("output_size", out_h), ("output_size", out_w)):
            if isinstance(value, int) and value < 1:
                raise invalid(name, value, "must be at least 1")
        return Effect((channels, out_h, out_w))

    def field(self, field, shape):
        return None


# ---- normalisation, linear, reshaping -----------------------------------------------------------
# Normalisation is element-wise for the receptive field (K = 1), as Araujo et al. treat batch norm.


class BatchNorm2d(Layer):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        self.num_features = size("num_features", num_features)
        self.affine = require_flag("affine", affine)

    def forward(self, shape):
        channels = feature_map(shape)[0]
        require_same("num_features", self.num_features, channels, "channels")
        return Effect(shape, compute(batchnorm_params, self.num_features) if self.affine else 0)


class GroupNorm(Layer):
    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True):
        self.num_groups = size("num_groups", num_groups)
        self.num_channels = size("num_channels", num_channels)
        self.affine = require_flag("affine", affine)

    def forward(self, shape):
        channels = feature_map(shape)[0]
        require_same("num_channels", self.num_channels, channels, "channels")
        if isinstance(self.num_channels, int) and isinstance(self.num_groups, int) and self.num_channels % self.num_groups:
            raise invalid("num_groups", self.num_groups, f"must divide num_channels={self.num_channels}")
        return Effect(shape, compute(batchnorm_params, self.num_channels) if self.affine else 0)


class LayerNorm(Layer):
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True):
        dims = normalized_shape if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
        self.normalized_shape = tuple(size("normalized_shape", entry) for entry in dims)
        self.elementwise_affine = require_flag("elementwise_affine", elementwise_affine)

    def forward(self, shape):
        trailing = shape[len(shape) - len(self.normalized_shape) :] if len(shape) >= len(self.normalized_shape) else ()
        if len(trailing) != len(self.normalized_shape) or not all(map(same, trailing, self.normalized_shape)):
            raise invalid(
                "normalized_shape", self.normalized_shape, f"must equal the trailing sizes of its input {shape_text(shape)}"
            )
        return Effect(shape, compute(batchnorm_params, elements(self.normalized_shape)) if self.elementwise_affine else 0)


class Linear(Layer):
    """Acts on the last axis: per token on an L×D sequence, once on a flattened vector."""

    def __init__(self, in_features, out_features, bias=True):
        self.in_features = size("in_features", in_features)
        self.out_features = size("out_features", out_features)
        self.bias = require_flag("bias", bias)

    def forward(self, shape):
        require_same("in_features", self.in_features, shape[-1], "last size")
        positions = elements(shape[:-1])
        return Effect(
            (*shape[:-1], self.out_features),
            compute(linear_params, self.in_features, self.out_features, self.bias),
            positions * compute(linear_macs, self.in_features, self.out_features),
        )

    def field(self, field, shape):
        return None if len(shape) == 3 else field  # along a spatial axis it mixes the whole row


class Flatten(Layer):
    """torch's dims count the batch: start_dim=1 is the first axis of the shapes here."""

    def __init__(self, start_dim=1, end_dim=-1):
        if start_dim == 0 or end_dim == 0:
            raise invalid("start_dim", start_dim, "the batch axis 0 is not part of the shapes analysed")
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, shape):
        first = self.start_dim - 1 if self.start_dim > 0 else len(shape) + self.start_dim
        last = self.end_dim - 1 if self.end_dim > 0 else len(shape) + self.end_dim
        if not 0 <= first <= last < len(shape):
            raise invalid("start_dim", self.start_dim, f"with end_dim={self.end_dim} selects no axes of {shape_text(shape)}")
        return Effect((*shape[:first], elements(shape[first : last + 1]), *shape[last + 1 :]))

    def field(self, field, shape):
        return None
