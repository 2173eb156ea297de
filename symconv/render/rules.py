"""Typesetting rules shared by the renderers, as data: function names, precedence, implicit products."""

from __future__ import annotations

import ast
import re
from fractions import Fraction
from typing import Any

from symconv.core.symbols import latex_name, reading_rank

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


_RANKED = re.compile(r"^Rk\d\d_")


def in_reading_order(expression: Any) -> Any:
    """The expression with its symbols renamed so that sympy's own order of factors is the reader's.

    sympy sorts the factors of a product by name (C·H·K·W); a name that starts with its rank in the
    notation's reading order sorts as C·K·H·W. The value is the same; printers write the names back
    with :func:`reading_name`.
    """
    symbols = [symbol for symbol in expression.free_symbols if symbol.is_Symbol]
    if not any(reading_rank(symbol.name) for symbol in symbols):
        return expression
    import sympy

    return expression.xreplace(
        {symbol: sympy.Symbol(f"Rk{reading_rank(symbol.name):02d}_{symbol.name}", **symbol.assumptions0) for symbol in symbols}
    )


def reading_name(name: str) -> str:
    """The symbol's own name, without the rank :func:`in_reading_order` gave it."""
    return _RANKED.sub("", name)


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

    found = [_content(entry) for row in rows for entry in row if entry != 0]
    contents = [content for content in found if content is not None]
    if len(contents) < 2 or len(contents) < len(found):
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


def uniform_columns(table: Any) -> tuple[tuple[Any, ...], ...]:
    """The table's rows with one number format per column.

    Decimals (floats and rounded values) get the column's largest number of places (0.70 under 0.95);
    integers are grouped by thousands from 1,000 when any integer of the column needs grouping
    (1,024 under 16,384), and are left as they are otherwise.
    """
    from symconv.core.solution import Rounded

    columns = list(zip(*table.rows)) if table.rows else []
    formats = []
    for column in columns:
        places = [_places(cell) for cell in column if isinstance(cell, (float, Rounded))]
        grouped = any(isinstance(cell, int) and not isinstance(cell, bool) and abs(cell) >= 10_000 for cell in column)
        formats.append((max(places) if places else None, grouped))

    def formatted(cell: Any, places: int | None, grouped: bool) -> Any:
        if places is not None and isinstance(cell, (float, Rounded)):
            return Rounded(cell.value if isinstance(cell, Rounded) else cell, places)
        if grouped and isinstance(cell, int) and not isinstance(cell, bool) and abs(cell) >= 1000:
            return Rounded(cell, 0)
        return cell

    return tuple(tuple(formatted(cell, *formats[index]) for index, cell in enumerate(row)) for row in table.rows)


def _places(cell: Any) -> int:
    if isinstance(cell, float):
        written = repr(cell)
        return len(written.partition(".")[2]) if "e" not in written else 4
    return cell.digits


def word_columns(table: Any) -> list[bool]:
    """Which columns of a Table hold words (set flush left) rather than numbers (set flush right)."""
    return [all(isinstance(row[column], str) for row in table.rows if row[column] != "") for column in range(len(table.header))]
