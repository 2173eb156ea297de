"""The house style, checked with the rest: ruff's lint and format, and mypy on the package (all configured in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "symconv", "tests", "derivations", "bench"],
        ["ruff", "format", "--check", "symconv", "tests", "derivations", "bench"],
        ["mypy", "symconv"],
    ],
    ids=["ruff check", "ruff format", "mypy"],
)
def test_tool_reports_nothing(command):
    run = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
