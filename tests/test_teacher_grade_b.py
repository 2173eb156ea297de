"""Teacher-grade answers of exercises 18-34 against what torch computes and counts."""

from fractions import Fraction

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import symconv
from symconv.teaching import exercises, variants

META = "meta"
BRANCHES = ("branch_1x1", "reduce_3x3", "branch_3x3", "reduce_5x5", "branch_5x5", "pool_proj")


class InceptionModule(nn.Module):
    """GoogLeNet's module in plain torch: four size-keeping branches concatenated by channel (no biases)."""

    def __init__(self, c_in, one, r3, three, r5, five, pool, kernel_size=5):
        super().__init__()
        conv = dict(bias=False, device=META)
        self.one = nn.Conv2d(c_in, one, 1, **conv)
        self.three = nn.Sequential(nn.Conv2d(c_in, r3, 1, **conv), nn.Conv2d(r3, three, 3, padding=1, **conv))
        self.five = nn.Sequential(
            nn.Conv2d(c_in, r5, 1, **conv), nn.Conv2d(r5, five, kernel_size, padding=kernel_size // 2, **conv)
        )
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(c_in, pool, 1, **conv))

    def forward(self, x):
        return torch.cat([self.one(x), self.three(x), self.five(x), self.pool(x)], dim=1)


def macs_and_shape(module, shape):
    """Multiply-accumulates as torch's FlopCounterMode counts them (2 FLOPs each), and the output shape."""
    with FlopCounterMode(display=False) as counter:
        out = module(torch.zeros(shape, device=META))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2, tuple(out.shape)


