"""Publishing output sets: every file built in a scratch folder beside the output, then the whole set put in place.

Nothing of the old set is touched until every new file exists; on any failure the old set is back as it
was and the scratch is gone. Output-folder problems (a file where the folder should be, no permission,
a target that is a folder) are found before the work starts. Scratch folders carry the process id, so a
run killed outright (SIGKILL) leaves one that the next run recognises and removes.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from symconv.core.errors import SymconvError, invalid
from symconv.render.scripts import OTHER_SCRIPTS

SCRATCH_PREFIX = ".symconv-scratch-"
TEX_PREFIX = "symconv-tex-"
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8) to a temporary file beside ``path``, then rename it: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes private files; documents are ordinary ones
        with os.fdopen(handle, "wb") as stream:
            stream.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# ---- the output folder -----------------------------------------------------------------------------


def output_folder(text: str | os.PathLike, names: Iterable[str], argument: str = "--out") -> Path:
    """The output folder, checked before any work: it is (or can become) a writable folder, and none of the
    files of the set would replace a folder."""
    if str(text).strip() == "":
        raise invalid(argument, str(text), "must name a folder")
    out = Path(text)
    existing = out
    while not os.path.lexists(existing):
        existing = existing.parent
    if not existing.is_dir():
        kind = "a file" if existing.is_file() else "not a folder"
        where = "is" if existing == out else f"lies below {existing}, which is"
        raise invalid(argument, str(out), f"{where} {kind}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise invalid(argument, str(out), f"{existing} is not writable")
    for name in names:
        target = out / name
        if target.is_dir() and not target.is_symlink():
            raise invalid(argument, str(out), f"{target} is a folder; the file {name} cannot replace it")
    return out


class Publication:
    """One output set: ``with Publication(out, family) as publication:`` write files with ``write`` (or build
    them at ``scratch_path(name)``), then ``commit()``. ``family`` names every file the command can write:
    those of an older set that this one does not produce are removed with it, so no stale file is left beside
    the new ones."""

    def __init__(self, out: str | os.PathLike, family: Sequence[str], argument: str = "--out") -> None:
        self.family = tuple(family)
        self.argument = argument
        self.out = output_folder(out, self.family, argument)
        self.created: Path | None = None  # the outermost folder this run made, removed again on failure
        self.scratch: Path | None = None

    def __enter__(self) -> "Publication":
        missing = [folder for folder in (self.out, *self.out.parents) if not os.path.lexists(folder)]
        try:
            if missing:
                self.out.mkdir(parents=True)
                self.created = missing[-1]
            remove_stale_scratch(self.out)
            # Named before it is made, so an interruption at any point finds it to remove.
            self.scratch = self.out / f"{SCRATCH_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
            self.scratch.mkdir(mode=0o700)
        except BaseException as error:
            self.__exit__(type(error), error, None)
            if isinstance(error, OSError):
                raise self._error(self.out, error) from None
            raise
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
        if kind is not None:
            self._abandon()

    def _abandon(self) -> None:
        """Remove the folders this run created (they hold nothing of anyone else's)."""
        if self.created is not None:
            shutil.rmtree(self.created, ignore_errors=True)
            self.created = None

    def _error(self, path: Path, error: OSError) -> SymconvError:
        return invalid(self.argument, str(self.out), f"cannot write {path}: {error.strerror or error}")

    def scratch_path(self, name: str) -> Path:
        assert self.scratch is not None, "use the Publication as a context manager"
        return self.scratch / name

    def write(self, name: str, content: str | bytes) -> Path:
        """Write a file of the set (text as UTF-8) into the scratch folder."""
        path = self.scratch_path(name)
        try:
            with open(path, "wb") as stream:
                stream.write(content.encode("utf-8") if isinstance(content, str) else content)
        except OSError as error:
            raise self._error(self.out / name, error) from None
        return path

    def commit(self) -> list[Path]:
        """Put every file of the scratch in place and remove the family's files this set does not have.

        Each old file is first hard-linked into the scratch, so a failure half-way puts every old file back.
        """
        assert self.scratch is not None, "use the Publication as a context manager"
        order = {name: index for index, name in enumerate(self.family)}
        made = sorted(
            (path.name for path in self.scratch.iterdir() if path.is_file()), key=lambda name: (order.get(name, len(order)), name)
        )
        backup = self.scratch / ".old"
        backup.mkdir()
        replaced: list[str] = []  # names whose old file (if any) is safe in the backup
        target = self.out
        try:
            for name in dict.fromkeys([*made, *self.family]):
                target = self.out / name
                if os.path.lexists(target):
                    _keep(target, backup / name)
                replaced.append(name)
                if name in made:
                    os.chmod(self.scratch / name, 0o666 & ~_umask())
                    os.replace(self.scratch / name, target)
                elif os.path.lexists(target):
                    target.unlink()
        except BaseException as error:  # an OSError, or an interruption half-way: the old set back as it was
            for name in replaced:
                if os.path.lexists(backup / name):
                    os.replace(backup / name, self.out / name)
                else:
                    (self.out / name).unlink(missing_ok=True)
            if isinstance(error, OSError):
                raise self._error(target, error) from None
            raise
        self.created = None
        return [self.out / name for name in made]


def _keep(path: Path, copy: Path) -> None:
    """A second name for ``path`` (a copy where the file system has no hard links)."""
    try:
        os.link(path, copy, follow_symlinks=False)
    except OSError:
        shutil.copy2(path, copy, follow_symlinks=False)


def remove_stale_scratch(folder: Path) -> None:
    """Scratch folders of runs that no longer exist (killed outright); a live run's scratch is left alone."""
    stale = [path for path in _scratch_folders(folder, SCRATCH_PREFIX) if not _alive(path.name[len(SCRATCH_PREFIX) :])]
    stale += [
        path for path in _scratch_folders(Path(tempfile.gettempdir()), TEX_PREFIX) if not _alive(path.name[len(TEX_PREFIX) :])
    ]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)


