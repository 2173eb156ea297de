"""LaTeX renderer: expression trees through latexify-py's codegen, values exactly, derivations as align*."""

from __future__ import annotations

import ast
import re
from fractions import Fraction
from typing import Any

from latexify.codegen import ExpressionCodegen, expression_rules

from symconv.core.derive import Derivation
from symconv.core.formula import Formula
from symconv.core.labels import GRADIENT, PARTIAL, parse_label
from symconv.core.solution import Rounded
from symconv.core.symbols import latex_name
from symconv.core.values import is_array, is_sympy
from symconv.render.rules import (
    FUNCTION_NAMES,
    common_factor,
    decimal_approximation,
    implicit_product,
    in_reading_order,
    reading_name,
)
from symconv.render.scripts import script_runs


class WorkingCodegen(ExpressionCodegen):
    """latexify's expression codegen, with symconv's notation for names and exact values as leaves."""

    def __init__(self) -> None:
        super().__init__()
        # a mod b reads as a remainder, not a percentage.
        self._bin_op_rules: dict[type[ast.operator], expression_rules.BinOpRule] = {
            **self._bin_op_rules,
            ast.Mod: expression_rules.BinOpRule("", r" \bmod ", "", operand_right=expression_rules.BinOperandRule(force=True)),
        }

    def visit_Name(self, node: ast.Name) -> str:
        return latex_name(node.id)

    def visit_Constant(self, node: ast.Constant) -> str:
        return value_latex(node.value)

    # A value leaf may be compound (9 C^2, C + 1, -3): it is wrapped by its own precedence.
    def _wrap_operand(self, child: ast.expr, parent_prec: int, force_wrap: bool = False) -> str:
        if isinstance(child, ast.Constant):
            return self._wrap_value(child.value, parent_prec, force_wrap)
        return super()._wrap_operand(child, parent_prec, force_wrap)

    def _wrap_binop_operand(self, child: ast.expr, parent_prec: int, operand_rule: Any) -> str:
        if isinstance(child, ast.Constant) and operand_rule.wrap:
            return self._wrap_value(child.value, parent_prec, operand_rule.force)
        return super()._wrap_binop_operand(child, parent_prec, operand_rule)

    def _wrap_value(self, value: Any, parent_prec: int, force: bool) -> str:
        latex = value_latex(value)
        own = value_precedence(value)
        if own < parent_prec or (own == parent_prec and force):
            return rf"\left( {latex} \right)"
        return latex

    def visit_Call(self, node: ast.Call) -> str:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in FUNCTION_NAMES:
            arguments = ", ".join(self.visit(argument) for argument in node.args)
            return rf"\{FUNCTION_NAMES[name]}\left( {arguments} \right)"
        return super().visit_Call(node)

    # latexify decides implicit products from the generated strings; symconv decides from the tree.
    def _should_remove_multiply_op(self, l_latex: str, r_latex: str, l_expr: ast.expr, r_expr: ast.expr) -> bool:
        return implicit_product(l_expr, r_expr)


_CODEGEN = WorkingCodegen()


class LabelCodegen(WorkingCodegen):
    """The codegen of labels: partial derivatives, operators set upright, words as text."""

    def visit_Call(self, node: ast.Call) -> str:
        arguments = [self.visit(argument) for argument in node.args]
        if isinstance(node.func, ast.Name) and node.func.id == PARTIAL:
            return rf"\frac{{\partial {arguments[0]}}}{{\partial {arguments[1]}}}"
        if isinstance(node.func, ast.Name) and node.func.id == GRADIENT:
            return rf"\nabla_{{{arguments[1]}}} {arguments[0]}"
        if isinstance(node.func, ast.Call):  # a derivative evaluated at a point
            return rf"\left. {self.visit(node.func)} \right|_{{{', '.join(arguments)}}}"
        if isinstance(node.func, ast.Name) and node.func.id not in FUNCTION_NAMES:
            inside = ", ".join(arguments)
            # \left( after an operator name adds a space; plain brackets unless a fraction needs tall ones
            brackets = (r"\mathopen{}\left( ", r" \right)") if r"\frac" in inside else ("(", ")")
            # a one-letter function, F(x), is a symbol in italic; a word, rot180 or BN, an operator set upright
            name = latex_name(node.func.id) if len(node.func.id) == 1 else rf"\operatorname{{{escape_text(node.func.id)}}}"
            return f"{name}{brackets[0]}{inside}{brackets[1]}"
        return super().visit_Call(node)

    def visit_Constant(self, node: ast.Constant) -> str:
        return rf"\text{{{escape_text(node.value)}}}" if isinstance(node.value, str) else super().visit_Constant(node)


