"""Commands ``symconv variants`` (exam sets with solutions, answer key and Moodle quiz) and ``symconv stress``.

Everything is generated in memory first, so bad input stops the run before any file exists; files are
then written to a scratch folder beside the output, compiled there, and moved into place.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from symconv.core.errors import invalid
from symconv.core.limits import MAX_EXERCISES, MAX_ROSTER_LINE, MAX_SET, MAX_STRESS, MAX_STUDENTS, MAX_VARIANTS

FORMATS = ("latex", "pdf", "json", "moodle")

TITLE = "Convolutional networks: exercise variants"


def add_command(commands: Any) -> None:
    variants = commands.add_parser(
        "variants", help="fresh numbers for every exam or student, with solutions, key and Moodle quiz"
    )
    variants.add_argument("--seed", type=int, required=True)
    variants.add_argument(
        "-n",
        type=int,
        default=None,
        help=f"variants of each exercise (per student with --students; default 1 there); at most {MAX_VARIANTS}, "
        f"and at most {MAX_SET} variants in one run",
    )
    variants.add_argument(
        "--exercises",
        default=None,
        help=f"e.g. 1-3,9 (default: every parametrised exercise; at most {MAX_EXERCISES}, repeats merged)",
    )
    variants.add_argument(
        "--students",
        type=Path,
        default=None,
        help=f"CSV roster with an id column (name optional): one set per student; at most {MAX_STUDENTS} students, "
        f"{MAX_ROSTER_LINE} characters a line",
    )
    variants.add_argument("--out", default="output/variants")  # a string: Path("") would be the current folder
    variants.add_argument("--format", default="latex,json,moodle", help=f"comma-separated, from {','.join(FORMATS)}")
    variants.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="pin a parameter in every chosen exercise that has it"
    )
    variants.set_defaults(run=run_variants)

    stress = commands.add_parser("stress", help="ranges, rejection rate, duplicates and cost of an exercise's variants")
    stress.add_argument("exercise", type=int)
    stress.add_argument("-n", type=int, default=1000, help=f"variants to draw and work (default 1000, at most {MAX_STRESS})")
    stress.add_argument("--seed", type=int, default=0)
    stress.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    stress.set_defaults(run=run_stress)


class Progress:
    """A one-line progress bar on stderr, shown only when stderr is a terminal and the run is long."""

    def __init__(self, total: int, label: str, stream: Any = None, minimum: int = 50) -> None:
        self.stream = stream or sys.stderr
        self.total, self.label, self.done = total, label, 0
        self.shown = total >= minimum and self.stream.isatty()

    def __call__(self) -> None:
        self.done += 1
        if self.shown and (self.done == self.total or self.done % max(1, self.total // 100) == 0):
            filled = 30 * self.done // self.total
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}")
            self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def parse_formats(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in FORMATS]
    if unknown or not chosen:
        raise invalid("--format", text, f"must be a comma-separated list from {','.join(FORMATS)}")
    return chosen


def chosen_exercises(arguments: argparse.Namespace) -> list[Any]:
    from symconv.cli.main import parse_exercise_list
    from symconv.teaching import exercises
    from symconv.teaching.variants import require_parametrised

    registry = exercises.load(arguments.derivations)
    if arguments.exercises is None:
        return [exercise for exercise in registry.values() if exercise.parametrised]
    chosen = [exercises.get(number, arguments.derivations) for number in dict.fromkeys(parse_exercise_list(arguments.exercises))]
    for exercise in chosen:
        require_parametrised(exercise)
    return chosen


def run_variants(arguments: argparse.Namespace) -> str:
    from symconv.render.latex import escape_text
    from symconv.teaching import variants as model
    from symconv.teaching.publish import Publication

    formats = parse_formats(arguments.format)
    chosen = chosen_exercises(arguments)
    pins = model.parse_pins(arguments.param, chosen)
    students = model.read_roster(arguments.students) if arguments.students is not None else [None]
    count = arguments.n if arguments.n is not None else (1 if arguments.students is not None else None)
    if count is None:
        raise invalid("-n", None, "give the number of variants of each exercise, or a roster with --students")
    for exercise in chosen:
        model.check_count(exercise, count, model.pins_for(exercise, pins))
    if len(students) * len(chosen) * count > MAX_SET:
        raise invalid(
            "-n",
            count,
            f"{len(students)} student(s) x {len(chosen)} exercise(s) x {count} is more than {MAX_SET} variants in one run",
        )

    with Publication(arguments.out, VARIANT_FILES) as publication:  # the folder is checked before the work
        progress = Progress(len(students) * len(chosen) * count * 2, "variants")
        drawn = [
            variant
            for student in students
            for exercise in chosen
            for variant in model.sample(exercise, arguments.seed, count, pins, student, progress=progress)
        ]
        worked = []
        for variant in drawn:
            worked.append((variant, variant.solution()))
            progress()
        progress.close()

        documents = build_documents(worked, arguments.seed, pins, formats, arguments.students is not None)
        roster_lines = {escape_text(student.label()): student.line for student in students if student is not None}
        written = write_all(publication, documents, "pdf" in formats, roster_lines)
    notes = [f"wrote {path}" for path in written]
    if "pdf" in formats and not any(path.suffix == ".pdf" for path in written):
        notes.append("latexmk not found: PDFs skipped")
    if arguments.students is not None:
        notes += shared_variants(drawn, len(students))
    if "moodle" in formats:
        asked = {
            variant.exercise.number: model.main_answer(variant.exercise, solution.answers).name for variant, solution in worked
        }
        notes.append(
            "moodle.xml asks for one answer per variant: "
            + ", ".join(f"{name} (exercise {number})" for number, name in asked.items())
        )
    return "\n".join(notes)


def shared_variants(drawn: Sequence[Any], students: int) -> list[str]:
    """Each student's set is drawn on its own, so an exercise with few variants gives some students the same one."""
    from symconv.teaching.variants import variant_key

    keys: dict[int, list] = {}
    for variant in drawn:
        keys.setdefault(variant.exercise.number, []).append(variant_key(variant.exercise, variant.params))
    return [
        f"note: exercise {number}: {len(set(drawn_keys))} distinct variants among {len(drawn_keys)} drawn for {students} students"
        for number, drawn_keys in keys.items()
        if len(set(drawn_keys)) < len(drawn_keys)
    ]


