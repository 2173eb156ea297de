"""What torch computes for one layer's output size, or None where torch refuses the configuration.

An empty output counts as refused: torch's shape checks reject it ("Output size is too small"),
but a few transposed-convolution kernels return an empty tensor instead of raising.
"""

import torch
import torch.nn.functional as F


def torch_shape(run):
    """The (H, W) of ``run()``'s output, or None."""
    try:
        shape = tuple(run().shape[-2:])
    except RuntimeError:
        return None
    return None if 0 in shape else shape


def torch_length(run):
    """The length of ``run()``'s one-dimensional output, or None."""
    try:
        length = run().shape[-1]
    except RuntimeError:
        return None
    return length or None


def conv_length(n, kernel_size, stride=1, padding=0, dilation=1):
    return torch_length(
        lambda: F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, kernel_size), stride=stride, padding=padding, dilation=dilation)
    )


def pool_length(n, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    stride = kernel_size if stride is None else stride
    return torch_length(lambda: F.max_pool1d(torch.zeros(1, 1, n), kernel_size, stride, padding, dilation, ceil_mode))


def transpose_length(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    return torch_length(
        lambda: F.conv_transpose1d(
            torch.zeros(1, 1, n),
            torch.zeros(1, 1, kernel_size),
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
        )
    )
