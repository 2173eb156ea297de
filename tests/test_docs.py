"""The tutorial in docs/explore.md runs as written: every output in it is the real one."""

import doctest
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "explore.md"


def test_exploration_tutorial_runs_as_written():
    pytest.importorskip("matplotlib", reason="the tutorial draws a plot: pip install symconv[plot]")
    results = doctest.testfile(str(TUTORIAL), module_relative=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert results.attempted > 30 and results.failed == 0
