"""The student's notebook examples/explore.ipynb, run top to bottom in a Jupyter kernel as a student would."""

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "explore.ipynb"


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # A cell that raises stops the run with CellExecutionError, naming the cell and the error.
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    return notebook


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def outputs_of(cell, mime):
    return [output["data"][mime] for output in cell.outputs if mime in output.get("data", {})]


def test_the_notebook_is_kept_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.outputs and cell.execution_count is None for cell in code_cells(notebook))


def test_every_cell_runs_without_error_in_order(executed):
    cells = code_cells(executed)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    assert not [output for cell in cells for output in cell.outputs if output.output_type == "error"]
    # stderr may carry a library's one-off notice (matplotlib building its font cache), never a traceback.
    assert not [output for cell in cells for output in cell.outputs if "Traceback" in output.get("text", "")]


def test_cells_showing_symconv_objects_display_typeset_latex(executed):
    typeset = [cell for cell in code_cells(executed) if "typeset" in cell.metadata.get("tags", [])]
    assert len(typeset) >= 8
    for cell in typeset:
        (latex,) = outputs_of(cell, "text/latex")
        assert "\\" in latex, cell.source  # LaTeX commands, not a plain-text fallback


def test_what_the_cells_show(executed):
    shown = {cell.source.splitlines()[-1]: cell for cell in code_cells(executed)}
    assert outputs_of(shown["halve.values()"], "text/plain") == ["[3]"]
    assert (
        "112"
        in outputs_of(shown["symconv.derive(symconv.conv_output_size, 224, kernel_size=7, stride=2, padding=3)"], "text/latex")[0]
    )
    assert outputs_of(shown['sizes.plot(x="n")'], "image/png")  # the sweep's plot, inline
    macs = outputs_of(shown["report.macs"], "text/plain")[0]
    assert "H" in macs and "W" in macs and "floor" in macs
    assert "Answer" in outputs_of(shown["symconv.solve(1)"], "text/latex")[0]
    # Solutions and reports mix prose, tables and mathematics: notebooks get them as Markdown as well.
    for source in ("symconv.solve(1)", "report"):
        (markdown,) = outputs_of(shown[source], "text/markdown")
        assert "$$" in markdown


def test_the_networks_closed_form_at_32_by_32_is_what_torch_counts(executed):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    shown = {cell.source.splitlines()[-1]: cell for cell in code_cells(executed)}
    (macs,) = outputs_of(shown["report.subs(H=32, W=32).macs"], "text/plain")
    layers = torch.nn
    net = layers.Sequential(
        layers.Conv2d(3, 16, 3, padding=1),
        layers.ReLU(),
        layers.MaxPool2d(2),
        layers.Conv2d(16, 32, 3, stride=2, padding=1),
        layers.ReLU(),
        layers.AdaptiveAvgPool2d(1),
        layers.Flatten(),
        layers.Linear(32, 10),
    )
    with FlopCounterMode(display=False) as counter:
        net(torch.zeros(1, 3, 32, 32))
    assert int(macs) == counter.get_total_flops() // 2  # torch counts a multiply-accumulate as two FLOPs


def test_the_readme_excerpt_is_a_cell_and_its_output(executed):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    number, source, shown = re.search(
        r"^In \[(\d+)\]: (.*?)\nOut\[\1\]: (.*?)\n```", readme, flags=re.MULTILINE | re.DOTALL
    ).groups()
    cell = code_cells(executed)[int(number) - 1]
    assert [line.strip() for line in source.split("\n")] == cell.source.split("\n")
    (plain,) = outputs_of(cell, "text/plain")
    # The working as typeset, in its plain-text form: every line of the display after the heading.
    assert [line.strip() for line in shown.split("\n")] == [line.strip() for line in plain.split("\n")[1:]]
