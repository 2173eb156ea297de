"""Random networks built twice, in symconv.networks.nn and in torch: same parameters, shapes, MACs and failures."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import symconv.networks.nn as sn  # noqa: E402
from symconv.core.errors import SymconvError  # noqa: E402
from symconv.networks.analyze import analyze  # noqa: E402

ACTIVATIONS = ("ReLU", "ReLU6", "SiLU", "GELU", "Sigmoid", "Hardswish", "Dropout", "Identity")
MERGES = ("Add", "Concat")


# ---- random specifications: nested tuples, drawn knowing the current channels and sizes ----------
# Sizes are tracked only to steer the draw towards networks torch can run (about one in eight leaves
# is drawn "wild", without that care, so that refusals are exercised too); the assertions compare
# symconv with torch alone.


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def window_size(n: int, k: int, s: int, p: int, d: int = 1) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def fits(h: int, w: int, k: int, p: int, d: int = 1) -> bool:
    return min(h, w) + 2 * p >= d * (k - 1) + 1


def draw_leaf(data, channels: int, h: int, w: int, keep_size: bool) -> tuple[tuple, int, int, int]:
    """One layer; ``keep_size`` draws only size-preserving windows (branches that will be concatenated)."""
    wild = not keep_size and data.draw(st.integers(0, 15)) == 0
    kinds = ("conv", "conv", "conv", "convT", "maxpool", "avgpool", "bn", "gn", "act") + (() if keep_size else ("adaptive",))
    kind = data.draw(st.sampled_from(kinds))
    if kind in ("conv", "convT"):
        out = data.draw(st.integers(1, 6))
        groups = data.draw(st.sampled_from([g for g in divisors(channels) if out % g == 0]))
        bias = data.draw(st.booleans())
        if keep_size and not wild:
            k, d = data.draw(st.sampled_from((1, 3))), data.draw(st.integers(1, 2))
            s, p, op = 1, d * (k - 1) // 2, 0
        else:
            k, s, d = (
                data.draw(st.integers(1, 4)),
                data.draw(st.integers(1, 3 if kind == "conv" else 2)),
                data.draw(st.integers(1, 2)),
            )
            p = data.draw(st.integers(0, 2))
            op = data.draw(st.integers(0, 2 if wild else max(s, d) - 1))
            if kind == "conv" and not wild and not fits(h, w, k, p, d):
                k, d = 1, 1
        if kind == "conv":
            size = lambda n: window_size(n, k, s, p, d)  # noqa: E731
            return ("conv", channels, out, k, s, p, d, groups, bias), out, size(h), size(w)
        size = lambda n: (n - 1) * s - 2 * p + d * (k - 1) + op + 1  # noqa: E731
        if not wild and min(size(h), size(w)) < 1:
            p = 0
        return ("convT", channels, out, k, s, p, op, groups, bias, d), out, size(h), size(w)
    if kind in ("maxpool", "avgpool"):
        d = data.draw(st.integers(1, 2)) if kind == "maxpool" else 1
        if keep_size and not wild:
            k = data.draw(st.sampled_from((1, 3)))
            s, p, d, ceil = 1, k // 2, 1, data.draw(st.booleans())
        else:
            k, p = data.draw(st.integers(1, 4)), data.draw(st.integers(0, 2))
            s, ceil = data.draw(st.sampled_from((None, 1, 2, 3))), data.draw(st.booleans())
            if not wild:
                p = min(p, k // 2)
                if not fits(h, w, k, p, d):
                    k, d, p = 1, 1, 0
        stride = k if s is None else s
        if ceil:
            size = lambda n: min((n + 2 * p - d * (k - 1) - 1 + stride - 1) // stride, (n + p - 1) // stride) + 1  # noqa: E731
        else:
            size = lambda n: window_size(n, k, stride, p, d)  # noqa: E731
        if kind == "maxpool":
            return ("maxpool", k, s, p, d, ceil), channels, size(h), size(w)
        return ("avgpool", k, s, p, ceil, data.draw(st.booleans())), channels, size(h), size(w)
    if kind == "adaptive":
        side = data.draw(st.integers(1, 5))
        return ("adaptive", side), channels, side, side
    if kind == "bn":
        return ("bn", channels), channels, h, w
    if kind == "gn" and channels * h * w > channels:  # torch wants more than one value per group
        return ("gn", data.draw(st.sampled_from(divisors(channels))), channels), channels, h, w
    return ("act", data.draw(st.sampled_from(ACTIVATIONS))), channels, h, w


def draw_network(data, channels: int, h: int, w: int, depth: int, keep_size: bool = False) -> tuple[tuple, int, int, int]:
    """A Sequential of leaves, Residuals and Concats, nested at most ``depth`` deep."""
    layers = []
    for _ in range(data.draw(st.integers(1, 4) if depth < 2 else st.integers(2, 6))):
        if min(h, w) < 1 or max(h, w) > 48:  # already invalid, or too big to stay fast: stop here
            break
        choice = data.draw(st.sampled_from(("leaf", "leaf", "leaf", "residual", "concat") if depth > 0 else ("leaf",)))
        if choice == "leaf":
            spec, channels, h, w = draw_leaf(data, channels, h, w, keep_size)
        elif choice == "residual":
            body, body_channels, body_h, body_w = draw_network(data, channels, h, w, depth - 1, keep_size)
            strides = [s for s in (1, 2, 3) if (window_size(h, 1, s, 0), window_size(w, 1, s, 0)) == (body_h, body_w)]
            shortcut = None
            if body_channels != channels or (body_h, body_w) != (h, w) or data.draw(st.booleans()):
                wild = data.draw(st.integers(0, 15)) == 0
                stride = strides[0] if strides and not wild else data.draw(st.integers(1, 2))
                shortcut = ("conv", channels, body_channels, 1, stride, 0, 1, 1, False)
                if not strides and not wild and min(body_h, body_w) >= 1:  # resample to the body's size
                    shortcut = ("seq", (shortcut, ("adaptive", (body_h, body_w))))
            spec, channels, h, w = ("residual", body, shortcut, data.draw(st.booleans())), body_channels, body_h, body_w
        else:
            branches, total = [], 0
            preserve = data.draw(st.integers(0, 7)) > 0
            for _ in range(data.draw(st.integers(2, 3))):
                branch, branch_channels, branch_h, branch_w = draw_network(data, channels, h, w, depth - 1, preserve)
                branches.append(branch)
                total += branch_channels
            spec, channels, h, w = ("concat", tuple(branches)), total, branch_h, branch_w
        layers.append(spec)
    return ("seq", tuple(layers)), channels, h, w


def draw_case(data) -> tuple[tuple, tuple[int, int, int]]:
    channels = data.draw(st.integers(1, 4))
    shape = (channels, data.draw(st.integers(4, 24)), data.draw(st.integers(4, 24)))
    spec, out, _, _ = draw_network(data, *shape, 2)
    if data.draw(st.booleans()):  # a classifier head: global pooling to a×a, flatten, linear
        side = data.draw(st.integers(1, 2))
        spec = (
            "seq",
            (
                spec,
                ("adaptive", side),
                ("flatten",),
                ("linear", out * side * side, data.draw(st.integers(1, 5)), data.draw(st.booleans())),
            ),
        )
    return spec, shape


# ---- the two builders -----------------------------------------------------------------------------


class TorchResidual(nn.Module):
    def __init__(self, body, shortcut, activation):
        super().__init__()
        self.body, self.shortcut, self.activation = body, shortcut, activation

    def forward(self, x):
        body = self.body(x)
        shortcut = x if self.shortcut is None else self.shortcut(x)
        if body.shape != shortcut.shape:  # torch would broadcast a size-1 axis; a residual sum must not
            raise RuntimeError(f"residual shapes {tuple(body.shape)} and {tuple(shortcut.shape)} differ")
        out = body + shortcut
        return out if self.activation is None else self.activation(out)


class TorchConcat(nn.Module):
    def __init__(self, branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)


def build(spec: tuple, library: str):
    """The network of ``spec`` in symconv.networks.nn ("sc") or torch.nn ("torch")."""
    sc = library == "sc"
    m = sn if sc else nn
    kind, *args = spec
    if kind == "conv":
        cin, cout, k, s, p, d, g, bias = args
        return m.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, groups=g, bias=bias)
    if kind == "convT":
        cin, cout, k, s, p, op, g, bias, d = args
        return m.ConvTranspose2d(cin, cout, k, stride=s, padding=p, output_padding=op, groups=g, bias=bias, dilation=d)
    if kind == "maxpool":
        k, s, p, d, ceil = args
        return m.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    if kind == "avgpool":
        k, s, p, ceil, include = args
        return m.AvgPool2d(k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=include)
    if kind == "adaptive":
        return m.AdaptiveAvgPool2d(args[0])
    if kind == "bn":
        return m.BatchNorm2d(args[0])
    if kind == "gn":
        return m.GroupNorm(args[0], args[1])
    if kind == "act":
        return getattr(m, args[0])()
    if kind == "flatten":
        return m.Flatten()
    if kind == "linear":
        return m.Linear(args[0], args[1], bias=args[2])
    if kind == "seq":
        return m.Sequential(*(build(child, library) for child in args[0]))
    if kind == "residual":
        body, shortcut, activate = args
        parts = (build(body, library), None if shortcut is None else build(shortcut, library), m.ReLU() if activate else None)
        return sn.Residual(*parts) if sc else TorchResidual(*parts)
    if kind == "concat":
        branches = [build(branch, library) for branch in args[0]]
        return sn.Concat(*branches) if sc else TorchConcat(branches)
    raise AssertionError(kind)


def run_torch(spec: tuple, shape: tuple[int, int, int]):
    """Parameter count, output shape, every leaf's output shape (in call order) and FLOPs, or the error."""
    try:
        model = build(spec, "torch").eval()
    except (ValueError, RuntimeError) as error:
        return error
    shapes = []
    for module in model.modules():
        if not list(module.children()):
            module.register_forward_hook(lambda module, inputs, output: shapes.append(tuple(output.shape[1:])))
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            output = model(torch.ones(1, *shape))
    except (ValueError, RuntimeError) as error:
        return error
    if any(0 in shape for shape in shapes):
        # The CPU kernel of a transposed convolution returns an empty map where its meta kernel refuses:
        # symconv sides with the refusal (every layer keeps at least one unit).
        return RuntimeError(f"empty output {shapes}")
    return sum(p.numel() for p in model.parameters()), tuple(output.shape[1:]), shapes, counter.get_total_flops()


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_random_networks_match_torch(data):
    spec, shape = draw_case(data)
    expected = run_torch(spec, shape)
    try:
        report = analyze(build(spec, "sc"), shape)
    except SymconvError as error:
        assert isinstance(expected, Exception), f"symconv rejects what torch runs: {error}"
        event("both refuse")
        return
    event(f"valid, {len(report.layers)} layers")
    assert not isinstance(expected, Exception), f"torch fails where symconv does not: {expected}"
    params, output_shape, leaf_shapes, flops = expected
    assert report.params == params
    assert report.output_shape == output_shape
    assert [row.output_shape for row in report.layers if row.kind not in MERGES] == leaf_shapes
    # FlopCounterMode counts 2 FLOPs per multiply-accumulate of convolutions and linear layers.
    assert 2 * report.macs == flops


