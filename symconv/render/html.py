"""Worked solutions as HTML fragments, their mathematics typeset by functions the caller chooses.

One writer serves every HTML target: the quiz formats differ only in how a piece of LaTeX becomes
HTML (MathJax delimiters for Moodle, MathML for Canvas). Prose is HTML-escaped; a math function
returns HTML that is already safe.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Callable

from symconv.core.derive import Derivation
from symconv.core.solution import Equation, Solution, Table, Text, fill_prose
from symconv.render import latex


@dataclass(frozen=True)
class HtmlWriter:
    """``inline_math`` and ``display_math`` turn LaTeX into HTML; the rest is shared."""

    inline_math: Callable[[str], str]
    display_math: Callable[[str], str]

    def prose(self, text: str) -> str:
        """Prose with inline math between ``$`` signs: text escaped, math typeset."""
        return "".join(
            self.inline_math(part) if index % 2 else html.escape(part, quote=False) for index, part in enumerate(text.split("$"))
        )

    def text(self, text: Text) -> str:
        return self.prose(fill_prose(text.content, text.values, latex.value_latex, lambda value: f"${latex.value_latex(value)}$"))

    def derivation(self, derivation: Derivation) -> str:
        note = f"<p><em>{self.prose(derivation.note)}</em></p>" if derivation.note else ""
        return note + self.display_math(latex.render_derivation(derivation))

    def table(self, table: Table) -> str:
        def cell(value: Any) -> str:
            return self.prose(value) if isinstance(value, str) else self.inline_math(latex.value_latex(value))

        caption = f"<caption>{self.prose(table.caption)}</caption>" if table.caption else ""
        header = "".join(f"<th>{self.prose(title)}</th>" for title in table.header)
        rows = "".join("<tr>" + "".join(f"<td>{cell(value)}</td>" for value in row) + "</tr>" for row in table.rows)
        return f"<table>{caption}<tr>{header}</tr>{rows}</table>"

    def equation(self, equation: Equation) -> str:
        return self.display_math(
            f"{latex.label_latex(equation.lhs)} = {latex.value_latex(equation.value)}{latex.unit_latex(equation.unit)}"
        )

    def figure(self, figure: Any) -> str:
        """Figures as their plain-text drawing (HTML feedback has no TikZ)."""
        from symconv.render import text

        return f"<pre>{html.escape(text.BLOCK_RENDERERS[type(figure)](figure), quote=False)}</pre>"

    def block(self, block: Any) -> str:
        renderers: dict[type, Callable[[Any], str]] = {
            Text: lambda text: f"<p>{self.text(text)}</p>",
            Derivation: self.derivation,
            Table: self.table,
            Equation: self.equation,
        }
        return renderers.get(type(block), self.figure)(block)

    def solution(self, solution: Solution) -> str:
        """The worked solution: the working, then the answer."""
        parts = [self.block(block) for block in solution.blocks]
        if solution.conclusion.content:
            parts.append(f"<p><strong>Answer.</strong> {self.text(solution.conclusion)}</p>")
        return "\n".join(parts)
