"""Architecture exercises (14, 19-22, 25, 27, 30, 33, 34) against models built with plain torch.nn and published figures."""

import json
import subprocess
import sys
from fractions import Fraction

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import symconv
from symconv.cli.main import main
from symconv.core.derive import Derivation

META = "meta"  # parameter counts and shapes need no memory and no arithmetic

# /work/shared/references/README.md (torchvision 0.29.1).
RESNET50_PARAMS = 25_557_032
RESNET50_CONV, RESNET50_BATCHNORM, RESNET50_FC = 23_454_912, 53_120, 2_049_000
VIT_B_16_PARAMS = 86_567_656
# EfficientNet (Tan & Le 2019), section 4.2: the grid-searched constants for B0.
EFFICIENTNET_ALPHA, EFFICIENTNET_BETA, EFFICIENTNET_GAMMA = 1.2, 1.1, 1.15

SETTINGS = settings(deadline=None, max_examples=30)


def cli_answers(capsys, number):
    assert main(["solve", str(number), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)["answers"]


def count(module):
    return sum(parameter.numel() for parameter in module.parameters())


def count_of(module, kind, name=None):
    return sum(p.numel() for m in module.modules() if isinstance(m, kind) for n, p in m.named_parameters() if name in (None, n))


def trainable(module):
    return sum(parameter.numel() for parameter in module.parameters() if parameter.requires_grad)


# --- residual networks in torchvision's layout -------------------------------------------------


class Bottleneck(nn.Module):
    def __init__(self, in_channels, width, out_channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False, device=META)
        self.bn1 = nn.BatchNorm2d(width, device=META)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False, device=META)
        self.bn2 = nn.BatchNorm2d(width, device=META)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False, device=META)
        self.bn3 = nn.BatchNorm2d(out_channels, device=META)
        self.downsample = shortcut(in_channels, out_channels, stride)

    def forward(self, x):
        y = self.bn1(self.conv1(x)).relu()
        y = self.bn2(self.conv2(y)).relu()
        return (self.bn3(self.conv3(y)) + self.downsample(x)).relu()


class Basic(nn.Module):
    def __init__(self, in_channels, width, out_channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, stride, 1, bias=False, device=META)
        self.bn1 = nn.BatchNorm2d(width, device=META)
        self.conv2 = nn.Conv2d(width, out_channels, 3, 1, 1, bias=False, device=META)
        self.bn2 = nn.BatchNorm2d(out_channels, device=META)
        self.downsample = shortcut(in_channels, out_channels, stride)

    def forward(self, x):
        return (self.bn2(self.conv2(self.bn1(self.conv1(x)).relu())) + self.downsample(x)).relu()


def shortcut(in_channels, out_channels, stride):
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride, bias=False, device=META), nn.BatchNorm2d(out_channels, device=META)
    )


def resnet(block, stem, widths, blocks, expansion, classes):
    layers, in_channels = list(stem), stem[0].out_channels
    for index, (width, count_) in enumerate(zip(widths, blocks)):
        for position in range(count_):
            stride = 2 if index > 0 and position == 0 else 1
            layers.append(block(in_channels, width, width * expansion, stride))
            in_channels = width * expansion
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, classes, device=META)]
    return nn.Sequential(*layers)


def imagenet_stem(channels=64):
    return (
        nn.Conv2d(3, channels, 7, 2, 3, bias=False, device=META),
        nn.BatchNorm2d(channels, device=META),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
    )


def cifar_stem(channels):
    return (nn.Conv2d(3, channels, 3, 1, 1, bias=False, device=META), nn.BatchNorm2d(channels, device=META), nn.ReLU())


def resnet50(classes=1000):
    return resnet(Bottleneck, imagenet_stem(), (64, 128, 256, 512), (3, 4, 6, 3), 4, classes)


def main_path_layers(network):
    """Convolutions outside the shortcuts plus the classifier."""
    shortcuts = {
        id(m) for block in network.modules() if isinstance(block, (Bottleneck, Basic)) for m in block.downsample.modules()
    }
    return sum(1 for m in network.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) and id(m) not in shortcuts)


