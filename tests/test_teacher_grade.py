"""Solutions as a teacher hands them out: no word about the tools, every symbol defined, answers pinned by torch."""

import ast
import re
from dataclasses import replace
from fractions import Fraction

import pytest
import torch

import symconv
from symconv.cli.main import render
from symconv.core.derive import Derivation, derive
from symconv.core.solution import Equation, Solution, Text
from symconv.core.symbols import latex_name
from symconv.core.values import is_sympy
from symconv.render.latex import prose_latex
from symconv.render.latex_solution import render_text
from symconv.teaching.exercises import load

NUMBERS = sorted(load())
FORMATS = ("text", "latex", "markdown", "json")


@pytest.mark.parametrize("number", NUMBERS)
def test_no_solution_mentions_sympy_in_any_format(number):
    solution = symconv.solve(number)
    for form in FORMATS:
        assert "sympy" not in render(solution, form).lower(), f"exercise {number}, {form}"


# A symbol of inline or displayed LaTeX: a letter, a command or a \text{…} word, with its subscript.
_SYMBOL = re.compile(
    r"(\\(?:text|mathrm|operatorname)\{[^{}]*\}|\\[A-Za-z]+|[A-Za-z])"
    r"(\s*_\s*(?:\{(?:[^{}]|\{[^{}]*\})*\}|[A-Za-z0-9]))?"
)
# An index subscript (l, l-1, ij, 00): r_l defines the family r_{l-1}, r_0; g_{ij} defines g_{00}.
_INDEX = re.compile(r"^([^_]+)_\{?([A-Za-z0-9+\-, ]+)\}?$")


def symbols_in(latex):
    return {re.sub(r"\s+", "", match.group(0)) for match in _SYMBOL.finditer(latex)}


def family(token):
    indexed = _INDEX.match(token)
    return indexed.group(1) if indexed else None


def symbols_in_prose(prose):
    """The symbols written in the inline mathematics (between $ signs) of LaTeX prose."""
    return set().union(*(symbols_in(math) for math in prose.split("$")[1::2]))


def formula_symbols(derivation):
    """The symbols of a derivation's general line, and the free symbols of any symbolic value it shows."""
    names = set()
    for step in derivation.steps:
        called = {id(node.func) for node in ast.walk(step.expression) if isinstance(node, ast.Call)}
        for node in ast.walk(step.expression):
            if step.kind == "formula" and isinstance(node, ast.Name) and id(node) not in called:
                names.add(node.id)
            if isinstance(node, ast.Constant) and is_sympy(node.value):
                names |= {str(free) for free in getattr(node.value, "free_symbols", ())}
    return set().union(*(symbols_in(latex_name(name)) for name in names)) if names else set()


def undefined_symbols(solution: Solution):
    """(derivation, symbol) for each symbol of a general formula that nothing before it, or its note, defines.

    Defined are the symbols written in the question, in the prose before the formula or in its note,
    the left-hand sides of earlier lines, and the entries of matrices displayed earlier.
    """
    defined = symbols_in_prose(prose_latex(solution.question))
    missing = []
    for block in solution.blocks:
        if isinstance(block, Text):
            defined |= symbols_in_prose(render_text(block))
        elif isinstance(block, Equation):
            defined |= symbols_in(latex_name(block.lhs))
            defined |= {t for free in getattr(block.value, "free_symbols", ()) for t in symbols_in(latex_name(str(free)))}
        elif isinstance(block, Derivation):
            defined |= symbols_in_prose(prose_latex(block.note))
            families = {family(token) for token in defined} - {None}
            for symbol in sorted(formula_symbols(block) - defined):
                if family(symbol) not in families:
                    missing.append((block.lhs, symbol))
            defined |= symbols_in(latex_name(block.lhs))
    return missing


@pytest.mark.parametrize("number", NUMBERS)
def test_every_symbol_of_a_general_formula_is_defined_by_its_exercise(number):
    assert undefined_symbols(symconv.solve(number)) == []


def _solution_with(prose):
    return Solution(
        number=0,
        title="probe",
        question="A $K \\times K$ convolution maps $C_{\\text{in}}$ channels to $C_{\\text{out}}$.",
        params={},
        blocks=(Text(prose), derive(symconv.conv_params, "C_in", "C_out", 3, bias=False)),
        answers={},
    )


def test_the_symbol_check_catches_an_undefined_group_count():
    assert undefined_symbols(_solution_with("Every output channel has one filter per input channel.")) == [("params", "g")]
    assert undefined_symbols(_solution_with("With $g$ groups each filter sees $C_{\\text{in}}/g$ channels.")) == []


def test_a_definition_after_the_formula_comes_too_late():
    late = _solution_with("Every output channel has one filter per input channel.")
    late = replace(late, blocks=(*late.blocks, Text("Here $g$ is the number of groups.")))
    assert undefined_symbols(late) == [("params", "g")]


def test_an_index_defines_its_family_but_not_a_different_symbol():
    assert symbols_in("r_{l-1} + d(K - 1) j_l") == {"r_{l-1}", "d", "K", "j_l"}
    assert family("r_{l-1}") == family("r_l") == "r" and family(r"P_{\text{stack}}") is None


def parameters(module):
    return sum(p.numel() for p in module.parameters())


def test_depthwise_separable_ratios_are_torchs_and_equal_the_closed_form(solve_json):
    answers = solve_json(10)["answers"]
    kernel, c_in, c_out = 3, 64, 128
    standard = torch.nn.Conv2d(c_in, c_out, kernel, padding=1, bias=False)
    separable = torch.nn.Sequential(
        torch.nn.Conv2d(c_in, c_in, kernel, padding=1, groups=c_in, bias=False), torch.nn.Conv2d(c_in, c_out, 1, bias=False)
    )
    standard_params, separable_params = parameters(standard), parameters(separable)
    assert (standard_params, separable_params) == (73728, 8768)
    exact = symconv.solve(10).answers
    assert exact["params_ratio"] == Fraction(standard_params, separable_params)
    closed_form = Fraction(kernel**2 * c_out, kernel**2 + c_out)
    assert exact["params_ratio"] == exact["macs_ratio"] == closed_form
    assert round(answers["params_ratio"], 1) == 8.4


@pytest.mark.parametrize(("c_in", "c_out", "kernel", "size"), [(16, 32, 5, 7), (96, 64, 3, 14), (512, 512, 5, 28)])
def test_depthwise_separable_ratios_for_other_layers(c_in, c_out, kernel, size):
    answers = (
        symconv.exercise(10).solution(in_channels=c_in, out_channels=c_out, kernel_size=kernel, out_h=size, out_w=size).answers
    )
    standard = torch.nn.Conv2d(c_in, c_out, kernel, bias=False)
    separable = torch.nn.Sequential(
        torch.nn.Conv2d(c_in, c_in, kernel, groups=c_in, bias=False), torch.nn.Conv2d(c_in, c_out, 1, bias=False)
    )
    assert answers["params_ratio"] == Fraction(parameters(standard), parameters(separable))
    assert answers["params_ratio"] == answers["macs_ratio"] == Fraction(kernel**2 * c_out, kernel**2 + c_out)
