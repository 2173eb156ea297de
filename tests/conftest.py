"""Shared test helpers: run the CLI in-process and read its JSON."""

import json

import pytest

from symconv.cli import main


@pytest.fixture
def solve_json(capsys):
    def run(number: int) -> dict:
        assert main(["solve", str(number), "--format", "json"]) == 0
        return json.loads(capsys.readouterr().out)

    return run
