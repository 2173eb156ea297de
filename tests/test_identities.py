"""The identities, substituted over ranges, against what PyTorch measures: gradients, parameter and MAC counts."""

from fractions import Fraction

import torch
import torch.nn.functional as F

from symconv.core.symbols import symbols
from symconv.explore.identities import (
    depthwise_separable_ratio,
    model_macs,
    stack_versus_single,
    stacked_receptive_field,
)
from symconv.explore.inverse import solve_for


def torch_receptive_field(layers, kernel_size, stride, dilation):
    """Span of the inputs that reach the first output of a stack of equal 1-D convolutions (autograd)."""
    span = 1 + layers * dilation * (kernel_size - 1) * stride**layers  # generous input length
    signal = torch.ones(1, 1, span, requires_grad=True)
    output = signal
    for _ in range(layers):
        output = F.conv1d(output, torch.ones(1, 1, kernel_size), stride=stride, dilation=dilation)
    output[0, 0, 0].backward()
    touched = torch.nonzero(signal.grad[0, 0]).flatten()
    return int(touched.max() - touched.min()) + 1


def torch_params(*layers):
    return sum(parameter.numel() for layer in layers for parameter in layer.parameters())


def torch_macs(layer, height, width):
    """One multiply-accumulate per weight tap per output element: output elements × (C_in/g)·K_h·K_w."""
    output = layer(torch.zeros(1, layer.in_channels, height, width))
    return output.numel() * layer.weight[0].numel()


def test_stacked_receptive_field_in_general_matches_autograd():
    identity = stacked_receptive_field(kernel_size="K", stride="s", dilation="d")
    for layers in range(1, 5):
        for kernel_size in range(1, 5):
            for stride in range(1, 4):
                for dilation in range(1, 4):
                    expected = torch_receptive_field(layers, kernel_size, stride, dilation)
                    assert identity(L=layers, kernel_size=kernel_size, stride=stride, dilation=dilation) == expected


def test_stride_one_stacks_grow_linearly():
    plain = stacked_receptive_field()
    assert str(plain.closed_form) == "L*(K - 1) + 1"
    for layers in range(1, 12):
        for kernel_size in range(1, 8):
            assert plain(L=layers, kernel_size=kernel_size) == torch_receptive_field(layers, kernel_size, 1, 1)
    assert "Sum" in repr(plain) and r"\sum" in plain.latex()


def test_stack_against_single_kernel_parameters_match_torch():
    for bias in (False, True):
        identity = stack_versus_single(kernel_size=3, bias=bias)
        for layers in range(1, 6):
            for channels in range(1, 5):
                stack = torch_params(*(torch.nn.Conv2d(channels, channels, 3, bias=bias, device="meta") for _ in range(layers)))
                single = torch_params(torch.nn.Conv2d(channels, channels, 2 * layers + 1, bias=bias, device="meta"))
                assert identity(L=layers, channels=channels) == Fraction(stack, single)
    assert str(stack_versus_single().closed_form) == "9*L/(2*L + 1)**2"


def test_depthwise_separable_share_matches_torch_mac_counts():
    identity = depthwise_separable_ratio()
    kernel, width = symbols("K", "C_out")
    assert identity.closed_form == 1 / kernel**2 + 1 / width
    for c_in in (1, 2, 3, 8):
        for c_out in (1, 2, 5):
            for kernel_size in (1, 3, 5):
                for size in (5, 8):
                    padding = kernel_size // 2
                    depthwise = torch.nn.Conv2d(c_in, c_in, kernel_size, padding=padding, groups=c_in, bias=False)
                    pointwise = torch.nn.Conv2d(c_in, c_out, 1, bias=False)
                    standard = torch.nn.Conv2d(c_in, c_out, kernel_size, padding=padding, bias=False)
                    separable = torch_macs(depthwise, size, size) + torch_macs(pointwise, size, size)
                    share = Fraction(separable, torch_macs(standard, size, size))
                    assert identity(in_channels=c_in, out_channels=c_out, kernel_size=kernel_size) == share


def test_identities_render_in_a_terminal_and_in_jupyter():
    for identity in (stacked_receptive_field(), stack_versus_single(), depthwise_separable_ratio()):
        assert identity.statement in repr(identity)
        assert identity._repr_latex_().startswith("$") and "=" in identity._repr_latex_()
        assert identity.markdown().count("$$") >= 2


def test_identities_feed_solve_for():
    widest = solve_for(stack_versus_single(), "L", "<= 1/2")  # stacks whose weights are at most half
    assert widest.smallest == 4 and Fraction(9 * 4, 81) <= Fraction(1, 2) < Fraction(9 * 3, 49)


def test_resnet50_macs_in_h_and_w_meet_the_published_count():
    identity = model_macs("resnet50")
    assert identity(H=224, W=224) == 4_089_184_256  # torchvision / calflops MACs, bias excluded
    h, w = (dict(identity.parameters)[name] for name in ("H", "W"))
    assert identity.leading_term == 81_456 * h * w
    assert identity.leading_term.subs({h: 224, w: 224}) == 4_087_136_256  # all of it convolution MACs
    assert identity(H=223, W=223) == identity(H=224, W=224)  # the floors make stairs


def test_resnet18_macs_in_h_and_w_meet_the_published_count():
    assert model_macs("resnet18")(H=224, W=224) == 1_813_561_344 + 512_000
