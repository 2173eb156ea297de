"""Input -> output pairs of the renderers, in the style of latexify-py's tests."""

from fractions import Fraction

import pytest
import sympy

from symconv import (
    conv_output_size,
    conv_params,
    derive,
    effective_kernel_size,
    pool_output_size,
    symbol,
)
from symconv.render import latex, markdown, text
from symconv.render.json import answer_value


@pytest.mark.parametrize(
    "formula, expected",
    [
        (
            conv_output_size,
            r"N_{\text{out}} = \left\lfloor\frac{N + 2 p - d \mathopen{}\left( K - 1 \mathclose{}\right) - 1}{s}\right\rfloor + 1",
        ),
        (effective_kernel_size, r"K_{\text{eff}} = d \mathopen{}\left( K - 1 \mathclose{}\right) + 1"),
    ],
)
def test_general_formula_in_the_writers_order(formula, expected):
    assert latex.formula_latex(formula) == expected


def lines(derivation, renderer=latex.expression_latex):
    return [renderer(step.expression) for step in derivation.steps]


def test_exercise_one_working_line_by_line():
    assert lines(derive(conv_output_size, 224, 7, 2, 3))[1:] == [
        r"\left\lfloor\frac{224 + 2 \cdot 3 - 1 \cdot \mathopen{}\left( 7 - 1 \mathclose{}\right) - 1}{2}\right\rfloor + 1",
        r"\left\lfloor\frac{224 + 6 - 6 - 1}{2}\right\rfloor + 1",
        r"\left\lfloor\frac{223}{2}\right\rfloor + 1",
        "111 + 1",
        "112",
    ]


def test_text_working_reads_like_the_textbook():
    assert lines(derive(conv_output_size, 224, 7, 2, 3), text.expression_text) == [
        "⌊(N + 2p − d(K − 1) − 1)/s⌋ + 1",
        "⌊(224 + 2·3 − 1·(7 − 1) − 1)/2⌋ + 1",
        "⌊(224 + 6 − 6 − 1)/2⌋ + 1",
        "⌊223/2⌋ + 1",
        "111 + 1",
        "112",
    ]


def test_symbolic_answers_are_simplified_and_never_show_negative_powers_of_two():
    derivation = derive(conv_params, "C", "C", 3, bias=False)
    assert derivation.value == 9 * symbol("C") ** 2
    rendered = latex.render_derivation(derivation)
    assert "9 C^{2}" in rendered and "2^{-1}" not in rendered and "+ 0" not in rendered


def test_ceil_mode_pooling_settles_the_branch_at_substitution():
    working = lines(derive(pool_output_size, 5, 2, ceil_mode=True), text.expression_text)
    assert working[1] == "min(⌊(5 + 2·0 − 1·(2 − 1) − 1 + 2 − 1)/2⌋, ⌊(5 + 0 − 1)/2⌋) + 1"
    assert working[-1] == "3"


@pytest.mark.parametrize(
    "value, expected",
    [
        (231211008, "231{,}211{,}008"),
        (9999, "9999"),
        (-3, "-3"),
        (Fraction(5, 2), r"\frac{5}{2}"),
        (Fraction(-1, 4), r"-\frac{1}{4}"),
        (symbol("C_in") * 2, r"2 C_{\text{in}}"),
        ([[1, 2], [3, 4]], r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}"),
    ],
)
def test_values_in_latex(value, expected):
    assert latex.value_latex(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (231211008, 231211008),
        (Fraction(5, 2), 2.5),
        (sympy.Integer(7), 7),
        (18 * symbol("C") ** 2, "18*C**2"),
        ([[Fraction(1, 2), 1]], [[0.5, 1]]),
    ],
)
def test_answers_in_json(value, expected):
    assert answer_value(value) == expected


@pytest.mark.parametrize(
    "prose, expected",
    [
        ("50% of 3×3 & more_", r"50\% of 3\(\times\)3 \& more\_"),
        (r"keeps $C_{\text{in}}$ as is", r"keeps $C_{\text{in}}$ as is"),
    ],
)
def test_prose_is_escaped_outside_math(prose, expected):
    assert latex.prose_latex(prose) == expected


def test_markdown_wraps_the_working_for_jupyter():
    rendered = markdown.render_derivation(derive(conv_output_size, 224, 7, 2, 3))
    assert rendered.startswith("$$\n\\begin{aligned}") and rendered.endswith("\\end{aligned}\n$$")


def test_negative_and_compound_values_are_bracketed_as_operands():
    def difference(a, b):
        return a * b - a

    working = lines(derive(difference, -3, 2))
    assert working[1] == r"\left( -3 \right) \cdot 2 - \left( -3 \right)"
    assert lines(derive(difference, symbol("C") + 1, 2))[1] == r"\left( C + 1 \right) \cdot 2 - \left( C + 1 \right)"


def test_figures_draw_the_answer_data():
    from symconv.core.solution import Bars, GridPanel, Grids
    from symconv.render import tikz

    grid = Grids((GridPanel("X", [[1, 2], [3, 4]], frozenset({(0, 1)})),))
    assert text.render_grids(grid) == "X:\n[  1  2* ]\n[  3   4 ]"
    drawn = tikz.render_grids(grid)
    assert r"\fill[yellow!45] (1,0) rectangle ++(1,-1);" in drawn and r"{$\displaystyle 4$}" in drawn
    bars = tikz.render_bars(Bars(("a", "b"), (1, 4)))
    assert "rectangle ++(1.0,0.750)" in bars and "rectangle ++(1.0,3.000)" in bars


def test_long_sums_break_before_an_operator_and_keep_every_term():
    def total(a, b, c, d, e, f, g, h):
        return a + b - c + d + e + f - (g + h)

    values = (123456789, 2345678, 3456789, 4567890, 5678901, 6789012, 7890123, 8901234)
    rendered = latex.render_derivation(derive(total, *values))
    assert " &\\quad - \\mathopen{}\\left( 7{,}890{,}123 + 8{,}901{,}234 \\mathclose{}\\right)" in rendered
    assert (
        rendered.count("&=") == 4
        and latex.integer_latex(sum(values[:2]) - values[2] + sum(values[3:6]) - sum(values[6:])) in rendered
    )


def test_displays_in_jupyter_and_in_a_terminal():
    import symconv

    derivation = derive(conv_output_size, 224, 7, 2, 3)
    assert derivation._repr_latex_().startswith("\\begin{align*}") and repr(derivation).startswith("N_out = ")
    solution = symconv.solve(1)
    assert repr(solution).startswith("Exercise 1. ") and "$$" in solution._repr_latex_()
    assert conv_output_size._repr_latex_().startswith("$\\displaystyle N_{\\text{out}} = ")


@pytest.mark.parametrize(
    "template, values, expected",
    [
        ("$n_{\\text{scores}} = {scores}$ scores", {"scores": 2}, "$n_{\\text{scores}} = 2$ scores"),
        ("$C_{out}$ = {out}", {"out": 64}, "$C_{out}$ = 64"),
        ("$2^{k}$ with k = {k}", {"k": 3}, "$2^{k}$ with k = 3"),
        ("9.28 times cheaper{magnitude}", {"magnitude": " (about 10)"}, "9.28 times cheaper (about 10)"),
        ("{unknown} stays", {}, "{unknown} stays"),
    ],
)
def test_placeholders_are_filled_but_never_a_latex_argument(template, values, expected):
    from symconv.core.solution import fill

    assert fill(template, values) == expected
