"""Limits: every request is bounded before work starts, each limit is stated in --help, and a request
over a limit is one error line, all under a 500 MB address-space limit (the run would need gigabytes
if anything were listed before it was counted)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from symconv.cli.main import build_parser, main
from symconv.core import limits
from symconv.core.errors import SymconvError
from symconv.teaching import variants

ROOT = Path(__file__).resolve().parent.parent
MEMORY = 500 * 2**20


def limited(*arguments: object) -> subprocess.CompletedProcess:
    """``python -m symconv`` with its address space capped at 500 MB."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))

    return subprocess.run(
        [sys.executable, "-m", "symconv", *map(str, arguments)],
        capture_output=True,
        text=True,
        preexec_fn=cap,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["sweep", "conv_output_size", "n=1:100000000"], f"at most {limits.MAX_SWEEP_POINTS}"),
        (["sweep", "conv_output_size", "n=1:100", "kernel_size=1:100", "stride=1:100", "padding=0:99"], "100000000 points"),
        (["plot", "conv_output_size", "n=1:1000000", "kernel_size=1:1000", "--out", "p.png"], "1000000000 points"),
        (["sweep", "resnet18", "size=1:100000"], f"at most {limits.MAX_MODEL_POINTS}"),
        (["sheet", "--exercises", "1-100000000", "--no-pdf"], f"at most {limits.MAX_EXERCISES} exercises"),
        (["sheet", "--exercises", "1-99999999999999", "--no-pdf"], f"at most {limits.MAX_EXERCISES} exercises"),
        (["stress", "1", "-n", "99999999999999999999"], f"at most {limits.MAX_STRESS}"),
        (["variants", "--seed", "1", "-n", "99999999999999", "--exercises", "1"], f"at most {limits.MAX_VARIANTS}"),
        (["variants", "--seed", "1", "--students", "/dev/zero", "--exercises", "1"], f"longer than {limits.MAX_ROSTER_LINE}"),
    ],
)
def test_requests_over_a_limit_fail_before_the_work_in_500_mb(arguments, message, tmp_path):
    if "--out" not in arguments and arguments[0] in ("sheet", "variants"):
        arguments = [*arguments, "--out", tmp_path / "out"]
    completed = limited(*arguments)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.startswith("error: ") and completed.stderr.count("\n") == 1 and message in completed.stderr
    assert "MemoryError" not in completed.stderr and "Traceback" not in completed.stderr
    assert not (tmp_path / "out").exists()


def test_the_largest_sweep_allowed_runs_in_500_mb():
    completed = limited("sweep", "conv_output_size", f"n=1:{limits.MAX_SWEEP_POINTS}", "kernel_size=3", "--format", "csv")
    assert completed.returncode == 0, completed.stderr[-500:]
    rows = completed.stdout.splitlines()
    assert len(rows) == limits.MAX_SWEEP_POINTS + 1
    assert rows[-1] == f"{limits.MAX_SWEEP_POINTS},{limits.MAX_SWEEP_POINTS - 2}"  # N - K + 1 at stride 1


def test_a_full_variant_set_is_counted_before_drawing(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("id\n" + "".join(f"s{index}\n" for index in range(limits.MAX_STUDENTS)), encoding="utf-8")
    count = limits.MAX_SET // limits.MAX_STUDENTS + 1
    arguments = ["variants", "--seed", "1", "--students", str(roster), "-n", str(count), "--exercises", "1"]
    arguments += ["--out", str(tmp_path / "out")]
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and f"more than {limits.MAX_SET} variants in one run" in err
    assert not (tmp_path / "out").exists()


def test_a_roster_at_the_limit_is_read_and_one_more_is_refused(tmp_path):
    roster = tmp_path / "roster.csv"
    header = "id,name\n"
    roster.write_text(header + "".join(f"s{index},Name {index}\n" for index in range(limits.MAX_STUDENTS)), encoding="utf-8")
    students = variants.read_roster(roster)
    assert len(students) == limits.MAX_STUDENTS and students[-1].line == limits.MAX_STUDENTS + 1
    with roster.open("a", encoding="utf-8") as stream:
        stream.write("one,More\n")
    with pytest.raises(SymconvError, match=f"at most {limits.MAX_STUDENTS} students"):
        variants.read_roster(roster)


@pytest.mark.parametrize("length, accepted", [(limits.MAX_ROSTER_LINE, True), (limits.MAX_ROSTER_LINE + 1, False)])
def test_roster_lines_are_bounded(length, accepted, tmp_path):
    roster = tmp_path / "roster.csv"
    name = "x" * (length - len("s1,"))
    roster.write_text(f"id,name\r\ns1,{name}\r\n", encoding="utf-8")
    if accepted:
        assert variants.read_roster(roster)[0].name == name
    else:
        with pytest.raises(SymconvError, match=f"line 2 is longer than {limits.MAX_ROSTER_LINE} characters"):
            variants.read_roster(roster)


def test_repeated_exercises_make_one_section_each(tmp_path, capsys):
    assert main(["sheet", "--exercises", ",".join(["2,1"] * 5000), "--no-pdf", "--out", str(tmp_path)]) == 0
    questions = (tmp_path / "questions.tex").read_text()
    assert questions.count("\\section*{Exercise") == 2
    assert questions.index("Exercise 2.") < questions.index("Exercise 1.")


def help_text(*command: str) -> str:
    parser = build_parser()
    subparsers = next(action for action in parser._actions if action.__class__.__name__ == "_SubParsersAction")
    return " ".join(subparsers.choices[command[0]].format_help().split())


@pytest.mark.parametrize(
    "command, limit",
    [
        ("sweep", limits.MAX_SWEEP_POINTS),
        ("sweep", limits.MAX_MODEL_POINTS),
        ("sheet", limits.MAX_EXERCISES),
        ("variants", limits.MAX_EXERCISES),
        ("variants", limits.MAX_VARIANTS),
        ("variants", limits.MAX_SET),
        ("variants", limits.MAX_STUDENTS),
        ("variants", limits.MAX_ROSTER_LINE),
        ("stress", limits.MAX_STRESS),
    ],
)
def test_each_limit_is_stated_in_help(command, limit):
    assert f"{limit}" in help_text(command)
