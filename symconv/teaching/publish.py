"""Writing documents: atomic files, and PDF compilation with latexmk when it is installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from symconv.core.errors import SymconvError
from symconv.render.scripts import OTHER_SCRIPTS


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


def compile_pdf(tex: Path) -> Path:
    """Compile ``tex`` in a scratch folder and move the PDF beside it; on failure say the log's first error."""
    with tempfile.TemporaryDirectory(prefix="symconv-tex-") as scratch:
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
        completed = subprocess.run(command, cwd=scratch, capture_output=True, text=True, env=environment)
        built = Path(scratch) / f"{tex.stem}.pdf"
        if completed.returncode != 0 or not built.exists():
            log = Path(scratch) / f"{tex.stem}.log"
            raise SymconvError(
                f"{tex}: LaTeX failed: {first_error(log.read_text(errors='replace') if log.exists() else completed.stdout)}"
            )
        target = tex.with_suffix(".pdf")
        temporary = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(built, temporary)
        os.replace(temporary, target)
        return target


def first_error(log: str) -> str:
    """The first ``! …`` line of a TeX log, with the line number TeX reports after it."""
    match = re.search(r"^! (.*)$", log, flags=re.MULTILINE)
    if match is None:
        return "no error line in the log"
    line = re.search(r"^l\.(\d+)", log[match.end() :], flags=re.MULTILINE)
    return match.group(1) + (f" (line {line.group(1)})" if line else "")
