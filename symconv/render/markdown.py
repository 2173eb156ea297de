"""Markdown renderer: prose as it is, derivations as ``$$\\begin{aligned}…$$`` blocks (Jupyter, GitHub)."""

from __future__ import annotations

from typing import Any, Callable

from symconv.core.derive import Derivation
from symconv.core.solution import (
    Bars,
    Equation,
    Grids,
    Levels,
    Solution,
    Table,
    Text,
    fill_prose,
)
from symconv.render import latex, latex_solution, text


def render_derivation(derivation: Derivation) -> str:
    aligned = latex.render_derivation(derivation).replace("{align*}", "{aligned}")
    note = f"*{derivation.note}*\n\n" if derivation.note else ""
    return f"{note}$$\n{aligned}\n$$"


def render_table(table: Table) -> str:
    rows = [list(table.header), ["---:"] * len(table.header)]
    rows += [[cell if isinstance(cell, str) else text.value_text(cell, grouped=True) for cell in row] for row in table.rows]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    caption = f"{table.caption}\n\n" if table.caption else ""
    return caption + "\n".join(lines)


def render_equation(equation: Equation) -> str:
    return f"$$ {latex.label_latex(equation.lhs)} = {latex.value_latex(equation.value)}{latex.unit_latex(equation.unit)} $$"


def render_text(text: Text) -> str:
    return fill_prose(text.content, text.values, latex_solution.value_in_math, latex_solution.value_in_prose)


def render_figure(figure) -> str:
    """Figures as their plain-text drawing in a code block (Markdown has no TikZ)."""
    return "```text\n" + text.BLOCK_RENDERERS[type(figure)](figure) + "\n```"


BLOCK_RENDERERS: dict[type, Callable[[Any], str]] = {
    Grids: render_figure,
    Bars: render_figure,
    Levels: render_figure,
    Text: render_text,
    Derivation: render_derivation,
    Table: render_table,
    Equation: render_equation,
}


def render_solution(solution: Solution) -> str:
    parts = [f"### Exercise {solution.number}. {solution.title}", solution.question, "**Solution.**"]
    parts += [BLOCK_RENDERERS[type(block)](block) for block in solution.blocks]
    if solution.conclusion.content:
        parts.append(f"> **Answer.** {render_text(solution.conclusion)}")
    return "\n\n".join(parts) + "\n"
