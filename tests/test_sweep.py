"""Sweeps against PyTorch point by point, their tables and plots' data, and the sweep / plot / solve-for commands."""

import csv
import io
import subprocess
import sys

import numpy
import pytest
import torch
import torch.nn.functional as F
from torch_truth import conv_length, pool_length

from symconv import SymconvError, conv_output_size, pool_output_size
from symconv.cli import main as cli
from symconv.core.formula import Formula
from symconv.explore.identities import stacked_receptive_field
from symconv.explore.sweep import model_sweep, parse_values, sweep


def torch_receptive_field(layers, stride, dilation):
    """Span of the inputs reaching the first output of `layers` 3-tap convolutions (autograd)."""
    signal = torch.ones(1, 1, 1 + 2 * layers * dilation * stride**layers, requires_grad=True)
    output = signal
    for _ in range(layers):
        output = F.conv1d(output, torch.ones(1, 1, 3), stride=stride, dilation=dilation)
    output[0, 0, 0].backward()
    touched = torch.nonzero(signal.grad[0, 0]).flatten()
    return int(touched.max() - touched.min()) + 1


def test_a_grid_of_output_sizes_matches_torch_point_by_point():
    result = sweep(conv_output_size, n=range(1, 40), kernel_size=[1, 3, 5], stride=[1, 2, 3], padding=[0, 1])
    assert result.axes == ("n", "kernel_size", "stride", "padding") and len(result.rows) == 39 * 3 * 3 * 2
    for n, kernel_size, stride, padding, value in result.rows:
        assert value == conv_length(n, kernel_size, stride, padding)  # None where torch refuses too
    arrays = result.arrays()
    assert arrays["n"].dtype == numpy.int64 and numpy.isnan(arrays["n_out"]).any()


def test_ceil_mode_can_be_swept_too():
    result = sweep(pool_output_size, n=range(2, 30), kernel_size=[2, 3], ceil_mode=[False, True])
    for n, kernel_size, ceil_mode, value in result.rows:
        assert value == pool_length(n, kernel_size, ceil_mode=ceil_mode)


def counted_conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    counted_conv_output_size.calls += 1
    return conv_output_size.function(n, kernel_size, stride, padding, dilation)


def test_a_valid_grid_goes_through_the_formula_function_once():
    counted = Formula(counted_conv_output_size, "n_out", "pixels")
    counted_conv_output_size.calls = 0
    result = sweep(counted, n=numpy.arange(10, 10_010), kernel_size=3, stride=[1, 2])
    assert counted_conv_output_size.calls == 1 and len(result.rows) == 20_000
    assert result.column("n_out")[-1] == (10_009 - 3) // 2 + 1 and isinstance(result.column("n_out")[-1], int)


def test_receptive_field_against_depth_for_plain_dilated_and_strided_stacks():
    pytest.importorskip("matplotlib", reason="plots need the plot extra: pip install symconv[plot]")
    stacks = sweep(
        stacked_receptive_field(kernel_size=3, stride="s", dilation="d"), L=range(1, 6), stride=[1, 2], dilation=[1, 2]
    )
    figure = stacks.plot(x="L")
    lines = figure.axes[0].lines
    assert len(lines) == 4
    for line, ((_, stride), (_, dilation)) in zip(lines, stacks.series("L")):
        assert list(line.get_xdata()) == [1, 2, 3, 4, 5]
        assert list(line.get_ydata()) == [torch_receptive_field(layers, stride, dilation) for layers in range(1, 6)]


def test_tables_in_text_csv_and_latex():
    result = sweep(conv_output_size, n=range(1, 6), kernel_size=3)
    text = result.text()
    assert "N_out" in text and "—" in text  # sizes 1 and 2 are too small for a 3-tap kernel
    rows = list(csv.reader(io.StringIO(result.csv())))
    assert rows[0] == ["n", "n_out"] and rows[1] == ["1", ""] and rows[-1] == ["5", "3"]
    assert r"\begin{tabular}{rr}" in result.latex() and r"$N_{\text{out}}$" in result.latex()
    assert result._repr_latex_().startswith("$$\\begin{array}") and repr(result) == text
    with pytest.raises(SymconvError, match="format"):
        result.render("xml")


def test_plots_are_written_as_png_and_pdf(tmp_path):
    pytest.importorskip("matplotlib", reason="plots need the plot extra: pip install symconv[plot]")
    result = sweep(conv_output_size, n=range(5, 40), kernel_size=3, stride=[1, 2])
    for name in ("sizes.png", "sizes.pdf"):
        result.plot(out=tmp_path / "plots" / name)
        assert (tmp_path / "plots" / name).stat().st_size > 1000


