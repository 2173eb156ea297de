"""What each ATen operator of an exported graph does to shapes, parameters, MACs and receptive fields.

One handler per operator family, keyed by the ATen name (``conv2d``, ``addmm`` …). A handler reads its
arguments (``Value``s for tensors, ints or sympy sizes otherwise) and returns an ``Outcome``: the
output shape in symconv's own closed form where a single-source formula gives it (convolution,
pooling), else torch's; the parameters and MACs by the formulas in ``symconv.formulas.layers``; the
receptive field. Shapes here include the batch axis (a batch of one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from symconv.core.formula import compute
from symconv.formulas.layers import (
    attention_macs,
    batchnorm_params,
    conv_macs,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    kernel_macs,
    kernel_params,
    linear_macs,
    linear_params,
    pool_output_size,
)
from symconv.networks.fields import Field


@dataclass(frozen=True)
class Value:
    """A tensor of the graph: its shape (batch included), the receptive field of its units along the last
    axis (None when a global operation mixed the grid), whether it depends on the model's input, and
    the name of the parameter it is (None for anything computed)."""

    shape: tuple[Any, ...]
    field: Field | None = None
    source: bool = False
    parameter: str | None = None
    torch_shape: tuple[Any, ...] = ()  # torch's own expressions: equal shapes are equal tuples


@dataclass(frozen=True)
class Outcome:
    shape: tuple[Any, ...] | None = None  # None: torch's shape
    params: Any = 0
    claimed: tuple[Value, ...] = ()  # the parameters ``params`` counts
    macs: Any = 0
    field: Any = "inherit"  # "inherit": the field of the inputs (element-wise)


class Op:
    """One call of an operator: its name, resolved arguments and torch's output shape, translated (``shape``)
    and in torch's own canonical expressions (``torch_shape``, for comparing sizes cheaply)."""

    def __init__(
        self,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        shape: tuple[Any, ...],
        torch_shape: tuple[Any, ...],
    ) -> None:
        self.name, self.args, self.kwargs, self.shape, self.torch_shape = name, args, kwargs, shape, torch_shape

    def arg(self, index: int, name: str, default: Any = None) -> Any:
        if index < len(self.args):
            return self.args[index]
        return self.kwargs.get(name, default)

    @property
    def tensors(self) -> list[Value]:
        return [value for value in _flat(self.args) if isinstance(value, Value)]


def _flat(values: Any) -> list[Any]:
    found = []
    for value in values:
        if isinstance(value, (list, tuple)):
            found += _flat(value)
        else:
            found.append(value)
    return found


def _per_axis(value: Any, axes: int, default: Any) -> list[Any]:
    if value is None or value == [] or value == ():
        return [default] * axes
    if isinstance(value, (list, tuple)):
        return list(value) * axes if len(value) == 1 else list(value)
    return [value] * axes


def _window(field: Field | None, kernel: list[Any], stride: list[Any], padding: list[Any], dilation: list[Any]) -> Any:
    """The width's field after a sliding window (the last axis; square windows give the height the same)."""
    return None if field is None else field.window(kernel[-1], stride[-1], padding[-1], dilation[-1])


# ---- convolution, linear algebra, attention ----------------------------------------------------------


