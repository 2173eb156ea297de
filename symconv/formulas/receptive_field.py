"""Theoretical receptive field (Araujo, Norris & Sim, Distill 2019): of a stack of layers, and of a network's units.

Per layer l with kernel K, stride s, dilation d and padding p, from r_0 = 1, j_0 = 1, u_0 = 0:
r_l = r_{l-1} + (K_eff - 1) j_{l-1}, j_l = j_{l-1} s, u_l = u_{l-1} - p j_{l-1}.
r is the size, j the effective stride (jump) and u the input coordinate of the left edge of the
first output unit's field (negative where it starts in the padding). Padding moves the field,
never resizes it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from symconv.core.checks import require, require_at_least, require_integer, require_rational
from symconv.core.errors import SymconvError, invalid
from symconv.core.formula import formula
from symconv.core.transform import constant
from symconv.formulas.layers import effective_kernel_size

if TYPE_CHECKING:
    from symconv.core.solution import Table


def _check_step(values: Mapping[str, Any]) -> None:
    require_at_least(1, values, *(name for name in ("receptive_field_in", "kernel_size", "stride", "dilation") if name in values))
    require_at_least(0, values, *(name for name in ("padding",) if name in values))
    if "start_in" in values:
        require_integer("start_in", values["start_in"])
    # A transposed convolution's jump is a fraction (1/s), so the jump is only required to be positive.
    require_rational("jump_in", values["jump_in"])
    require("jump_in", values["jump_in"], "must be positive", lambda jump: jump > 0)


@formula("receptive_field", "pixels", check=_check_step)
def receptive_field_growth(receptive_field_in, jump_in, kernel_size, dilation=1):
    """Each layer widens the field by its effective kernel minus one, d(K - 1), in units of the incoming jump."""
    return receptive_field_in + dilation * (kernel_size - 1) * jump_in


@formula("jump", "pixels", check=_check_step)
def jump_growth(jump_in, stride):
    """The distance in input pixels between neighbouring units grows by each stride."""
    return jump_in * stride


@formula("start", "pixels", check=_check_step)
def start_growth(start_in, jump_in, padding=0):
    """Left edge of the first unit's field: padding shifts it left by p incoming jumps."""
    return start_in - padding * jump_in


@dataclass(frozen=True)
class LayerWindow:
    """The sliding-window hyperparameters of one layer; element-wise layers are K = 1, s = 1."""

    kernel_size: Any
    stride: Any = 1
    dilation: Any = 1
    padding: Any = 0
    name: str = ""


@dataclass(frozen=True)
class FieldRow:
    layer: LayerWindow
    receptive_field: Any
    jump: Any
    start: Any


@dataclass(frozen=True)
class ReceptiveField:
    """Size r, jump j and start u after the last layer, and the same per layer."""

    size: Any
    jump: Any
    start: Any
    rows: tuple[FieldRow, ...]


def as_window(layer: Any) -> LayerWindow:
    """Accept a LayerWindow, a mapping of its fields, or a tuple (kernel_size, stride, dilation, padding)."""
    if isinstance(layer, LayerWindow):
        return layer
    try:
        if isinstance(layer, Mapping):
            return LayerWindow(**layer)
        if isinstance(layer, Sequence) and not isinstance(layer, str) and 1 <= len(layer) <= 4:
            return LayerWindow(*layer)
    except TypeError:  # a mapping with a key LayerWindow does not have
        pass
    raise SymconvError(f"layer={layer!r}: must be (kernel_size, stride[, dilation[, padding]]) or a mapping of those")


def receptive_field(layers: Iterable[Any]) -> ReceptiveField:
    """Fold the recurrences over ``layers``, keeping every intermediate row."""
    if isinstance(layers, (str, bytes, Mapping)) or not isinstance(layers, Iterable):
        raise invalid("layers", layers, "must be a sequence of layers, each (kernel_size, stride[, dilation[, padding]])")
    size, jump, start = 1, 1, 0
    rows = []
    for layer in map(as_window, layers):
        size, jump, start = (
            receptive_field_growth(size, jump, layer.kernel_size, layer.dilation),
            jump_growth(jump, layer.stride),
            start_growth(start, jump, layer.padding),
        )
        rows.append(FieldRow(layer, size, jump, start))
    return ReceptiveField(size, jump, start, tuple(rows))


def field_table(field: ReceptiveField) -> Table:
    """Layer by layer: the window, then the size r and jump j after the layer (r_0 = j_0 = 1)."""
    from symconv.core.solution import Table  # solutions are built only when asked for

    rows = [("input", "", "", "", 1, 1)]
    for index, row in enumerate(field.rows, start=1):
        layer = row.layer
        rows.append(
            (layer.name or f"layer {index}", layer.kernel_size, layer.stride, layer.dilation, row.receptive_field, row.jump)
        )
    return Table(("layer", "$K$", "$s$", "$d$", "$r_l$", "$j_l$"), tuple(rows))


def closed_form(field: ReceptiveField) -> ast.expr:
    """The unrolled recurrence r = 1 + sum over layers of (K_eff - 1) j_{l-1}, with the values in place."""
    total: ast.expr = constant(1)
    jump_before = 1
    for row in field.rows:
        span = effective_kernel_size(row.layer.kernel_size, row.layer.dilation)
        term = ast.BinOp(
            left=ast.BinOp(left=constant(span), op=ast.Sub(), right=constant(1)), op=ast.Mult(), right=constant(jump_before)
        )
        total = ast.BinOp(left=total, op=ast.Add(), right=term)
        jump_before = row.jump
    return total
