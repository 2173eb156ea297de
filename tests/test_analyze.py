"""analyze(): receptive fields measured in torch, symbolic reports against numeric ones, renderings, errors, CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction

import pytest

torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_nn_torch import build  # noqa: E402

import symconv.networks.nn as sn  # noqa: E402
from symconv.cli import main as cli  # noqa: E402
from symconv.core.derive import Derivation  # noqa: E402
from symconv.core.errors import SymconvError  # noqa: E402
from symconv.core.solution import Table  # noqa: E402
from symconv.networks.analyze import (  # noqa: E402
    analyze,
    report_derivations,
    report_json,
)
from symconv.networks.models import resnet50, unet, vgg16  # noqa: E402
from symconv.networks.table import TABLE_WIDTH, format_table  # noqa: E402

# ---- receptive field: measured by propagating input columns through a positive torch network ------


def draw_window(data, channels: int, keep_size: bool) -> tuple:
    """A layer that passes positive values on and keeps zeros zero, so dependence is visible."""
    kind = data.draw(st.sampled_from(("conv", "conv", "maxpool", "avgpool", "relu", "bn", "convT")))
    k, d = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3))
    if keep_size:
        k = data.draw(st.sampled_from((1, 3, 5)))
        s, p = 1, d * (k - 1) // 2
    else:
        s, p = data.draw(st.integers(1, 3)), data.draw(st.integers(0, 2))
    if kind == "conv":
        return ("conv", channels, channels, k, s, p, d, 1, False)
    if kind == "convT":
        return (
            ("convT", channels, channels, k, s, p, 0, 1, False, d)
            if not keep_size
            else ("conv", channels, channels, k, 1, p, d, 1, False)
        )
    if kind in ("maxpool", "avgpool") and keep_size:
        return ("maxpool", k, 1, k // 2, 1, False) if kind == "maxpool" else ("avgpool", k, 1, k // 2, False, True)
    if kind == "maxpool":
        return ("maxpool", k, s, min(p, k // 2), d, False)
    if kind == "avgpool":  # count_include_pad: a window wholly in the padding would divide 0 by 0
        return ("avgpool", k, s, min(p, k // 2), False, True)
    return ("act", "ReLU") if kind == "relu" else ("bn", channels)


def draw_positive_network(data, channels: int, depth: int) -> tuple:
    layers = []
    for _ in range(data.draw(st.integers(1, 4))):
        choice = data.draw(st.sampled_from(("window", "window", "residual", "concat") if depth else ("window",)))
        if choice == "window":
            layers.append(draw_window(data, channels, keep_size=False))
        elif choice == "residual":  # a size-keeping body, or a strided body with a strided 1×1 shortcut
            stride = data.draw(st.integers(1, 2))
            body = (
                "seq",
                (
                    *(draw_window(data, channels, keep_size=True) for _ in range(data.draw(st.integers(1, 3)))),
                    ("conv", channels, channels, 1, stride, 0, 1, 1, False),
                ),
            )
            shortcut = None if stride == 1 else ("conv", channels, channels, 1, stride, 0, 1, 1, False)
            layers.append(("residual", body, shortcut, data.draw(st.booleans())))
        else:
            branches = tuple(
                ("seq", tuple(draw_window(data, channels, keep_size=True) for _ in range(data.draw(st.integers(1, 3)))))
                for _ in range(2)
            )
            layers.append(("seq", (("concat", branches), ("conv", 2 * channels, channels, 1, 1, 0, 1, 1, False))))
    return ("seq", tuple(layers))


def measured_field(model, channels: int, size: int) -> tuple[int, Fraction]:
    """Widest span of input columns one output column depends on, and the input step per output column.

    Input i is a column of ones at x = i; with weights 1 and biases 0 (batch norm: scale 1, shift 0,
    running statistics 0 and 1) every layer maps positive to positive and zero to zero, so output
    column x depends on input column i exactly when it is positive. The step is the translation
    symmetry of that dependence: moving P output columns moves the dependence by Q input columns,
    away from the borders; the smallest such P gives j = Q/P.
    """
    inputs = torch.zeros(size, channels, size, size, dtype=torch.float64)
    for column in range(size):
        inputs[column, :, :, column] = 1
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.fill_(0 if name.endswith("bias") else 1)
        depends = model(inputs).amax(dim=(1, 2)) > 0  # [input column, output column]
    spans = [column.nonzero().flatten().tolist() for column in depends.T]
    # A field that reaches the border of the input is cut off there: it does not show the layer's width.
    widths = [seen[-1] - seen[0] + 1 for seen in spans if seen and seen[0] > 0 and seen[-1] < size - 1]
    if not widths:
        return 0, None
    margin = max(widths) + 1
    outputs = depends.shape[1]
    for period in range(1, 13):
        for shift in range(0, 8 * period + 1):
            rows = slice(margin, size - margin - shift)
            if rows.start >= rows.stop or outputs <= period:
                break
            here = depends[rows, : outputs - period]
            there = depends[margin + shift : size - margin, period:]
            if here.any() and torch.equal(here, there):
                return max(widths), Fraction(shift, period)
    return max(widths), None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_receptive_field_matches_torch_dependence(data):
    channels = data.draw(st.integers(1, 2))
    spec = draw_positive_network(data, channels, 1)
    net = build(spec, "sc")
    try:
        probe = analyze(net, (channels, 64, 64))
    except SymconvError:
        return  # the network shrinks too fast for a 64-pixel input; other draws cover the rest
    if probe.receptive_field > 40 or probe.jump > 8:
        return
    size = max(64, math.ceil(2 * probe.receptive_field + 6 * probe.jump + 8))
    report = analyze(net, (channels, size, size))
    model = build(spec, "torch").eval().double()
    span, step = measured_field(model, channels, size)
    assert report.receptive_field == span
    if step is not None:
        assert report.jump == step


# ---- symbolic reports are the numeric ones, at every size ---------------------------------------


def test_symbolic_resnet50_equals_numeric_at_every_size():
    network = resnet50()
    symbolic = analyze(network, (3, "H", "W"))
    for side in range(32, 513):
        assert symbolic.subs(H=side, W=side) == analyze(network, (3, side, side)), side


def test_symbolic_report_with_different_heights_and_widths():
    network = resnet50()
    symbolic = analyze(network, (3, "H", "W"), convention="fvcore")
    for height, width in ((97, 193), (224, 160), (33, 512)):
        assert symbolic.subs(H=height, W=width) == analyze(network, (3, height, width), convention="fvcore")
    partial = symbolic.subs(H=224)
    assert [symbol.name for symbol in partial.symbols] == ["W"]
    assert partial.subs(W=224) == analyze(network, (3, 224, 224), convention="fvcore")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_symbolic_random_networks_equal_numeric(data):
    channels = data.draw(st.integers(1, 2))
    net = build(draw_positive_network(data, channels, 1), "sc")
    symbolic = analyze(net, (channels, "H", "W"))
    for height, width in ((data.draw(st.integers(1, 80)), data.draw(st.integers(1, 80))) for _ in range(3)):
        try:
            expected = analyze(net, (channels, height, width))
        except SymconvError:
            with pytest.raises(SymconvError):
                symbolic.subs(H=height, W=width)
            continue
        assert symbolic.subs(H=height, W=width) == expected


def test_symbolic_widths_and_kernels():
    """Channels and kernel sizes may be symbols too: parameters and MACs as polynomials."""
    import sympy

    C, K, H = sympy.symbols("C K H", integer=True, positive=True)
    report = analyze(sn.Sequential(sn.Conv2d("C", "C", "K", padding=0, bias=False), sn.ReLU()), ("C", 32, 32))
    C, K = (next(s for s in report.symbols if s.name == name) for name in ("C", "K"))
    assert report.params == C**2 * K**2
    assert sympy.expand(report.macs - C**2 * K**2 * (33 - K) ** 2) == 0
    assert report.receptive_field == K


# ---- published and known figures through the report ---------------------------------------------


def test_resnet50_report_totals_and_breakdown():
    report = analyze(resnet50(), (3, 224, 224))
    by_kind = {}
    for row in report.layers:
        by_kind[row.kind] = by_kind.get(row.kind, 0) + row.params
    assert (by_kind["Conv2d"], by_kind["BatchNorm2d"], by_kind["Linear"]) == (23_454_912, 53_120, 2_049_000)
    assert report.macs_by_op == {"Conv2d": 4_087_136_256, "Linear": 2_048_000}
    assert (
        sum(row.output_shape[0] * row.output_shape[1] * row.output_shape[2] for row in report.layers if row.kind == "Add")
        == 5_519_360
    )
    fvcore = analyze(resnet50(), (3, 224, 224), convention="fvcore")
    assert fvcore.macs_by_op["BatchNorm2d"] == 22_227_968 and fvcore.macs_by_op["AdaptiveAvgPool2d"] == 100_352
    assert (report.receptive_field, report.jump) == (427, 32)
    assert [row.path for row in report.layers if row.receptive_field is not None][-1] == "layer4.2.activation"


def test_unet_output_and_field():
    report = analyze(unet(), (1, 572, 572))
    assert report.output_shape == (2, 388, 388) and report.jump == 1


# ---- renderings ---------------------------------------------------------------------------------


def test_json_keeps_integers_and_writes_symbols_in_sympy_syntax():
    numeric = json.loads(report_json(analyze(resnet50(), (3, 224, 224))))
    assert numeric["params"] == 25_557_032 and numeric["macs"] == 4_089_184_256
    assert numeric["receptive_field"] == 427 and numeric["jump"] == 32 and numeric["output_shape"] == [1000]
    assert set(numeric) >= {"params", "macs", "macs_by_op", "output_shape", "receptive_field", "jump", "layers"}
    assert numeric["layers"][0] == {
        "path": "conv1",
        "kind": "Conv2d",
        "output_shape": [64, 112, 112],
        "params": 9408,
        "macs": 118_013_952,
        "receptive_field": 7,
        "jump": 2,
    }
    assert numeric["layers"][-1]["receptive_field"] is None
    import sympy

    symbolic = json.loads(report_json(analyze(resnet50(), (3, "H", "W"))))
    assert symbolic["params"] == 25_557_032
    macs = sympy.sympify(symbolic["macs"])
    assert int(macs.subs({sympy.Symbol("H"): 224, sympy.Symbol("W"): 224})) == 4_089_184_256
    assert symbolic["layers"][0]["output_shape"] == [64, "floor(H/2 - 1/2) + 1", "floor(W/2 - 1/2) + 1"]


def test_table_lists_every_layer_and_states_the_convention():
    report = analyze(resnet50(), (3, 224, 224), convention="fvcore")
    table = format_table(report)
    assert repr(report) == table
    lines = table.splitlines()
    assert lines[0].split() == ["layer", "kind", "output", "params", "MACs", "r", "j"]
    assert lines[2].split() == ["conv1", "Conv2d", "64×112×112", "9408", "118,013,952", "7", "2"]
    # blank line, input, parameters, MACs, receptive field; the per-operator MACs follow on lines of
    # their own when they do not fit beside the total
    assert len(lines) == 2 + len(report.layers) + 5 + len(report.macs_by_op)
    assert max(len(line) for line in lines) <= TABLE_WIDTH
    assert "MACs (fvcore)    4,111,512,576" in table
    assert "427 (r), effective stride 32 (j)" in table


def test_derivations_assemble_the_totals():
    report = analyze(resnet50(), (3, 224, 224))
    blocks = report_derivations(report)
    table = next(block for block in blocks if isinstance(block, Table))
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["Conv2d"] == (53, 23_454_912, 4_087_136_256) and rows["total"][1:] == (25_557_032, 4_089_184_256)
    derivations = {block.lhs: block for block in blocks if isinstance(block, Derivation)}
    assert derivations["params"].value == 25_557_032 and derivations["macs"].value == 4_089_184_256
    assert derivations["MACs_Conv2d"].value == 4_087_136_256
    latex = report._repr_latex_()
    assert r"\text{MACs}_{\text{Conv2d}}" in latex and "4{,}089{,}184{,}256" in latex

    symbolic = analyze(resnet50(), (3, "H", "W"))
    blocks = {block.lhs: block for block in report_derivations(symbolic) if isinstance(block, Derivation)}
    assert blocks["macs"].value.xreplace({s: 224 for s in symbolic.symbols}) == 4_089_184_256


# ---- errors name the layer -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "net, shape, message",
    [
        (vgg16(), (3, 16, 16), r"^features\.30: n=1: with these hyperparameters the output size would be below 1"),
        (resnet50(), (4, 224, 224), r"^conv1: in_channels=3: must equal the channels of its input, 4$"),
        (
            sn.Sequential(sn.Conv2d(3, 8, 3), sn.Residual(sn.Conv2d(8, 8, 3))),
            (3, 9, 9),
            r"^1: cannot add the body's output 8×5×5 to the shortcut's 8×7×7",
        ),
        (
            sn.Sequential(sn.Concat(sn.Conv2d(3, 2, 1), sn.MaxPool2d(2))),
            (3, 8, 8),
            r"^0: branch 0 gives 8×8, the last branch 4×4: spatial sizes must agree",
        ),
        (
            sn.Sequential(sn.Flatten(), sn.Linear(10, 2)),
            (3, 2, 2),
            r"^1: in_features=10: must equal the last size of its input, 12$",
        ),
        (sn.Conv2d(3, 4, 3), (3, 224), r"^Conv2d: input='3×224': must be a C×H×W feature map$"),
        (sn.MaxPool2d(2, padding=2), (3, 8, 8), r"^MaxPool2d: padding=2: must be at most half the kernel size 2$"),
    ],
)
def test_errors_name_the_layer_path(net, shape, message):
    with pytest.raises(SymconvError, match=message):
        analyze(net, shape)


def test_symbolic_shape_mismatch_is_an_error():
    net = sn.Residual(sn.Conv2d(3, 3, 2, stride=2), sn.Conv2d(3, 3, 3, stride=2, padding=1))
    with pytest.raises(SymconvError, match="shapes must agree"):
        analyze(net, (3, "H", "W"))


def test_subs_refuses_unknown_symbols_and_sizes_too_small():
    symbolic = analyze(vgg16(), (3, "H", "W"))
    with pytest.raises(SymconvError, match="not a symbol of this report"):
        symbolic.subs(X=3)
    with pytest.raises(SymconvError, match=r"^features\.30: at H=16, W=16 the output would be 512×0×0, below one unit"):
        symbolic.subs(H=16, W=16)
    assert symbolic.subs(H=32, W=32) == analyze(vgg16(), (3, 32, 32))


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((sn.ReLU(), (3, 0, 4)), "sizes must be at least 1"),
        ((sn.ReLU(), (3, 4, 4), "flops"), "convention='flops': must be one of macs, fvcore"),
        (("resnet50", (3, 224, 224)), "net='str': must be a symconv.networks.nn layer"),
    ],
)
def test_bad_arguments(arguments, message):
    with pytest.raises(SymconvError, match=message):
        analyze(*arguments)


# ---- the command line ----------------------------------------------------------------------------


@pytest.fixture
def run_cli(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("symconv.cli.analyze",))

    def run(*argv: str) -> tuple[int, str, str]:
        status = cli.main(list(argv))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def test_cli_analyze_formats(run_cli):
    status, out, _ = run_cli("analyze", "resnet50", "--format", "json")
    assert status == 0 and json.loads(out)["macs"] == 4_089_184_256
    status, out, _ = run_cli("analyze", "resnet50", "--convention", "fvcore")
    assert status == 0 and "4,111,512,576" in out
    status, out, _ = run_cli("analyze", "resnet18", "--input", "3xHxW", "--format", "latex")
    assert status == 0 and r"\begin{align*}" in out and r"\left\lfloor" in out
    status, out, _ = run_cli("analyze", "unet", "--input", "1×572×572", "--format", "json")
    assert json.loads(out)["output_shape"] == [2, 388, 388]


def test_cli_loads_a_network_from_a_file(run_cli, tmp_path):
    source = tmp_path / "mine.py"
    source.write_text(
        "from symconv.networks.nn import Sequential, Conv2d, ReLU\n\ndef tiny():\n    return Sequential(Conv2d(3, 8, 3), ReLU())\n"
    )
    status, out, _ = run_cli("analyze", f"{source}:tiny", "--input", "3x10x10", "--format", "json")
    assert status == 0 and json.loads(out)["output_shape"] == [8, 8, 8]


@pytest.mark.parametrize(
    "argv, message",
    [
        (("analyze", "resnet51"), "error: model='resnet51': not in the zoo; choose one of resnet18"),
        (("analyze", "resnet50", "--input", "3x224"), "error: conv1: input='3×224': must be a C×H×W feature map"),
        (("analyze", "resnet50", "--input", "3x0x224"), "error: --input='3x0x224': must be sizes separated by x"),
        (("analyze", "resnet50", "--input", "3x2-2x4"), "error: --input='3x2-2x4'"),
        (("analyze", "nowhere.py:net", "--input", "3x8x8"), "error: model='nowhere.py:net': no such file nowhere.py"),
    ],
)
def test_cli_errors_are_one_line(run_cli, argv, message):
    status, out, err = run_cli(*argv)
    assert status == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1


def test_numeric_path_imports_neither_sympy_nor_numpy():
    script = (
        "import sys, io, contextlib\n"
        "import symconv.cli.main as cli\n"
        "cli.COMMAND_MODULES = ('symconv.cli.analyze',)\n"
        "for form in ('table', 'json'):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert cli.main(['analyze', 'resnet50', '--format', form, '--convention', 'fvcore']) == 0\n"
        "print(sorted(name for name in ('sympy', 'numpy', 'torch', 'latexify') if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
