"""README.md shows real output: every ``$ symconv …`` command in it is run, every ``>>>`` example doctested.

In the expected output, a line ``...`` stands for any number of lines, so an example may be cut short.
"""

import doctest
import re
import shlex
from pathlib import Path

import pytest

from symconv.cli.main import main

README = Path(__file__).resolve().parent.parent / "README.md"
ELIDED = "..."


def _commands() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each ``$ symconv`` line inside a ```text block."""
    found = []
    for block in re.findall(r"```text\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, *expected = chunk.rstrip("\n").split("\n")
            found.append((command, expected))
    return found


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Line-for-line equality, where an ``...`` line absorbs any run of lines (trailing spaces ignored)."""
    if not expected:
        return not actual
    head, *rest = expected
    if head.strip() == ELIDED:
        return any(_matches(rest, actual[start:]) for start in range(len(actual) + 1))
    return bool(actual) and head.rstrip() == actual[0].rstrip() and _matches(rest, actual[1:])


def test_readme_shows_commands():
    assert len(_commands()) >= 8


@pytest.mark.parametrize("command, expected", _commands(), ids=[command for command, _ in _commands()])
def test_readme_command_prints_what_readme_shows(command, expected, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # commands that write files write them here
    program, *argv = shlex.split(command)
    assert program == "symconv"
    status = main(argv)
    captured = capsys.readouterr()
    actual = (captured.out + captured.err).rstrip("\n").split("\n")
    assert status == (2 if any(line.startswith("error:") for line in expected) else 0)
    assert _matches(expected, actual), "\n".join(["README shows:", *expected, "", "the command prints:", *actual])


def test_readme_python_examples_run_as_written():
    source = "\n".join(re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL))
    test = doctest.DocTestParser().get_doctest(source, {}, "README.md", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.tries >= 10 and runner.failures == 0