def check_inception_cost(params, answers):
    c, k, n = params["channels"], params["kernel_size"], params["size"]
    module = InceptionModule(c, *(params[name] for name in BRANCHES), kernel_size=k)
    module_macs, (_, c_out, h, w) = macs_and_shape(module, (1, c, n, n))
    single = nn.Conv2d(c, c_out, k, padding=k // 2, bias=False, device=META)
    single_macs, single_shape = macs_and_shape(single, (1, c, n, n))
    assert (h, w) == (n, n) and single_shape == (1, c_out, n, n)
    assert answers["macs_module"] == module_macs
    assert answers["macs_single"] == single_macs
    assert answers["module_out_channels"] == c_out
    assert Fraction(answers["module_saving"]) == Fraction(single_macs, module_macs)
    return Fraction(single_macs, module_macs)


def test_inception_module_against_one_5x5_convolution():
    """The chapter's case: C_in = C_out = 256 on GoogLeNet's 28×28 map, about nine times cheaper."""
    solution = symconv.solve(21)
    assert solution.params["channels"] == 256 and solution.params["kernel_size"] == 5
    saving = check_inception_cost(solution.params, solution.answers)
    assert solution.answers["module_out_channels"] == 256
    assert 9 < saving < 10


def test_inception_module_3a_matches_the_published_operations():
    """GoogLeNet's Table 1 lists 128M operations for module 3a (192 input channels at 28×28)."""
    solution = symconv.solve(21, channels=192)
    macs, _ = macs_and_shape(InceptionModule(192, 64, 96, 128, 16, 32, 32), (1, 192, 28, 28))
    assert solution.answers["macs_module"] == macs
    assert round(macs / 1e6) == 128


def test_inception_cost_variants_against_torch():
    for variant in variants.sample(exercises.get(21), seed=5, count=12):
        answers = variant.solution().answers
        assert answers["module_out_channels"] == variant.params["channels"]
        check_inception_cost(variant.params, answers)


class BiasedInception(InceptionModule):
    """The same module with biases, as GoogLeNet has them (for parameter counts)."""

    def __init__(self, c_in, one, r3, three, r5, five, pool):
        super().__init__(c_in, one, r3, three, r5, five, pool)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                module.bias = nn.Parameter(torch.zeros(module.out_channels, device=META))


def test_inception_trace_with_the_chapters_256_input_channels():
    solution = symconv.solve(20)
    p, answers = solution.params, solution.answers
    assert p["in_channels"] == 256
    widths = [p[name] for name in ("branch_1x1", "reduce_3x3", "branch_3x3", "reduce_5x5", "branch_5x5", "pool_proj")]
    module = BiasedInception(256, *widths)
    macs, shape = macs_and_shape(module, (1, 256, p["size"], p["size"]))
    assert shape == (1, answers["out_channels"], 28, 28) == (1, 256, 28, 28)
    assert answers["params"] == sum(parameter.numel() for parameter in module.parameters())
    assert answers["macs"] == macs  # FlopCounterMode leaves the bias additions out, as the convention does


def test_transfer_learning_phases_with_200_images_per_class():
    from test_architecture_exercises import resnet50

    solution = symconv.solve(30)
    answers = solution.answers
    assert solution.params["images_per_class"] == 200 and answers["images"] == 200 * solution.params["classes"]
    network = resnet50(classes=solution.params["classes"])
    network.requires_grad_(False)
    network[-1].requires_grad_(True)
    assert answers["trainable_params_phase1"] == sum(p.numel() for p in network.parameters() if p.requires_grad)
    for block in network[-6:-3]:  # stage 4: the last three bottleneck blocks, before pooling, flatten and head
        block.requires_grad_(True)
    assert answers["trainable_params_stage4"] == sum(p.numel() for p in network.parameters() if p.requires_grad)
    network.requires_grad_(True)
    assert answers["trainable_params_phase2"] == sum(p.numel() for p in network.parameters())


def test_vit_small_is_compared_like_with_like():
    from test_architecture_exercises import ViT

    answers = symconv.solve(34).answers
    small = ViT(224, 16, 384, 12, 1536, 1000, heads=6)
    assert small(torch.zeros(1, 3, 224, 224, device=META)).shape == (1, 1000)
    assert answers["vit_small_params"] == sum(p.numel() for p in small.parameters())
    assert answers["vit_small_params"] < answers["resnet50_params"] < answers["vit_params"]


def test_depthwise_cost_grows_linearly_with_width():
    """Exercise 22's depthwise ratio r²·w, evaluated, equals the MAC ratio torch counts."""
    from symconv.core.derive import Derivation

    ratio = next(b for b in symconv.solve(22).blocks if isinstance(b, Derivation) and b.lhs == "ratio_depthwise").value
    for c, k, size, w, r in [(3, 3, 5, 2, 3), (8, 5, 7, 3, 2), (1, 1, 4, 4, 1)]:
        base, _ = macs_and_shape(nn.Conv2d(c, c, k, padding=k // 2, groups=c, device=META), (1, c, size, size))
        wide = nn.Conv2d(w * c, w * c, k, padding=k // 2, groups=w * c, device=META)
        scaled, _ = macs_and_shape(wide, (1, w * c, r * size, r * size))
        values = {symbol: {"w": w, "r": r}[symbol.name] for symbol in ratio.free_symbols}
        assert ratio.subs(values) == Fraction(scaled, base)


def test_focal_loss_derivation_steps_agree_with_autograd():
    """Both lines of exercise 23's derivative (product rule, closed form) give torch's gradient."""
    from symconv.core.solution import Equation

    steps = [b.value for b in symconv.solve(23).blocks if isinstance(b, Equation) and b.lhs == "∂FL/∂p_t"]
    assert len(steps) == 2
    for p_value, gamma, alpha in [(0.1, 2, 1.0), (0.5, 2, 0.25), (0.9, 3, 1.0), (0.3, 0, 1.0)]:
        p = torch.tensor(p_value, dtype=torch.float64, requires_grad=True)
        loss = -alpha * (1 - p) ** gamma * torch.log(p)
        (slope,) = torch.autograd.grad(loss, p)
        for step in steps:
            values = {symbol: {"p_t": p_value, "gamma": gamma, "alpha_t": alpha}[symbol.name] for symbol in step.free_symbols}
            assert abs(float(step.subs(values)) - slope.item()) < 1e-12


def test_focal_loss_swamping_table_against_torch():
    """The summed cross-entropy and focal loss of the easy anchors and the hard examples, as torch computes them."""
    from symconv.core.solution import Table

    table = next(b for b in symconv.solve(23).blocks if isinstance(b, Table) and b.header[0] == "examples")
    for _, count, p_t, summed_ce, summed_fl in table.rows:
        p = torch.full((count,), float(p_t), dtype=torch.float64)
        ce = torch.nn.functional.binary_cross_entropy(p, torch.ones_like(p), reduction="sum")
        assert abs(float(summed_ce.value) - ce.item()) < 1e-6 * ce.item()
        assert abs(float(summed_fl.value) - (ce * (1 - float(p_t)) ** 2).item()) < 1e-6 * ce.item()


def vgg16_conv5_3(ceil_mode):
    """VGG-16's convolutional part up to conv5_3 in plain torch (the fifth pool left out, as in Faster R-CNN)."""
    layers, channels = [], 3
    for block, (convs, width) in enumerate(((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))):
        for _ in range(convs):
            layers += [nn.Conv2d(channels, width, 3, padding=1, device=META), nn.ReLU()]
            channels = width
        if block < 4:
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=ceil_mode))
    return nn.Sequential(*layers)


def test_faster_rcnn_feature_map_under_both_pooling_rules():
    answers = symconv.solve(24).answers
    image = torch.zeros(1, 3, 600, 1000, device=META)
    for ceil_mode, key in ((False, "feature_map"), (True, "feature_map_ceil")):
        _, _, h, w = vgg16_conv5_3(ceil_mode)(image).shape
        assert answers[key] == [h, w]
    assert answers["feature_map_ceil"] == [38, 63]  # Ren et al. 2015: "≈ 60 × 40" positions for a 1000×600 image


def test_unet_figure_joins_each_skip_to_the_upsampled_map():
    """Exercise 27's figure: a skip runs from the encoder map (568) to the up-sampled decoder map (392), not 388."""
    from symconv.core.solution import Levels

    solution = symconv.solve(27)
    figure = next(b for b in solution.blocks if isinstance(b, Levels))
    joined = [(figure.nodes[a][0], figure.nodes[b][0]) for a, b in figure.links]
    answers = solution.answers
    assert joined == [(f"{skip}²", f"{up}²") for skip, up in zip(answers["skip_sizes"], answers["upsampled_sizes"])]
    assert joined[0] == ("568²", "392²")


def test_atrous_branch_field_in_cells_and_in_input_pixels():
    """Exercise 28 by backpropagation: one output of the dilated 3×3 touches 9 cells across 37, and, behind a
    stride-16 layer, 9 input pixels spread over 577."""
    answers = symconv.solve(28).answers
    dilated = nn.Conv2d(1, 1, 3, dilation=18, bias=False)
    nn.init.ones_(dilated.weight)
    cells = torch.zeros(1, 1, 37, 37, requires_grad=True)
    (grad,) = torch.autograd.grad(dilated(cells).sum(), cells)
    rows, cols = grad[0, 0].nonzero(as_tuple=True)
    assert dilated(cells).shape[-2:] == (1, 1) and len(rows) == answers["weighted_cells"] == 9
    assert cols.max() - cols.min() + 1 == answers["receptive_field"] == 37
    strided = nn.Sequential(nn.Conv2d(1, 1, 1, stride=16, bias=False), dilated)
    nn.init.ones_(strided[0].weight)
    image = torch.zeros(1, 1, 577, 577, requires_grad=True)
    (grad,) = torch.autograd.grad(strided(image).sum(), image)
    rows, cols = grad[0, 0].nonzero(as_tuple=True)
    assert strided(image).shape[-2:] == (1, 1) and len(rows) == 9
    assert cols.max() - cols.min() + 1 == answers["input_span"] == 577


def test_clip_zero_shot_is_a_weight_matrix_on_the_normalised_image_embedding():
    solution = symconv.solve(31)
    p = solution.params
    texts = torch.tensor(p["text_embeddings"], dtype=torch.float64)
    image = torch.tensor(p["image_embedding"], dtype=torch.float64)
    weights = p["logit_scale"] * torch.nn.functional.normalize(texts, dim=1)  # 3×4, one row per class prompt
    probabilities = torch.softmax(weights @ torch.nn.functional.normalize(image, dim=0), dim=0)
    found = solution.answers["probabilities"]
    assert weights.shape == (3, 4)
    for name, probability in zip(("dog", "cat", "car"), probabilities.tolist()):
        assert abs(found[name] - probability) < 1e-12


def test_solutions_18_to_34_never_name_the_tools():
    from symconv.cli.main import render

    for number in range(18, 35):
        solution = symconv.solve(number)
        for form in ("text", "latex", "markdown", "json"):
            rendered = render(solution, form).lower()
            for word in ("sympy", "torch", "symconv"):
                assert word not in rendered, (number, form, word)
