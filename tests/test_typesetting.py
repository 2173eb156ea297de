"""Typesetting a teacher can hand out: labels as mathematics, no Python syntax or ASCII stand-ins in the
documents, grouped digits, and displays that fit the page. Read from solutions.tex, questions.tex, the
TeX log and the pdftotext of the PDFs, as a reader would meet them."""

import re
import shutil
import subprocess

import pytest

from symconv.core.errors import SymconvError
from symconv.render.latex import label_latex, matrix_latex
from symconv.render.text import label_text, matrix_text
from symconv.teaching import exercises
from symconv.teaching.sheet import write_sheet
from symconv.teaching.variants import sample

needs_tex = pytest.mark.skipif(
    shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
    reason="latexmk and pdftotext (poppler-utils) are needed",
)
DOCUMENTS = ("questions", "solutions")


@pytest.mark.parametrize(
    ("label", "latex", "text"),
    [
        (
            "∂L/∂K − rot180(∂L/∂Q)",
            r"\frac{\partial L}{\partial K} - \operatorname{rot180}\mathopen{}\left( \frac{\partial L}{\partial Q} \right)",
            "∂L/∂K − rot180(∂L/∂Q)",
        ),
        ("J − ∂F/∂x − I", r"J - \frac{\partial F}{\partial x} - I", "J − ∂F/∂x − I"),
        ("∂F/∂x − W_2·D·W_1", r"\frac{\partial F}{\partial x} - W_{2} D W_{1}", "∂F/∂x − W₂·D·W₁"),
        ("∂Y_00/∂x_00", r"\frac{\partial Y_{00}}{\partial x_{00}}", "∂Y₀₀/∂x₀₀"),
        (
            "BN(a·w·u) − BN(w·u)",
            r"\operatorname{BN}(a w u) - \operatorname{BN}(w u)",
            "BN(a·w·u) − BN(w·u)",
        ),
        ("∂y_1/∂w(a·w)", r"\left. \frac{\partial y_{1}}{\partial w} \right|_{a w}", "∂y₁/∂w(a·w)"),
        ("w·∂y_1/∂w = 0", r"w \cdot \frac{\partial y_{1}}{\partial w} = 0", "w·∂y₁/∂w = 0"),
        ("P_fc_weights", r"P_{\text{fc, weights}}", "P_(fc, weights)"),
        ("P_bn_stem", r"P_{\text{bn, stem}}", "P_(bn, stem)"),
        ("MACs_dw", r"\text{MACs}_{\text{dw}}", "MACs_dw"),
        ("C_3x3", r"C_{3 \times 3}", "C_3×3"),
        ("n_out", r"N_{\text{out}}", "N_out"),
        ("Y[0,1]", r"Y_{0,1}", "Y₀,₁"),
        ("ratio", r"\text{ratio}", "ratio"),
        ('∂L/∂X "at stride 1"', r"\frac{\partial L}{\partial X}\ \text{(at stride 1)}", "∂L/∂X (at stride 1)"),
        ('"full correlation"', r"\text{full correlation}", "full correlation"),
        ("K^2", r"K^{2}", "K^2"),
        ("F(x)", "F(x)", "F(x)"),
        ("w·∇_w L", r"w \cdot \nabla_{w} L", "w·∇_w L"),
        ("∇_w L(a·w)", r"\left. \nabla_{w} L \right|_{a w}", "∇_w L(a·w)"),
    ],
)
def test_a_label_is_mathematics_in_latex_and_unicode_in_text(label, latex, text):
    assert (label_latex(label), label_text(label)) == (latex, text)


@pytest.mark.parametrize("label", ["dL/dK - (", "G with zeros inserted"])
def test_a_label_outside_the_syntax_is_an_error_naming_it(label):
    with pytest.raises(SymconvError, match=r"^label="):
        label_latex(label)