@settings(max_examples=60, deadline=None)
@given(
    in_channels=st.integers(1, 4),
    out_channels=st.integers(1, 4),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    output_padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    size=st.integers(1, 6),
)
def test_transposed_convolution_counts_true_macs(
    in_channels, out_channels, kernel, stride, padding, output_padding, dilation, size
):
    """One MAC per weight per input position (torch's flop counter agrees; torchinfo and ptflops do not)."""
    spec = ("convT", in_channels, out_channels, kernel, stride, padding, output_padding, 1, True, dilation)
    expected = run_torch(spec, (in_channels, size, size))
    try:
        report = analyze(build(spec, "sc"), (in_channels, size, size))
    except SymconvError:
        assert isinstance(expected, Exception)
        return
    assert not isinstance(expected, Exception)
    assert (report.params, report.output_shape, 2 * report.macs) == (expected[0], expected[1], expected[3])


def test_reference_transposed_convolution():
    """README: ConvTranspose2d(3 → 1, k=2, s=2) on 2×2 is 48 MACs."""
    report = analyze(sn.ConvTranspose2d(3, 1, 2, stride=2), (3, 2, 2))
    assert report.macs == 48 and report.output_shape == (1, 4, 4)


def test_vit_layers_match_torch():
    """Patch embedding, class token, attention with its matmuls, MLP: parameters, shapes and FLOPs."""
    dim, heads, hidden, patch = 12, 3, 20, 4
    net = sn.Sequential(
        sn.PatchEmbedding(3, dim, patch),
        sn.ClassToken(dim),
        sn.PositionEmbedding(10, dim),
        sn.EncoderBlock(heads, dim, hidden),
        sn.LayerNorm(dim),
        sn.SelectToken(0),
        sn.Linear(dim, 5),
    )
    report = analyze(net, (3, 12, 12))

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Conv2d(3, dim, patch, stride=patch)
            self.cls = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos = nn.Parameter(torch.zeros(1, 10, dim))
            self.ln_1, self.ln_2, self.ln = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
            self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
            self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
            self.head = nn.Linear(dim, 5)

        def forward(self, x):
            x = self.proj(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
            y = self.ln_1(x)
            x = x + self.attention(y, y, y, need_weights=True)[0]
            x = x + self.mlp(self.ln_2(x))
            return self.head(self.ln(x)[:, 0])

    twin = Twin().train()  # train mode keeps attention on its matmul path, which the flop counter sees
    with FlopCounterMode(display=False) as counter:
        output = twin(torch.ones(1, 3, 12, 12))
    assert report.params == sum(p.numel() for p in twin.parameters())
    assert report.output_shape == tuple(output.shape[1:])
    assert 2 * report.macs == counter.get_total_flops()
    assert [row.output_shape for row in report.layers if row.kind == "MultiheadAttention"] == [(10, dim)]


@pytest.mark.parametrize(
    "layer, shape",
    [
        (sn.LayerNorm((4, 5)), (3, 4, 5)),
        (sn.Flatten(2), (3, 4, 5)),
        (sn.Flatten(1, 2), (3, 4, 5)),
        (sn.Linear(5, 2), (3, 4, 5)),
        (sn.AdaptiveAvgPool2d((None, 2)), (3, 4, 5)),
        (sn.Conv2d(3, 6, (3, 3), padding="same", dilation=2), (3, 9, 9)),
        (sn.Conv2d(3, 6, 3, padding="valid"), (3, 9, 9)),
    ],
)
def test_more_layers_match_torch(layer, shape):
    twin = {
        "LayerNorm": lambda: nn.LayerNorm((4, 5)),
        "Flatten": lambda: nn.Flatten(layer.start_dim, layer.end_dim),
        "Linear": lambda: nn.Linear(5, 2),
        "AdaptiveAvgPool2d": lambda: nn.AdaptiveAvgPool2d((None, 2)),
        "Conv2d": lambda: nn.Conv2d(3, 6, 3, padding=layer.padding, dilation=layer.dilation),
    }[layer.kind]()
    report = analyze(layer, shape)
    assert report.output_shape == tuple(twin(torch.ones(1, *shape)).shape[1:])
    assert report.params == sum(p.numel() for p in twin.parameters())


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: sn.Conv2d(3, 8, (1, 7)), "kernel_size=(1, 7): non-square values are not supported"),
        (lambda: sn.MaxPool2d(3, stride=(1, 2)), "stride=(1, 2): non-square"),
        (lambda: sn.Conv2d(3, 8, 3, padding="same", stride=2), "padding='same'"),
        (lambda: sn.Sequential(sn.ReLU(), "relu"), "Sequential[1]='relu': must be a symconv.networks.nn layer"),
        (lambda: sn.Conv2d(3, 8, 2.5), "kernel_size=2.5: must be an int"),
    ],
)
def test_impossible_layers_are_refused(make, message):
    with pytest.raises(SymconvError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        make()