def test_resnet50_matches_torch_and_published_figures(capsys):
    answers = cli_answers(capsys, 19)
    network = resnet50()
    assert network(torch.zeros(1, 3, 224, 224, device=META)).shape == (1, 1000)
    assert count(network) == RESNET50_PARAMS == answers["params"]
    assert count_of(network, nn.Conv2d) == RESNET50_CONV == answers["conv_weights"]
    assert count_of(network, nn.BatchNorm2d) == RESNET50_BATCHNORM == answers["batchnorm_params"]
    assert count_of(network, nn.Linear) == RESNET50_FC == answers["fc_params"]
    weights_only = count_of(network, nn.Conv2d) + count_of(network, nn.Linear, "weight")
    assert answers["params_weights_only"] == weights_only == RESNET50_CONV + RESNET50_FC - 1000


@SETTINGS
@given(
    blocks=st.lists(st.integers(1, 3), min_size=1, max_size=4),
    width=st.integers(1, 24),
    stem=st.integers(1, 32),
    expansion=st.integers(1, 4),
    classes=st.integers(1, 50),
)
def test_bottleneck_resnet_variants_match_torch(blocks, width, stem, expansion, classes):
    widths = tuple(width * 2**index for index in range(len(blocks)))
    solution = symconv.solve(19, blocks=tuple(blocks), widths=widths, stem_channels=stem, expansion=expansion, classes=classes)
    network = resnet(Bottleneck, imagenet_stem(stem), widths, blocks, expansion, classes)
    assert solution.answers["params"] == count(network)
    assert solution.answers["params_weights_only"] == count_of(network, nn.Conv2d) + count_of(network, nn.Linear, "weight")


def test_cifar_resnets_match_torch(capsys):
    answers = cli_answers(capsys, 33)
    bottleneck = resnet(Bottleneck, cifar_stem(16), (16, 32, 64), (3, 3, 3), 4, 10)
    basic = resnet(Basic, cifar_stem(16), (16, 32, 64), (3, 3, 3), 1, 10)
    for network in (bottleneck, basic):
        assert network(torch.zeros(1, 3, 32, 32, device=META)).shape == (1, 10)
    assert answers["params"] == count(bottleneck)
    assert answers["basic_params"] == count(basic)
    assert answers["basic_layers"] == main_path_layers(basic) == 20
    assert answers["bottleneck_layers"] == main_path_layers(bottleneck)


@SETTINGS
@given(
    n=st.integers(1, 6),
    width=st.integers(1, 32),
    stages=st.integers(1, 4),
    expansion=st.integers(1, 4),
    classes=st.integers(2, 100),
)
def test_cifar_resnet_variants_match_torch(n, width, stages, expansion, classes):
    widths = tuple(width * 2**index for index in range(stages))
    answers = symconv.solve(
        33, blocks_per_stage=n, widths=widths, expansion=expansion, stem_channels=width, classes=classes
    ).answers
    bottleneck = resnet(Bottleneck, cifar_stem(width), widths, (n,) * stages, expansion, classes)
    basic = resnet(Basic, cifar_stem(width), widths, (n,) * stages, 1, classes)
    assert answers["params"] == count(bottleneck)
    assert answers["basic_params"] == count(basic)
    assert answers["bottleneck_layers"] == main_path_layers(bottleneck)
    assert answers["basic_layers"] == main_path_layers(basic)


def test_transfer_learning_phases_match_torch(capsys):
    answers = cli_answers(capsys, 30)
    network = resnet50()
    network[-1] = nn.Linear(network[-1].in_features, 2, device=META)
    network.requires_grad_(False)
    network[-1].requires_grad_(True)
    assert answers["head_params"] == answers["trainable_params_phase1"] == trainable(network) == 4098
    network.requires_grad_(True)
    assert answers["trainable_params_phase2"] == trainable(network) == RESNET50_PARAMS - RESNET50_FC + 4098


# --- heads, modules and output sizes -----------------------------------------------------------