def convolution(op: Op) -> Outcome:
    x, weight, bias = op.arg(0, "input"), op.arg(1, "weight"), op.arg(2, "bias")
    if op.name == "convolution":
        stride, padding, dilation, transposed, output_padding, groups = (op.arg(i, "") for i in range(3, 9))
    elif op.name.startswith("conv_transpose"):
        stride, padding, output_padding, groups, dilation = (
            op.arg(3, "stride"),
            op.arg(4, "padding"),
            op.arg(5, "output_padding"),
            op.arg(6, "groups", 1),
            op.arg(7, "dilation"),
        )
        transposed = True
    else:
        stride, padding, dilation, groups = (
            op.arg(3, "stride"),
            op.arg(4, "padding"),
            op.arg(5, "dilation"),
            op.arg(6, "groups", 1),
        )
        transposed, output_padding = False, None
    groups = groups or 1
    axes = len(weight.shape) - 2
    kernel = list(weight.shape[2:])
    stride, dilation = _per_axis(stride, axes, 1), _per_axis(dilation, axes, 1)
    spatial_in = list(x.shape[2:])
    if isinstance(padding, str):  # "valid" or "same" (stride 1): torch's shape, the field's padding by hand
        padding = [0 if padding == "valid" else d * (k - 1) // 2 for k, d in zip(kernel, dilation)]
        sizes = list(op.shape[2:])
    else:
        padding = _per_axis(padding, axes, 0)
        sizes = None
    in_channels = x.shape[1]
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    square = axes == 2 and kernel[0] == kernel[1]
    has_bias = bias is not None
    if transposed:
        output_padding = _per_axis(output_padding, axes, 0)
        sizes = [
            compute(conv_transpose_output_size, n, k, s, p, a, d)
            for n, k, s, p, a, d in zip(spatial_in, kernel, stride, padding, output_padding, dilation)
        ]
        # One MAC per weight per *input* position: the adjoint of a convolution from C_out to C_in.
        if square:
            macs = compute(conv_macs, out_channels, in_channels, kernel[0], *spatial_in, groups)
        else:
            macs = compute(kernel_macs, out_channels, in_channels, math.prod(kernel), math.prod(spatial_in), groups)
        field = None if x.field is None else x.field.transposed(kernel[-1], stride[-1], padding[-1], dilation[-1])
    else:
        if sizes is None:
            sizes = [
                compute(conv_output_size, n, k, s, p, d) for n, k, s, p, d in zip(spatial_in, kernel, stride, padding, dilation)
            ]
        if square:
            macs = compute(conv_macs, in_channels, out_channels, kernel[0], *sizes, groups)
        else:
            macs = compute(kernel_macs, in_channels, out_channels, math.prod(kernel), math.prod(sizes), groups)
        field = _window(x.field, kernel, stride, padding, dilation)
    if square:
        params = compute(conv_params, in_channels, out_channels, kernel[0], groups, has_bias)
    else:
        params = compute(kernel_params, in_channels, out_channels, math.prod(kernel), groups, has_bias)
    claimed = tuple(value for value in (weight, bias) if value is not None)
    return Outcome((x.shape[0], out_channels, *sizes), params, claimed, macs, field)


def linear(op: Op) -> Outcome:
    x, weight, bias = op.arg(0, "input"), op.arg(1, "weight"), op.arg(2, "bias")
    out_features, in_features = weight.shape if len(weight.shape) == 2 else (1, weight.shape[0])
    positions = math.prod(x.shape[:-1])
    claimed = tuple(value for value in (weight, bias) if value is not None)
    return Outcome(
        None,
        compute(linear_params, in_features, out_features, bias is not None),
        claimed,
        positions * compute(linear_macs, in_features, out_features),
        _mixed_last_axis(x),
    )


def _mixed_last_axis(x: Value) -> Any:
    """A product along the last axis mixes the width: the whole row is seen."""
    return None if x.field is not None else "inherit"


def _product(rows: Any, inner: Any, columns: Any) -> Any:
    """rows × (inner × columns): each of the rows is a vector-matrix product."""
    return rows * compute(linear_macs, inner, columns)


def matrix_product(op: Op) -> Outcome:
    """mm, bmm, addmm, baddbmm, matmul: one MAC per multiply of the product (the added term is free)."""
    first, second = (
        (op.arg(1, "mat1"), op.arg(2, "mat2")) if op.name in ("addmm", "baddbmm", "addbmm") else (op.arg(0, ""), op.arg(1, ""))
    )
    left, right = first.shape, second.shape
    if len(left) == 1 and len(right) == 1:
        return Outcome(macs=compute(linear_macs, left[0], 1), field=None)
    inner = left[-1]
    columns = right[-1] if len(right) > 1 else 1
    rows = math.prod(op.shape) // columns if len(right) > 1 else math.prod(op.shape)
    if op.name == "addbmm":
        rows = math.prod(left[:-1])
    return Outcome(macs=_product(rows, inner, columns), field=None)


def einsum(op: Op) -> Outcome:
    """A contraction of two operands: one MAC per combination of every index (summed ones included)."""
    equation, operands = op.arg(0, "equation"), op.arg(1, "tensors")
    inputs = equation.replace(" ", "").split("->")[0].split(",")
    if len(operands) != 2:
        return Outcome(field=None)
    sizes: dict[str, Any] = {}
    for letters, operand in zip(inputs, operands):
        sizes.update(zip(letters, operand.shape))
    kept = equation.split("->")[1] if "->" in equation else ""
    summed = [letter for letter in sizes if letter not in kept]
    inner = math.prod(sizes[letter] for letter in summed) if summed else 1
    columns = math.prod(op.shape) if op.shape else 1
    return Outcome(macs=_product(columns, inner, 1), field=None)


def attention(op: Op) -> Outcome:
    """scaled_dot_product_attention: Q Kᵀ and A V, summed over the heads."""
    query, key, value = op.arg(0, "query"), op.arg(1, "key"), op.arg(2, "value")
    heads = math.prod(query.shape[:-2])
    length, depth = query.shape[-2:]
    key_length, value_depth = key.shape[-2], value.shape[-1]
    if _same(length, key_length) and _same(depth, value_depth):
        macs = compute(attention_macs, length, heads * depth)
    else:
        macs = heads * (_product(length, depth, key_length) + _product(length, key_length, value_depth))
    return Outcome(macs=macs, field=None)


def native_attention(op: Op) -> Outcome:
    """nn.MultiheadAttention's fused path: packed Q, K, V projection, attention, output projection."""
    query = op.arg(0, "query")
    qkv_weight, qkv_bias, proj_weight, proj_bias = (op.arg(i, "") for i in range(5, 9))
    length, dim = query.shape[-2], query.shape[-1]
    params = compute(linear_params, dim, 3 * dim, qkv_bias is not None) + compute(linear_params, dim, dim, proj_bias is not None)
    macs = (
        length * compute(linear_macs, dim, 3 * dim)
        + compute(attention_macs, length, dim)
        + length * compute(linear_macs, dim, dim)
    )
    claimed = tuple(value for value in (qkv_weight, qkv_bias, proj_weight, proj_bias) if value is not None)
    return Outcome(None, params, claimed, math.prod(query.shape[:-2]) * macs, None)


def _same(a: Any, b: Any) -> bool:
    from symconv.core.values import same

    return same(a, b)


# ---- pooling, normalisation, resampling ---------------------------------------------------------------


def pooling(op: Op) -> Outcome:
    x = op.arg(0, "self")
    axes = len(x.shape) - 2
    kernel = _per_axis(op.arg(1, "kernel_size"), axes, 1)
    stride = _per_axis(op.arg(2, "stride"), axes, None)
    stride = [k if s is None else s for k, s in zip(kernel, stride)]
    padding = _per_axis(op.arg(3, "padding"), axes, 0)
    if op.name.startswith("avg"):
        dilation, ceil_mode = [1] * axes, op.arg(4, "ceil_mode", False)
    else:
        dilation, ceil_mode = _per_axis(op.arg(4, "dilation"), axes, 1), op.arg(5, "ceil_mode", False)
    sizes = [
        compute(pool_output_size, n, k, s, p, d, bool(ceil_mode))
        for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation)
    ]
    return Outcome((*x.shape[:2], *sizes), field=_window(x.field, kernel, stride, padding, dilation))


