"""The zoo against PyTorch re-implementations written here: parameters and every layer's output shape.

torchvision is not available, so each architecture is rebuilt in plain torch.nn from its paper /
torchvision's layout. Layers are compared as a multiset of (kind, output shape) recorded by forward
hooks, at several input sizes, odd ones included.
"""

from collections import Counter

import pytest
import torch
from torch import nn as tnn

from symconv import models
from symconv.analyze import analyze

COMPARED = ("Conv2d", "ConvTranspose2d", "BatchNorm2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Linear")


def torch_layers(model: tnn.Module, shape: tuple[int, ...]) -> Counter:
    seen: Counter = Counter()

    def record(module, inputs, output):
        seen[(type(module).__name__, tuple(output.shape[1:]))] += 1

    hooks = [m.register_forward_hook(record) for m in model.modules() if type(m).__name__ in COMPARED]
    with torch.no_grad():
        model.eval()(torch.zeros(1, *shape, device="meta"))
    for hook in hooks:
        hook.remove()
    return seen


def symconv_layers(report) -> Counter:
    return Counter((row.kind, tuple(row.output_shape)) for row in report.layers if row.kind in COMPARED)


def assert_same_network(ours, theirs: tnn.Module, shapes):
    theirs = theirs.to("meta")
    for shape in shapes:
        report = analyze(ours, shape)
        assert report.params == sum(p.numel() for p in theirs.parameters())
        assert symconv_layers(report) == torch_layers(theirs, shape), shape


# ---- ResNets (torchvision layout v1.5; v1 strides the first 1×1) ----------------------------------


def conv_bn(cin, cout, k, stride=1, padding=0):
    return [tnn.Conv2d(cin, cout, k, stride, padding, bias=False), tnn.BatchNorm2d(cout)]


class Block(tnn.Module):
    def __init__(self, body, shortcut):
        super().__init__()
        self.body, self.shortcut = tnn.Sequential(*body), shortcut

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def basic(cin, width, stride, v1=False):
    body = [*conv_bn(cin, width, 3, stride, 1), tnn.ReLU(), *conv_bn(width, width, 3, 1, 1)]
    shortcut = tnn.Sequential(*conv_bn(cin, width, 1, stride)) if stride != 1 or cin != width else tnn.Identity()
    return Block(body, shortcut), width


def bottleneck(cin, width, stride, v1=False):
    first, middle = (stride, 1) if v1 else (1, stride)
    body = [
        *conv_bn(cin, width, 1, first), tnn.ReLU(),
        *conv_bn(width, width, 3, middle, 1), tnn.ReLU(),
        *conv_bn(width, 4 * width, 1),
    ]
    shortcut = tnn.Sequential(*conv_bn(cin, 4 * width, 1, stride)) if stride != 1 or cin != 4 * width else tnn.Identity()
    return Block(body, shortcut), 4 * width


def stages(block, channels, widths, counts, first_stride, v1=False):
    layers = []
    for index, (width, count) in enumerate(zip(widths, counts)):
        for number in range(count):
            stride = (first_stride if index == 0 else 2) if number == 0 else 1
            layer, channels = block(channels, width, stride, v1)
            layers.append(layer)
    return layers, channels


def torch_resnet(block, counts, v1=False, classes=1000):
    body, channels = stages(block, 64, (64, 128, 256, 512), counts, 1, v1)
    return tnn.Sequential(
        *conv_bn(3, 64, 7, 2, 3), tnn.ReLU(), tnn.MaxPool2d(3, 2, 1), *body,
        tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(channels, classes),
    )


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: models.resnet18(), lambda: torch_resnet(basic, (2, 2, 2, 2))),
        (lambda: models.resnet34(), lambda: torch_resnet(basic, (3, 4, 6, 3))),
        (lambda: models.resnet50(), lambda: torch_resnet(bottleneck, (3, 4, 6, 3))),
        (lambda: models.resnet50(layout="v1"), lambda: torch_resnet(bottleneck, (3, 4, 6, 3), v1=True)),
        (lambda: models.resnet101(), lambda: torch_resnet(bottleneck, (3, 4, 23, 3))),
    ],
    ids=["resnet18", "resnet34", "resnet50", "resnet50-v1", "resnet101"],
)
def test_resnets(ours, theirs):
    assert_same_network(ours(), theirs(), [(3, 224, 224), (3, 97, 97), (3, 193, 161)])


def test_resnet152_parameters():
    theirs = torch_resnet(bottleneck, (3, 8, 36, 3)).to("meta")
    assert analyze(models.resnet152(), (3, 224, 224)).params == sum(p.numel() for p in theirs.parameters())


@pytest.mark.parametrize("n, block", [(3, "basic"), (2, "bottleneck")])
def test_cifar_resnets(n, block):
    builder = basic if block == "basic" else bottleneck
    body, channels = stages(builder, 16, (16, 32, 64), (n, n, n), 1)
    theirs = tnn.Sequential(
        *conv_bn(3, 16, 3, 1, 1), tnn.ReLU(), *body, tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(channels, 10)
    )
    assert_same_network(models.cifar_resnet(n, block=block), theirs, [(3, 32, 32), (3, 33, 31)])


# ---- VGG-16, MobileNetV2, Inception ----------------------------------------------------------------


