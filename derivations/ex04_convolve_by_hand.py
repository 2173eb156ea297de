"""Exercise 4: convolve a small matrix by hand with an averaging kernel."""

from fractions import Fraction

from symconv import (
    Exercise,
    Text,
    Worked,
    conv_output_size,
    derive,
    derive_expression,
    weighted_sum,
)
from symconv.core.solution import GridPanel, Grids
from symconv.teaching.domains import IntRange, MainAnswer, accepted_by


def cross_correlate(image, kernel, stride):
    """Valid cross-correlation (what deep-learning libraries call convolution), exact on Fractions."""
    import numpy

    windows = numpy.lib.stride_tricks.sliding_window_view(image, kernel.shape)[::stride, ::stride]
    return numpy.einsum("ijkl,kl->ij", windows.astype(object), kernel)


def unit_stride_size(n, kernel_size):
    """Output size at stride 1 without padding or dilation: the window's first tap has N - K + 1 places."""
    return n - kernel_size + 1


def unpadded_size(n, kernel_size, stride):
    """Output size without padding or dilation: steps of s over the N - K positions past the first."""
    return (n - kernel_size) // stride + 1


def solve(params):
    import numpy

    n, k, stride = params["n"], params["kernel_size"], params["stride"]
    image = numpy.arange(n * n).reshape(n, n)
    kernel = numpy.full((k, k), Fraction(1, k * k), dtype=object)
    if stride == 1:
        size = derive(unit_stride_size, n, k, lhs="n_out", unit="pixels")
    else:
        size = derive(unpadded_size, n, k, stride, lhs="n_out", unit="pixels")
    output = cross_correlate(image, kernel, stride)
    first = derive_expression(weighted_sum(kernel.ravel(), image[:k, :k].ravel()), lhs="Y[0,0]")
    window = frozenset((row, column) for row in range(k) for column in range(k))
    figure = Grids(
        (GridPanel("X", image, window), GridPanel("w", kernel), GridPanel("Y", output, frozenset({(0, 0)}))),
        caption="The shaded window of $X$, weighted by $w$, gives the shaded output; the window then slides.",
    )
    return Worked(
        blocks=(
            Text(
                "Without padding the kernel must stay inside the input, which fixes the output size. An "
                "$N \\times N$ input and a $K \\times K$ kernel at stride $s$, with padding $p = 0$ and "
                "dilation $d = 1$, turn the general $N_{\\text{out}} = \\lfloor (N + 2p - d(K - 1) - 1)/s "
                "\\rfloor + 1$ into " + ("$N - K + 1$:" if stride == 1 else "$\\lfloor (N - K)/s \\rfloor + 1$:")
            ),
            size,
            Text(
                "Each output is the sum of the kernel's weights (the kernel $w$ has all {k2} entries equal to "
                "$1/K^2$) times the input values under it "
                "(cross-correlation, as deep-learning libraries compute it; the kernel is symmetric, so a "
                "flipped kernel gives the same numbers). The top-left output:",
                {"k2": k * k},
            ),
            first,
            Text("Sliding the window {stride} step at a time over all positions gives the whole output:", {"stride": stride}),
            figure,
        ),
        answers={"output": output, "output_shape": list(output.shape)},
        conclusion=Text(
            "Each output is the mean of its window; the {size}×{size} result is $Y$ above, starting at {first}.",
            {"size": size.value, "first": first.value},
        ),
    )


EXERCISE = Exercise(
    number=4,
    title="A convolution by hand",
    question=(
        "The {n}×{n} input $X$ holds the numbers $0, 1, 2, \\ldots$ row by row. Convolve it with the "
        "{kernel_size}×{kernel_size} averaging kernel (every weight equal, summing to 1) at stride {stride}, "
        "without padding, and check the size of the result."
    ),
    defaults={"n": 4, "kernel_size": 2, "stride": 1},
    solve=solve,
    topics=("convolution",),
    domains={"n": IntRange(3, 6), "kernel_size": IntRange(2, 3), "stride": IntRange(1, 2)},
    constraints=(accepted_by(conv_output_size, "the kernel fits inside the input"),),
    main_answer=MainAnswer("output", "the output $Y$, entry by entry"),
)
