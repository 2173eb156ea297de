"""Interruption: SIGINT, SIGTERM and SIGHUP sent halfway through a run remove its scratch and TeX folders,
print one line and exit 128 + the signal; the output folder is as it was. A run killed outright leaves a
scratch folder that the next run removes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symconv.teaching.publish import SCRATCH_PREFIX, TEX_PREFIX, latexmk_available

ROOT = Path(__file__).resolve().parent.parent


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(path.relative_to(folder)): None if path.is_dir() else path.read_bytes() for path in sorted(folder.rglob("*"))}


@pytest.fixture
def workspace(tmp_path):
    """An output folder holding an earlier set, a roster long enough to take a while, and a private temp folder."""
    out, temporary = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    temporary.mkdir()
    for name in ("questions.tex", "solutions.tex", "key.json"):
        (out / name).write_text(f"the earlier {name}\n")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"s{index},Student {index}\n" for index in range(400)), encoding="utf-8")
    return out, temporary, roster


def start(out: Path, temporary: Path, roster: Path, formats: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "symconv", "variants", "--seed", "3", "--students", str(roster)]
    command += ["--exercises", "1,3,4", "--format", formats, "--out", str(out)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temporary)}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)


def wait_for(folder: Path, prefix: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(path.name.startswith(prefix) for path in folder.iterdir()):
            return
        if process.poll() is not None:
            pytest.fail(f"the run ended before {prefix}… appeared: {process.communicate()}")
        time.sleep(0.01)
    process.kill()
    pytest.fail(f"no {prefix}… folder appeared in {folder}")


@pytest.mark.parametrize("name, status", [("SIGTERM", 143), ("SIGINT", 130), ("SIGHUP", 129)])
def test_a_signal_while_variants_are_drawn(name, status, workspace):
    out, temporary, roster = workspace
    before = snapshot(out)
    process = start(out, temporary, roster, "latex,json,moodle")
    wait_for(out, SCRATCH_PREFIX, process)
    process.send_signal(getattr(signal, name))
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == status
    assert stderr == "interrupted\n" and stdout == ""
    assert snapshot(out) == before
    assert list(temporary.iterdir()) == []


@pytest.mark.tex
@pytest.mark.skipif(not latexmk_available(), reason="needs latexmk")
def test_sigterm_halfway_through_a_pdf_build(workspace):
    out, temporary, roster = workspace
    before = snapshot(out)
    process = start(out, temporary, roster, "pdf,json")
    wait_for(temporary, TEX_PREFIX, process, seconds=240)
    time.sleep(0.3)  # latexmk and pdflatex are at work now
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and stderr == "interrupted\n"
    assert snapshot(out) == before
    assert list(temporary.iterdir()) == []


def test_the_next_run_removes_what_a_killed_run_left(workspace, tmp_path):
    out, temporary, roster = workspace
    before = snapshot(out)
    process = start(out, temporary, roster, "json")
    wait_for(out, SCRATCH_PREFIX, process)
    process.kill()  # SIGKILL: nothing can clean up
    process.communicate(timeout=60)
    assert any(path.name.startswith(SCRATCH_PREFIX) for path in out.iterdir())
    assert {name: data for name, data in snapshot(out).items() if not name.startswith(SCRATCH_PREFIX)} == before
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "symconv",
            "variants",
            "--seed",
            "1",
            "-n",
            "1",
            "--exercises",
            "1",
            "--format",
            "json",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temporary)},
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert not any(path.name.startswith(SCRATCH_PREFIX) for path in out.iterdir())


@pytest.mark.tex
@pytest.mark.skipif(not latexmk_available(), reason="needs latexmk")
def test_sigterm_during_the_sheets_pdf_step_keeps_the_old_set(tmp_path):
    out, temporary = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    temporary.mkdir()
    for name in ("questions.tex", "solutions.tex", "questions.pdf", "solutions.pdf"):
        (out / name).write_text(f"the earlier {name}\n")
    before = snapshot(out)
    process = subprocess.Popen(
        [sys.executable, "-m", "symconv", "sheet", "--exercises", "1-4", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temporary)},
    )
    wait_for(temporary, TEX_PREFIX, process, seconds=240)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and stderr == "interrupted\n" and stdout == ""
    assert snapshot(out) == before  # no new .tex beside the old PDFs
    assert list(temporary.iterdir()) == []
