"""Clean failure when writing files: every output set is built in a scratch folder and replaces the old
set whole; a bad output folder is found before the work; any failure (a full disk, an error injected at
write or at the final rename, a TeX error) leaves the folder byte-identical and no scratch behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import symconv.teaching.publish as publish
from symconv.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
SHEET = ["sheet", "--exercises", "1-3", "--no-pdf"]
VARIANTS = ["variants", "--seed", "4", "-n", "2", "--exercises", "1,3", "--format", "latex,json,moodle"]
PLOT = ["plot", "conv_output_size", "n=8:12", "kernel_size=3"]


def snapshot(folder: Path) -> dict[str, bytes | None] | None:
    """Every file and folder below ``folder``, hidden ones included, with the bytes of each file."""
    if not os.path.lexists(folder):
        return None
    if not folder.is_dir():
        return {"": folder.read_bytes()}
    return {str(path.relative_to(folder)): None if path.is_dir() else path.read_bytes() for path in sorted(folder.rglob("*"))}


def old_set(folder: Path, names=("questions.tex", "solutions.tex", "questions.pdf", "key.json")) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(f"the earlier {name}\n")
    (folder / "notes.txt").write_text("the teacher's own file\n")
    return snapshot(folder)


def one_error_line(capsys, *fragments: str) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: "), captured.err
    for fragment in fragments:
        assert fragment in captured.err, (fragment, captured.err)
    return captured.err


def no_scratch(folder: Path) -> bool:
    return not any(path.name.startswith((publish.SCRATCH_PREFIX, ".questions", ".solutions")) for path in folder.rglob("*"))


COMMANDS = {"sheet": SHEET, "variants": VARIANTS, "plot": PLOT}


def run_into(command: str, out: Path) -> int:
    target = out / "sweep.png" if command == "plot" else out
    return main([*COMMANDS[command], "--out", str(target)])


# ---- the folder is checked before the work ---------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_folder_that_is_a_file(command, tmp_path, capsys):
    path = tmp_path / "out"
    path.write_text("a file\n")
    before = snapshot(tmp_path)
    assert main([*COMMANDS[command], "--out", str(path / "sweep.png" if command == "plot" else path)]) == 2
    one_error_line(capsys, "--out=", "a file")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_folder_below_a_file(command, tmp_path, capsys):
    (tmp_path / "file").write_text("a file\n")
    before = snapshot(tmp_path)
    assert run_into(command, tmp_path / "file" / "deeper" / "out") == 2
    one_error_line(capsys, "--out=", f"lies below {tmp_path / 'file'}, which is a file")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["sheet", "variants"])
def test_dev_null_is_not_a_folder(command, capsys):
    assert main([*COMMANDS[command], "--out", os.devnull]) == 2
    one_error_line(capsys, f"--out='{os.devnull}'", "not a folder")


@pytest.mark.parametrize(
    "command, name",
    [("sheet", "solutions.tex"), ("sheet", "questions.pdf"), ("variants", "key.json"), ("variants", "moodle.xml")],
)
def test_a_target_that_is_a_folder_is_found_first(command, name, tmp_path, capsys):
    out = tmp_path / "out"
    old_set(out)
    (out / name).mkdir(exist_ok=True) if not (out / name).exists() else ((out / name).unlink(), (out / name).mkdir())
    (out / name / "inside.txt").write_text("kept\n")
    before = snapshot(out)
    assert run_into(command, out) == 2
    one_error_line(capsys, f"{out / name} is a folder")
    assert snapshot(out) == before


def test_a_plot_onto_a_folder_is_refused(tmp_path, capsys):
    (tmp_path / "sweep.png").mkdir()
    before = snapshot(tmp_path)
    assert main([*PLOT, "--out", str(tmp_path / "sweep.png")]) == 2
    one_error_line(capsys, "--out=")
    assert snapshot(tmp_path) == before


# ---- the whole set replaces the old one -------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_success_replaces_the_set_and_leaves_other_files(command, tmp_path, capsys):
    out = tmp_path / "out"
    old_set(out)
    assert run_into(command, out) == 0
    written = [Path(line.removeprefix("wrote ")) for line in capsys.readouterr().out.splitlines() if line.startswith("wrote ")]
    assert written and all(path.parent == out and path.is_file() for path in written)
    assert (out / "notes.txt").read_text() == "the teacher's own file\n"
    assert no_scratch(out)
    family = {"sheet": ("questions.tex", "solutions.tex", "questions.pdf"), "variants": ("questions.tex", "key.json")}
    for name in family.get(command, ()):
        # A file of the set either is new or is gone (an earlier PDF does not outlive its source).
        assert not (out / name).exists() or not (out / name).read_text(errors="replace").startswith("the earlier")


def test_a_new_folder_is_made_and_removed_again_on_failure(tmp_path, capsys, monkeypatch):
    def failing(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish, "open", failing, raising=False)
    assert main([*SHEET, "--out", str(tmp_path / "new" / "deeper")]) == 2
    one_error_line(capsys, "No space left on device")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["sheet", "variants"])
@pytest.mark.parametrize("failing_write", [1, 2, 3])
def test_an_error_at_write_leaves_the_old_set(command, failing_write, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    before = old_set(out)
    writes = []
    real_open = open

    def open_until_full(path, *args, **kwargs):
        writes.append(path)
        if len(writes) == failing_write:
            raise OSError(28, "No space left on device", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(publish, "open", open_until_full, raising=False)
    code = run_into(command, out)
    if len(writes) < failing_write:  # the set has fewer files than that: nothing failed
        assert code == 0
        return
    assert code == 2
    one_error_line(capsys, "No space left on device")
    assert snapshot(out) == before


@pytest.mark.parametrize("failing_replace", [1, 2, 3])
def test_an_error_while_putting_the_set_in_place_restores_the_old_one(failing_replace, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    before = old_set(out)
    replaced = []
    real_replace = os.replace

    def replace(source, target):
        if Path(target).parent == out:
            replaced.append(target)
            if len(replaced) == failing_replace:
                raise OSError(5, "Input/output error")
        return real_replace(source, target)

    monkeypatch.setattr(publish.os, "replace", replace)
    assert run_into("variants", out) == 2
    one_error_line(capsys, "Input/output error")
    monkeypatch.undo()
    assert snapshot(out) == before


# ---- stale scratch ----------------------------------------------------------------------------------


def dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except OSError:
            pass
        pid += 1


def test_stale_scratch_of_a_killed_run_is_removed(tmp_path, capsys, monkeypatch):
    out, temporary = tmp_path / "out", tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setattr(publish.tempfile, "tempdir", None)
    dead, alive = dead_pid(), os.getppid()
    for folder in (out / f"{publish.SCRATCH_PREFIX}{dead}-x", temporary / f"{publish.TEX_PREFIX}{dead}-y"):
        folder.mkdir(parents=True)
        (folder / "solutions.tex").write_text("half\n")
    (out / f"{publish.SCRATCH_PREFIX}{alive}-z").mkdir()
    assert run_into("sheet", out) == 0
    assert not (out / f"{publish.SCRATCH_PREFIX}{dead}-x").exists()
    assert not (temporary / f"{publish.TEX_PREFIX}{dead}-y").exists()
    assert (out / f"{publish.SCRATCH_PREFIX}{alive}-z").exists()  # a running process's scratch is left alone
    monkeypatch.setattr(publish.tempfile, "tempdir", None)


# ---- TeX failures name their input ---------------------------------------------------------------------


def failing_tex(section_text: str):
    """compile_pdf stand-in: TeX fails one line after the first line containing ``section_text``."""

    def compile_pdf(tex: Path) -> Path:
        lines = tex.read_text().splitlines()
        line = next(index for index, text in enumerate(lines, start=1) if section_text in text) + 1
        raise publish.TexFailure(f"{tex}: LaTeX failed", "Undefined control sequence.", line)

    return compile_pdf


def test_a_tex_failure_names_the_exercise(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(publish, "latexmk_available", lambda: True)
    monkeypatch.setattr(publish, "compile_pdf", failing_tex(r"\section*{Exercise 2."))
    out = tmp_path / "out"
    before = old_set(out)
    assert main(["sheet", "--exercises", "1-3", "--out", str(out)]) == 2
    message = one_error_line(capsys, "questions.tex, Exercise 2.", "LaTeX failed: Undefined control sequence.")
    assert publish.SCRATCH_PREFIX not in message
    assert snapshot(out) == before


def test_a_tex_failure_names_the_student_and_roster_line(tmp_path, capsys, monkeypatch):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns1,Ada\n\ns2,Grace\ns3,Edsger\n", encoding="utf-8")
    monkeypatch.setattr(publish, "latexmk_available", lambda: True)
    monkeypatch.setattr(publish, "compile_pdf", failing_tex("Grace (s2)"))
    out = tmp_path / "out"
    assert (
        main(["variants", "--seed", "1", "--students", str(roster), "--exercises", "1", "--out", str(out), "--format", "pdf"])
        == 2
    )
    one_error_line(capsys, "student Grace (s2), roster line 4")
    assert not out.exists()


@pytest.mark.tex
@pytest.mark.skipif(not publish.latexmk_available(), reason="needs latexmk")
def test_a_real_tex_failure_names_the_exercise(tmp_path, capsys):
    folder = tmp_path / "derivations"
    folder.mkdir()
    for number, question in ((1, "A fine question."), (2, r"A question with $\notamacro$ in it.")):
        (folder / f"ex0{number}_q.py").write_text(
            "from symconv.core.solution import Worked\nfrom symconv.teaching.exercises import Exercise\n\n"
            f"EXERCISE = Exercise({number}, 'Question {number}', {question!r}, lambda params: Worked([], {{}}, 'Done.'))\n"
        )
    out = tmp_path / "out"
    code = main(["--derivations", str(folder), "sheet", "--out", str(out)])
    captured = capsys.readouterr()
    if code == 0:
        pytest.skip("the renderer escaped the macro, so TeX had nothing to refuse")
    assert code == 2 and "Exercise 2. Question 2" in captured.err and "LaTeX failed" in captured.err
    assert not out.exists()


# ---- a real full disk ---------------------------------------------------------------------------------


def in_small_filesystem(tmp_path: Path, size: str, script: str, read_only: bool = False) -> subprocess.CompletedProcess:
    """Run ``script`` (sh) with a fresh tmpfs of ``size`` mounted at tmp_path/mnt, in a private mount namespace."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare")
    mount = tmp_path / "mnt"
    mount.mkdir()
    options = f"size={size}" + (",ro" if read_only else "")
    command = f"mount -t tmpfs -o {options} tmpfs {mount} || exit 77\n{script}"
    completed = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", command],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    if completed.returncode == 77 or "unshare failed" in completed.stderr or "Operation not permitted" in completed.stderr:
        pytest.skip("cannot mount a tmpfs here")
    return completed


