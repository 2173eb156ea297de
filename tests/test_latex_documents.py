"""The documents compile with a real TeX installation, and every exercise reaches the PDF."""

import re
import shutil
import subprocess

import pytest

from symconv.render import latex_solution
from symconv.teaching import exercises
from symconv.teaching.publish import compile_pdf, write_atomic
from symconv.teaching.sheet import write_sheet

needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    out = tmp_path_factory.mktemp("sheet")
    return out, write_sheet(None, out, pdf=True)


@pytest.mark.tex
@needs_tex
def test_the_sheet_compiles_both_documents(sheet):
    out, written = sheet
    assert {path.name for path in written} == {"questions.tex", "solutions.tex", "questions.pdf", "solutions.pdf"}


@pytest.mark.tex
@needs_tex
@needs_pdftotext
@pytest.mark.parametrize("document", ["questions", "solutions"])
def test_every_exercise_reaches_the_pdf(sheet, document):
    out, _ = sheet
    words = subprocess.run(["pdftotext", str(out / f"{document}.pdf"), "-"], capture_output=True, text=True).stdout
    for number in exercises.load():
        assert f"Exercise {number}." in words


@pytest.mark.tex
@needs_tex
@pytest.mark.parametrize("number", [1, 4, 10])
def test_one_exercise_is_a_complete_document(number, tmp_path):
    solution = exercises.get(number).solution()
    tex = write_atomic(
        tmp_path / f"exercise{number}.tex", latex_solution.document(solution.title, latex_solution.render_solution(solution))
    )
    assert compile_pdf(tex).stat().st_size > 1000


@pytest.mark.tex
@needs_tex
def test_a_tex_error_names_the_first_error_and_keeps_the_source(tmp_path):
    tex = write_atomic(tmp_path / "broken.tex", latex_solution.document("broken", "\\notamacro"))
    with pytest.raises(exercises.SymconvError, match=r"LaTeX failed: Undefined control sequence. \(line \d+\)"):
        compile_pdf(tex)
    assert tex.exists() and not tex.with_suffix(".pdf").exists()


@pytest.mark.tex
@needs_tex
@pytest.mark.parametrize("document", ["questions", "solutions"])
def test_no_line_runs_more_than_ten_points_into_the_margin(sheet, document, tmp_path):
    out, _ = sheet
    subprocess.run(
        ["latexmk", "-pdf", "-interaction=nonstopmode", f"-outdir={tmp_path}", str(out / f"{document}.tex")],
        capture_output=True,
        check=True,
    )
    log = (tmp_path / f"{document}.log").read_text(errors="replace")
    overfull = [float(width) for width in re.findall(r"Overfull \\hbox \((\d+\.?\d*)pt too wide\)", log)]
    assert all(width <= 10 for width in overfull), overfull