def test_without_matplotlib_the_plot_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(SymconvError, match=r"pip install symconv\[plot\]"):
        sweep(conv_output_size, n=range(5, 8), kernel_size=3).plot()


def test_ranges_and_lists_from_the_command_line():
    assert parse_values("1:5") == range(1, 6) and parse_values("10:1:-3") == range(10, 0, -3)
    assert parse_values("1,2,4") == [1, 2, 4] and parse_values("7") == 7 and parse_values("true") is True
    for bad in ("1:", "a:b", "1:5:0", "x"):
        with pytest.raises(SymconvError):
            parse_values(bad)


def test_sweeps_need_an_axis_and_numbers():
    with pytest.raises(SymconvError, match="range or a list"):
        sweep(conv_output_size, n=5, kernel_size=3)
    with pytest.raises(SymconvError, match="numbers"):
        sweep(conv_output_size, n=range(3, 5), kernel_size="K")
    with pytest.raises(SymconvError, match="kernel_size"):
        sweep(conv_output_size, n=range(3, 5))
    with pytest.raises(SymconvError, match="needs a value"):
        sweep(stacked_receptive_field(), L=range(1, 4))


@pytest.fixture
def run(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("symconv.cli.explore",))

    def invoke(*argv):
        status = cli.main(list(argv))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return invoke


def test_sweep_command(run):
    status, out, _ = run("sweep", "conv_output_size", "n=5:8", "kernel_size=3", "stride=1,2", "--format", "csv")
    assert status == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["n", "stride", "n_out"] and len(rows) == 1 + 4 * 2
    assert all(int(value) == conv_length(int(n), 3, int(stride), 0) for n, stride, value in rows[1:])


def test_plot_command(run, tmp_path):
    pytest.importorskip("matplotlib", reason="plots need the plot extra: pip install symconv[plot]")
    out_file = tmp_path / "output" / "rf.png"
    status, out, _ = run("plot", "stacked_receptive_field", "L=1:6", "kernel_size=3,5", "--out", str(out_file))
    assert status == 0 and out.strip() == f"wrote {out_file}" and out_file.exists()


def test_solve_for_command(run):
    status, out, _ = run("solve-for", "conv_output_size", "padding", "112", "n=224", "kernel_size=7", "stride=2")
    assert status == 0 and "p ∈ {3}" in out
    status, out, _ = run(
        "solve-for", "conv_output_size", "padding", "N", "n=N", "kernel_size=K", "dilation=d", "--format", "latex"
    )
    assert status == 0 and r"\begin{align*}" in out
    status, out, _ = run("solve-for", "stacked_receptive_field", "L", ">=100", "kernel_size=3")
    assert status == 0 and "L ∈ {50, 51, 52, …}" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (("sweep", "no_such_formula", "n=1:3"), "formula='no_such_formula'"),
        (("sweep", "conv_output_size", "n=1:"), "n='1:'"),
        (("solve-for", "conv_output_size", "padding", "3", "n=1:4"), "one value"),
        (("solve-for", "conv_output_size", "padding", "3", "n"), "name=value"),
    ],
)
def test_command_errors_are_one_line(run, argv, message):
    status, _, err = run(*argv)
    assert status == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


def test_the_command_module_imports_neither_sympy_nor_numpy():
    code = "import sys, symconv.cli.explore; print(sorted({'sympy', 'numpy', 'matplotlib'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_resnet50_macs_against_input_size_step_with_the_floors(run):
    stairs = model_sweep("resnet50", range(193, 257))
    macs = dict(zip(stairs.column("size"), stairs.column("macs")))
    assert macs[224] == 4_089_184_256  # the published count
    assert all(macs[size] <= macs[size + 1] for size in range(193, 256))
    assert macs[223] == macs[224] and macs[224] < macs[225]  # ⌊(N − 1)/2⌋ + 1 is 112 for both 223 and 224
    status, out, _ = run("sweep", "resnet50", "size=223:225")
    assert status == 0 and out.count("4,089,184,256") == 2
    fields = model_sweep("resnet50", [224], quantity="receptive_field")
    assert fields.column("receptive_field") == [427]  # the published theoretical field of ResNet-50 (v1.5)
    assert model_sweep("resnet18", [224], quantity="params").column("params") == [11_689_512]
