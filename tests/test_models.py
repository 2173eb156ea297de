"""The zoo against plain-torch re-implementations written here (torchvision is not used) and the published figures."""

from __future__ import annotations

from collections import OrderedDict

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from symconv.core.errors import SymconvError  # noqa: E402
from symconv.networks import models  # noqa: E402
from symconv.networks.analyze import analyze  # noqa: E402

MERGES = ("Add", "Concat")


# ---- torch twins, module names = symconv paths ---------------------------------------------------


class Block(nn.Module):
    """A ResNet block: body modules by name, a projection shortcut where the shape changes, ReLU after the sum."""

    def __init__(self, in_channels, width, stride, bottleneck, layout="v1.5"):
        super().__init__()
        out = 4 * width if bottleneck else width
        if bottleneck:
            first, middle = (1, stride) if layout == "v1.5" else (stride, 1)
            self.conv1, self.bn1, self.relu1 = (
                nn.Conv2d(in_channels, width, 1, first, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
            )
            self.conv2, self.bn2, self.relu2 = nn.Conv2d(width, width, 3, middle, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
            self.conv3, self.bn3 = nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out)
            self.body = ("conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3")
        else:
            self.conv1, self.bn1, self.relu1 = (
                nn.Conv2d(in_channels, width, 3, stride, 1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
            )
            self.conv2, self.bn2 = nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width)
            self.body = ("conv1", "bn1", "relu1", "conv2", "bn2")
        self.shortcut = None
        if stride != 1 or in_channels != out:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride, bias=False), nn.BatchNorm2d(out))
        self.activation = nn.ReLU()
        self.out_channels = out

    def forward(self, x):
        y = x
        for name in self.body:
            y = getattr(self, name)(y)
        return self.activation(y + (x if self.shortcut is None else self.shortcut(x)))


def torch_resnet(blocks, bottleneck, layout="v1.5", widths=(64, 128, 256, 512), cifar=False, num_classes=1000):
    stem = widths[0]
    layers = OrderedDict()
    if cifar:
        layers.update(conv1=nn.Conv2d(3, stem, 3, 1, 1, bias=False), bn1=nn.BatchNorm2d(stem), relu=nn.ReLU())
    else:
        layers.update(
            conv1=nn.Conv2d(3, 64, 7, 2, 3, bias=False), bn1=nn.BatchNorm2d(64), relu=nn.ReLU(), maxpool=nn.MaxPool2d(3, 2, 1)
        )
    channels = stem
    for index, (count, width) in enumerate(zip(blocks, widths), start=1):
        stage = []
        for block in range(count):
            stage.append(Block(channels, width, (1 if index == 1 else 2) if block == 0 else 1, bottleneck, layout))
            channels = stage[-1].out_channels
        layers[f"layer{index}"] = nn.Sequential(*stage)
    layers.update(avgpool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(channels, num_classes))
    return nn.Sequential(layers)


def torch_vgg16():
    features, channels = [], 3
    for width in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if width == "M":
            features.append(nn.MaxPool2d(2, 2))
        else:
            features += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
    classifier = nn.Sequential(
        nn.Linear(25088, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000)
    )
    return nn.Sequential(
        OrderedDict(
            features=nn.Sequential(*features), avgpool=nn.AdaptiveAvgPool2d(7), flatten=nn.Flatten(), classifier=classifier
        )
    )


def conv_bn_relu6(cin, cout, kernel=3, stride=1, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()
    )


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = [conv_bn_relu6(cin, hidden, 1)] if expand != 1 else []
        layers += [
            conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


def torch_mobilenet_v2():
    features, channels = [conv_bn_relu6(3, 32, stride=2)], 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for index in range(n):
            features.append(InvertedResidual(channels, c, s if index == 0 else 1, t))
            channels = c
    features.append(conv_bn_relu6(channels, 1280, 1))
    return nn.Sequential(
        OrderedDict(
            features=nn.Sequential(*features),
            avgpool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            classifier=nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000)),
        )
    )