def adaptive_pooling(op: Op) -> Outcome:
    """Windows adapt to the input: the same grid is an identity, anything else mixes the whole input."""
    x = op.arg(0, "self")
    return Outcome(field="inherit" if op.torch_shape == x.torch_shape else None)


def normalisation(op: Op) -> Outcome:
    """batch, instance, group and layer norm: a scale and a shift per channel (or per normalised element)."""
    x = op.arg(0, "input")
    if op.name == "layer_norm":
        weight, bias = op.arg(2, "weight"), op.arg(3, "bias")
    elif op.name == "group_norm":
        weight, bias = op.arg(2, "weight"), op.arg(3, "bias")
    else:
        weight, bias = op.arg(1, "weight"), op.arg(2, "bias")
    claimed = tuple(value for value in (weight, bias) if value is not None)
    params = 0
    if weight is not None and bias is not None:
        params = compute(batchnorm_params, math.prod(weight.shape))
    elif claimed:
        params = math.prod(claimed[0].shape)
    if op.name == "layer_norm":  # it normalises over the trailing axes: the width's units mix
        field = None if x.field is not None and len(op.arg(1, "normalized_shape")) >= 1 and len(x.shape) >= 3 else "inherit"
    elif op.name in ("group_norm", "instance_norm"):
        field = None  # statistics over the whole grid
    else:
        field = "inherit"
    return Outcome(x.shape, params, claimed, 0, field)


def upsampling(op: Op) -> Outcome:
    """Upsampling by a whole factor as a transposed window over the input's units.

    Nearest-neighbour by s repeats each unit s times (K = s, stride s). Linear interpolation by 2
    without aligned corners reads units ⌊(o − 1)/2⌋ and the next one, which is K = 4, stride 2,
    padding 1. Other factors and modes are left without a field.
    """
    x = op.arg(0, "input")
    if x.field is None:
        return Outcome(field=None)
    factor = _whole_ratio(op.torch_shape[-1], x.torch_shape[-1])
    if op.name.startswith("upsample_nearest") and factor is not None:
        return Outcome(field=x.field.transposed(factor, factor))
    if op.name in ("upsample_bilinear2d", "upsample_linear1d") and factor == 2 and not op.arg(2, "align_corners"):
        return Outcome(field=x.field.transposed(4, 2, 1))
    return Outcome(field=None)


