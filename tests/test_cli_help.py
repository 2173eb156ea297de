"""The command line explains itself: usage on a bare call, --version, a default in every help, symconv formulas."""

import argparse

import pytest

import symconv
from symconv.cli.explore import resolve
from symconv.cli.main import build_parser, main
from symconv.explore.identities import IDENTITIES
from symconv.formulas.catalogue import catalogue


def _parsers(parser: argparse.ArgumentParser, path: str = "symconv"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def _arguments():
    for path, parser in _parsers(build_parser()):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction, argparse._VersionAction)):
                continue
            yield pytest.param(action, formatter._expand_help(action), id=f"{path} {action.dest}")


def test_bare_call_prints_usage_and_commands_and_exits_two(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("usage: symconv")
    listed = {line.split()[0] for line in captured.err.splitlines() if line.startswith("    ") and line.split()}
    assert {"list", "solve", "sheet", "analyze", "variants", "stress", "formulas", "sweep", "plot", "solve-for"} <= listed


def test_version(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0 and capsys.readouterr().out == f"symconv {symconv.__version__}\n"


@pytest.mark.parametrize("action, text", list(_arguments()))
def test_every_argument_has_help_that_states_its_default(action, text):
    assert text.strip(), "no help text"
    if action.required or action.default in (None, False, []):
        return  # nothing is assumed: the help says what to give
    assert "default" in text and str(action.default) in text or "default:" in text


def test_formulas_lists_every_formula_with_its_notation(capsys):
    assert main(["formulas"]) == 0
    listing = capsys.readouterr().out
    for name, formula in catalogue().items():
        entry = next(line for line in listing.splitlines() if line.startswith(f"{name}("))
        assert all(parameter in entry for parameter in formula.signature.parameters)
    assert "kernel_size is K" in listing and "jump_in is j_(l-1)" in listing
    assert all(f"\n{name}(" in listing for name in IDENTITIES)


@pytest.mark.parametrize("name", [*catalogue(), *IDENTITIES])
def test_every_listed_formula_resolves(name):
    assert resolve(name) is not None


def test_solve_for_a_receptive_field_recurrence(capsys):
    assert main(["solve-for", "jump_growth", "stride", "4", "jump_in=2"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("s ∈ {2}")
