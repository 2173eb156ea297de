"""The solution sheet: questions.tex and solutions.tex for a set of exercises, and their PDFs."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Iterable

from symconv.render import latex, latex_solution
from symconv.teaching import exercises, publish

TITLE = "Convolutional networks: exercises"


def questions_document(solutions) -> str:
    body = "\n\n".join(
        f"\\section*{{Exercise {s.number}. {latex.escape_text(s.title)}}}\n{latex.prose_latex(s.question)}" for s in solutions
    )
    return latex_solution.document(TITLE, body)


def solutions_document(solutions) -> str:
    body = "\n\\bigskip\n".join(latex_solution.render_solution(solution) for solution in solutions)
    return latex_solution.document(f"{TITLE}: worked solutions", body)


SHEET_FILES = ("questions.tex", "solutions.tex", "questions.pdf", "solutions.pdf")


def write_sheet(numbers: Iterable[int] | None, out: Path, pdf: bool = True, folder: Path | None = None) -> list[Path]:
    """Write both documents into ``out`` as one set; compile them when asked and latexmk is installed.

    The folder is checked before any exercise is worked; a failure leaves the previous set as it was.
    """
    registry = exercises.load(folder)
    chosen = list(registry) if numbers is None else list(numbers)
    exercises_chosen = [exercises.get(number, folder) for number in chosen]
    with publish.Publication(out, SHEET_FILES) as publication:
        solutions = [exercise.solution() for exercise in exercises_chosen]
        documents = {"questions.tex": questions_document(solutions), "solutions.tex": solutions_document(solutions)}
        sources = {name: publication.write(name, text) for name, text in documents.items()}
        if pdf and publish.latexmk_available():
            for name, source in sources.items():
                publish.compile_named(source, functools.partial(_where, name, documents[name]))
        return publication.commit()


def _where(name: str, source: str, line: int | None) -> str:
    """The exercise a failing line of a document belongs to."""
    section = publish.section_at(source, line)
    return f"{name}, {section.replace('{', '').replace('}', '')}" if section else name
