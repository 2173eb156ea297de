"""Exercises 1-7, 9, 10, 28: the seed's sketched answers through the JSON output, and PyTorch as referee."""

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

SEED_ANSWERS = {
    1: {"output_size": 112},
    2: {"output_size": 109, "effective_kernel_size": 13},
    3: {"params": 3 * 3 * 64 * 128 + 128},
    4: {"output": [[2.5, 3.5, 4.5], [6.5, 7.5, 8.5], [10.5, 11.5, 12.5]], "output_shape": [3, 3]},
    5: {"receptive_field": 5, "params_stack": "18*C**2", "params_single": "25*C**2"},
    6: {"receptive_field": 7, "params_stack": "27*C**2", "params_single": "49*C**2"},
    9: {"macs": 56 * 56 * 9 * 64 * 128},
    10: {
        "macs": 56 * 56 * 9 * 64 + 56 * 56 * 64 * 128,
        "params": 9 * 64 + 64 * 128,
        "standard_macs": 231211008,
        "standard_params": 73728,
    },
    28: {"receptive_field": 37},
}


@pytest.mark.parametrize("number", sorted(SEED_ANSWERS))
def test_seed_answers(number, solve_json):
    answer = solve_json(number)
    assert answer["exercise"] == number and answer["title"] and answer["latex"].startswith("\\section*")
    for name, expected in SEED_ANSWERS[number].items():
        assert answer["answers"][name] == expected


def test_depthwise_separable_saving_is_the_seeds_eight_point_four(solve_json):
    assert round(solve_json(10)["answers"]["macs_ratio"], 1) == 8.4


def macs_by_torch(module, shape):
    """torch counts 2 FLOPs per multiply-accumulate of a convolution."""
    with FlopCounterMode(display=False) as counter:
        module(torch.zeros(shape))
    return counter.get_total_flops() // 2


def test_convolution_costs_against_torch(solve_json):
    standard = torch.nn.Conv2d(64, 128, 3, padding=1, bias=False)
    depthwise = torch.nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False)
    pointwise = torch.nn.Conv2d(64, 128, 1, bias=False)
    separable = torch.nn.Sequential(depthwise, pointwise)
    assert solve_json(9)["answers"]["macs"] == macs_by_torch(standard, (1, 64, 56, 56))
    answers = solve_json(10)["answers"]
    assert answers["macs"] == macs_by_torch(separable, (1, 64, 56, 56))
    assert answers["params"] == sum(p.numel() for p in separable.parameters())
    assert answers["standard_params"] == sum(p.numel() for p in standard.parameters())
    three = torch.nn.Conv2d(64, 128, 3)
    assert solve_json(3)["answers"]["params"] == sum(p.numel() for p in three.parameters())


def test_hand_convolution_against_torch(solve_json):
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    expected = F.conv2d(image, torch.full((1, 1, 2, 2), 0.25))[0, 0].tolist()
    assert solve_json(4)["answers"]["output"] == expected


def receptive_field_by_gradient(layers, size=64):
    """Backpropagate from one output unit with all-ones weights: the input pixels it reaches."""
    image = torch.zeros(1, 1, size, size, requires_grad=True)
    output = layers(image)
    output[0, 0, output.shape[2] // 2, output.shape[3] // 2].backward()
    rows = torch.nonzero(image.grad[0, 0].abs().sum(dim=1)).flatten()
    return int(rows.max() - rows.min() + 1)


def ones_conv(kernel_size, dilation=1):
    conv = torch.nn.Conv2d(1, 1, kernel_size, dilation=dilation, bias=False)
    torch.nn.init.ones_(conv.weight)
    return conv


def test_receptive_fields_against_autograd(solve_json):
    stack = torch.nn.Sequential(ones_conv(5), torch.nn.AvgPool2d(2, 2), ones_conv(3), torch.nn.AvgPool2d(2, 2))
    assert solve_json(7)["answers"]["receptive_field"] == receptive_field_by_gradient(stack)
    assert solve_json(5)["answers"]["receptive_field"] == receptive_field_by_gradient(
        torch.nn.Sequential(ones_conv(3), ones_conv(3))
    )
    assert solve_json(6)["answers"]["receptive_field"] == receptive_field_by_gradient(torch.nn.Sequential(*[ones_conv(3)] * 3))
    assert solve_json(28)["answers"]["receptive_field"] == receptive_field_by_gradient(ones_conv(3, dilation=18), size=80)


def test_output_sizes_against_torch(solve_json):
    image = torch.zeros(1, 1, 224, 224)
    assert solve_json(1)["answers"]["output_size"] == F.conv2d(image, torch.zeros(1, 1, 7, 7), stride=2, padding=3).shape[-1]
    assert (
        solve_json(2)["answers"]["output_size"]
        == F.conv2d(image, torch.zeros(1, 1, 7, 7), stride=2, padding=3, dilation=2).shape[-1]
    )