def test_a_full_disk_leaves_the_old_set(tmp_path):
    python = sys.executable
    script = f"""
set -e
mkdir {tmp_path}/mnt/out
printf 'the earlier questions\\n' > {tmp_path}/mnt/out/questions.tex
printf 'the earlier solutions\\n' > {tmp_path}/mnt/out/solutions.tex
cd {tmp_path}/mnt/out && ls -A > {tmp_path}/before && cat questions.tex solutions.tex >> {tmp_path}/before
set +e
{python} -m symconv sheet --no-pdf --out {tmp_path}/mnt/out
echo "status $?"
cd {tmp_path}/mnt/out && ls -A > {tmp_path}/after && cat questions.tex solutions.tex >> {tmp_path}/after
"""
    completed = in_small_filesystem(tmp_path, "24k", script)
    assert "status 2" in completed.stdout, completed.stderr
    assert completed.stderr.startswith("error: ") and completed.stderr.count("\n") == 1
    assert "No space left on device" in completed.stderr and "Traceback" not in completed.stderr
    assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text()


def test_a_read_only_folder_is_found_before_the_work(tmp_path):
    script = f'{sys.executable} -m symconv sheet --no-pdf --out {tmp_path}/mnt/out; echo "status $?"'
    completed = in_small_filesystem(tmp_path, "64k", script, read_only=True)
    assert "status 2" in completed.stdout
    assert completed.stderr == f"error: --out='{tmp_path}/mnt/out': {tmp_path}/mnt is not writable\n"


class Interruption(BaseException):
    """What the signal handler raises, stood in for here."""


@pytest.mark.parametrize("at_replace", [1, 2, 4])
def test_an_interruption_while_putting_the_set_in_place_restores_the_old_one(at_replace, tmp_path, monkeypatch):
    out = tmp_path / "out"
    before = old_set(out)
    real_replace = os.replace
    count = []

    def replace(source, target):
        if Path(target).parent == out and Path(source).parent.name != ".old":
            count.append(target)
            if len(count) == at_replace:
                raise Interruption()
        return real_replace(source, target)

    monkeypatch.setattr(publish.os, "replace", replace)
    with pytest.raises(Interruption):
        run_into("variants", out)
    monkeypatch.undo()
    assert snapshot(out) == before


def test_a_failing_backup_names_its_file_and_touches_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    before = old_set(out)

    def no_second_name(path, copy):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish, "_keep", no_second_name)
    assert run_into("sheet", out) == 2
    one_error_line(capsys, f"cannot write {out / 'questions.tex'}: No space left on device")
    assert snapshot(out) == before
