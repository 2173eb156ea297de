"""Plain-text renderer: the same trees as the LaTeX renderer, in Unicode (⌊223/2⌋ + 1, 2·3, C_in)."""

from __future__ import annotations

import ast
import re
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable

from symconv.core.derive import Derivation
from symconv.core.labels import GRADIENT, PARTIAL, parse_label
from symconv.core.solution import (
    Bars,
    Equation,
    Grids,
    Levels,
    Rounded,
    Solution,
    Table,
    Text,
    fill,
)
from symconv.core.symbols import text_name
from symconv.core.values import is_array, is_sympy
from symconv.render.rules import (
    ATOM,
    BRACKETS,
    FUNCTION_NAMES,
    PRECEDENCE,
    common_factor,
    decimal_approximation,
    implicit_product,
    in_reading_order,
    precedence,
    reading_name,
    uniform_columns,
    word_columns,
)

OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: " + ",
    ast.Sub: " − ",
    ast.Mult: "·",
    ast.Div: "/",
    ast.Mod: " mod ",
    ast.Pow: "^",
}
COMPARISONS: dict[type[ast.cmpop], str] = {
    ast.Eq: " = ",
    ast.NotEq: " ≠ ",
    ast.Lt: " < ",
    ast.LtE: " ≤ ",
    ast.Gt: " > ",
    ast.GtE: " ≥ ",
}
# Operators whose right operand needs brackets at equal precedence: a − (b + c), a/(b·c), a^(b^c).
RIGHT_STRICT = (ast.Sub, ast.Div, ast.Mod, ast.Pow, ast.FloorDiv)


class TextPrinter:
    """``_print_<NodeType>`` per tree node, as in sympy's printers."""

    def doprint(self, node: ast.AST) -> str:
        return getattr(self, f"_print_{type(node).__name__}")(node)

    def _operand(self, node: ast.AST, parent: int, strict: bool = False) -> str:
        own = value_precedence(node.value) if isinstance(node, ast.Constant) else precedence(node)
        text = self.doprint(node)
        return f"({text})" if own < parent or (strict and own == parent) else text

    def _print_Name(self, node: ast.Name) -> str:
        return text_name(node.id)

    def _print_Constant(self, node: ast.Constant) -> str:
        return value_text(node.value)

    def _print_BinOp(self, node: ast.BinOp) -> str:
        if isinstance(node.op, ast.FloorDiv):
            left = self._operand(node.left, PRECEDENCE[ast.Div])
            right = self._operand(node.right, PRECEDENCE[ast.Div], strict=True)
            return f"⌊{left}/{right}⌋"
        if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.UnaryOp) and isinstance(node.right.op, ast.USub):
            reciprocal = ast.BinOp(left=node.left, op=ast.Pow(), right=node.right.operand)
            return "1/" + self._operand(reciprocal, PRECEDENCE[ast.Div], strict=True)
        own = precedence(node)
        left = self._operand(node.left, own, strict=isinstance(node.op, ast.Pow))
        right = self._operand(node.right, own, strict=isinstance(node.op, RIGHT_STRICT))
        # Text has no italic letters to tell symbols apart: juxtapose 2p and d(K − 1), write C·H·W.
        short = left.isdigit() or (len(left) == 1 and right.startswith("("))
        if isinstance(node.op, ast.Mult) and implicit_product(node.left, node.right) and short:
            return left + right
        return left + OPERATORS[type(node.op)] + right

    def _print_UnaryOp(self, node: ast.UnaryOp) -> str:
        sign = "−" if isinstance(node.op, ast.USub) else "not " if isinstance(node.op, ast.Not) else "+"
        return sign + self._operand(node.operand, precedence(node), strict=True)

    def _print_Call(self, node: ast.Call) -> str:
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        arguments = ", ".join(self.doprint(argument) for argument in node.args)
        if name in BRACKETS and len(node.args) == 1:
            left, right = BRACKETS[name]
            return f"{left}{arguments}{right}"
        return f"{FUNCTION_NAMES.get(name, name)}({arguments})"

    def _print_IfExp(self, node: ast.IfExp) -> str:
        return f"{self.doprint(node.body)} if {self.doprint(node.test)} else {self.doprint(node.orelse)}"

    def _print_Compare(self, node: ast.Compare) -> str:
        parts = [self._operand(node.left, precedence(node))]
        for comparison, right in zip(node.ops, node.comparators):
            parts += [COMPARISONS[type(comparison)], self._operand(right, precedence(node))]
        return "".join(parts)

    def _print_Tuple(self, node: ast.Tuple) -> str:
        return "(" + ", ".join(self.doprint(element) for element in node.elts) + ")"