def build_documents(
    worked: Sequence[tuple[Any, Any]], seed: int, pins: dict, formats: Sequence[str], by_student: bool
) -> dict[str, str]:
    """The text of every requested file, by file name."""
    documents = {}
    if "latex" in formats or "pdf" in formats:
        documents["questions.tex"] = questions_document(worked, seed, by_student)
        documents["solutions.tex"] = solutions_document(worked, seed, by_student)
    if "json" in formats:
        documents["key.json"] = key_document(worked, seed, pins)
    if "moodle" in formats:
        documents["moodle.xml"] = moodle_document(worked, seed)
    return documents


def _heading(variant: Any) -> str:
    student = f"{variant.student.label()}, " if variant.student is not None else ""
    return f"{student}variant {variant.id}"


def _titled(variant: Any, solution: Any) -> Any:
    """The solution titled with its variant (and student), so every rendering carries the id."""
    from dataclasses import replace

    return replace(solution, title=f"{solution.title} — {_heading(variant)}")


def _student_pages(worked: Sequence[tuple[Any, Any]], by_student: bool, page: Any) -> str:
    """Pages grouped by student (each opening with the name) or one run of pages for a class set."""
    from symconv.render.latex import escape_text

    if not by_student:
        return "\n\n".join(page(variant, solution) for variant, solution in worked)
    groups: dict[Any, list] = {}
    for variant, solution in worked:
        groups.setdefault(variant.student, []).append((variant, solution))
    return "\n\\clearpage\n".join(
        f"\\begin{{center}}\\Large {escape_text(student.label())}\\end{{center}}\n\n" + "\n\n".join(page(v, s) for v, s in pairs)
        for student, pairs in groups.items()
    )