_LABEL_CODEGEN = LabelCodegen()


def label_latex(label: str) -> str:
    """A label in the label syntax (``∂L/∂K - rot180(∂L/∂Q)``, ``P_fc_weights``) as LaTeX."""
    parsed = parse_label(label)
    remark = rf"\ \text{{({escape_text(parsed.remark)})}}" if parsed.remark else ""
    return _LABEL_CODEGEN.visit(parsed.tree) + remark


def expression_latex(node: ast.expr) -> str:
    """LaTeX of one line of working; a bare value is written without protective parentheses."""
    if isinstance(node, ast.Constant):
        return value_latex(node.value)
    return _CODEGEN.visit(node)


def formula_latex(formula: Formula) -> str:
    """``N_{\\text{out}} = …``: the general formula with its result's name."""
    from symconv.core.derive import formula_tree

    return f"{latex_name(formula.result)} = {expression_latex(formula_tree(formula))}"


def integer_latex(value: int) -> str:
    """Digits grouped by thousands from 10,000 up, the way a printed table writes them."""
    digits = f"{abs(value):,}" if abs(value) >= 10_000 else str(abs(value))
    return ("-" if value < 0 else "") + digits.replace(",", "{,}")


# Precedences on latexify's scale (expression_rules): a sum 90, a product 100, a power 120.
_SUM, _PRODUCT, _POWER, _ATOM = 90, 100, 120, 1_000_000


def value_precedence(value: Any) -> int:
    """How tightly a value binds as an operand: a negative number or term is always wrapped."""
    if isinstance(value, (int, Fraction, float)) and not isinstance(value, bool):
        if value < 0:
            return 0
        # \frac is self-contained in a product but ambiguous as the base of a power.
        return _POWER - 10 if isinstance(value, Fraction) else _ATOM
    if is_sympy(value):
        if value.could_extract_minus_sign():
            return 0
        if value.is_Add:
            return _SUM
        if value.is_Mul:
            return _PRODUCT
        if value.is_Pow:
            return _POWER
    return _ATOM


def value_latex(value: Any) -> str:
    """Exact LaTeX of a value: grouped integers, fractions, sympy expressions, matrices."""
    if isinstance(value, bool):
        return rf"\text{{{value}}}"
    if isinstance(value, int):
        return integer_latex(value)
    if isinstance(value, Fraction):
        sign = "-" if value < 0 else ""
        return rf"{sign}\frac{{{integer_latex(abs(value.numerator))}}}{{{integer_latex(value.denominator)}}}"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Rounded):
        return str(value).replace(",", "{,}")
    if is_sympy(value):
        return sympy_latex(value)
    if is_array(value) or isinstance(value, (list, tuple)):
        return matrix_latex(value)
    return str(value)


def matrix_latex(rows: Any) -> str:
    """A matrix with a shared fraction pulled out in front, its fractions at display size."""
    rows = rows.tolist() if is_array(rows) else rows
    if rows and not isinstance(rows[0], (list, tuple)):
        rows = [rows]
    factor, rows = common_factor([list(row) for row in rows])
    cells = [[value_latex(entry) for entry in row] for row in rows]
    fractions = any(r"\frac" in cell for row in cells for cell in row)
    if fractions:  # a fraction in a matrix is set small by default; give it the size and room of a display
        cells = [[cell.replace(r"\frac", r"\dfrac") for cell in row] for row in cells]
    spacing = r"\\[0.6ex] " if fractions else r" \\ "
    body = spacing.join(" & ".join(row) for row in cells)
    front = "" if factor == 1 else value_latex(factor) + " "
    return rf"{front}\begin{{pmatrix}} {body} \end{{pmatrix}}"


def sympy_latex(expression: Any) -> str:
    return _sympy_printer().doprint(in_reading_order(expression))


_PRINTER = None


def _sympy_printer():
    """sympy's LaTeX printer with symconv's notation for symbols (sympy is imported only here)."""
    global _PRINTER
    if _PRINTER is None:
        from sympy.printing.latex import LatexPrinter

        class NotationPrinter(LatexPrinter):
            def _print_Symbol(self, symbol, style="plain"):
                return latex_name(reading_name(symbol.name))

            # Integers of five or more digits grouped by thousands, as everywhere else.
            def _print_Integer(self, number):
                return integer_latex(int(number))

            def _print_Rational(self, number):
                text = super()._print_Rational(number)
                return re.sub(r"\d{5,}", lambda digits: integer_latex(int(digits.group())), text)

        _PRINTER = NotationPrinter()
    return _PRINTER


