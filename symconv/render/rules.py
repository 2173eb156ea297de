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


def word_columns(table: Any) -> list[bool]:
    """Which columns of a Table hold words (set flush left) rather than numbers (set flush right)."""
    return [all(isinstance(row[column], str) for row in table.rows if row[column] != "") for column in range(len(table.header))]
