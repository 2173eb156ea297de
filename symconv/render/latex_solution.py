"""LaTeX renderer of whole solutions and documents: prose, tables, equations, figures and the boxed answer."""

from __future__ import annotations

from typing import Any, Callable

from symconv.core.derive import Derivation
from symconv.core.solution import Equation, Solution, Table, Text, fill_prose
from symconv.render.latex import escape_text, label_latex, prose_latex, render_derivation, render_note, unit_latex, value_latex
from symconv.render.rules import uniform_columns, word_columns
from symconv.render.scripts import LUATEX_FONTS, PDFTEX_FONTS
from symconv.render.tikz import FIGURE_RENDERERS


def render_table(table: Table) -> str:
    """A table with one number format per column; fractions at display size, with room between rows."""
    columns = "".join("l" if words else "r" for words in word_columns(table))
    header = " & ".join(prose_latex(cell) for cell in table.header)
    rows = [
        [prose_latex(cell) if isinstance(cell, str) else f"${value_latex(cell)}$" for cell in row]
        for row in uniform_columns(table)
    ]
    fractions = any(r"\frac" in cell for row in rows for cell in row)
    if fractions:
        rows = [[cell.replace(r"\frac", r"\dfrac") for cell in row] for row in rows]
    body = " \\\\\n".join(" & ".join(row) for row in rows)
    caption = f"{prose_latex(table.caption)}\\\\[0.5ex]\n" if table.caption else ""
    stretch = "\\renewcommand{\\arraystretch}{2.2}\n" if fractions else ""
    return (
        f"\\begin{{center}}\n{stretch}{caption}\\begin{{tabular}}{{{columns}}}\n\\hline\n{header} \\\\\n\\hline\n"
        f"{body} \\\\\n\\hline\n\\end{{tabular}}\n\\end{{center}}"
    )


def render_equation(equation: Equation) -> str:
    """A displayed value; \\fitdisplay sets it whole, scaled down only when wider than the line."""
    return f"\\[ \\fitdisplay{{{label_latex(equation.lhs)} = {value_latex(equation.value)}{unit_latex(equation.unit)}}} \\]"


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


def _opens_with_display(block) -> bool:
    return isinstance(block, Equation) or (isinstance(block, Derivation) and not block.note)


def render_solution(solution: Solution) -> str:
    """A LaTeX fragment: the question restated, the working, the answer boxed."""
    parts = [
        f"\\section*{{Exercise {solution.number}. {escape_text(solution.title)}}}",
        f"\\paragraph{{Question.}} {prose_latex(solution.question)}",
        "\\paragraph{Solution.}",
    ]
    for block in solution.blocks:
        # A display continues the paragraph before it: a blank line there would add an empty line of space.
        if _opens_with_display(block) and len(parts) > 3:
            parts[-1] += "\n" + render_block(block)
        else:
            parts.append(render_block(block))
    if solution.conclusion.content:
        answer = render_text(solution.conclusion)
        parts.append(f"\\begin{{center}}\\fbox{{\\parbox{{0.9\\linewidth}}{{\\textbf{{Answer.}} {answer}}}}}\\end{{center}}")
    return "\n\n".join(parts) + "\n"


# LuaLaTeX sets names in any script (symconv.render.scripts); pdfLaTeX still compiles a Latin-only document.
PREAMBLE = (
    r"""\documentclass[11pt]{article}
\ifdefined\pdftrailerid\pdftrailerid{}\fi
\usepackage{iftex}
\ifLuaTeX
"""
    + LUATEX_FONTS
    + r"""
\else
"""
    + PDFTEX_FONTS
    + r"""
\fi
\usepackage{amsmath,amssymb}
\usepackage[margin=2.4cm]{geometry}
\usepackage{graphicx}
\usepackage{tikz}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6ex}
% Tuples and sizes do not break; a paragraph may stretch a little more instead of running into the margin.
\setlength{\emergencystretch}{2em}
% A display wider than the line is scaled to fit it, never split.
\newsavebox{\displaybox}
\newcommand{\fitdisplay}[1]{\sbox{\displaybox}{$\displaystyle #1$}%
  \ifdim\wd\displaybox>\linewidth\resizebox{\linewidth}{!}{\usebox{\displaybox}}\else\usebox{\displaybox}\fi}
"""
)


def document(title: str, body: str) -> str:
    """A complete, compilable LaTeX document around ``body``."""
    return (
        f"{PREAMBLE}\\title{{{escape_text(title)}}}\n\\date{{}}\n\\begin{{document}}\n\\maketitle\n\n{body}\n\\end{{document}}\n"
    )