def _scratch_folders(folder: Path, prefix: str) -> list[Path]:
    try:
        return [path for path in folder.iterdir() if path.name.startswith(prefix) and path.is_dir()]
    except OSError:
        return []


def _alive(rest: str) -> bool:
    """Whether the process named at the start of ``rest`` (``<pid>-…``) still runs; unknown names count as alive."""
    pid = rest.partition("-")[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


# ---- figures -----------------------------------------------------------------------------------------


def figure_target(text: str, argument: str = "--out") -> Path:
    """A figure's file: its suffix picks the format, and it must not name a folder."""
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        raise invalid(argument, text, f"names a folder; give a file such as {text.rstrip('/' + os.sep) or 'plot'}/sweep.png")
    path = Path(text)
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise invalid(argument, text, f"must end in {', '.join(FIGURE_SUFFIXES)} (the suffix picks the format)")
    existing = path.parent
    while not os.path.lexists(existing):
        existing = existing.parent
    if not existing.is_dir():
        raise invalid(argument, text, f"lies below {existing}, which is {'a file' if existing.is_file() else 'not a folder'}")
    return path


def publish_figure(text: str, draw: Callable[[], Any], argument: str = "--out") -> Path:
    """Check the target, then draw (a matplotlib Figure) and save it through a publication of one file."""
    path = figure_target(text, argument)
    with Publication(path.parent if str(path.parent) else ".", [path.name], argument) as publication:
        figure = draw()
        try:
            figure.savefig(publication.scratch_path(path.name), bbox_inches="tight", format=path.suffix.lower()[1:])
        except OSError as error:
            raise invalid(argument, text, f"cannot write: {error.strerror or error}") from None
        return publication.commit()[0]


# ---- PDFs ----------------------------------------------------------------------------------------------


def latexmk_available() -> bool:
    return shutil.which("latexmk") is not None


@lru_cache(maxsize=1)
def lualatex_available() -> bool:
    """LuaLaTeX with its font loader (Debian's texlive-luatex)."""
    if not (shutil.which("lualatex") and shutil.which("kpsewhich")):
        return False
    return bool(subprocess.run(["kpsewhich", "luaotfload.sty"], capture_output=True, text=True).stdout.strip())


def tex_engine(source: str) -> str:
    """latexmk's engine option: LuaLaTeX for a document that sets a script other than Latin (a student's
    name in Chinese, Greek, Arabic, …), pdfLaTeX, several times faster, for the rest."""
    body = source.partition("\\begin{document}")[2]
    return "-lualatex" if OTHER_SCRIPTS.search(body) and lualatex_available() else "-pdf"


class TexFailure(SymconvError):
    """LaTeX refused a document: the first error of its log and the source line it names."""

    def __init__(self, message: str, reason: str, line: int | None) -> None:
        super().__init__(message)
        self.reason, self.line = reason, line


def compile_pdf(tex: Path) -> Path:
    """Compile ``tex`` in a scratch folder and put the PDF beside it; on failure say the log's first error."""
    with tempfile.TemporaryDirectory(prefix=f"{TEX_PREFIX}{os.getpid()}-") as scratch:
        command = [
            "latexmk",
            tex_engine(tex.read_text()),
            "-interaction=nonstopmode",
            "-halt-on-error",
            f"-outdir={scratch}",
            str(tex.resolve()),
        ]
        # Fixed dates make the same source give the same PDF bytes (reproducible exam papers).
        environment = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
        returncode, stdout = _run_group(command, scratch, environment)
        built = Path(scratch) / f"{tex.stem}.pdf"
        if returncode != 0 or not built.exists():
            log = Path(scratch) / f"{tex.stem}.log"
            reason, line = first_error_line(log.read_text(errors="replace") if log.exists() else stdout)
            raise TexFailure(f"{tex}: LaTeX failed: {reason}", reason, line)
        target = tex.with_suffix(".pdf")
        temporary = target.with_name(f".{target.name}.tmp")
        try:
            shutil.copyfile(built, temporary)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return target


def compile_named(tex: Path, describe: Callable[[int | None], str]) -> Path:
    """``compile_pdf``, with a failure named by the input behind the failing line (``describe(line)``), not
    by a scratch file that is gone by the time the message is read."""
    try:
        return compile_pdf(tex)
    except TexFailure as failure:
        raise SymconvError(f"{describe(failure.line)}: LaTeX failed: {failure.reason}") from None


def _run_group(command: list[str], folder: str, environment: dict[str, str]) -> tuple[int, str]:
    """Run latexmk in a process group of its own, so an interruption stops pdflatex too before its folder goes."""
    process = subprocess.Popen(
        command, cwd=folder, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        stdout, _ = process.communicate()
    except BaseException:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        process.wait()
        raise
    return process.returncode, stdout or ""


def first_error(log: str) -> str:
    """The first ``! …`` line of a TeX log, with the line number TeX reports after it."""
    return first_error_line(log)[0]


def first_error_line(log: str) -> tuple[str, int | None]:
    """The first ``! …`` line of a TeX log (with its source line in words) and that line number."""
    match = re.search(r"^! (.*)$", log, flags=re.MULTILINE)
    if match is None:
        return "no error line in the log", None
    line = re.search(r"^l\.(\d+)", log[match.end() :], flags=re.MULTILINE)
    number = int(line.group(1)) if line else None
    return match.group(1) + (f" (line {number})" if number else ""), number


def section_at(source: str, line: int | None, heading: str = r"\\section\*\{(.*?)\}") -> str | None:
    """The last heading that opens before ``line`` of a LaTeX source (which exercise a failing line is in)."""
    if line is None:
        return None
    found = None
    for text in source.splitlines()[:line]:
        match = re.search(heading, text)
        if match:
            found = match.group(1)
    return found
