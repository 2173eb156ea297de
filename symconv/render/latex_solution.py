"""LaTeX renderer of whole solutions and documents: prose, tables, equations, figures and the boxed answer."""

from __future__ import annotations

from typing import Any, Callable

from symconv.core.derive import Derivation
from symconv.core.solution import Equation, Solution, Table, Text, fill_prose
from symconv.core.symbols import latex_name
from symconv.render.latex import escape_text, prose_latex, render_derivation, render_note, unit_latex, value_latex
from symconv.render.rules import word_columns
from symconv.render.tikz import FIGURE_RENDERERS


def render_table(table: Table) -> str:
    columns = "".join("l" if words else "r" for words in word_columns(table))
    header = " & ".join(prose_latex(cell) for cell in table.header)
    body = " \\\\\n".join(
        " & ".join(prose_latex(cell) if isinstance(cell, str) else f"${value_latex(cell)}$" for cell in row) for row in table.rows
    )
    caption = f"{prose_latex(table.caption)}\\\\[0.5ex]\n" if table.caption else ""
    return (
        f"\\begin{{center}}\n{caption}\\begin{{tabular}}{{{columns}}}\n\\hline\n{header} \\\\\n\\hline\n"
        f"{body} \\\\\n\\hline\n\\end{{tabular}}\n\\end{{center}}"
    )


def render_equation(equation: Equation) -> str:
    return f"\\[ {latex_name(equation.lhs)} = {value_latex(equation.value)}{unit_latex(equation.unit)} \\]"


def render_text(text: Text) -> str:
    return prose_latex(fill_prose(text.content, text.values, value_in_math, value_in_prose))


def value_in_math(value: Any) -> str:
    return rf"\text{{{escape_text(value)}}}" if isinstance(value, str) else value_latex(value)


def value_in_prose(value: Any) -> str:
    # prose_latex escapes what lies outside $…$, so a word is left as it is and a value becomes math.
    return value if isinstance(value, str) else f"${value_latex(value)}$"


BLOCK_RENDERERS: dict[type, Callable[[Any], str]] = {
    Text: render_text,
    Derivation: lambda block: render_note(block) + render_derivation(block),
    Table: render_table,
    Equation: render_equation,
}


def render_block(block) -> str:
    if type(block) in BLOCK_RENDERERS:
        return BLOCK_RENDERERS[type(block)](block)
    return FIGURE_RENDERERS[type(block)](block)


def render_solution(solution: Solution) -> str:
    """A LaTeX fragment: the question restated, the working, the answer boxed."""
    parts = [
        f"\\section*{{Exercise {solution.number}. {escape_text(solution.title)}}}",
        f"\\paragraph{{Question.}} {prose_latex(solution.question)}",
        "\\paragraph{Solution.}",
    ]
    parts += [render_block(block) for block in solution.blocks]
    if solution.conclusion.content:
        answer = render_text(solution.conclusion)
        parts.append(f"\\begin{{center}}\\fbox{{\\parbox{{0.9\\linewidth}}{{\\textbf{{Answer.}} {answer}}}}}\\end{{center}}")
    return "\n\n".join(parts) + "\n"


PREAMBLE = r"""\documentclass[11pt]{article}
\ifdefined\pdftrailerid\pdftrailerid{}\fi
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\usepackage[margin=2.4cm]{geometry}
\usepackage{graphicx}
\usepackage{tikz}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6ex}
"""


def document(title: str, body: str) -> str:
    """A complete, compilable LaTeX document around ``body``."""
    return (
        f"{PREAMBLE}\\title{{{escape_text(title)}}}\n\\date{{}}\n\\begin{{document}}\n\\maketitle\n\n{body}\n\\end{{document}}\n"
    )