def value_precedence(value: Any) -> int:
    """Binding strength of a value leaf on the scale of ``rules.PRECEDENCE``."""
    if isinstance(value, (int, Fraction, float)) and not isinstance(value, bool):
        if value < 0:
            return 0
        # a/b is a quotient: bracketed as a factor or divisor, (a/b)·c, but not as a term.
        return 15 if isinstance(value, Fraction) else ATOM
    if is_sympy(value):
        if value.could_extract_minus_sign():
            return 0
        if value.is_Add:
            return 10
        if _is_quotient(value):
            return 15
        if value.is_Mul:
            return 20
        if value.is_Pow:
            return 40
    return ATOM


def _is_quotient(value: Any) -> bool:
    """1/a, eta/a and 3/4 print with a slash, so they bind like a division."""
    factors = value.args if value.is_Mul else (value,)
    return any((factor.is_Pow and factor.exp.is_negative) or (factor.is_Rational and not factor.is_Integer) for factor in factors)


def value_text(value: Any, grouped: bool = False) -> str:
    """A value as text; ``grouped`` writes 231,211,008 (results), otherwise digits stay bare."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if grouped and abs(value) >= 10_000 else str(value)
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, Rounded):
        return str(value)
    if is_sympy(value):
        # sympy's own syntax is a Python expression: print its tree like any other (9C^2, not 9*C**2).
        return _PRINTER.doprint(ast.parse(_sympy_source(value), mode="eval").body)
    if is_array(value) or isinstance(value, (list, tuple)):
        return matrix_text(value)
    return str(value)


def _sympy_source(value: Any) -> str:
    """sympy's syntax for ``value``, with each floor's or ceiling's argument over one denominator.

    sympy keeps ⌊(H − 1)/2⌋ as floor(H/2 - 1/2); a reader writes the quotient whole, as the formulas do.
    """
    return _quotient_printer().doprint(in_reading_order(value))


@lru_cache(maxsize=1)
def _quotient_printer() -> Any:
    import sympy
    from sympy.printing.str import StrPrinter

    class QuotientPrinter(StrPrinter):
        def _print_Symbol(self, expression: Any) -> str:
            return reading_name(expression.name)

        def _print_floor(self, expression: Any) -> str:
            return self._rounded("floor", expression.args[0])

        def _print_ceiling(self, expression: Any) -> str:
            return self._rounded("ceiling", expression.args[0])

        def _rounded(self, name: str, argument: Any) -> str:
            numerator, denominator = sympy.fraction(sympy.together(argument))
            if denominator == 1:
                return f"{name}({self._print(argument)})"
            return f"{name}(({self._print(numerator)})/({self._print(denominator)}))"

    return QuotientPrinter()


def matrix_text(rows: Any) -> str:
    rows = rows.tolist() if is_array(rows) else rows
    if rows and not isinstance(rows[0], (list, tuple)):
        return "[" + ", ".join(value_text(entry) for entry in rows) + "]"
    factor, rows = common_factor([list(row) for row in rows])
    cells = [[value_text(entry) for entry in row] for row in rows]
    width = max(len(cell) for row in cells for cell in row)
    lines = ["[ " + "  ".join(cell.rjust(width) for cell in row) + " ]" for row in cells]
    if factor == 1:
        return "\n".join(lines)
    front = f"{value_text(factor)} · "
    return "\n".join((front if index == 0 else " " * len(front)) + line for index, line in enumerate(lines))


_PRINTER = TextPrinter()


class LabelPrinter(TextPrinter):
    """The printer of labels: ∂L/∂K, operators by name, words as they are."""

    def _print_Call(self, node: ast.Call) -> str:
        arguments = ", ".join(self.doprint(argument) for argument in node.args)
        if isinstance(node.func, ast.Name) and node.func.id == PARTIAL:
            top, bottom = (self._operand(argument, ATOM) for argument in node.args)
            return f"∂{top}/∂{bottom}"
        if isinstance(node.func, ast.Name) and node.func.id == GRADIENT:
            return f"∇_{self.doprint(node.args[1])} {self._operand(node.args[0], ATOM)}"
        if isinstance(node.func, ast.Call):  # a derivative evaluated at a point
            return f"{self.doprint(node.func)}({arguments})"
        return super()._print_Call(node)

    def _print_Constant(self, node: ast.Constant) -> str:
        return node.value if isinstance(node.value, str) else super()._print_Constant(node)


_LABEL_PRINTER = LabelPrinter()


def label_text(label: str) -> str:
    """A label in the label syntax as Unicode text: ∂L/∂K − rot180(∂L/∂Q), x₀₀."""
    parsed = parse_label(label)
    return _LABEL_PRINTER.doprint(parsed.tree) + (f" ({parsed.remark})" if parsed.remark else "")


def expression_text(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return value_text(node.value)
    return _PRINTER.doprint(node)


def render_derivation(derivation: Derivation) -> str:
    """The note in brackets, then ``N_out = …`` and ``      = …`` lines; the result grouped, with its unit."""
    head = label_text(derivation.lhs)
    indent = " " * len(head)
    lines = [f"({strip_math(derivation.note)})"] if derivation.note else []
    for index, step in enumerate(derivation.steps):
        last = index == len(derivation.steps) - 1
        body = (
            value_text(step.expression.value, grouped=True)
            if last and isinstance(step.expression, ast.Constant)
            else expression_text(step.expression)
        )
        approximation = decimal_approximation(derivation.value) if last else None
        body += f" ≈ {approximation}" if approximation else ""
        if last and derivation.unit:
            body += f" {derivation.unit}"
        if "\n" in body:  # a matrix starts on its own lines
            body = "\n" + body
        reason = f"    ({step.reason})" if step.reason else ""
        lines.append(f"{head if index == 0 else indent} = {body}{reason}")
    return "\n".join(lines)


def render_table(table: Table) -> str:
    cells = [[strip_math(cell) for cell in table.header]]
    cells += [
        [strip_math(cell) if isinstance(cell, str) else value_text(cell, grouped=True) for cell in row]
        for row in uniform_columns(table)
    ]
    widths = [max(len(row[column]) for row in cells) for column in range(len(cells[0]))]
    words = word_columns(table)
    lines = [
        "  ".join(cell.ljust(width) if left else cell.rjust(width) for cell, width, left in zip(row, widths, words))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    if table.caption:
        lines.insert(0, strip_math(table.caption))
    return "\n".join(lines)


def render_equation(equation: Equation) -> str:
    body = value_text(equation.value, grouped=True) + (f" {equation.unit}" if equation.unit else "")
    head = label_text(equation.lhs)
    if "\n" in body:
        return f"{head} =\n{body}"
    return f"{head} = {body}"


def strip_math(text: str) -> str:
    """Prose with inline LaTeX, readable as plain text: no dollar sign, brace or backslash is left.

    Inside mathematics accents become combining marks (m̄), digit indices Unicode (W₂, tanh²) and a
    hyphen the minus sign; a macro this table does not know is written as its name (\\tanh is tanh).
    """
    parts = text.split("$")
    return "".join(_math_text(part) if index % 2 else _plain(part) for index, part in enumerate(parts))


def _plain(text: str) -> str:
    text = _MACRO.sub(_macro_text, text)
    for symbol, plain in SYMBOLS.items():
        text = text.replace(symbol, plain)
    text = re.sub(r"\\([A-Za-z]+) ?", r"\1", text)
    return text.replace("{", "").replace("}", "")


def _bracketed(part: str) -> str:
    return part if re.fullmatch(r"(?:\\[A-Za-z]+\s*)?[\w^]*", part) else f"({part})"


_ACCENT = re.compile(r"\\(bar|hat|tilde|vec)\s*(?:\{(\w)\}|(\w))")
_ACCENTS = {"bar": "\u0304", "hat": "\u0302", "tilde": "\u0303", "vec": "\u20d7"}
_SUBSCRIPT = re.compile(r"_(?:\{(\d+)\}|(\d))")
_SUPERSCRIPT = re.compile(r"\^(?:\{(\d+)\}|(\d))")
_SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


_UPRIGHT = re.compile(r"\\(?:text|mathrm|operatorname|mathbf)\s*\{([^{}]*)\}")
_FRACTION = re.compile(r"\\d?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_COMPOUND_INDEX = re.compile(r"_\{([^{}]*[^\w{}][^{}]*)\}")


def _math_text(math: str) -> str:
    math = _UPRIGHT.sub(r"\1", math)
    math = _FRACTION.sub(lambda match: f"{_bracketed(match.group(1))}/{_bracketed(match.group(2))}", math)
    math = _COMPOUND_INDEX.sub(r"_(\1)", math)
    math = _ACCENT.sub(lambda match: (match.group(2) or match.group(3)) + _ACCENTS[match.group(1)], math)
    math = _SUBSCRIPT.sub(lambda match: (match.group(1) or match.group(2)).translate(_SUBSCRIPT_DIGITS), math)
    math = _SUPERSCRIPT.sub(lambda match: (match.group(1) or match.group(2)).translate(_SUPERSCRIPT_DIGITS), math)
    return _plain(math).replace("-", "−")


# Named macros, matched whole (\le is not the start of \left).
MACROS = {
    "text": "",
    "mathrm": "",
    "mathbf": "",
    "operatorname": "",
    "left": "",
    "right": "",
    "displaystyle": "",
    "frac": "",
    "times": "×",
    "cdot": "·",
    "cdots": "⋯",
    "ldots": "…",
    "dots": "…",
    "approx": "≈",
    "leq": "≤",
    "geq": "≥",
    "le": "≤",
    "ge": "≥",
    "neq": "≠",
    "ne": "≠",
    "to": "→",
    "leftarrow": "←",
    "rightarrow": "→",
    "in": "∈",
    "odot": "⊙",
    "star": "⋆",
    "circ": "∘",
    "lfloor": "⌊",
    "rfloor": "⌋",
    "lceil": "⌈",
    "rceil": "⌉",
    "lVert": "‖",
    "rVert": "‖",
    "sum": "Σ",
    "prod": "Π",
    "partial": "∂",
    "nabla": "∇",
    "infty": "∞",
    "mid": "|",
    "sqrt": "√",
    "max": "max",
    "min": "min",
    "exp": "exp",
    "log": "log",
    "quad": " ",
    "qquad": "  ",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "eta": "η",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "pi": "π",
    "sigma": "σ",
    "phi": "φ",
    "tau": "τ",
    "Sigma": "Σ",
}
# A macro written as one letter-like sign (∂, √, η) takes the space that ended its name before a letter
# or digit it multiplies (∂L, not ∂ L), and keeps it before anything else (γ = 2, γ log p).
_MACRO = re.compile(
    r"\\(" + "|".join(sorted(MACROS, key=len, reverse=True)) + r")(?![A-Za-z])(?P<space> ?)(?P<next>[A-Za-z0-9]?)"
)


def _macro_text(match: re.Match[str]) -> str:
    sign = MACROS[match.group(1)]
    letter_like = len(sign) == 1 and (sign.isalpha() or sign in "∂∇√")
    space = "" if letter_like and match.group("next") else match.group("space")
    return sign + space + match.group("next")


# Macros that are a backslash and one sign.
SYMBOLS = {"\u00a0": " ", r"\,": " ", r"\;": " ", r"\!": "", r"\|": "‖", r"\_": "_", r"\%": "%", r"\&": "&", r"{,}": ","}


def render_text(text: Text) -> str:
    return strip_math(fill(text.content, text.values, lambda value: value_text(value, grouped=True)))


def render_grids(figure: Grids) -> str:
    """Each panel as a matrix; highlighted cells carry a star."""
    parts = []
    for panel in figure.panels:
        rows = panel.values.tolist() if is_array(panel.values) else panel.values
        cells = [
            [value_text(value) + ("*" if (r, c) in panel.highlight else "") for c, value in enumerate(row)]
            for r, row in enumerate(rows)
        ]
        width = max(len(cell) for row in cells for cell in row)
        lines = ["[ " + "  ".join(cell.rjust(width) for cell in row) + " ]" for row in cells]
        parts.append(f"{label_text(panel.label)}:\n" + "\n".join(lines))
    caption = [strip_math(figure.caption)] if figure.caption else []
    return "\n\n".join(parts + caption)


def render_bars(figure: Bars, width: int = 40) -> str:
    tallest = max(float(value) for value in figure.values) or 1.0
    label_width = max(len(label) for label in figure.labels)
    lines = [
        f"{label.rjust(label_width)} | {'#' * max(1, round(width * float(value) / tallest))} {value_text(value, grouped=True)}"
        for label, value in zip(figure.labels, figure.values)
    ]
    return "\n".join(([strip_math(figure.caption)] if figure.caption else []) + lines)


def render_levels(figure: Levels) -> str:
    lines = ["  " * depth + strip_math(label) for label, depth in figure.nodes]
    links = [f"skip: {strip_math(figure.nodes[a][0])} -> {strip_math(figure.nodes[b][0])}" for a, b in figure.links]
    return "\n".join(([strip_math(figure.caption)] if figure.caption else []) + lines + links)


BLOCK_RENDERERS: dict[type, Callable[[Any], str]] = {
    Grids: render_grids,
    Bars: render_bars,
    Levels: render_levels,
    Text: render_text,
    Derivation: render_derivation,
    Table: render_table,
    Equation: render_equation,
}


def render_solution(solution: Solution) -> str:
    parts = [f"Exercise {solution.number}. {solution.title}", "", strip_math(solution.question), "", "Solution."]
    for block in solution.blocks:
        parts += [BLOCK_RENDERERS[type(block)](block), ""]
    if solution.conclusion.content:
        parts.append("Answer: " + render_text(solution.conclusion))
    return "\n".join(parts).rstrip() + "\n"