def test_gap_and_flatten_heads_default(capsys):
    answers = cli_answers(capsys, 14)
    flatten = nn.Sequential(nn.Flatten(), nn.Linear(512 * 7 * 7, 1000, device=META))
    gap = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000, device=META))
    features = torch.zeros(1, 512, 7, 7, device=META)
    assert flatten(features).shape == gap(features).shape == (1, 1000)
    assert answers["flatten_head_params"] == count(flatten)
    assert answers["gap_head_params"] == count(gap)


@SETTINGS
@given(c=st.integers(1, 256), h=st.integers(1, 16), w=st.integers(1, 16), k=st.integers(1, 1000))
def test_gap_and_flatten_heads_variants(c, h, w, k):
    answers = symconv.solve(14, channels=c, height=h, width=w, classes=k).answers
    assert answers["flatten_head_params"] == count(nn.Linear(c * h * w, k, device=META))
    assert answers["gap_head_params"] == count(nn.Linear(c, k, device=META))


class Inception(nn.Module):
    def __init__(self, c_in, one, r3, three, r5, five, pool):
        super().__init__()
        self.one = nn.Conv2d(c_in, one, 1, device=META)
        self.three = nn.Sequential(nn.Conv2d(c_in, r3, 1, device=META), nn.Conv2d(r3, three, 3, padding=1, device=META))
        self.five = nn.Sequential(nn.Conv2d(c_in, r5, 1, device=META), nn.Conv2d(r5, five, 5, padding=2, device=META))
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(c_in, pool, 1, device=META))

    def forward(self, x):
        return torch.cat([self.one(x), self.three(x), self.five(x), self.pool(x)], dim=1)


def test_inception_channels_default(capsys):
    answers = cli_answers(capsys, 20)
    out = Inception(192, 64, 96, 128, 16, 32, 32)(torch.zeros(1, 192, 28, 28, device=META))
    assert out.shape == (1, answers["out_channels"], 28, 28)
    assert answers["out_channels"] == 256


@SETTINGS
@given(st.lists(st.integers(1, 64), min_size=7, max_size=7), st.integers(1, 40))
def test_inception_channels_variants(widths, size):
    c_in, one, r3, three, r5, five, pool = widths
    names = ("in_channels", "branch_1x1", "reduce_3x3", "branch_3x3", "reduce_5x5", "branch_5x5", "pool_proj")
    answers = symconv.solve(20, size=size, **dict(zip(names, widths))).answers
    out = Inception(c_in, one, r3, three, r5, five, pool)(torch.zeros(1, c_in, size, size, device=META))
    assert out.shape == (1, answers["out_channels"], size, size)


def conv_macs_of(module, x):
    """MACs of every Conv2d in a forward pass, from the shapes torch produces: outputs × (C_in/groups)·K²."""
    total = 0

    def hook(conv, _inputs, output):
        nonlocal total
        total += output.numel() * conv.weight[0].numel()

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, nn.Conv2d)]
    module(x)
    for handle in handles:
        handle.remove()
    return total