def torch_vgg16():
    layers, channels = [], 3
    for width in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if width == "M":
            layers.append(tnn.MaxPool2d(2, 2))
        else:
            layers += [tnn.Conv2d(channels, width, 3, padding=1), tnn.ReLU()]
            channels = width
    return tnn.Sequential(
        *layers, tnn.AdaptiveAvgPool2d(7), tnn.Flatten(),
        tnn.Linear(512 * 7 * 7, 4096), tnn.ReLU(), tnn.Dropout(), tnn.Linear(4096, 4096), tnn.ReLU(), tnn.Dropout(),
        tnn.Linear(4096, 1000),
    )


def test_vgg16():
    assert_same_network(models.vgg16(), torch_vgg16(), [(3, 224, 224), (3, 97, 97)])


class InvertedResidual(tnn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = [] if expand == 1 else [tnn.Conv2d(cin, hidden, 1, bias=False), tnn.BatchNorm2d(hidden), tnn.ReLU6()]
        layers += [
            tnn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), tnn.BatchNorm2d(hidden), tnn.ReLU6(),
            tnn.Conv2d(hidden, cout, 1, bias=False), tnn.BatchNorm2d(cout),
        ]
        self.body, self.residual = tnn.Sequential(*layers), stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


def torch_mobilenet_v2():
    layers, channels = [tnn.Conv2d(3, 32, 3, 2, 1, bias=False), tnn.BatchNorm2d(32), tnn.ReLU6()], 32
    for expand, width, count, stride in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for number in range(count):
            layers.append(InvertedResidual(channels, width, stride if number == 0 else 1, expand))
            channels = width
    layers += [tnn.Conv2d(320, 1280, 1, bias=False), tnn.BatchNorm2d(1280), tnn.ReLU6()]
    return tnn.Sequential(*layers, tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Dropout(0.2), tnn.Linear(1280, 1000))


def test_mobilenet_v2():
    theirs = torch_mobilenet_v2()
    assert sum(p.numel() for p in theirs.parameters()) == 3_504_872  # torchvision's published count
    assert_same_network(models.mobilenet_v2(), theirs, [(3, 224, 224), (3, 97, 97)])


class Branches(tnn.Module):
    def __init__(self, *branches):
        super().__init__()
        self.branches = tnn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)


def conv_relu(cin, cout, k):
    return [tnn.Conv2d(cin, cout, k, padding=k // 2), tnn.ReLU()]


def test_inception_module():
    theirs = Branches(
        tnn.Sequential(*conv_relu(192, 64, 1)),
        tnn.Sequential(*conv_relu(192, 96, 1), *conv_relu(96, 128, 3)),
        tnn.Sequential(*conv_relu(192, 16, 1), *conv_relu(16, 32, 5)),
        tnn.Sequential(tnn.MaxPool2d(3, 1, 1), *conv_relu(192, 32, 1)),
    )
    ours = models.inception_module(192, 64, 96, 128, 16, 32, 32)
    assert_same_network(ours, theirs, [(192, 28, 28), (192, 13, 17)])
    assert analyze(ours, (192, 28, 28)).output_shape == (256, 28, 28)


# ---- U-Net and ViT-B/16 --------------------------------------------------------------------------


class UNetLevel(tnn.Module):
    def __init__(self, widths, cin):
        super().__init__()
        width = widths[0]
        self.encode = tnn.Sequential(tnn.Conv2d(cin, width, 3), tnn.ReLU(), tnn.Conv2d(width, width, 3), tnn.ReLU())
        self.deeper = None
        if widths[1:]:
            self.pool = tnn.MaxPool2d(2, 2)
            self.deeper = UNetLevel(widths[1:], width)
            self.up = tnn.ConvTranspose2d(widths[1], width, 2, stride=2)
            self.decode = tnn.Sequential(tnn.Conv2d(2 * width, width, 3), tnn.ReLU(), tnn.Conv2d(width, width, 3), tnn.ReLU())

    def forward(self, x):
        x = self.encode(x)
        if self.deeper is None:
            return x
        up = self.up(self.deeper(self.pool(x)))
        cut = (x.shape[-1] - up.shape[-1]) // 2
        return self.decode(torch.cat([x[..., cut : cut + up.shape[-2], cut : cut + up.shape[-1]], up], dim=1))


def test_unet():
    theirs = tnn.Sequential(UNetLevel((64, 128, 256, 512, 1024), 1), tnn.Conv2d(64, 2, 1))
    assert_same_network(models.unet(), theirs, [(1, 572, 572)])
    assert analyze(models.unet(), (1, 572, 572)).output_shape == (2, 388, 388)


class ViT(tnn.Module):
    def __init__(self, size=224, patch=16, layers=12, heads=12, dim=768, mlp=3072, classes=1000):
        super().__init__()
        tokens = (size // patch) ** 2 + 1
        self.patches = tnn.Conv2d(3, dim, patch, patch)
        self.cls = tnn.Parameter(torch.zeros(1, 1, dim))
        self.position = tnn.Parameter(torch.zeros(1, tokens, dim))
        layer = tnn.TransformerEncoderLayer(dim, heads, mlp, activation="gelu", batch_first=True, norm_first=True)
        self.encoder = tnn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm, self.head = tnn.LayerNorm(dim), tnn.Linear(dim, classes)

    def forward(self, x):
        x = self.patches(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.position
        return self.head(self.norm(self.encoder(x))[:, 0])


def test_vit_b_16():
    theirs = ViT().to("meta")
    assert sum(p.numel() for p in theirs.parameters()) == 86_567_656
    report = analyze(models.vit_b_16(), (3, 224, 224))
    assert report.params == 86_567_656
    with torch.no_grad():
        assert tuple(theirs(torch.zeros(1, 3, 224, 224, device="meta")).shape[1:]) == tuple(report.output_shape)
