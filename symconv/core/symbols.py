"""Named quantities: how each argument and result is written in LaTeX and text, and its sympy symbol.

One table serves the general formula (latexify's codegen asks it for identifiers), the plain-text
renderer and the sympy printer, so ``in_channels`` is ``C_{\\text{in}}`` everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from symconv.core.checks import require_symbol_name


@dataclass(frozen=True)
class Notation:
    latex: str
    text: str
    # sympy assumptions of the symbol: sizes and counts are positive integers.
    assumptions: tuple[tuple[str, bool], ...] = (("integer", True), ("positive", True))


_POSITIVE = (("integer", True), ("positive", True))
_NONNEGATIVE = (("integer", True), ("nonnegative", True))
_INTEGER = (("integer", True),)
_REAL = (("real", True),)

NOTATION: dict[str, Notation] = {
    # layer hyperparameters (torch keyword names)
    "n": Notation("N", "N"),
    "kernel_size": Notation("K", "K"),
    "stride": Notation("s", "s"),
    "padding": Notation("p", "p", _NONNEGATIVE),
    "output_padding": Notation(r"p_{\text{out}}", "p_out", _NONNEGATIVE),
    "dilation": Notation("d", "d"),
    "ceil_mode": Notation(r"\text{ceil\_mode}", "ceil_mode", ()),
    "bias": Notation("b", "b", ()),
    "groups": Notation("g", "g"),
    "in_channels": Notation(r"C_{\text{in}}", "C_in"),
    "out_channels": Notation(r"C_{\text{out}}", "C_out"),
    "in_features": Notation(r"F_{\text{in}}", "F_in"),
    "out_features": Notation(r"F_{\text{out}}", "F_out"),
    "num_features": Notation("C", "C"),
    "out_h": Notation(r"H_{\text{out}}", "H_out"),
    "out_w": Notation(r"W_{\text{out}}", "W_out"),
    "kernel_elements": Notation(r"K_{\text{el}}", "K_el"),
    "output_elements": Notation(r"N_{\text{el}}", "N_el"),
    # receptive-field recurrences (Araujo et al.)
    "receptive_field_in": Notation("r_{l-1}", "r_(l-1)"),
    "jump_in": Notation("j_{l-1}", "j_(l-1)"),
    "start_in": Notation("u_{l-1}", "u_(l-1)", _INTEGER),
    # sequences and element-wise charges
    "tokens": Notation("L", "L"),
    "embed_dim": Notation("D", "D"),
    "elements": Notation("E", "E"),
    "per_element": Notation("c", "c"),
    # results
    "n_out": Notation(r"N_{\text{out}}", "N_out"),
    "effective_kernel_size": Notation(r"K_{\text{eff}}", "K_eff"),
    "params": Notation("P", "P"),
    "macs": Notation(r"\text{MACs}", "MACs"),
    "receptive_field": Notation("r_l", "r_l"),
    "jump": Notation("j_l", "j_l"),
    "start": Notation("u_l", "u_l", _INTEGER),
    # common free symbols of exercises and networks
    "C": Notation("C", "C"),
    "H": Notation("H", "H"),
    "W": Notation("W", "W"),
    "C_in": Notation(r"C_{\text{in}}", "C_in"),
    "C_out": Notation(r"C_{\text{out}}", "C_out"),
    "K": Notation("K", "K"),
    "alpha": Notation(r"\alpha", "α", _REAL),
    "beta": Notation(r"\beta", "β", _REAL),
    "gamma": Notation(r"\gamma", "γ", _REAL),
    "phi": Notation(r"\phi", "φ", _REAL),
    "alpha_t": Notation(r"\alpha_t", "α_t", (("positive", True),)),
    "p_t": Notation("p_t", "p_t", (("positive", True),)),
    "eta": Notation(r"\eta", "η", (("positive", True),)),
    "eta_eff": Notation(r"\eta_{\text{eff}}", "η_eff", (("positive", True),)),
}


# The order a reader expects the factors of a product in: batch, channels, kernel, spatial sizes
# (N·C_in·C_out·K²·H·W). Symbols not listed keep sympy's order, in front of these.
READING_ORDER: tuple[str, ...] = (
    "N",
    "C",
    "C_in",
    "C_out",
    "in_channels",
    "out_channels",
    "num_features",
    "R",
    "G",
    "groups",
    "K",
    "kernel_size",
    "n",
    "H",
    "W",
    "out_h",
    "out_w",
    "H_out",
    "W_out",
)
_READING_RANK = {name: rank for rank, name in enumerate(READING_ORDER, start=1)}


def reading_rank(name: str) -> int:
    """Where a symbol stands in a product (see READING_ORDER); 0 for a symbol the order does not list."""
    return _READING_RANK.get(name, 0)


_INDEXED = re.compile(r"^([A-Za-z])\[([^\]]+)\]$")
_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def notation(name: str) -> Notation:
    """The notation of ``name``; an unknown name is written as itself (upright when longer than one letter).

    ``Y[0,0]`` is an indexed entry, written Y_{0,0}; ``x_00`` is x₀₀ in text; the parts after the
    first underscore are one subscript (``P_fc_weights`` is P with the subscript "fc, weights"), so no
    underscore is ever printed.
    """
    found = NOTATION.get(name)
    if found is not None:
        return found
    indexed = _INDEXED.match(name)
    if indexed and indexed.group(2).replace(",", "").isdigit():
        return _subscripted(indexed.group(1), indexed.group(2).split(","))
    if indexed:
        return Notation(f"{indexed.group(1)}_{{{indexed.group(2)}}}", name)
    if len(name) == 1:
        return Notation(name, name)
    head, _, tail = name.partition("_")
    if tail and head:
        return _subscripted(head, tail.split("_"))
    return Notation(rf"\text{{{_escape(name)}}}", name)


_SIZE = re.compile(r"^(\d+)x(\d+)$")


def _subscripted(head: str, parts: list[str]) -> Notation:
    """``head`` with the subscript ``parts``: digits, sizes (3x3 is 3×3) and single letters in math, words upright."""
    written = head if len(head) == 1 else rf"\text{{{_escape(head)}}}"
    size = _SIZE.match(parts[0]) if len(parts) == 1 else None
    if size:
        return Notation(rf"{written}_{{{size.group(1)} \times {size.group(2)}}}", f"{head}_{size.group(1)}×{size.group(2)}")
    if all(part.isdigit() for part in parts):
        digits = ",".join(parts)
        return Notation(f"{written}_{{{digits}}}", head + digits.translate(_SUBSCRIPT_DIGITS))
    if len(parts) == 1 and len(parts[0]) == 1:
        return Notation(f"{written}_{{{parts[0]}}}", f"{head}_{parts[0]}")
    words = ", ".join(parts)
    text = f"{head}_{parts[0]}" if len(parts) == 1 else f"{head}_({words})"
    return Notation(rf"{written}_{{\text{{{_escape(words)}}}}}", text)


def _escape(name: str) -> str:
    return name.replace("_", r"\_")


def latex_name(name: str) -> str:
    return notation(name).latex


def text_name(name: str) -> str:
    return notation(name).text


def symbol(name: str) -> Any:
    """The sympy symbol for ``name``, with the assumptions of its notation (positive integers by default)."""
    return _symbol(require_symbol_name("name", name))


@lru_cache(maxsize=None)
def _symbol(name: str) -> Any:
    import sympy

    return sympy.Symbol(name, **dict(notation(name).assumptions))


def symbols(*names: str) -> tuple[Any, ...]:
    return tuple(symbol(name) for name in names)
