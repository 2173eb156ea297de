"""from_torch against torch itself: parameters, every layer's output shape, FlopCounterMode's FLOPs, the numeric report."""

from __future__ import annotations

import sys

import pytest

torch = pytest.importorskip("torch")
from test_models import Inception, torch_resnet, torch_unet, torch_vit  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from symconv.core.errors import SymconvError  # noqa: E402
from symconv.networks import models  # noqa: E402
from symconv.networks.analyze import analyze  # noqa: E402
from symconv.networks.torch_bridge import from_torch  # noqa: E402

# ---- plain-torch models -------------------------------------------------------------------------------


class SqueezeExcite(nn.Module):
    """MobileNetV3's block: expand, depthwise, squeeze-and-excitation (x * gate(x)), project, Hardswish."""

    def __init__(self, cin=8, hidden=24, squeeze=6):
        super().__init__()
        self.expand = nn.Sequential(nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.Hardswish())
        self.depthwise = nn.Sequential(nn.Conv2d(hidden, hidden, 5, 2, 2, groups=hidden, bias=False), nn.BatchNorm2d(hidden))
        self.pool, self.fc1, self.relu = nn.AdaptiveAvgPool2d(1), nn.Conv2d(hidden, squeeze, 1), nn.ReLU()
        self.fc2, self.gate = nn.Conv2d(squeeze, hidden, 1), nn.Hardsigmoid()
        self.project = nn.Conv2d(hidden, 16, 1, bias=False)

    def forward(self, x):
        y = self.depthwise(self.expand(x))
        y = y * self.gate(self.fc2(self.relu(self.fc1(self.pool(y)))))
        return self.project(y)


class DenseBlock(nn.Module):
    """DenseNet: each layer sees the concatenation of all earlier outputs."""

    def __init__(self, cin=6, growth=4, layers=3):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(cin + i * growth), nn.ReLU(), nn.Conv2d(cin + i * growth, growth, 3, padding=1))
            for i in range(layers)
        )
        self.transition = nn.Sequential(nn.Conv2d(cin + layers * growth, 8, 1), nn.AvgPool2d(2))

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, 1)))
        return self.transition(torch.cat(features, 1))


class UNet(nn.Module):
    """Two levels: padded convolutions, max pooling, bilinear upsampling by 2, skip connections by concatenation."""

    def __init__(self):
        super().__init__()

        def double(a, b):
            return nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.ReLU(), nn.Conv2d(b, b, 3, padding=1), nn.ReLU())

        self.enc1, self.enc2, self.bottom = double(3, 4), double(4, 8), double(8, 8)
        self.pool = nn.MaxPool2d(2)
        self.dec2, self.dec1, self.head = double(16, 4), double(8, 4), nn.Conv2d(4, 2, 1)

    def forward(self, x):
        first = self.enc1(x)
        second = self.enc2(self.pool(first))
        bottom = self.bottom(self.pool(second))
        up = F.interpolate(bottom, scale_factor=2, mode="bilinear", align_corners=False)
        up = self.dec2(torch.cat([second, up], 1))
        up = F.interpolate(up, scale_factor=2, mode="nearest")
        return self.head(self.dec1(torch.cat([first, up], 1)))


class ViT(nn.Module):
    """Patches, a class token, a learned position embedding cut to the token count, SDPA blocks, the class token's head."""

    def __init__(self, dim=16, heads=2, patch=8, max_tokens=1 + 16 * 16, depth=2):
        super().__init__()
        self.heads, self.patch = heads, nn.Conv2d(3, dim, patch, patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.position = nn.Parameter(torch.zeros(1, max_tokens, dim))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(2 * depth))
        self.qkv = nn.ModuleList(nn.Linear(dim, 3 * dim) for _ in range(depth))
        self.proj = nn.ModuleList(nn.Linear(dim, dim) for _ in range(depth))
        self.mlp = nn.ModuleList(nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim)) for _ in range(depth))
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        tokens = self.patch(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.class_token.expand(x.shape[0], -1, -1), tokens], 1)
        tokens = tokens + self.position[:, : tokens.shape[1]]
        batch, length, dim = tokens.shape
        for index, (qkv, proj, mlp) in enumerate(zip(self.qkv, self.proj, self.mlp)):
            q, k, v = qkv(self.norms[2 * index](tokens)).reshape(batch, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, length, dim)
            tokens = tokens + proj(attended)
            tokens = tokens + mlp(self.norms[2 * index + 1](tokens))
        return self.head(tokens[:, 0])


