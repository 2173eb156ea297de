"""Typesetting rules shared by the renderers, as data: function names, precedence, implicit products."""

from __future__ import annotations

import ast
from fractions import Fraction
from typing import Any

from symconv.core.symbols import latex_name

# Functions a formula may call, as they are written: minimum(a, b) is min(a, b).
FUNCTION_NAMES: dict[str, str] = {"minimum": "min", "maximum": "max", "Min": "min", "Max": "max"}
# Functions written as brackets in plain text (sympy prints them as calls).
BRACKETS: dict[str, tuple[str, str]] = {"floor": ("⌊", "⌋"), "ceiling": ("⌈", "⌉"), "Abs": ("|", "|")}

# Binding strength of each node type; higher binds tighter. Floor division is bracketed by ⌊ ⌋.
PRECEDENCE: dict[type[ast.AST], int] = {
    ast.IfExp: 1,
    ast.Compare: 5,
    ast.Add: 10,
    ast.Sub: 10,
    ast.Mult: 20,
    ast.Div: 20,
    ast.Mod: 20,
    ast.UnaryOp: 30,
    ast.Pow: 40,
}
ATOM = 100


def precedence(node: ast.AST) -> int:
    if isinstance(node, ast.BinOp):
        return ATOM if isinstance(node.op, ast.FloorDiv) else PRECEDENCE[type(node.op)]
    return PRECEDENCE.get(type(node), ATOM)


def _leftmost(node: ast.AST) -> ast.AST:
    while isinstance(node, (ast.BinOp, ast.Compare)) and not _bracketed(node):
        node = node.left
    return node


def _rightmost(node: ast.AST) -> ast.AST:
    while isinstance(node, ast.BinOp) and not _bracketed(node):
        node = node.right
    return node


def _bracketed(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.FloorDiv)


def implicit_product(left: ast.AST, right: ast.AST) -> bool:
    """Write ``2p`` and ``d(K - 1)`` without a dot; keep ``2 · 3`` and ``1 · (7 - 1)`` with one.

    A product is implicit when its right factor starts with a symbol and its left factor ends
    with a symbol or a literal number: values side by side always get the dot.
    """
    first = _leftmost(right)
    last = _rightmost(left)
    left_ok = _is_letter(last) or (isinstance(last, ast.Constant) and isinstance(last.value, int))
    return _is_letter(first) and left_ok and not isinstance(left, ast.UnaryOp)


def _is_letter(node: ast.AST) -> bool:
    """A symbol written as a letter (C_{\\text{in}}), not as a word (\\text{depth}), reads well juxtaposed."""
    return isinstance(node, ast.Name) and not latex_name(node.id).startswith("\\text")


def decimal_approximation(value: Any) -> str | None:
    """Four significant digits of an exact fraction (1152/137 ≈ 8.409); None for whole numbers and symbols."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{float(value):.4g}"
    return None


def common_factor(rows: list[list[Any]]) -> tuple[Any, list[list[Any]]]:
    """A fraction every entry of a matrix shares, and the entries divided by it: ¼·(g₀₀ g₀₁ …).

    Only a factor with a denominator is pulled out (that is what makes entries hard to read), and only
    from a matrix with at least two non-zero entries; otherwise the factor is 1 and the rows unchanged.
    """
    from math import gcd, lcm

    contents = [_content(entry) for row in rows for entry in row if entry != 0]
    if len(contents) < 2 or any(content is None for content in contents):
        return 1, rows
    factor = Fraction(gcd(*(c.numerator for c in contents)), lcm(*(c.denominator for c in contents)))
    if factor.denominator == 1:
        return 1, rows
    return factor, [[_divide(entry, factor) for entry in row] for row in rows]


def _content(entry: Any) -> Fraction | None:
    """The positive rational coefficient of an entry (g/4 + h/4 has 1/4); None for anything else."""
    if isinstance(entry, (int, Fraction)) and not isinstance(entry, bool):
        return abs(Fraction(entry))
    if hasattr(entry, "as_content_primitive"):
        content, _ = entry.as_content_primitive()
        if content.is_Rational:
            return abs(Fraction(int(content.p), int(content.q)))
    return None


def _divide(entry: Any, factor: Fraction) -> Any:
    if isinstance(entry, (int, Fraction)):
        quotient = Fraction(entry) / factor
        return int(quotient) if quotient.denominator == 1 else quotient
    import sympy

    return sympy.expand(entry / sympy.Rational(factor.numerator, factor.denominator))


def word_columns(table: Any) -> list[bool]:
    """Which columns of a Table hold words (set flush left) rather than numbers (set flush right)."""
    return [all(isinstance(row[column], str) for row in table.rows if row[column] != "") for column in range(len(table.header))]