def test_a_shared_fraction_is_pulled_out_of_a_matrix():
    import sympy

    g00, g01 = sympy.symbols("g_00 g_01")
    rows = [[g00 / 4, g00 / 4 + g01 / 4], [0, g01 / 4]]
    assert matrix_latex(rows).startswith(r"\frac{1}{4} \begin{pmatrix} g_{00} & g_{00} + g_{01}")
    assert matrix_text(rows).splitlines()[0].startswith("1/4 · [")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Both documents, compiled here so the TeX log can be read: {name: (tex, pdf text, log)}."""
    out = tmp_path_factory.mktemp("typesetting")
    write_sheet(None, out, pdf=False)
    found = {}
    for name in DOCUMENTS:
        subprocess.run(
            ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", f"-outdir={out}", str(out / f"{name}.tex")],
            capture_output=True,
            check=True,
        )
        words = subprocess.run(["pdftotext", str(out / f"{name}.pdf"), "-"], capture_output=True, text=True, check=True).stdout
        found[name] = ((out / f"{name}.tex").read_text(), words, (out / f"{name}.log").read_text(errors="replace"))
    return found


def labels(tex: str) -> list[str]:
    """The left sides of displayed values and the first lines of derivations, and the grid panels' titles."""
    displayed = re.findall(r"\\fitdisplay\{(.*?) = ", tex)
    derived = re.findall(r"^(\S.*?) &= ", tex, flags=re.M)
    panels = re.findall(r"\\node\[above\] at \([^)]*\) \{\$(.*?)\$\};", tex)
    return displayed + derived + panels


@needs_tex
def test_no_label_is_an_ascii_stand_in(built):
    tex = built["solutions"][0]
    found = labels(tex)
    assert len(found) > 100  # the pattern finds the labels it checks
    words = [(label, text) for label in found for text in re.findall(r"\\text\{([^{}]*)\}", label)]
    assert [(label, text) for label, text in words if re.search(r"[/\-_.]", text)] == []


@needs_tex
@pytest.mark.parametrize("document", DOCUMENTS)
def test_no_underscore_python_or_letter_x_reaches_the_reader(built, document):
    tex, words, _ = built[document]
    assert "_" not in words, words[max(0, words.find("_") - 80) : words.find("_") + 80]
    assert "columns 0 to" not in tex
    assert '"' not in words  # quotes are curly
    assert re.findall(r".{30}\d\s*x\s*\d.{30}", tex) == []


@needs_tex
@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_integer_of_five_or_more_digits_is_grouped(built, document):
    words = built[document][1]
    assert re.findall(r".{0,30}(?<![\d,.])\d{5,}(?!\d).{0,30}", words) == []


@needs_tex
@pytest.mark.parametrize("document", DOCUMENTS)
def test_nothing_runs_into_the_margin(built, document):
    log = built[document][2]
    assert re.findall(r"Overfull \\[hv]box.*", log) == []


def sequences(params):
    return [value for value in params.values() if isinstance(value, (list, tuple)) and len(value) > 1]


def test_no_question_shows_a_python_tuple():
    """Each sequence a question names reads as words in prose, never as Python prints it."""
    shown = []
    for exercise in exercises.load().values():
        variants = [variant.params for variant in sample(exercise, seed=1, count=3)] if exercise.parametrised else []
        for params in [dict(exercise.defaults), *variants]:
            # a vector inside mathematics, $u = (1, 2, 2, 0)$, is notation; prose is checked
            question = " ".join(exercise.question_text(params).split("$")[::2])
            shown += [(exercise.number, str(value)) for value in sequences(params) if str(value) in question]
            shown += [(exercise.number, question) for _ in re.findall(r"\(\(|\)\)", question)]
    assert shown == []


