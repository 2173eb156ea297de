"""The command line: listing, solving in every format, the sheet, and one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest

from symconv.cli.main import main


def test_list_shows_exercises_in_order(capsys):
    assert main(["list"]) == 0
    numbers = [int(line.split()[0]) for line in capsys.readouterr().out.splitlines()]
    assert numbers == sorted(numbers) and {1, 2, 3, 4, 5, 6, 7, 9, 10, 28} <= set(numbers)


@pytest.mark.parametrize(
    "form, marker", [("text", "N_out = ⌊"), ("latex", r"\begin{align*}"), ("markdown", "$$"), ("json", '"answers"')]
)
def test_solve_in_every_format(form, marker, capsys):
    assert main(["solve", "1", "--format", form]) == 0
    assert marker in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve", "99"], "exercise=99: no such exercise"),
        (["solve", "1", "--format", "xml"], "invalid choice: 'xml'"),
        (["sheet", "--exercises", "3-1", "--no-pdf"], "--exercises='3-1': range 3-1 runs backwards"),
        (["sheet", "--exercises", "a", "--no-pdf"], "--exercises='a': must be numbers and ranges"),
        (["--derivations", "/nonexistent", "list"], "derivations='/nonexistent': must be a folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_two(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("error: ") and message in captured.err


def test_a_broken_exercise_file_is_reported_not_raised(tmp_path, capsys):
    (tmp_path / "ex01_broken.py").write_text("raise RuntimeError('half written')\n")
    assert main(["--derivations", str(tmp_path), "list"]) == 2
    assert "failed to load: RuntimeError: half written" in capsys.readouterr().err


def test_sheet_writes_both_documents_and_nothing_else(tmp_path, capsys):
    assert main(["sheet", "--exercises", "1-3", "--out", str(tmp_path), "--no-pdf"]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["questions.tex", "solutions.tex"]
    solutions = (tmp_path / "solutions.tex").read_text()
    assert solutions.count("\\section*{Exercise") == 3 and solutions.rstrip().endswith("\\end{document}")


def test_the_console_script_runs_without_a_traceback():
    completed = subprocess.run([sys.executable, "-m", "symconv.cli.main", "solve", "0"], capture_output=True, text=True)
    assert completed.returncode == 2 and "Traceback" not in completed.stderr


def test_json_integers_stay_integers(capsys):
    main(["solve", "9", "--format", "json"])
    assert isinstance(json.loads(capsys.readouterr().out)["answers"]["macs"], int)
