"""Worked examples published outside symconv: Dumoulin & Visin (2016) and PyTorch's pooling rule."""

import pytest

from symconv import conv_output_size, conv_transpose_output_size, pool_output_size

# ../shared/references/README.md: input i, kernel k, stride s, padding p, dilation d -> output o
DUMOULIN_VISIN = [
    (4, 3, 1, 0, 1, 2),
    (5, 4, 1, 2, 1, 6),
    (5, 3, 1, 1, 1, 5),
    (5, 3, 1, 2, 1, 7),
    (5, 3, 2, 0, 1, 2),
    (5, 3, 2, 1, 1, 3),
    (6, 3, 2, 1, 1, 3),
    (7, 3, 1, 0, 2, 3),
]


@pytest.mark.parametrize("i, k, s, p, d, o", DUMOULIN_VISIN)
def test_convolution_arithmetic_examples(i, k, s, p, d, o):
    assert conv_output_size(i, k, s, p, d) == o


@pytest.mark.parametrize("i, k, s, p, d, o", DUMOULIN_VISIN)
def test_transposed_convolution_undoes_the_shape(i, k, s, p, d, o):
    # o' = s(i' - 1) + a + k - 2p with a = (i + 2p - k) mod s recovers the input size (dilation 1).
    if d == 1:
        a = (i + 2 * p - k) % s
        assert conv_transpose_output_size(o, k, s, p, output_padding=a) == i


@pytest.mark.parametrize(
    "i, k, s, p, ceil_mode, o",
    [(5, 2, 2, 0, False, 2), (5, 2, 2, 0, True, 3), (5, 2, 2, 1, False, 3), (5, 2, 2, 1, True, 3)],
)
def test_pytorch_pooling_examples(i, k, s, p, ceil_mode, o):
    assert pool_output_size(i, k, s, p, ceil_mode=ceil_mode) == o