def test_products_follow_the_notations_reading_order():
    """Channels, then kernel, then spatial sizes, whatever sympy's alphabetical order; the value is untouched."""
    from symconv.core.symbols import symbols
    from symconv.render.latex import sympy_latex
    from symconv.render.text import value_text

    C, H, K, W, N, R, C_in, C_out = symbols("C", "H", "K", "W", "N", "R", "C_in", "C_out")
    assert [value_text(value) for value in (C * H * K * W, 26 * C * H * R * W, H * N * W)] == ["C·K·H·W", "26C·R·H·W", "N·H·W"]
    assert sympy_latex(C_in * C_out * H * K**2 * W) == r"C_{\text{in}} C_{\text{out}} K^{2} H W"


def test_levels_that_only_multiply_by_one_or_add_zero_are_folded():
    import sympy

    from symconv.core.derive import derive, derive_expression, weighted_sum
    from symconv.formulas.layers import pool_output_size
    from symconv.render.text import expression_text

    pooled = derive(pool_output_size, 75, 2)
    shown = [expression_text(step.expression) for step in pooled.steps]
    assert pooled.value == pool_output_size(75, 2)
    assert not any(re.search(r"(?<![\d/])1·|·1(?!\d)|\+ 0(?!\d)|− 0(?!\d)", line) for line in shown[2:]), shown
    assert all(before != after for before, after in zip(shown, shown[1:]))

    g, h, k = sympy.symbols("g h k")
    entry = derive_expression(weighted_sum([0, 0, g, h], [k, k, k, k]), lhs="y")
    assert [expression_text(step.expression) for step in entry.steps] == ["0·k + 0·k + g·k + h·k", "g·k + h·k"]


NAMES = {
    "Latin": "Zoë Łukasiewicz",
    "Greek": "Αλέξανδρος Παπαδόπουλος",
    "Cyrillic": "Анна Иванова",
    "Chinese": "李明",
    "Japanese": "田中さくら",
    "Korean": "김민수",
    "Arabic": "محمد العلي",
}


@pytest.mark.skipif(not (shutil.which("latexmk") and shutil.which("pdftotext")), reason="needs latexmk and pdftotext")
def test_a_roster_with_a_name_in_every_script_typesets(tmp_path):
    from symconv.cli.main import main
    from symconv.teaching.publish import lualatex_available

    if not lualatex_available():
        pytest.skip("needs LuaLaTeX (texlive-luatex) for names outside Latin")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"s{index},{name}\n" for index, name in enumerate(NAMES.values())), encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(
            [
                "variants",
                "--seed",
                "3",
                "--students",
                str(roster),
                "--exercises",
                "1",
                "--format",
                "pdf,moodle",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    for document in DOCUMENTS:
        words = subprocess.run(
            ["pdftotext", str(out / f"{document}.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert [script for script, name in NAMES.items() if name not in words] == []
    if shutil.which("xmllint"):
        subprocess.run(["xmllint", "--noout", str(out / "moodle.xml")], check=True)


@pytest.mark.parametrize(
    ("character", "rule"),
    [
        ("\ufffe", "U+FFFE, a character XML forbids"),
        ("\uffff", "U+FFFF, a character XML forbids"),
        ("\x01", "a control character (U+0001)"),
        ("\x85", "a control character (U+0085)"),
        ("\U0001f600", "U+1F600 (GRINNING FACE), which no font of the documents draws"),
    ],
)
def test_a_roster_line_no_document_can_hold_is_rejected_before_anything_is_written(tmp_path, capsys, character, rule):
    from symconv.cli.main import main

    roster = tmp_path / "roster.csv"
    roster.write_text(f"id,name\ns1,Ada\ns2,Bo{character}b\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["variants", "--seed", "3", "--students", str(roster), "--exercises", "1", "--out", str(out)]) == 2
    assert f"line 3 contains {rule}" in capsys.readouterr().err
    assert not out.exists()


def test_the_text_renderer_leaves_no_latex():
    from symconv.render.text import render_solution

    leftovers = []
    for number, exercise in exercises.load().items():
        rendered = render_solution(exercise.solution())
        leftovers += [(number, line) for line in rendered.splitlines() if re.search(r"\\[A-Za-z]|[{}$]", line)]
    assert leftovers == []
