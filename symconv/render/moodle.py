"""Moodle XML renderer: numerical and cloze questions with worked solutions as HTML feedback typeset by MathJax.

A single number is a numerical question; a matrix or several numbers are one cloze question whose embedded
NUMERICAL fields (``{1:NUMERICAL:=value:tolerance}``) sit where the numbers go, each graded as a single answer.

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
from symconv.core.values import exact
from symconv.render.html import HtmlWriter

# Answers that are not whole numbers are graded within this share of their value.
RELATIVE_TOLERANCE = Fraction(1, 1000)


@dataclass(frozen=True)
class NumericalQuestion:
    """One question: the worked solution it comes from and the number, or the numbers, it asks for."""

    name: str
    heading: str  # plain text shown above the question (student, variant id)
    solution: Solution
    prompt: str  # prose with inline $…$, completing "Enter …"
    answer: Any  # exact: an int or Fraction, or nested lists of them (a cloze question)
    labels: Sequence[str] = ()  # for a flat list of answers: what each one is (prose with inline $…$)

    @property
    def multi_part(self) -> bool:
        return isinstance(self.answer, (list, tuple))


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


def cloze_field(value: Any) -> str:
    """An embedded numerical sub-answer: weight 1, the value, and its tolerance as for a single answer."""
    answer, tolerance = answer_and_tolerance(exact(value))
    return f"{{1:NUMERICAL:={answer}:{tolerance}}}"


def cloze_cell(value: Any) -> str:
    """A number's field, or a tuple of fields for a list (a position, a pair)."""
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(cloze_cell(entry) for entry in value) + ")"
    return cloze_field(value)


def cloze_answers_html(answer: Sequence[Any], labels: Sequence[str]) -> str:
    """Labelled fields for several named numbers; a table of fields, one cell per entry, for a matrix."""
    if labels:
        return (
            "<ul>"
            + "".join(f"<li>{prose_html(label)}: {cloze_cell(value)}</li>" for label, value in zip(labels, answer))
            + "</ul>"
        )
    rows = answer if all(isinstance(row, (list, tuple)) for row in answer) else [answer]
    return (
        "<table>"
        + "".join("<tr>" + "".join(f"<td>{cloze_cell(value)}</td>" for value in row) + "</tr>" for row in rows)
        + "</table>"
    )


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
    head = f"""    <name><text>{escape(question.name)}</text></name>
"""
    feedback = f"""    <generalfeedback format="html"><text>{cdata(solution_html(solution))}</text></generalfeedback>
"""
    if question.multi_part:
        body += "\n" + cloze_answers_html(question.answer, question.labels)
        return f"""  <question type="cloze">
{head}    <questiontext format="html"><text>{cdata(body)}</text></questiontext>
{feedback}    <penalty>0</penalty>
    <hidden>0</hidden>
  </question>
"""
    answer, tolerance = answer_and_tolerance(question.answer)
    return f"""  <question type="numerical">
{head}    <questiontext format="html"><text>{cdata(body)}</text></questiontext>
{feedback}    <defaultgrade>1</defaultgrade>
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