def _whole_ratio(after: Any, before: Any) -> int | None:
    if isinstance(after, int) and isinstance(before, int):
        return after // before if before and after % before == 0 else None
    import sympy

    ratio = sympy.simplify(after / before)
    return int(ratio) if ratio.is_Integer and ratio > 0 else None


# ---- joining paths, reshaping, element-wise -----------------------------------------------------------


def joined_field(op: Op) -> Any:
    """Paths joined element by element: a unit sees what it sees along every path that reaches it."""
    sources = [value for value in op.tensors if value.source]
    if not sources:
        return None
    if any(value.field is None or len(value.shape) != len(sources[0].shape) for value in sources):
        return None
    # Joined tensors agree in size (torch guarded it) except where one is broadcast from size 1 along the width.
    if any(value.torch_shape[-1:] == (1,) != op.torch_shape[-1:] for value in sources):
        return None
    return Field.merge([value.field for value in sources if value.field is not None])


def elementwise(op: Op) -> Outcome:
    return Outcome(field=joined_field(op))


def concatenate(op: Op) -> Outcome:
    tensors, dim = op.arg(0, "tensors"), op.arg(1, "dim", 0)
    rank = len(tensors[0].shape)
    if op.name == "cat" and dim % rank == rank - 1:
        return Outcome(field=None)  # joined along the width: units of different paths sit side by side
    if op.name == "cat":
        axis = dim % rank
        shape = list(tensors[0].shape)
        shape[axis] = sum(tensor.shape[axis] for tensor in tensors)
        return Outcome(tuple(shape), field=joined_field(op))
    return Outcome(field=None if len(op.shape) != rank or dim % (rank + 1) > rank - 2 else joined_field(op))


def same_layout(op: Op) -> Outcome:
    """A view, copy or reshape: the field survives only if the shape is unchanged."""
    x = op.tensors[0] if op.tensors else None
    if x is None or x.field is None:
        return Outcome(field=None)
    return Outcome(field=x.field if op.torch_shape == x.torch_shape else None)


def slicing(op: Op) -> Outcome:
    """A slice along the width is a crop (the first unit kept is the old unit ``start``), with a stride."""
    x, dim, start, step = op.arg(0, "self"), op.arg(1, "dim", 0), op.arg(2, "start"), op.arg(4, "step", 1)
    if x.field is None:
        return Outcome(field=None)
    if dim % len(x.shape) != len(x.shape) - 1:
        return Outcome(field=x.field)
    field = x.field.cropped(start or 0)
    return Outcome(field=field if step in (None, 1) else field.window(1, step))


def padding(op: Op) -> Outcome:
    """A pad of the last axis by (left, right) moves every unit's input interval by ``left``."""
    x, pad = op.arg(0, "self"), op.arg(1, "pad")
    if x.field is None:
        return Outcome(field=None)
    return Outcome(field=x.field.window(1, 1, pad[0], 1))


def reduction(op: Op) -> Outcome:
    """mean, sum, amax …: over the spatial axes it is global (the field is the whole input)."""
    x = op.arg(0, "self")
    keeps = len(op.torch_shape) == len(x.torch_shape) and op.torch_shape[-1] == x.torch_shape[-1]
    return Outcome(field=x.field if keeps else None)


def no_input(op: Op) -> Outcome:
    return Outcome(field=None)


