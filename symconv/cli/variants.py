"""Commands ``symconv variants`` (exam sets with solutions, answer key, Moodle and Canvas quizzes) and ``symconv stress``.

Everything is generated in memory first, so bad input stops the run before any file exists; files are
then written to a scratch folder beside the output, compiled there, and moved into place.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path
from typing import Any, Sequence

from symconv.core.errors import guarded, invalid
from symconv.core.limits import MAX_EXERCISES, MAX_ROSTER_LINE, MAX_SET, MAX_STRESS, MAX_STUDENTS, MAX_VARIANTS

FORMATS = ("latex", "pdf", "json", "moodle", "canvas")
TITLE = "Convolutional networks: exercise variants"


def add_command(commands: Any) -> None:
    variants = commands.add_parser(
        "variants", help="fresh numbers for every exam or student, with solutions, key and Moodle quiz"
    )
    variants.add_argument("--seed", type=int, required=True, help="the same seed gives the same variants (required)")
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
    # A string: Path("") would quietly be the current folder.
    variants.add_argument(
        "--out", default="output/variants", help="the folder the files are written to (default: output/variants)"
    )
    variants.add_argument("--format", default="latex,json,moodle", help=f"comma-separated, from {','.join(FORMATS)}")
    variants.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="pin a parameter in every chosen exercise that has it (repeatable; default: none pinned)",
    )
    variants.set_defaults(run=run_variants)

    stress = commands.add_parser("stress", help="ranges, rejection rate, duplicates and cost of an exercise's variants")
    stress.add_argument("exercise", type=int, help="its number, as symconv list shows it")
    stress.add_argument("-n", type=int, default=1000, help=f"how many variants to draw and work (at most {MAX_STRESS})")
    stress.add_argument("--seed", type=int, default=0, help="the random seed")
    stress.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="pin a parameter (repeatable; default: none pinned)"
    )
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


def chosen_exercises(arguments: argparse.Namespace) -> tuple[list[Any], list[str]]:
    """The exercises to draw from, and a note for each asked-for one that has no variants (skipped).

    All exercises (no ``--exercises``), a list or a range is taken as "these, where they have variants"; only
    when none of them has any is the request refused.
    """
    from symconv.cli.main import parse_exercise_list
    from symconv.teaching import exercises
    from symconv.teaching.variants import require_parametrised, without_variants

    registry = exercises.load(arguments.derivations)
    if arguments.exercises is None:
        asked = list(registry.values())
    else:
        asked = [
            exercises.get(number, arguments.derivations) for number in dict.fromkeys(parse_exercise_list(arguments.exercises))
        ]
    reasons = {exercise.number: without_variants(exercise) for exercise in asked}
    chosen = [exercise for exercise in asked if not reasons[exercise.number]]
    if not asked:
        raise invalid("--derivations", str(arguments.derivations), "holds no exercises")
    if not chosen:
        require_parametrised(asked[0])
    return chosen, [f"skipped exercise {number}: {reason}" for number, reason in reasons.items() if reason]


def run_variants(arguments: argparse.Namespace) -> str:
    from symconv.render.latex import escape_text
    from symconv.teaching import variants as model
    from symconv.teaching.publish import Publication

    formats = parse_formats(arguments.format)
    chosen, skipped = chosen_exercises(arguments)
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
        drawn = []
        for student in students:
            for exercise in chosen:
                # Domains, rules and keys are the exercise's own code: what they raise is reported, not a crash.
                drawn += guarded(
                    f"{exercise.where}: variants",
                    functools.partial(model.sample, exercise, arguments.seed, count, pins, student, progress=progress),
                )
        worked = []
        for variant in drawn:
            worked.append((variant, variant.solution()))
            progress()
        progress.close()

        documents = build_documents(worked, arguments.seed, pins, formats, arguments.students is not None)
        roster_lines = {escape_text(student.label()): student.line for student in students if student is not None}
        written = write_all(publication, documents, "pdf" in formats, roster_lines)
    notes = [f"wrote {path}" for path in written] + skipped
    if "pdf" in formats and not any(path.suffix == ".pdf" for path in written):
        notes.append("latexmk not found: PDFs skipped")
    if "canvas" in formats:
        notes += canvas_notes(worked, count, by_student=arguments.students is not None)
    if arguments.students is not None:
        notes += shared_variants(drawn, len(students))
    if "moodle" in formats:
        asked = {}
        for variant, solution in worked:
            main = model.main_answer(variant.exercise, solution.answers)
            parts = ", several parts" if isinstance(main.value(solution.answers), list) else ""
            asked[variant.exercise.number] = f"{main.name} (exercise {variant.exercise.number}{parts})"
        notes.append("moodle.xml asks for one answer per variant: " + ", ".join(asked.values()))
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
) -> dict[str, str | bytes]:
    """The content of every requested file (text, or bytes for a zip), by file name."""
    documents: dict[str, str | bytes] = {}
    if "latex" in formats or "pdf" in formats:
        documents["questions.tex"] = questions_document(worked, seed, by_student)
        documents["solutions.tex"] = solutions_document(worked, seed, by_student)
    if "json" in formats:
        documents["key.json"] = key_document(worked, seed, pins)
    if "moodle" in formats:
        documents["moodle.xml"] = moodle_document(worked, seed)
    if "canvas" in formats:
        documents["canvas.zip"] = canvas_document(worked, seed, by_student)
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


def canvas_notes(worked: Sequence[tuple[Any, Any]], count: int, by_student: bool) -> list[str]:
    from symconv.teaching.variants import main_answer

    asked: dict[int, str] = {}
    items: list[int] = []
    several: dict[int, None] = {}  # exercises asking several numbers, in order
    for variant, solution in worked:
        main = main_answer(variant.exercise, solution.answers)
        items.append(len(canvas_parts(main, main.value(solution.answers))))
        if items[-1] > 1:
            several[variant.exercise.number] = None
        parts = f", {items[-1]} items" if items[-1] > 1 else ""
        asked[variant.exercise.number] = f"{main.name} (exercise {variant.exercise.number}{parts})"
    notes = ["canvas.zip asks for one answer per variant: " + ", ".join(asked.values())]
    if draws_one_variant(by_student, items):
        notes.append(f"canvas.zip: each exercise is a question group that draws one of its {count} variants for each student")
    elif not by_student and count > 1:
        which = f"exercises {', '.join(map(str, several))} ask" if len(several) > 1 else f"exercise {next(iter(several))} asks"
        notes.append(f"canvas.zip holds every variant: {which} several numbers, which a question group cannot keep together")
    return notes


def draws_one_variant(by_student: bool, items_per_variant: Sequence[int]) -> bool:
    """A class quiz draws one variant of each exercise for each student, when every variant is one item.

    (Canvas draws the items of a group independently, so the parts of one variant could not be kept together.)
    """
    return not by_student and all(items == 1 for items in items_per_variant)


def canvas_parts(asked: Any, value: Any) -> tuple[Any, ...]:
    """One Canvas item per number: a single answer as it is, a list or matrix entry by entry.

    An answer of several numbers that names them (``labels()``) asks for each by its name; entries
    of a matrix or a pair are asked for by their position.
    """
    from symconv.core.values import exact
    from symconv.render.canvas import Part

    if not isinstance(value, (list, tuple)):
        return (Part(asked.prompt, exact(value)),)
    labels = asked.labels() if callable(getattr(asked, "labels", None)) else ()
    parts = []
    for prompt, entries in zip(labels, value) if labels else [(asked.prompt, value)]:
        for position, entry in _entries(entries, ()):
            where = f": the entry at position ({', '.join(str(index + 1) for index in position)})" if position else ""
            parts.append(Part(prompt + where, exact(entry)))
    return tuple(parts)


def _entries(value: Any, position: tuple[int, ...]) -> list[tuple[tuple[int, ...], Any]]:
    """The numbers of a nested list with their positions in it."""
    if not isinstance(value, (list, tuple)):
        return [(position, value)]
    return [found for index, entry in enumerate(value) for found in _entries(entry, (*position, index))]


def canvas_document(worked: Sequence[tuple[Any, Any]], seed: int, by_student: bool) -> bytes:
    """One Canvas quiz per student (their variants), or one for the class drawing one variant per exercise."""
    from symconv.render import canvas
    from symconv.teaching.variants import main_answer

    sets: dict[Any, dict[int, list]] = {}  # student (None for a class set) -> exercise number -> questions
    titles = {}
    for variant, solution in worked:
        exercise = variant.exercise
        asked = main_answer(exercise, solution.answers)
        question = canvas.Question(
            ident=variant.id,
            title=f"{exercise.number}. {exercise.title} — {_heading(variant)}",
            heading=f"Exercise {exercise.number} — {_heading(variant)}",
            solution=solution,
            parts=canvas_parts(asked, asked.value(solution.answers)),
        )
        sets.setdefault(variant.student, {}).setdefault(exercise.number, []).append(question)
        titles[exercise.number] = f"Exercise {exercise.number}. {exercise.title}"
    quizzes = []
    for student, by_exercise in sets.items():
        draw = draws_one_variant(by_student, [len(q.parts) for questions in by_exercise.values() for q in questions])
        groups = tuple(
            canvas.Group(titles[number], tuple(questions), 1 if draw else None) for number, questions in by_exercise.items()
        )
        who = f"{student.label()}: " if student is not None else ""
        if student is not None:
            description = f"The exercise variants of {student.label()}, seed {seed}."
        else:
            held = "One variant of each exercise, drawn for each student" if draw else "Every variant of each exercise"
            description = f"{held}, seed {seed}."
        quizzes.append(
            canvas.Quiz(
                key=",".join(question.ident for group in groups for question in group.questions),
                title=f"{who}{TITLE} (seed {seed})",
                description=description,
                groups=groups,
            )
        )
    return canvas.render_package(quizzes, f"{TITLE} (seed {seed})")


def moodle_document(worked: Sequence[tuple[Any, Any]], seed: int) -> str:
    from symconv.render.moodle import NumericalQuestion, render_quiz
    from symconv.teaching.domains import AnswerParts
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
            labels=asked.labels() if isinstance(asked, AnswerParts) else (),
        )
        categories.setdefault(exercise.number, (path, []))[1].append(question)
    return render_quiz(list(categories.values()))


VARIANT_FILES = ("questions.tex", "solutions.tex", "questions.pdf", "solutions.pdf", "key.json", "moodle.xml", "canvas.zip")


def write_all(
    publication: Any, documents: dict[str, str | bytes], compile_pdfs: bool, roster_lines: dict[str, int]
) -> list[Path]:
    """Write the documents (and compile the PDFs) in the publication's scratch folder, then put the set in place."""
    from symconv.teaching import publish

    sources = {name: publication.write(name, text) for name, text in documents.items()}
    if compile_pdfs and publish.latexmk_available():
        for name, text in documents.items():
            if name.endswith(".tex") and isinstance(text, str):
                publish.compile_named(sources[name], functools.partial(_where, name, text, roster_lines))
    return publication.commit()


def _where(name: str, source: str, roster_lines: dict[str, int], line: int | None) -> str:
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
        call = functools.partial(stress, exercise, arguments.n, arguments.seed, pins, progress=progress)
        report = guarded(f"{exercise.where}: stress", call)
    finally:
        progress.close()
    return report.text()
