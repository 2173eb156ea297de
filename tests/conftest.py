"""Shared test helpers: run the CLI in-process and read its JSON; hypothesis's CI profile."""

import json
import os

import pytest
from hypothesis import settings

# In CI the examples are drawn from a fixed seed, so a submission passes or fails on its own merits;
# locally each run explores new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

from symconv.cli.main import main  # noqa: E402  (after the hypothesis profile is chosen)


@pytest.fixture
def solve_json(capsys):
    def run(number: int) -> dict:
        assert main(["solve", str(number), "--format", "json"]) == 0
        return json.loads(capsys.readouterr().out)

    return run


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tests use tiny tensors: thread hand-offs would cost more than the arithmetic (and CI has 2 cores)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