def unit_latex(unit: str | None) -> str:
    return rf"\ \text{{{unit}}}" if unit else ""


# Plain-text characters that fit one line of working on an A4 page; longer sums are broken.
LINE_WIDTH = 78


def broken_sum(node: ast.expr) -> list[str]:
    """A long sum as several lines, broken before a + or −; anything else as one line."""
    from symconv.core.transform import operands
    from symconv.render.text import expression_text

    if isinstance(node, ast.Constant) or not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))):
        return [expression_latex(node)]
    if len(expression_text(node)) <= LINE_WIDTH:
        return [expression_latex(node)]
    terms = operands(node)
    signs = ["+"] + [_sign(node, index) for index in range(1, len(terms))]
    lines: list[str] = []
    current: list[str] = []
    width = 0
    for index, (sign, term) in enumerate(zip(signs, terms)):
        term_width = len(expression_text(term)) + 3
        if current and width + term_width > LINE_WIDTH:
            lines.append(" ".join(current))
            current, width = [], 0
        rule = _SUM_RULES[sign]
        latex = _CODEGEN._wrap_binop_operand(term, _SUM_PRECEDENCE, rule.operand_right if index else rule.operand_left)
        current.append(latex if index == 0 else f"{'-' if sign == '-' else '+'} {latex}")
        width += term_width
    lines.append(" ".join(current))
    return lines


_SUM_PRECEDENCE = 90
_SUM_RULES = {"+": expression_rules.BIN_OP_RULES[ast.Add], "-": expression_rules.BIN_OP_RULES[ast.Sub]}


def _sign(chain: ast.BinOp, index: int) -> str:
    """The operator in front of the index-th term of a left-leaning + / − chain."""
    from symconv.core.transform import operands

    node = chain
    while len(operands(node)) > index + 1:
        assert isinstance(node.left, ast.BinOp)  # more terms than index + 1: the left side continues the chain
        node = node.left
    return "-" if isinstance(node.op, ast.Sub) else "+"


def render_derivation(derivation: Derivation) -> str:
    """The derivation as an ``align*`` environment, one step a line, reasons on the right."""
    lines = []
    for index, step in enumerate(derivation.steps):
        head = label_latex(derivation.lhs) if index == 0 else ""
        pieces = broken_sum(step.expression)
        if index == len(derivation.steps) - 1:
            approximation = decimal_approximation(derivation.value)
            pieces[-1] += rf" \approx {approximation}" if approximation else ""
            pieces[-1] += unit_latex(derivation.unit)
        reason = rf" && \text{{{escape_text(step.reason)}}}" if step.reason else ""
        lines.append(f"{head} &= {pieces[0]}{reason}")
        lines += [rf" &\quad {piece}" for piece in pieces[1:]]
    joined = " \\\\\n".join(lines)
    return f"\\begin{{align*}}\n{joined}\n\\end{{align*}}"


_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "×": r"\(\times\)",
    "−": r"\(-\)",
    "·": r"\(\cdot\)",
    "≈": r"\(\approx\)",
    "≤": r"\(\leq\)",
    "≥": r"\(\geq\)",
    "→": r"\(\to\)",
    "⌊": r"\(\lfloor\)",
    "⌋": r"\(\rfloor\)",
    "⌈": r"\(\lceil\)",
    "⌉": r"\(\rceil\)",
    "²": r"\(^2\)",
    "\u00a0": "~",
}


_TEXT_TRANSLATION = str.maketrans(_TEXT_ESCAPES)
_STRAIGHT_QUOTE = re.compile(r'"([^"]*)"')


def escape_text(text: str) -> str:
    """Plain prose to LaTeX: specials escaped, the few Unicode math signs set in math mode, "quotes" curly,
    and a run of Greek, Cyrillic, Arabic or CJK letters (a student's name) set in a font that draws it."""
    text = _STRAIGHT_QUOTE.sub("\u201c\\1\u201d", text)
    return "".join(
        (font % escaped if font else escaped) for font, run in script_runs(text) for escaped in [run.translate(_TEXT_TRANSLATION)]
    )


def prose_latex(text: str) -> str:
    """Prose with inline math between ``$`` signs: the math is kept as written, the rest escaped."""
    parts = text.split("$")
    return "".join(f"${part}$" if index % 2 else escape_text(part) for index, part in enumerate(parts))


def render_note(derivation: Derivation) -> str:
    return f"\\noindent\\emph{{{prose_latex(derivation.note)}}}\n" if derivation.note else ""
