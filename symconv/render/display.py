"""Registers the renderers that REPL and Jupyter display use for the model's objects (see ``symconv.core.display``)."""

from __future__ import annotations

from symconv.core.derive import Derivation
from symconv.core.display import register
from symconv.core.formula import Formula
from symconv.core.solution import Solution
from symconv.render import latex, markdown, text

register(Derivation, "text")(text.render_derivation)
register(Derivation, "latex")(latex.render_derivation)
register(Solution, "text")(text.render_solution)
# A whole solution is prose and mathematics together: Markdown with $$ blocks. Notebooks render it as
# Markdown (headings, tables); frontends that only typeset LaTeX still get the mathematics.
register(Solution, "latex")(markdown.render_solution)
register(Solution, "markdown")(markdown.render_solution)


@register(Formula, "latex")
def formula_display(formula: Formula) -> str:
    """A formula's general form, typeset inline for a notebook cell."""
    return f"$\\displaystyle {latex.formula_latex(formula)}$"