# Operator families: ATen names, written as data.
CONVOLUTIONS = "conv1d conv2d conv3d convolution _convolution conv_transpose1d conv_transpose2d conv_transpose3d"
PRODUCTS = "mm bmm addmm baddbmm addbmm matmul"
POOLS = "max_pool1d max_pool2d max_pool3d max_pool2d_with_indices avg_pool1d avg_pool2d avg_pool3d"
ADAPTIVE_POOLS = "adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d"
NORMS = "batch_norm _native_batch_norm_legit_no_training instance_norm group_norm layer_norm"
UPSAMPLES = (
    "upsample_nearest1d upsample_nearest2d upsample_nearest3d _upsample_nearest_exact2d upsample_bilinear2d "
    "upsample_bicubic2d upsample_linear1d _upsample_bilinear2d_aa"
)
ELEMENTWISE = (
    "add add_ sub sub_ mul mul_ div div_ rsub where maximum minimum pow "
    "relu relu_ relu6 gelu gelu_ silu silu_ sigmoid sigmoid_ tanh tanh_ hardswish hardswish_ hardsigmoid hardsigmoid_ "
    "hardtanh hardtanh_ leaky_relu leaky_relu_ elu elu_ mish softplus clamp clamp_ clamp_min clamp_max "
    "exp log sqrt rsqrt neg abs dropout dropout_ feature_dropout alpha_dropout feature_alpha_dropout native_dropout "
    "clone contiguous detach alias to _to_copy type_as lift_fresh_copy copy copy_ "
    "eq ne gt ge lt le logical_and logical_or logical_not bitwise_and bitwise_or masked_fill"
)
LAYOUTS = (
    "view reshape _unsafe_view flatten unflatten permute transpose t squeeze unsqueeze expand expand_as select narrow "
    "split split_with_sizes chunk unbind repeat softmax log_softmax _softmax view_as reshape_as movedim index_select roll"
)
PADS = "constant_pad_nd pad reflection_pad1d reflection_pad2d replication_pad2d"
REDUCTIONS = "mean sum amax amin max min var std norm prod argmax"
CREATIONS = (
    "arange zeros ones full empty zeros_like ones_like full_like empty_like new_zeros new_ones new_full new_empty "
    "scalar_tensor tensor rand randn"
)

HANDLERS: dict[str, Callable[[Op], Outcome]] = {
    **dict.fromkeys(CONVOLUTIONS.split(), convolution),
    "linear": linear,
    **dict.fromkeys(PRODUCTS.split(), matrix_product),
    "einsum": einsum,
    "scaled_dot_product_attention": attention,
    "_native_multi_head_attention": native_attention,
    **dict.fromkeys(POOLS.split(), pooling),
    **dict.fromkeys(ADAPTIVE_POOLS.split(), adaptive_pooling),
    **dict.fromkeys(NORMS.split(), normalisation),
    **dict.fromkeys(UPSAMPLES.split(), upsampling),
    **dict.fromkeys(("cat", "concat", "stack"), concatenate),
    **dict.fromkeys(ELEMENTWISE.split(), elementwise),
    **dict.fromkeys(LAYOUTS.split(), same_layout),
    "slice": slicing,
    **dict.fromkeys(PADS.split(), padding),
    **dict.fromkeys(REDUCTIONS.split(), reduction),
    **dict.fromkeys(CREATIONS.split(), no_input),
}

# Kinds of rows for operators called outside a torch.nn layer, named like the layers symconv.nn has.
KINDS: dict[str, str] = {
    "linear": "Linear",
    **dict.fromkeys([*PRODUCTS.split(), "einsum"], "MatMul"),
    "scaled_dot_product_attention": "Attention",
    "_native_multi_head_attention": "MultiheadAttention",
    **dict.fromkeys(("add", "add_", "sub", "sub_", "rsub"), "Add"),
    **dict.fromkeys(("mul", "mul_", "div", "div_"), "Mul"),
    **dict.fromkeys(("cat", "concat"), "Concat"),
    "stack": "Stack",
    "layer_norm": "LayerNorm",
    "group_norm": "GroupNorm",
    "instance_norm": "InstanceNorm",
    "mean": "Mean",
    "slice": "Slice",
    **dict.fromkeys(UPSAMPLES.split(), "Upsample"),
    **dict.fromkeys(("relu", "relu_"), "ReLU"),
    **dict.fromkeys(("gelu", "gelu_"), "GELU"),
    **dict.fromkeys(("dropout", "dropout_", "feature_dropout"), "Dropout"),
}


def kind_of(name: str, shape: tuple[Any, ...]) -> str:
    """The row kind of an operator called outside a torch.nn layer."""
    if name in ("batch_norm", "_native_batch_norm_legit_no_training"):
        return f"BatchNorm{max(len(shape) - 2, 1)}d"
    if name.startswith(("conv1d", "conv2d", "conv3d")):
        return f"Conv{name[-2:]}"
    if name.startswith("conv_transpose"):
        return f"ConvTranspose{name[-2:]}"
    if name.startswith(("max_pool", "avg_pool", "adaptive_")):  # max_pool2d_with_indices -> MaxPool2d
        return "".join(word.capitalize() for word in name.removesuffix("_with_indices").split("_"))
    return KINDS.get(name, name)
