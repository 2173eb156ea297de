"""Exercise 8: convolution equals cross-correlation with the kernel turned 180°, shown on symbols."""

from symconv import Equation, Exercise, Table, Text, Worked
from symconv.formulas.gradients import (
    convolve,
    cross_correlate,
    gradient,
    rot180,
    symbol_matrix,
    syntax,
    upstream_loss,
)
from symconv.teaching.domains import Choice, Constraint, MainAnswer


def solve(params):
    n, k = params["n"], params["kernel_size"]
    x, kernel = symbol_matrix("x", n, n), symbol_matrix("k", k, k)
    turned = rot180(kernel)
    convolution = convolve(x, kernel)
    correlation = cross_correlate(x, turned)
    difference = (convolution - correlation).expand()

    # Training: the loss gradient of a convolution's kernel is the turned gradient of the correlation's.
    upstream = symbol_matrix("g", *convolution.shape)
    learned = symbol_matrix("q", k, k)  # the correlation's own kernel, a free parameter
    kernel_gradient = gradient(upstream_loss(upstream, convolution), kernel)
    correlation_gradient = gradient(upstream_loss(upstream, cross_correlate(x, learned)), learned)
    at_turned = correlation_gradient.xreplace(dict(zip(learned, turned)))
    gradient_gap = (kernel_gradient - rot180(at_turned)).expand()

    entries = tuple(
        (f"({i}, {j})", convolution[i, j], correlation[i, j], difference[i, j])
        for i in range(convolution.rows)
        for j in range(convolution.cols)
    )
    return Worked(
        blocks=(
            Text(
                "Conventions: indices start at 0, no padding, stride 1. Cross-correlation, which deep-learning "
                "libraries call convolution, slides the kernel as it is, "
                "$Y_{i,j} = \\sum_{m,n} X_{i+m,\\,j+n} K_{m,n}$. Convolution in the signal-processing sense runs "
                "the kernel index against the input index: with $\\bar m = K - 1 - m$ and $\\bar n = K - 1 - n$, "
                "$Y_{i,j} = \\sum_{m,n} X_{i+\\bar m,\\,j+\\bar n} K_{m,n}$, kept to the positions where the "
                "whole kernel overlaps the input."
            ),
            Equation("X", x.tolist()),
            Equation("K", kernel.tolist()),
            Equation("rot180(K)", turned.tolist()),
            Text("Both sides, entry by entry, as sympy expands them:"),
            Table(("entry", "conv(X, K)", "xcorr(X, rot180(K))", "difference"), entries),
            Text(
                "Every difference is 0: convolving with $K$ is cross-correlating with $K$ turned half a circle. "
                "In every sum the input entry $X_{i+m,j+n}$ meets $K_{K-1-m,K-1-n}$ in the convolution and "
                "the same weight, now stored at $(m, n)$ of the turned kernel, in the correlation."
            ),
            Text(
                "Why learning does not care: the turn is a fixed permutation of the {taps} weights. Any kernel a "
                "convolutional layer could learn, a correlating layer represents by its turned copy $Q$, so both "
                "layers describe the same set of functions. Gradient descent agrees step by step as well: with a "
                "symbolic upstream gradient $G$ and $L = \\sum G \\odot Y$, the gradient with respect to the "
                "convolution's kernel minus the turned gradient with respect to the correlation's kernel, taken "
                "at $Q$ = rot180($K$), is",
                {"taps": k * k},
            ),
            Equation("dL/dK - rot180(dL/dQ)", gradient_gap.tolist()),
            Text(
                "A permutation keeps lengths, so the updates, and a random initialisation, map onto each other "
                "one to one: the network simply learns the turned kernel, and libraries save the flip."
            ),
        ),
        answers={
            "convolution": syntax(convolution),
            "cross_correlation_turned": syntax(correlation),
            "equal": difference.is_zero_matrix,
            "gradients_correspond": gradient_gap.is_zero_matrix,
            "output_shape": list(convolution.shape),
        },
        conclusion=Text(
            "conv(X, K) = xcorr(X, rot180(K)) in all {count} entries; a learned kernel absorbs the turn.",
            {"count": len(entries)},
        ),
    )


EXERCISE = Exercise(
    number=8,
    title="Convolution against cross-correlation",
    question=(
        "Take a symbolic {n}×{n} input $X$ and a symbolic {kernel_size}×{kernel_size} kernel $K$. Show, entry "
        "by entry, that convolving $X$ with $K$ gives the same result as cross-correlating $X$ with $K$ turned "
        "by 180°, and explain why a trained network does not depend on which of the two a library computes."
    ),
    defaults={"n": 3, "kernel_size": 2},
    solve=solve,
    topics=("convolution", "cross-correlation"),
    domains={"n": Choice(3, 4, 5), "kernel_size": Choice(2, 3)},
    constraints=(
        Constraint(
            "the kernel is smaller than the input and the table has at most 9 entries",
            lambda p: p["kernel_size"] < p["n"] and (p["n"] - p["kernel_size"] + 1) ** 2 <= 9,
        ),
    ),
    main_answer=MainAnswer("output_shape", "the number of rows and of columns of conv($X$, $K$)"),
)