def reduction_costs(c, r, k, size):
    x = torch.zeros(1, c, size, size, device=META)
    direct = conv_macs_of(nn.Conv2d(c, c, k, padding=k // 2, bias=False, device=META), x)
    factorised = conv_macs_of(
        nn.Sequential(nn.Conv2d(c, r, 1, bias=False, device=META), nn.Conv2d(r, c, k, padding=k // 2, bias=False, device=META)), x
    )
    return direct, factorised


def symbolic_saving(solution):
    return next(
        b for b in solution.blocks if isinstance(b, Derivation) and b.lhs == "saving" and getattr(b.value, "free_symbols", None)
    ).value


def test_reduction_saving_default(capsys):
    answers = cli_answers(capsys, 21)
    direct, factorised = reduction_costs(256, 64, 5, 28)
    assert (answers["macs_direct"], answers["macs_factorised"]) == (direct, factorised)
    assert answers["saving"] == float(Fraction(direct, factorised))
    assert answers["reduction_channels"] == 64


@SETTINGS
@given(c=st.integers(1, 96), r=st.integers(1, 96), k=st.sampled_from([1, 3, 5, 7]), size=st.integers(1, 20))
def test_reduction_saving_variants_and_general_formula(c, r, k, size):
    solution = symconv.solve(21, channels=c, reduction=r, kernel_size=k, size=size)
    direct, factorised = reduction_costs(c, r, k, size)
    assert (solution.answers["macs_direct"], solution.answers["macs_factorised"]) == (direct, factorised)
    assert solution.answers["saving"] == Fraction(direct, factorised)
    general = symbolic_saving(solution)
    values = {symbol: {"C": c, "R": r}[symbol.name] for symbol in general.free_symbols}
    assert general.subs(values) == Fraction(direct, factorised)


def test_compound_scaling_constants(capsys):
    answers = cli_answers(capsys, 22)
    assert (answers["alpha"], answers["beta"], answers["gamma"]) == (EFFICIENTNET_ALPHA, EFFICIENTNET_BETA, EFFICIENTNET_GAMMA)
    expected = EFFICIENTNET_ALPHA * EFFICIENTNET_BETA**2 * EFFICIENTNET_GAMMA**2
    assert answers["flops_factor_per_phi"] == pytest.approx(expected, rel=1e-12)


@SETTINGS
@given(c=st.integers(1, 16), k=st.sampled_from([1, 3]), size=st.integers(1, 12), w=st.integers(1, 3), r=st.integers(1, 3))
def test_compound_scaling_cost_law_matches_torch(c, k, size, w, r):
    """The exercise's one-layer ratio, evaluated, equals the MAC ratio torch's shapes give."""
    layer_ratio = next(b for b in symconv.solve(22).blocks if isinstance(b, Derivation) and b.lhs == "ratio").value
    base = conv_macs_of(nn.Conv2d(c, c, k, padding=k // 2, device=META), torch.zeros(1, c, size, size, device=META))
    scaled = conv_macs_of(
        nn.Conv2d(w * c, w * c, k, padding=k // 2, device=META), torch.zeros(1, w * c, r * size, r * size, device=META)
    )
    values = {symbol: {"w": w, "r": r}[symbol.name] for symbol in layer_ratio.free_symbols}
    assert layer_ratio.subs(values) == Fraction(scaled, base)


def yolo_output(s, b, c):
    """The YOLOv1 layout: per cell, B boxes of (x, y, w, h, confidence), then C class probabilities."""
    boxes = torch.cat([torch.zeros(s, s, b, 4, device=META), torch.zeros(s, s, b, 1, device=META)], dim=-1)
    return torch.cat([boxes.flatten(2), torch.zeros(s, s, c, device=META)], dim=-1)


def test_yolo_output_default(capsys):
    answers = cli_answers(capsys, 25)
    out = yolo_output(13, 5, 80)
    assert answers["output_shape"] == list(out.shape) == [13, 13, 105]
    assert answers["outputs"] == out.numel() == 17_745


@SETTINGS
@given(s=st.integers(1, 30), b=st.integers(1, 10), c=st.integers(1, 100))
def test_yolo_output_variants(s, b, c):
    answers = symconv.solve(25, grid=s, boxes=b, classes=c).answers
    out = yolo_output(s, b, c)
    assert (answers["output_shape"], answers["outputs"]) == (list(out.shape), out.numel())


def unet_sizes(size, depth, k):
    """Sizes through a one-channel U-Net in torch: skips, up-sampled maps, bottom and output."""
    conv = lambda c_in: nn.Sequential(nn.Conv2d(c_in, 1, k, device=META), nn.Conv2d(1, 1, k, device=META))  # noqa: E731
    x, skips, ups = torch.zeros(1, 1, size, size, device=META), [], []
    for level in range(depth):
        x = conv(1)(x)
        skips.append(x)
        x = nn.MaxPool2d(2)(x)
    x = conv(1)(x)
    bottom = x.shape[-1]
    for skip in reversed(skips):
        x = nn.ConvTranspose2d(1, 1, 2, 2, device=META)(x)
        ups.append(x.shape[-1])
        start = (skip.shape[-1] - x.shape[-1]) // 2
        cropped = skip[..., start : start + x.shape[-2], start : start + x.shape[-1]]
        x = conv(2)(torch.cat([cropped, x], dim=1))
    out = nn.Conv2d(1, 2, 1, device=META)(x)
    return [s.shape[-1] for s in skips], ups[::-1], bottom, out.shape[-1]


def test_unet_sizes_default(capsys):
    answers = cli_answers(capsys, 27)
    skips, ups, bottom, output = unet_sizes(572, 4, 3)
    assert answers["output_size"] == output == 388
    assert (answers["skip_sizes"], answers["upsampled_sizes"], answers["bottleneck_size"]) == (skips, ups, bottom)


@settings(deadline=None, max_examples=40)
@given(size=st.integers(1, 700), depth=st.integers(1, 4))
def test_unet_sizes_variants(size, depth):
    """Where torch can run the U the sizes agree; where it cannot, the exercise refuses the input too."""
    try:
        expected = unet_sizes(size, depth, 3)
    except RuntimeError:
        with pytest.raises(symconv.SymconvError, match="input_size"):
            symconv.solve(27, input_size=size, depth=depth)
        return
    answers = symconv.solve(27, input_size=size, depth=depth).answers
    assert (answers["skip_sizes"], answers["upsampled_sizes"], answers["bottleneck_size"], answers["output_size"]) == expected


def test_mismatched_stage_lists_are_refused():
    with pytest.raises(symconv.SymconvError, match="widths"):
        symconv.solve(19, widths=(64, 128))


# --- vision transformer ------------------------------------------------------------------------


class ViT(nn.Module):
    def __init__(self, image_size, patch_size, hidden, layers, mlp_hidden, classes, heads=1):
        super().__init__()
        tokens = (image_size // patch_size) ** 2 + 1
        self.patch = nn.Conv2d(3, hidden, patch_size, patch_size, device=META)
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden, device=META))
        self.position = nn.Parameter(torch.zeros(1, tokens, hidden, device=META))
        block = lambda: nn.TransformerEncoderLayer(hidden, heads, mlp_hidden, norm_first=True, batch_first=True, device=META)  # noqa: E731
        self.encoder = nn.Sequential(*(block() for _ in range(layers)))
        self.norm = nn.LayerNorm(hidden, device=META)
        self.head = nn.Linear(hidden, classes, device=META)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1) + self.position
        return self.head(self.norm(self.encoder(x))[:, 0])


def test_vit_b_16_matches_torch_and_published_figure(capsys):
    answers = cli_answers(capsys, 34)
    vit = ViT(224, 16, 768, 12, 3072, 1000, heads=12)
    assert vit(torch.zeros(1, 3, 224, 224, device=META)).shape == (1, 1000)
    assert answers["vit_params"] == count(vit) == VIT_B_16_PARAMS
    assert answers["resnet50_params"] == RESNET50_PARAMS


@SETTINGS
@given(
    patch=st.integers(1, 16),
    grid=st.integers(1, 8),
    hidden=st.integers(1, 64),
    layers=st.integers(1, 4),
    mlp=st.integers(1, 128),
    classes=st.integers(1, 50),
)
def test_vit_variants_match_torch(patch, grid, hidden, layers, mlp, classes):
    size = patch * grid
    answers = symconv.solve(
        34, image_size=size, patch_size=patch, hidden=hidden, layers=layers, mlp_hidden=mlp, classes=classes
    ).answers
    assert answers["vit_params"] == count(ViT(size, patch, hidden, layers, mlp, classes))


def test_numeric_exercises_import_no_sympy():
    code = (
        "import sys, symconv\n"
        "for number in (19, 20, 25, 27, 30, 33, 34):\n"
        "    symconv.solve(number)\n"
        "assert 'sympy' not in sys.modules and 'numpy' not in sys.modules, 'heavy import on the numeric path'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
