"""Labels of derivations and displayed values as mathematics: a small syntax parsed into an expression tree.

A label is written the way the notation reads, and renderers typeset its tree like any line of
working (LaTeX in LaTeX, Unicode in text):

- names go through the notation table: ``C_in``, ``x_00`` (x₀₀), ``P_fc_weights`` (P with the
  subscript "fc, weights"), ``Y[0,1]`` (an indexed entry);
- ``∂L/∂K`` is a partial derivative, ``∇_w L`` a gradient, and ``∂y_1/∂w(a*w)`` or ``∇_w L(a*w)``
  one evaluated at a point;
- any other call is an operator written upright: ``rot180(K)``, ``BN(a*w*u)``;
- ``+ - * / ^ =`` with ``−``, ``·`` and ``×`` accepted for ``-``, ``*`` and ``*``;
- a closing remark in double quotes is set as words: ``∂L/∂X "at stride 1"``; a label of words
  alone is quoted whole: ``"full correlation"``.

A plain name such as ``ratio`` or ``MACs_dw`` is a label too, so every existing name keeps working.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache

from symconv.core.errors import invalid

# The calls a partial derivative ∂A/∂B and a gradient ∇_w L parse into; no formula calls these names.
PARTIAL = "__partial__"
GRADIENT = "__gradient__"

_OPERAND = r"[^\W\d]\w*(?:\[[^\]]*\])?"
_DERIVATIVE = re.compile(rf"∂\s*({_OPERAND})\s*/\s*∂\s*({_OPERAND})")
_GRADIENT = re.compile(rf"∇_({_OPERAND})\s*({_OPERAND})")
_REMARK = re.compile(r'^(?P<math>.*?)\s*"(?P<remark>[^"]*)"$', re.S)
_LONE_EQUALS = re.compile(r"(?<![=<>!])=(?!=)")
_SIGNS = {"−": "-", "·": "*", "×": "*", "^": "**", "²": "**2"}


@dataclass(frozen=True)
class Label:
    """The parsed label: the mathematics as a tree, and words that follow it (may be empty)."""

    tree: ast.expr
    remark: str = ""


@lru_cache(maxsize=None)
def parse_label(label: str) -> Label:
    """The tree of ``label``; a label that is not in the syntax is an error naming it."""
    found = _REMARK.match(label.strip())
    math, remark = (found.group("math"), found.group("remark")) if found else (label.strip(), "")
    if not math:  # words alone, e.g. "full correlation"
        return Label(ast.Constant(value=remark))
    source = _GRADIENT.sub(rf"{GRADIENT}(\2, \1)", _DERIVATIVE.sub(rf"{PARTIAL}(\1, \2)", math))
    for sign, python in _SIGNS.items():
        source = source.replace(sign, python)
    source = _LONE_EQUALS.sub("==", source)
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError:
        raise invalid("label", label, "must be mathematics in the label syntax (names, ∂A/∂B, f(x), + − · / ^ =)") from None
    return Label(_IndexedNames().visit(tree), remark)


class _IndexedNames(ast.NodeTransformer):
    """``Y[0, 1]`` becomes the name ``Y[0,1]``, which the notation writes as an indexed entry."""

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.value, ast.Name):
            indices = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return ast.Name(id=f"{node.value.id}[{','.join(ast.unparse(index) for index in indices)}]", ctx=ast.Load())
        return self.generic_visit(node)
