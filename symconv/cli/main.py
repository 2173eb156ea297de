"""Command line: symconv list | solve | sheet, plus the commands other modules register.

Each command is a subparser whose ``run`` default takes the parsed arguments and returns the text to
print. Feature modules (e.g. ``symconv.cli.analyze``) add theirs through ``add_command(commands)``,
listed in ``COMMAND_MODULES``; they keep their heavy imports inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Sequence

from symconv.core.errors import SymconvError, invalid
from symconv.core.limits import MAX_EXERCISES

FORMATS = ("text", "latex", "markdown", "json")
COMMAND_MODULES: tuple[str, ...] = ("symconv.cli.analyze", "symconv.cli.variants", "symconv.cli.explore")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that states every default, so ``--help`` alone tells what a bare command does."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or "default" in text or action.required:
            return text
        return f"{text} (default: {action.default})".strip()


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one ``error: …`` line and exit status 2."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise SymconvError(message)


def parse_exercise_list(text: str) -> list[int]:
    """``1,2,5-7`` -> [1, 2, 5, 6, 7]; repeats merged, first order kept; ranges counted before they are listed."""
    numbers: dict[int, None] = {}
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        if not _ascii_number(first) or (dash and not _ascii_number(last)):
            raise invalid("--exercises", text, "must be numbers and ranges such as 1,2,5-7")
        start, stop = int(first), int(last or first)
        if stop < start:
            raise invalid("--exercises", text, f"range {part.strip()} runs backwards")
        if stop - start >= MAX_EXERCISES:
            raise invalid("--exercises", text, f"lists at most {MAX_EXERCISES} exercises")
        numbers.update(dict.fromkeys(range(start, stop + 1)))
        if len(numbers) > MAX_EXERCISES:
            raise invalid("--exercises", text, f"lists at most {MAX_EXERCISES} exercises")
    return list(numbers)


def _folder(text: str) -> Path:
    """A folder named on the command line; Path("") would quietly be the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a folder")
    return Path(text)


def _ascii_number(text: str) -> bool:
    """Digits 0-9 only: str.isdigit also accepts ² and other digits int() refuses; 30 digits is plenty."""
    return 0 < len(text) <= 30 and text.isascii() and text.isdigit()


def run_list(arguments: argparse.Namespace) -> str:
    from symconv.teaching import exercises

    registry = exercises.load(arguments.derivations)
    return "\n".join(
        f"{number:>3}  {exercise.title}" + (f"  (prose only: {exercise.prose_only})" if exercise.prose_only else "")
        for number, exercise in registry.items()
    )


def run_solve(arguments: argparse.Namespace) -> str:
    from symconv.teaching import exercises

    solution = exercises.get(arguments.exercise, arguments.derivations).solution()
    return render(solution, arguments.format)


def run_sheet(arguments: argparse.Namespace) -> str:
    from symconv.teaching.sheet import write_sheet

    numbers = None if arguments.exercises is None else parse_exercise_list(arguments.exercises)
    written = write_sheet(numbers, arguments.out, pdf=not arguments.no_pdf, folder=arguments.derivations)
    return "\n".join(f"wrote {path}" for path in written)


def render(solution, form: str) -> str:
    module = {"json": "json", "latex": "latex_solution", "markdown": "markdown", "text": "text"}[form]
    renderer = importlib.import_module(f"symconv.render.{module}")
    return renderer.render_solution(solution).rstrip("\n")


def build_parser() -> argparse.ArgumentParser:
    from symconv.core.version import __version__

    parser = _Parser(
        prog="symconv",
        description="Worked, exact solutions for CNN arithmetic exercises.",
        epilog="Run symconv COMMAND --help for a command's arguments.",
    )
    parser.add_argument("--version", action="version", version=f"symconv {__version__}")
    parser.add_argument(
        "--derivations", type=_folder, default=None, help="folder of exercise modules (default: the shipped ones)"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, title="commands", metavar="COMMAND")

    commands.add_parser("list", help="the exercises available").set_defaults(run=run_list)

    solve = commands.add_parser("solve", help="the worked solution of one exercise")
    solve.add_argument("exercise", type=int, help="its number, as symconv list shows it")
    solve.add_argument("--format", choices=FORMATS, default="text", help="how to write it")
    solve.set_defaults(run=run_solve)

    sheet = commands.add_parser("sheet", help="questions.tex and solutions.tex (and PDFs) for a set of exercises")
    sheet.add_argument(
        "--exercises", default=None, help=f"e.g. 1-7,9 (default: all; at most {MAX_EXERCISES}, repeats merged in order)"
    )
    # A string: Path("") would quietly be the current folder.
    sheet.add_argument("--out", default="output", help="the folder the documents are written to (default: output)")
    sheet.add_argument(
        "--no-pdf", action="store_true", help="write the .tex files only (default: PDFs too when latexmk is installed)"
    )
    sheet.set_defaults(run=run_sheet)

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from symconv.cli.signals import Interrupted, interruptible

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        with interruptible():
            parser = build_parser()
            if not argv:  # a bare `symconv`: what it can do, as a usage error
                print(parser.format_help(), end="", file=sys.stderr)
                return 2
            arguments = parser.parse_args(argv)
            output = arguments.run(arguments)
    except SymconvError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Interrupted as stop:  # the scratch is gone by now: every with and finally has run
        print("interrupted", file=sys.stderr)
        return stop.status
    try:
        print(output)
    except BrokenPipeError:  # the reader stopped early (symconv … | head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