def questions_document(worked: Sequence[tuple[Any, Any]], seed: int, by_student: bool) -> str:
    from symconv.render import latex, latex_solution

    def page(variant: Any, solution: Any) -> str:
        titled = _titled(variant, solution)
        return f"\\section*{{Exercise {titled.number}. {latex.escape_text(titled.title)}}}\n{latex.prose_latex(titled.question)}"

    return latex_solution.document(f"{TITLE} (seed {seed})", _student_pages(worked, by_student, page))


def solutions_document(worked: Sequence[tuple[Any, Any]], seed: int, by_student: bool) -> str:
    from symconv.render import latex_solution

    def page(variant: Any, solution: Any) -> str:
        return latex_solution.render_solution(_titled(variant, solution))

    return latex_solution.document(f"{TITLE} (seed {seed}): worked solutions", _student_pages(worked, by_student, page))


def key_document(worked: Sequence[tuple[Any, Any]], seed: int, pins: dict) -> str:
    import json

    from symconv.teaching.variants import GENERATOR, key_entry

    key = {
        "generator": GENERATOR,
        "seed": seed,
        "pinned": pins,
        "variants": [key_entry(variant, solution.answers) for variant, solution in worked],
    }
    return json.dumps(key, ensure_ascii=False, indent=2) + "\n"


def moodle_document(worked: Sequence[tuple[Any, Any]], seed: int) -> str:
    from symconv.render.moodle import NumericalQuestion, render_quiz
    from symconv.teaching.variants import main_answer

    categories: dict[int, tuple[tuple[str, ...], list]] = {}
    for variant, solution in worked:
        exercise = variant.exercise
        asked = main_answer(exercise, solution.answers)
        path = (f"symconv seed {seed}", f"Exercise {exercise.number}. {exercise.title}")
        question = NumericalQuestion(
            name=f"{exercise.number}. {exercise.title} — {_heading(variant)}",
            heading=f"Exercise {exercise.number} — {_heading(variant)}",
            solution=solution,
            prompt=asked.prompt,
            answer=asked.value(solution.answers),
        )
        categories.setdefault(exercise.number, (path, []))[1].append(question)
    return render_quiz(list(categories.values()))


VARIANT_FILES = ("questions.tex", "solutions.tex", "questions.pdf", "solutions.pdf", "key.json", "moodle.xml")


def write_all(publication: Any, documents: dict[str, str], compile_pdfs: bool, roster_lines: dict[str, int]) -> list[Path]:
    """Write the documents (and compile the PDFs) in the publication's scratch folder, then put the set in place."""
    from symconv.teaching import publish

    sources = {name: publication.write(name, text) for name, text in documents.items()}
    if compile_pdfs and publish.latexmk_available():
        for name, source in sources.items():
            if source.suffix == ".tex":
                publish.compile_named(source, lambda line, name=name: _where(name, documents[name], line, roster_lines))
    return publication.commit()


def _where(name: str, source: str, line: int | None, roster_lines: dict[str, int]) -> str:
    """The variant (and the student, with their roster line) that a failing line of a document belongs to."""
    from symconv.teaching.publish import section_at

    section = section_at(source, line)
    if section is None:
        return name
    student = section_at(source, line, r"\\begin\{center\}\\Large (.*)\\end\{center\}")
    found = f"{name}, {section}"
    if student is not None:
        found += f" (student {student}" + (f", roster line {roster_lines[student]})" if student in roster_lines else ")")
    return found


def run_stress(arguments: argparse.Namespace) -> str:
    from symconv.teaching import exercises
    from symconv.teaching.stress import stress
    from symconv.teaching.variants import parse_pins

    exercise = exercises.get(arguments.exercise, arguments.derivations)
    pins = parse_pins(arguments.param, [exercise])
    progress = Progress(arguments.n, "stress")
    try:
        report = stress(exercise, arguments.n, arguments.seed, pins, progress=progress)
    finally:
        progress.close()
    return report.text()