class ViewHead(nn.Module):
    """A classifier flattened with x.view(x.size(0), -1)."""

    def __init__(self):
        super().__init__()
        self.conv, self.pool, self.fc = nn.Conv2d(3, 4, 3, 2), nn.AdaptiveAvgPool2d(2), nn.Linear(16, 5)

    def forward(self, x):
        y = self.pool(F.relu(self.conv(x)))
        return self.fc(y.view(y.size(0), -1))


class Shared(nn.Module):
    """One convolution applied twice: its weights count once, its MACs twice."""

    def __init__(self):
        super().__init__()
        self.stem, self.conv = nn.Conv2d(3, 6, 3), nn.Conv2d(6, 6, 3, padding=1)

    def forward(self, x):
        return self.conv(F.relu(self.conv(self.stem(x))))


def decoder():
    """Strided convolutions down, transposed convolutions back up (one with output padding), with non-square kernels."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, 2, 1),
        nn.ReLU(),
        nn.Conv2d(8, 8, (3, 5), 2, (1, 2)),
        nn.ConvTranspose2d(8, 8, 4, 2, 1),
        nn.ConvTranspose2d(8, 4, 3, 2, 1, output_padding=1),
    )


class Branching(nn.Module):
    """Shape-dependent Python control flow: wide inputs get one more strided convolution."""

    def __init__(self):
        super().__init__()
        self.conv, self.extra = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3, 2)

    def forward(self, x):
        y = self.conv(x)
        return self.extra(y) if x.shape[-1] > 40 else y


# ---- torch's own answers ------------------------------------------------------------------------------


def run(model, shape):
    """Each called module's output shapes in call order (batch dropped), and FlopCounterMode's FLOPs."""
    shapes: dict[str, list[tuple[int, ...]]] = {}
    handles = [
        module.register_forward_hook(
            lambda module, inputs, output, name=name: shapes.setdefault(name, []).append(
                tuple((output[0] if isinstance(output, tuple) else output).shape[1:])
            )
        )
        for name, module in model.named_modules()
        if name
    ]
    # The math kernel of attention and MultiheadAttention's slow path run as matrix products, which the flop
    # counter sees; their fused CPU kernels it misses.
    fast_path = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            model(torch.randn(1, *shape))
    finally:
        torch.backends.mha.set_fastpath_enabled(fast_path)
    for handle in handles:
        handle.remove()
    return shapes, counter.get_total_flops()


def check(report, model, shape):
    """Parameters, the rows of every called torch.nn layer, and MACs = FLOPs / 2."""
    shapes, flops = run(model, shape)
    assert report.params == sum(p.numel() for p in model.parameters())
    checked = 0
    for row in report.layers:
        name, _, call = row.path.partition("@")
        if name in shapes:
            assert row.output_shape == shapes[name][int(call or 0)], row.path
            checked += 1
    assert checked
    assert 2 * report.macs == flops
    assert report.not_counted == ()


def same_report(symbolic, numeric):
    assert symbolic.layers == numeric.layers
    assert (symbolic.params, symbolic.macs, symbolic.output_shape) == (numeric.params, numeric.macs, numeric.output_shape)
    assert symbolic.macs_by_op == numeric.macs_by_op


MODELS = {
    "squeeze_excite": (lambda: SqueezeExcite(), (8, "H", "W"), [(8, 33, 47), (8, 40, 21), (8, 17, 17), (8, 64, 9), (8, 11, 30)]),
    "dense": (lambda: DenseBlock(), (6, "H", "W"), [(6, 9, 13), (6, 20, 31), (6, 16, 16), (6, 7, 50), (6, 33, 12)]),
    "inception": (
        lambda: Inception(8, 4, 4, 6, 2, 3, 3),
        (8, "H", "W"),
        [(8, 9, 13), (8, 20, 31), (8, 16, 16), (8, 7, 50), (8, 33, 12)],
    ),
    "unet": (lambda: UNet(), (3, "H", "W"), [(3, 36, 52), (3, 44, 28), (3, 32, 32), (3, 20, 64), (3, 60, 12)]),
    "vit": (lambda: ViT(), (3, "H", "W"), [(3, 64, 48), (3, 41, 77), (3, 32, 32), (3, 100, 17), (3, 23, 128)]),
    "view_head": (lambda: ViewHead(), (3, "H", "W"), [(3, 9, 13), (3, 20, 31), (3, 16, 16), (3, 7, 50), (3, 33, 12)]),
    "shared": (lambda: Shared(), (3, "H", "W"), [(3, 9, 13), (3, 20, 31), (3, 16, 16), (3, 7, 50), (3, 33, 12)]),
    "decoder": (decoder, (3, "H", "W"), [(3, 9, 13), (3, 20, 31), (3, 16, 16), (3, 7, 50), (3, 33, 12)]),
}


@pytest.fixture(scope="module")
def symbolic_reports():
    reports = {}

    def get(name):
        if name not in reports:
            build, shape, _ = MODELS[name]
            torch.manual_seed(0)
            model = build()
            reports[name] = (model, from_torch(model, shape))
        return reports[name]

    return get


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_match_torch_at_five_sizes(name, symbolic_reports):
    model, symbolic = symbolic_reports(name)
    assert {str(symbol) for symbol in symbolic.symbols} <= {"H", "W"}
    for shape in MODELS[name][2]:
        check(symbolic.subs(H=shape[1], W=shape[2]), model, shape)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_symbolic_report_evaluates_to_the_numeric_one(name, symbolic_reports):
    model, symbolic = symbolic_reports(name)
    for shape in MODELS[name][2]:
        same_report(symbolic.subs(H=shape[1], W=shape[2]), from_torch(model, shape))


@pytest.fixture(scope="module")
def resnets():
    torch.manual_seed(0)
    built = {"resnet18": torch_resnet((2, 2, 2, 2), False), "resnet50": torch_resnet((3, 4, 6, 3), True)}
    return {name: (model, from_torch(model, (3, "H", "W"))) for name, model in built.items()}


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_resnets_match_torch_at_five_sizes(name, resnets):
    model, symbolic = resnets[name]
    for height, width in ((97, 129), (64, 64), (33, 75), (120, 41), (57, 57)):
        check(symbolic.subs(H=height, W=width), model, (3, height, width))
    same_report(symbolic.subs(H=33, W=75), from_torch(model, (3, 33, 75)))


def test_resnet50_twin_gives_the_zoo_expressions(resnets):
    _, bridged = resnets["resnet50"]
    zoo = analyze(models.resnet50(), (3, "H", "W"))
    assert bridged.params == zoo.params
    assert bridged.macs_by_op == zoo.macs_by_op
    assert bridged.macs - zoo.macs == 0
    assert bridged.output_shape == zoo.output_shape
    assert (bridged.receptive_field, bridged.jump) == (zoo.receptive_field, zoo.jump)
    zoo_rows = {row.path: row for row in zoo.layers if row.kind not in ("Add", "Concat")}
    for row in bridged.layers:
        if row.path in zoo_rows:
            assert row.output_shape == zoo_rows[row.path].output_shape, row.path


def test_fvcore_convention_counts_what_the_zoo_counts():
    torch.manual_seed(0)
    bridged = from_torch(torch_resnet((2, 2, 2, 2), False), (3, "H", "W"), convention="fvcore")
    zoo = analyze(models.resnet18(), (3, "H", "W"), "fvcore")
    for height, width in ((97, 129), (64, 64), (33, 75), (120, 41), (224, 224)):
        assert bridged.subs(H=height, W=width).macs == zoo.subs(H=height, W=width).macs


def test_buffers_are_not_parameters_and_shared_weights_count_once(symbolic_reports):
    model, report = symbolic_reports("shared")
    assert [row.path for row in report.layers if row.kind == "Conv2d"] == ["stem", "conv", "conv@1"]
    assert [row.params for row in report.layers if row.kind == "Conv2d"][1:] == [6 * 6 * 9 + 6, 0]
    resnet = torch_resnet((2, 2, 2, 2), False)
    report = from_torch(resnet, (3, 64, 64))
    assert report.params == sum(p.numel() for p in resnet.parameters())
    assert sum(b.numel() for b in resnet.buffers()) > 0


def test_the_model_keeps_its_modes():
    model = torch_resnet((2, 2, 2, 2), False).train()
    model.layer1.eval()
    from_torch(model, (3, 40, 40))
    assert model.training and not model.layer1.training and model.layer2.training


class PartlyFrozen(nn.Module):
    """A stem run under torch.no_grad(): export wraps it in a subgraph, which is walked as if inline."""

    def __init__(self):
        super().__init__()
        self.stem, self.head = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3, 2)

    def forward(self, x):
        with torch.no_grad():
            y = self.stem(x)
        return self.head(y)


def test_regions_without_gradients_are_counted():
    model = PartlyFrozen()
    report = from_torch(model, (3, "H", "W"))
    assert [row.path for row in report.layers] == ["stem", "head"]
    for height, width in ((20, 24), (9, 31), (16, 16), (40, 7), (13, 13)):
        check(report.subs(H=height, W=width), model, (3, height, width))


def test_unknown_operators_are_listed_not_silently_zero():
    class Rolled(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return torch.fft.fft2(self.conv(x)).abs()

    report = from_torch(Rolled(), (3, 12, 14))
    assert report.not_counted
    assert all(name.startswith("aten.") and count >= 1 for name, count in report.not_counted)
    assert "not counted" in str(report)

    class Branches(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x):
            y = self.conv(x)
            return torch.cond(y.sum() > 0, lambda t: t * 2, lambda t: t + 1, (y,))

    report = from_torch(Branches(), (3, "H", "W"))
    assert dict(report.not_counted) == {"higher_order.cond": 1}


def _runs(model, shape):
    try:
        with torch.no_grad():
            model(torch.zeros(1, *shape))
    except RuntimeError:
        return False
    return True


def _holds(report, **sizes):
    try:
        report.subs(**sizes)
    except SymconvError:
        return False
    return True


def test_valid_when_is_exactly_where_torch_runs_the_model(symbolic_reports):
    model, report = symbolic_reports("unet")
    assert "H mod 4 = 0" in str(report)
    for height in range(4, 30):
        assert _holds(report, H=height, W=16) == _runs(model, (3, height, 16)), height
    model = torch_unet((4, 8, 16), 1, 2)  # unpadded convolutions, copy and crop: a least size, no multiple
    report = from_torch(model, (1, "H", "W"))
    assert len(report.valid_when) <= 4  # torch's dozens of inequalities reduced to those that bind
    for height in range(36, 70):
        assert _holds(report, H=height, W=64) == _runs(model, (1, height, 64)), height
    model, report = symbolic_reports("vit")  # at most 256 patches fit the position embedding
    for height in (*range(1, 20), *range(120, 140), 255, 256, 257):
        assert _holds(report, H=height, W=128) == _runs(model, (3, height, 128)), height


def test_valid_when_holds_the_trace_conditions(symbolic_reports):
    _, unet = symbolic_reports("unet")
    assert unet.valid_when
    with pytest.raises(SymconvError, match="mod 2|mod 4"):
        unet.subs(H=37, W=52)
    _, vit = symbolic_reports("vit")
    with pytest.raises(SymconvError, match="needs"):
        vit.subs(H=200, W=200)  # more tokens than the position embedding has
    model = Branching()
    report = from_torch(model, (3, "H", "W"))
    for height, width in ((30, 50), (41, 41), (8, 97), (64, 45), (13, 60)):
        check(report.subs(H=height, W=width), model, (3, height, width))
    with pytest.raises(SymconvError, match="W"):
        report.subs(H=30, W=30)


class FusedAttention(nn.Module):
    """nn.MultiheadAttention without weights returned: the path torch may fuse."""

    def __init__(self):
        super().__init__()
        self.patches, self.attention = nn.Conv2d(3, 16, 4, 4), nn.MultiheadAttention(16, 2, batch_first=True)

    def forward(self, x):
        tokens = self.patches(x).flatten(2).transpose(1, 2)
        return self.attention(tokens, tokens, tokens, need_weights=False)[0]


def test_multihead_attention_and_a_model_that_runs_at_one_token_count():
    torch.manual_seed(0)
    vit = torch_vit(32, 8, 1, 2, 16, 32)  # a fixed position embedding: 17 tokens
    report = from_torch(vit, (3, "H", "W"), sample=(32, 32))
    for height, width in ((32, 32), (16, 64), (71, 17)):
        check(report.subs(H=height, W=width), vit, (3, height, width))
    with pytest.raises(SymconvError, match="= 17"):
        report.subs(H=40, W=40)
    fused = FusedAttention()
    report = from_torch(fused, (3, "H", "W"))
    for height, width in ((32, 32), (16, 44), (23, 9), (8, 64), (61, 30)):
        check(report.subs(H=height, W=width), fused, (3, height, width))


def _every_path_counts(module):
    """Max pooling passes one input per window: swapped for average pooling over the same windows, with all
    weights positive and a positive input, every path from an input pixel to an output unit has a nonzero gradient."""
    for name, child in module.named_children():
        if isinstance(child, nn.MaxPool2d):
            setattr(module, name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding, child.ceil_mode))
        else:
            _every_path_counts(child)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.fill_(0.01)
    return module.eval()


def dependence_spans(model, shape, units):
    """For each output unit (row, column): the first and last input column its value depends on (autograd)."""
    spans = []
    for row, column in units:
        x = torch.ones(1, *shape, requires_grad=True)
        model(x)[0, :, row, column].sum().backward()
        columns = (x.grad[0].abs().sum((0, 1)) > 0).nonzero().flatten()
        spans.append((int(columns.min()), int(columns.max())))
    return spans


@pytest.mark.parametrize("name", ["unet", "decoder", "dense", "inception", "shared", "resnet18"])
def test_receptive_fields_are_what_autograd_sees(name):
    torch.manual_seed(0)
    if name == "resnet18":
        model, shape = torch_resnet((2, 2, 2, 2), False), (3, 224, 224)
        model = nn.Sequential(*list(model.children())[:6])  # up to layer2, whose field (99) fits inside the input
    else:
        model, shape = MODELS[name][0](), (MODELS[name][1][0], 96, 96)
    model = _every_path_counts(model)
    report = from_torch(model, shape)
    last = report.layers[-1]
    assert last.receptive_field == report.receptive_field is not None
    height, width = last.output_shape[-2:]
    # Eight neighbouring units cover every kind of unit of a grid upsampled up to 8 times; the ninth is the
    # first one's kind again, eight units on.
    units = [(height // 2, width // 2 - 4 + offset) for offset in range(9)]
    spans = dependence_spans(model, shape, units)
    assert all(0 < first and last_column < shape[-1] - 1 for first, last_column in spans)  # no border clips the field
    assert max(b - a + 1 for a, b in spans[:8]) == report.receptive_field
    assert spans[8][0] - spans[0][0] == 8 * report.jump


def test_global_operations_leave_no_receptive_field(symbolic_reports):
    _, report = symbolic_reports("squeeze_excite")
    gated = [row for row in report.layers if row.kind == "Mul"]
    assert gated and all(row.receptive_field is None for row in gated)


class Assorted(nn.Module):
    """Reflect and circular padding, dilated grouped convolution, group and instance norm, ceil-mode average
    pooling, pooling to a 3×5 grid, attention written with einsum, stack."""

    def __init__(self):
        super().__init__()
        self.reflect = nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect")
        self.circular = nn.Conv2d(8, 8, 3, padding=2, dilation=2, padding_mode="circular", groups=2)
        self.group_norm, self.instance_norm = nn.GroupNorm(2, 8), nn.InstanceNorm2d(8, affine=True)
        self.pool, self.grid, self.query = nn.AvgPool2d(3, 2, 1, ceil_mode=True), nn.AdaptiveAvgPool2d((3, 5)), nn.Linear(8, 8)

    def forward(self, x):
        y = self.pool(self.instance_norm(self.group_norm(self.circular(self.reflect(x)))))
        tokens = y.flatten(2).transpose(1, 2)
        weights = torch.einsum("bld,bmd->blm", self.query(tokens), tokens).softmax(-1)
        attended = torch.einsum("blm,bmd->bld", weights, tokens)
        return attended.mean() + torch.stack([self.grid(y), self.grid(y)], 1).sum(1).mean()


class OneDimensional(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 5, stride=2, dilation=2, padding=3)

    def forward(self, x):
        return F.avg_pool1d(F.gelu(self.conv(x)), 3, 2)


class Pyramid(nn.Module):
    """A feature pyramid's top-down step: the coarse map resized to the fine map's size (odd sizes included)."""

    def __init__(self):
        super().__init__()
        self.fine, self.coarse, self.lateral = nn.Conv2d(3, 8, 3, 2, 1), nn.Conv2d(8, 8, 3, 2, 1), nn.Conv2d(8, 8, 1)

    def forward(self, x):
        fine = self.fine(x)
        coarse = self.coarse(fine)
        up = F.interpolate(coarse, size=fine.shape[-2:], mode="nearest")
        return self.lateral(fine) + up + F.interpolate(coarse, size=(7, 9), mode="bilinear", align_corners=True).mean()


def test_more_operators_and_one_dimensional_inputs():
    torch.manual_seed(0)
    model = Pyramid()
    report = from_torch(model, (3, "H", "W"))
    for height, width in ((33, 47), (20, 9), (16, 16), (7, 40), (51, 12)):
        check(report.subs(H=height, W=width), model, (3, height, width))
    torch.manual_seed(0)
    model = Assorted()
    report = from_torch(model, (3, "H", "W"))
    for height, width in ((33, 47), (20, 9), (16, 16), (7, 40), (51, 12)):
        check(report.subs(H=height, W=width), model, (3, height, width))
    model = OneDimensional()
    report = from_torch(model, (4, "L"))
    for length in (7, 8, 33, 70, 101):
        check(report.subs(L=length), model, (4, length))


class OffCentre(nn.Module):
    """Two paths joined unit by unit whose windows do not share a centre: a valid 3×3 convolution and a crop."""

    def __init__(self):
        super().__init__()
        self.wide, self.narrow = nn.Conv2d(3, 4, 3), nn.Conv2d(3, 4, 1)

    def forward(self, x):
        return self.wide(x) + self.narrow(x)[:, :, :-2, :-2]


def test_the_report_says_where_fields_stop_and_where_paths_are_off_centre(symbolic_reports):
    _, report = symbolic_reports("squeeze_excite")
    assert [note.split(" ")[0] for note in report.field_notes] == ["pool"]
    _, report = symbolic_reports("inception")
    assert report.field_notes == ()  # "same" padding keeps every branch centred on the same pixel
    report = from_torch(OffCentre(), (3, "H", "W"))
    assert any(note.startswith("add ") and "centred differently" in note for note in report.field_notes)
    assert "centred differently" in str(report)


def test_import_symconv_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, symconv; symconv.from_torch; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_without_torch_the_error_says_what_to_install(factories, capsys, monkeypatch):
    from symconv.cli.main import main

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails as if it were not installed
    monkeypatch.delitem(sys.modules, "user_factories", raising=False)
    assert main(["analyze", "user_factories:small"]) == 2
    assert "pip install 'symconv[torch]'" in capsys.readouterr().err
    with pytest.raises(SymconvError, match=r"symconv\[torch\]"):
        from_torch(object(), (3, 8, 8))


def test_bad_arguments():
    with pytest.raises(SymconvError, match="module"):
        from_torch(object(), (3, 8, 8))
    with pytest.raises(SymconvError, match="input_shape"):
        from_torch(nn.Conv2d(3, 3, 1), (3, 0, 8))
    with pytest.raises(SymconvError, match="convention"):
        from_torch(nn.Conv2d(3, 3, 1), (3, 8, 8), convention="thop")
    with pytest.raises(SymconvError, match="torch.export failed"):
        from_torch(nn.Conv2d(4, 3, 1), (3, 8, 8))


# ---- the command line -----------------------------------------------------------------------------------

FACTORIES = """
from torch import nn