class Inception(nn.Module):
    def __init__(self, cin, ch1, red3, ch3, red5, ch5, pool_proj):
        super().__init__()

        def conv_relu(a, b, k):
            return nn.Sequential(OrderedDict(conv=nn.Conv2d(a, b, k, padding=k // 2), relu=nn.ReLU()))

        self.branch1 = conv_relu(cin, ch1, 1)
        self.branch2 = nn.Sequential(conv_relu(cin, red3, 1), conv_relu(red3, ch3, 3))
        self.branch3 = nn.Sequential(conv_relu(cin, red5, 1), conv_relu(red5, ch5, 5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv_relu(cin, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


def double_conv(cin, cout):
    return nn.Sequential(
        OrderedDict(conv1=nn.Conv2d(cin, cout, 3), relu1=nn.ReLU(), conv2=nn.Conv2d(cout, cout, 3), relu2=nn.ReLU())
    )


class CopyAndCrop(nn.Module):
    def __init__(self, deeper):
        super().__init__()
        self.copy, self.deeper = nn.Identity(), deeper

    def forward(self, x):
        copied, below = self.copy(x), self.deeper(x)
        top, left = (copied.shape[2] - below.shape[2]) // 2, (copied.shape[3] - below.shape[3]) // 2
        return torch.cat([copied[:, :, top : top + below.shape[2], left : left + below.shape[3]], below], 1)


def unet_level(widths, cin):
    width = widths[0]
    if len(widths) == 1:
        return double_conv(cin, width)
    deeper = nn.Sequential(
        OrderedDict(pool=nn.MaxPool2d(2, 2), down=unet_level(widths[1:], width), up=nn.ConvTranspose2d(widths[1], width, 2, 2))
    )
    return nn.Sequential(
        OrderedDict(encode=double_conv(cin, width), skip=CopyAndCrop(deeper), decode=double_conv(2 * width, width))
    )


def torch_unet(widths=(64, 128, 256, 512, 1024), cin=1, classes=2):
    return nn.Sequential(OrderedDict(body=unet_level(widths, cin), head=nn.Conv2d(widths[0], classes, 1)))


class PatchEmbedding(nn.Module):
    def __init__(self, dim, patch):
        super().__init__()
        self.weight, self.bias, self.patch = (
            nn.Parameter(torch.zeros(dim, 3, patch, patch)),
            nn.Parameter(torch.zeros(dim)),
            patch,
        )

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, stride=self.patch).flatten(2).transpose(1, 2)


class ClassToken(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x):
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], 1)


class PositionEmbedding(nn.Module):
    def __init__(self, tokens, dim):
        super().__init__()
        self.embedding = nn.Parameter(torch.zeros(1, tokens, dim))

    def forward(self, x):
        return x + self.embedding


class SelectToken(nn.Module):
    def forward(self, x):
        return x[:, 0]


class EncoderBlock(nn.Module):
    def __init__(self, heads, dim, mlp):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.self_attention, self.dropout = nn.MultiheadAttention(dim, heads, batch_first=True), nn.Dropout(0.0)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Dropout(0.0), nn.Linear(mlp, dim), nn.Dropout(0.0))

    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.dropout(self.self_attention(y, y, y, need_weights=True)[0])  # the matmul path, which the flop counter sees
        return x + self.mlp(self.ln_2(x))


def torch_vit(image_size=224, patch=16, layers=12, heads=12, dim=768, mlp=3072):
    tokens = (image_size // patch) ** 2 + 1
    encoder = nn.Sequential(
        OrderedDict(
            pos_embedding=PositionEmbedding(tokens, dim),
            dropout=nn.Dropout(0.0),
            layers=nn.Sequential(OrderedDict((f"encoder_layer_{i}", EncoderBlock(heads, dim, mlp)) for i in range(layers))),
            ln=nn.LayerNorm(dim, eps=1e-6),
        )
    )
    return nn.Sequential(
        OrderedDict(
            conv_proj=PatchEmbedding(dim, patch),
            class_token=ClassToken(dim),
            encoder=encoder,
            class_token_output=SelectToken(),
            heads=nn.Sequential(OrderedDict(head=nn.Linear(dim, 1000))),
        )
    )


# ---- comparing a twin with a report, layer by layer ----------------------------------------------


def traced(make_twin, shape, train=False):
    """The twin's parameters, each called module's output shape by name, its leaves, and its FLOPs.

    Built and run on the meta device: shapes and counts without arithmetic or memory.
    """
    with torch.device("meta"):
        twin = make_twin()
    twin.train(train)
    shapes, called = {}, []

    def hook(name):
        def record(module, inputs, output):
            shapes[name] = tuple((output[0] if isinstance(output, tuple) else output).shape[1:])
            called.append(name)

        return record

    for name, module in twin.named_modules():
        module.register_forward_hook(hook(name))
    with FlopCounterMode(display=False) as counter:
        twin(torch.empty(1, *shape, device="meta"))
    # A leaf is a called module none of whose submodules was called (attention calls none of its own).
    leaves = {name for name in called if not any(other.startswith(f"{name}.") for other in called) and name}
    return sum(p.numel() for p in twin.parameters()), shapes, leaves, counter.get_total_flops()


def assert_matches(report, make_twin, shape, train=False):
    params, shapes, leaves, flops = traced(make_twin, shape, train)
    assert report.params == params
    rows = [row for row in report.layers if row.kind not in MERGES]
    assert {row.path for row in rows} == leaves
    for row in report.layers:
        if row.path in shapes:
            assert row.output_shape == shapes[row.path], row.path
    assert 2 * report.macs == flops


RESNETS = {
    "resnet18": ((2, 2, 2, 2), False),
    "resnet34": ((3, 4, 6, 3), False),
    "resnet50": ((3, 4, 6, 3), True),
    "resnet101": ((3, 4, 23, 3), True),
    "resnet152": ((3, 8, 36, 3), True),
}


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50"])
@pytest.mark.parametrize("layout", ["v1.5", "v1"])
@pytest.mark.parametrize("side", [97, 193, 224])
def test_resnets_match_torch(name, layout, side):
    blocks, bottleneck = RESNETS[name]
    report = analyze(getattr(models, name)(layout=layout), (3, side, side))
    assert_matches(report, lambda: torch_resnet(blocks, bottleneck, layout), (3, side, side))


@pytest.mark.parametrize("name", ["resnet101", "resnet152"])
def test_deep_resnets_match_torch(name):
    blocks, bottleneck = RESNETS[name]
    assert_matches(analyze(getattr(models, name)(), (3, 129, 97)), lambda: torch_resnet(blocks, bottleneck), (3, 129, 97))


@pytest.mark.parametrize("side", [33, 97, 224])
def test_vgg16_matches_torch(side):
    assert_matches(analyze(models.vgg16(), (3, side, side)), torch_vgg16, (3, side, side))


@pytest.mark.parametrize("side", [97, 193, 224])
def test_mobilenet_v2_matches_torch(side):
    report = analyze(models.mobilenet_v2(), (3, side, side))
    assert_matches(report, torch_mobilenet_v2, (3, side, side))
    if side == 224:
        assert (report.params, report.macs) == (3_504_872, 300_774_272)  # torchvision's 3.5 M and 0.30 GFLOPS


@pytest.mark.parametrize("shape", [(192, 28, 28), (192, 13, 17), (480, 14, 14)])
def test_inception_module_matches_torch(shape):
    channels = (64, 96, 128, 16, 32, 32) if shape[0] == 192 else (192, 96, 208, 16, 48, 64)  # GoogLeNet's 3a and 4a
    report = analyze(models.inception_module(shape[0], *channels), shape)
    assert_matches(report, lambda: Inception(shape[0], *channels), shape)
    assert report.output_shape == (channels[0] + channels[2] + channels[4] + channels[5], *shape[1:])


@pytest.mark.parametrize("n, block, side", [(3, "basic", 32), (9, "basic", 33), (2, "bottleneck", 32), (3, "bottleneck", 41)])
def test_cifar_resnets_match_torch(n, block, side):
    report = analyze(models.cifar_resnet(n, block), (3, side, side))
    bottleneck = block == "bottleneck"
    assert_matches(
        report, lambda: torch_resnet((n, n, n), bottleneck, widths=(16, 32, 64), cifar=True, num_classes=10), (3, side, side)
    )
    layers = sum(row.kind in ("Conv2d", "Linear") and ".shortcut." not in row.path for row in report.layers)
    assert layers == (9 if bottleneck else 6) * n + 2  # the depth in the name: ResNet-20 has 20 weighted layers


def test_cifar_resnet20_is_the_papers_size():
    """He et al. 2016 table 6: ResNet-20 has 0.27 M parameters (with projection shortcuts: 272,474)."""
    report = analyze(models.cifar_resnet(3), (3, 32, 32))
    assert report.params == 272_474 and report.output_shape == (10,)


@pytest.mark.parametrize("side", [572, 573, 252])
def test_unet_matches_torch(side):
    report = analyze(models.unet(), (1, side, side))
    assert_matches(report, torch_unet, (1, side, side))


def test_unet_is_the_papers_network():
    report = analyze(models.unet(), (1, 572, 572))
    assert report.output_shape == (2, 388, 388)
    assert report.params == 31_030_658


def test_unet_refuses_sizes_torch_refuses():
    with pytest.raises(SymconvError):
        analyze(models.unet(), (1, 100, 100))
    with pytest.raises(RuntimeError):
        traced(torch_unet, (1, 100, 100))


def test_small_unet_receptive_field_matches_torch_dependence():
    from test_analyze import measured_field

    widths = (1, 1, 1)
    net = models.unet(1, 1, widths)
    side = 124
    report = analyze(net, (1, side, side))
    twin = torch_unet(widths, 1, 1).double().eval()
    span, step = measured_field(twin, 1, side)
    assert (report.receptive_field, report.jump) == (span, step)


@pytest.mark.parametrize("image_size", [224, 32])
def test_vit_b_16_matches_torch(image_size):
    report = analyze(models.vit_b_16(image_size), (3, image_size, image_size))
    assert_matches(report, lambda: torch_vit(image_size), (3, image_size, image_size), train=True)


def test_vit_b_16_symbolic_image_size():
    """With the image size a symbol, the position embedding follows it: (H/16)² + 1 tokens."""
    symbolic = analyze(models.vit_b_16("H"), (3, "H", "H"))
    assert symbolic.subs(H=224) == analyze(models.vit_b_16(224), (3, 224, 224))
    assert symbolic.subs(H=384) == analyze(models.vit_b_16(384), (3, 384, 384))


# ---- published figures (/work/shared/references/README.md) ----------------------------------------


def test_resnet50_published_figures():
    report = analyze(models.resnet50(), (3, 224, 224))
    assert (report.params, report.macs) == (25_557_032, 4_089_184_256)
    assert report.macs_by_op == {"Conv2d": 4_087_136_256, "Linear": 2_048_000}
    assert analyze(models.resnet50(), (3, 224, 224), convention="fvcore").macs == 4_111_512_576
    assert (report.receptive_field, report.jump) == (427, 32)
    original = analyze(models.resnet50(layout="v1"), (3, 224, 224))
    assert (original.macs, original.receptive_field, original.params) == (3_857_973_248, 483, 25_557_032)


def test_resnet18_published_figures():
    report = analyze(models.resnet18(), (3, 224, 224))
    assert report.params == 11_689_512
    assert report.macs_by_op == {"Conv2d": 1_813_561_344, "Linear": 512_000}
    assert analyze(models.resnet18(), (3, 224, 224), convention="fvcore").macs_by_op["BatchNorm2d"] == 4_967_424


def test_vit_b_16_published_figures():
    report = analyze(models.vit_b_16(), (3, 224, 224))
    assert report.params == 86_567_656
    assert report.output_shape == (1000,)


def test_vgg16_published_figures():
    """torchvision: 138,357,544 parameters, 15.47 GFLOPS (multiply-accumulates)."""
    report = analyze(models.vgg16(), (3, 224, 224))
    assert report.params == 138_357_544 and round(report.macs / 1e7) == 1547


# ---- the registry ----------------------------------------------------------------------------------


def test_every_zoo_entry_builds_and_runs_at_its_own_input():
    for name in models.names():
        entry = models.get(name)
        report = analyze(entry.build(), entry.input_shape)
        assert report.params > 0 and report.macs > 0, name


def test_unknown_zoo_name():
    with pytest.raises(SymconvError, match="model='resnet51': not in the zoo; choose one of resnet18, resnet34"):
        models.get("resnet51")


def test_bad_builder_arguments():
    with pytest.raises(SymconvError, match="layout='v2'"):
        models.resnet50(layout="v2")
    with pytest.raises(SymconvError, match="block='wide'"):
        models.cifar_resnet(3, "wide")
