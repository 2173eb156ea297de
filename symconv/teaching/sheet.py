"""The solution sheet: questions.tex and solutions.tex for a set of exercises, and their PDFs."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from symconv.render import latex, latex_solution
from symconv.teaching import exercises
from symconv.teaching.publish import compile_pdf, latexmk_available, write_atomic

TITLE = "Convolutional networks: exercises"


def questions_document(solutions) -> str:
    body = "\n\n".join(
        f"\\section*{{Exercise {s.number}. {latex.escape_text(s.title)}}}\n{latex.prose_latex(s.question)}" for s in solutions
    )
    return latex_solution.document(TITLE, body)


def solutions_document(solutions) -> str:
    body = "\n\\bigskip\n".join(latex_solution.render_solution(solution) for solution in solutions)
    return latex_solution.document(f"{TITLE}: worked solutions", body)


def write_sheet(numbers: Iterable[int] | None, out: Path, pdf: bool = True, folder: Path | None = None) -> list[Path]:
    """Write both documents into ``out``; compile them when asked and latexmk is installed."""
    registry = exercises.load(folder)
    chosen = list(registry) if numbers is None else list(numbers)
    solutions = [exercises.get(number, folder).solution() for number in chosen]
    written = [
        write_atomic(out / "questions.tex", questions_document(solutions)),
        write_atomic(out / "solutions.tex", solutions_document(solutions)),
    ]
    if pdf and latexmk_available():
        written += [compile_pdf(path) for path in written[:2]]
    return written