def small():
    return nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))


def broken():
    raise RuntimeError("no weights here")


def mismatched():
    return nn.Conv2d(4, 3, 1)
"""


@pytest.fixture
def factories(tmp_path, monkeypatch):
    (tmp_path / "user_factories.py").write_text(FACTORIES)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path / "user_factories.py"


def test_cli_analyzes_a_torch_factory_from_a_file_or_a_module(factories, capsys):
    import json

    from symconv.cli.main import main

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    assert main(["analyze", f"{factories}:small", "--input", "3x33x40", "--format", "json"]) == 0
    numeric = json.loads(capsys.readouterr().out)
    shapes, flops = run(model, (3, 33, 40))
    assert numeric["params"] == sum(p.numel() for p in model.parameters())
    assert 2 * numeric["macs"] == flops
    assert main(["analyze", "user_factories:small"]) == 0
    table = capsys.readouterr().out
    assert "H" in table and "valid when" in table


@pytest.mark.parametrize(
    "factory, reason", [("broken", "broken() raised RuntimeError: no weights here"), ("mismatched", "torch.export failed")]
)
def test_cli_reports_a_failing_factory_in_one_line(factories, capsys, factory, reason):
    from symconv.cli.main import main

    assert main(["analyze", f"user_factories:{factory}"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: model='user_factories:{factory}'") and reason in error
    assert len(error.strip().splitlines()) == 1
