"""Moodle XML renderer: numerical questions with worked solutions as HTML feedback typeset by MathJax.

Prose is HTML-escaped; its inline math goes inside ``\\( \\)`` and displayed working inside ``\\[ \\]``
(the LaTeX itself HTML-escaped, as MathJax reads the text the browser decodes). HTML travels in CDATA
sections; names and categories are XML-escaped text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence
from xml.sax.saxutils import escape

from symconv.core.solution import Solution
from symconv.render.html import HtmlWriter

# Answers that are not whole numbers are graded within this share of their value.
RELATIVE_TOLERANCE = Fraction(1, 1000)


@dataclass(frozen=True)
class NumericalQuestion:
    """One numerical question: the worked solution it comes from and the number it asks for."""

    name: str
    heading: str  # plain text shown above the question (student, variant id)
    solution: Solution
    prompt: str  # prose with inline $…$, completing "Enter …"
    answer: Any  # exact: int or Fraction


def mathjax_inline(tex: str) -> str:
    return rf"\({html.escape(tex, quote=False)}\)"


def mathjax_display(tex: str) -> str:
    # align* is a display environment of its own; inside \[ \] the same lines form an aligned block.
    return rf"<p>\[{html.escape(tex.replace('{align*}', '{aligned}'), quote=False)}\]</p>"


MATHJAX = HtmlWriter(inline_math=mathjax_inline, display_math=mathjax_display)
prose_html = MATHJAX.prose
solution_html = MATHJAX.solution


def answer_and_tolerance(value: Any) -> tuple[str, str]:
    """Exact integers are graded exactly; other values within the relative tolerance, made absolute."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), "0"
    value = Fraction(value)
    return repr(float(value)), repr(float(abs(value) * RELATIVE_TOLERANCE))


def cdata(text: str) -> str:
    # "]]>" would end the section early: split it across two sections.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def category_path(*names: str) -> str:
    """Moodle separates category levels with "/" and reads "//" as a slash inside a name."""
    return "/".join(["$course$", "top", *(name.replace("/", "//") for name in names)])


def question_xml(question: NumericalQuestion) -> str:
    solution = question.solution
    body = (
        f"<p><strong>{html.escape(question.heading, quote=False)}</strong></p>\n"
        f"<p>{prose_html(solution.question)}</p>\n<p>Enter {prose_html(question.prompt)}.</p>"
    )
    answer, tolerance = answer_and_tolerance(question.answer)
    return f"""  <question type="numerical">
    <name><text>{escape(question.name)}</text></name>
    <questiontext format="html"><text>{cdata(body)}</text></questiontext>
    <generalfeedback format="html"><text>{cdata(solution_html(solution))}</text></generalfeedback>
    <defaultgrade>1</defaultgrade>
    <penalty>0</penalty>
    <hidden>0</hidden>
    <answer fraction="100" format="moodle_auto_format">
      <text>{answer}</text>
      <tolerance>{tolerance}</tolerance>
      <feedback format="html"><text></text></feedback>
    </answer>
    <unitgradingtype>0</unitgradingtype>
    <unitpenalty>0</unitpenalty>
    <showunits>3</showunits>
    <unitsleft>0</unitsleft>
  </question>
"""


def render_quiz(categories: Sequence[tuple[Sequence[str], Sequence[NumericalQuestion]]]) -> str:
    """A Moodle XML quiz: for each category (its path of names), a category entry then its questions."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    for path, questions in categories:
        parts.append(
            f'  <question type="category">\n    <category><text>{escape(category_path(*path))}</text></category>\n  </question>\n'
        )
        parts += [question_xml(question) for question in questions]
    parts.append("</quiz>\n")
    return "".join(parts)
