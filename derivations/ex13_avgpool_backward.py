"""Exercise 13: the backward pass of average pooling spreads each upstream gradient evenly over its window."""

from symconv import Equation, Exercise, Text, Worked
from symconv.formulas.gradients import (
    avg_pool,
    avg_pool_backward,
    gradient,
    symbol_matrix,
    syntax,
    upstream_loss,
)


def solve(params):
    n, k, stride = params["n"], params["kernel_size"], params["stride"]
    x = symbol_matrix("x", n, n)
    pooled = avg_pool(x, k, stride)
    upstream = symbol_matrix("g", *pooled.shape)
    differentiated = gradient(upstream_loss(upstream, pooled), x)
    spread = avg_pool_backward(upstream, (n, n), k, stride)
    share = pooled[0, 0].diff(x[0, 0])
    overlapping = avg_pool_backward(symbol_matrix("g", *avg_pool(x, k, 1).shape), (n, n), k, 1)
    k2 = k * k
    if stride == k:
        instance = Text(
            "Here $k = {k}$ and $s = {s}$: the windows tile the input, and $\\partial L/\\partial x_{ab} = "
            "g_{\\lfloor a/{k}\\rfloor,\\,\\lfloor b/{k}\\rfloor}/{k2}$. The check on a symbolic {n}×{n} input: "
            "the first output is",
            {"k": k, "s": stride, "k2": k2, "n": n},
        )
    else:
        instance = Text(
            "Here $k = {k}$ and $s = {s}$, so windows overlap and each input sums the shares of every window "
            "that contains it. The check on a symbolic {n}×{n} input: the first output is",
            {"k": k, "s": stride, "n": n},
        )
    blocks = [
        Text(
            "Conventions: windows of $k \\times k$ entries at stride $s$, no padding, indices from 0, input "
            "$X = (x_{ab})$, upstream gradient $G = \\partial L/\\partial Y = (g_{ij})$. Each output is the mean "
            "of its window, $Y_{ij} = (1/k^2) \\sum_{m,n=0}^{k-1} x_{si+m,\\,sj+n}$, so $\\partial Y_{ij}/"
            "\\partial x_{ab}$ is $1/k^2$ when $x_{ab}$ lies in window $(i, j)$ and 0 otherwise. By the chain "
            "rule, $\\partial L/\\partial x_{ab} = (1/k^2) \\sum g_{ij}$ over the windows $(i, j)$ that "
            "contain $x_{ab}$. At stride $s = k$ the windows tile the input, each entry lies in exactly one "
            "window, $(\\lfloor a/k\\rfloor, \\lfloor b/k\\rfloor)$, and $\\partial L/\\partial x_{ab} = "
            "g_{\\lfloor a/k\\rfloor,\\,\\lfloor b/k\\rfloor}/k^2$ (rows and columns beyond the last whole "
            "window, if $k$ does not divide the size, get 0)."
        ),
        instance,
        Equation("Y_00", pooled[0, 0]),
        Text("so every input of the window enters $Y_{00}$ with the same weight, one over its {k2} entries:", {"k2": k2}),
        Equation("∂Y_00/∂x_00", share),
        Text(
            "Differentiating $L = \\sum_{i,j} g_{ij} Y_{ij}$, which has exactly the upstream gradient $G$, with respect to every $x_{ab}$:"
        ),
        Equation("∂L/∂X", differentiated.tolist()),
        Text(
            "Each input receives {share} of the $g_{ij}$ of the window that contains it: the gradient is spread "
            "evenly rather than routed to one winner as in max pooling.",
            {"share": share},
        ),
    ]
    if stride != 1:
        blocks += [
            Text("Where windows overlap, the shares add up; at stride 1 the same pooling gives"),
            Equation('∂L/∂X "at stride 1"', overlapping.tolist()),
        ]
    return Worked(
        blocks=tuple(blocks),
        answers={
            "grad_fraction": syntax(share),
            "grad_input": syntax(differentiated),
            "matches_spreading": (differentiated - spread).is_zero_matrix,
        },
        conclusion=Text(
            (
                "$\\partial L/\\partial x_{ab} = g_{\\lfloor a/{k}\\rfloor,\\,\\lfloor b/{k}\\rfloor}/{k2}$: every "
                "input receives {share} of its window's upstream gradient. In general a $k \\times k$ average "
                "pool passes back $1/k^2$ of each window's gradient to each entry of the window, summed over "
                "the windows that contain the entry when they overlap."
            )
            if stride == k
            else (
                "Every input receives {share} of the upstream gradient of each window that contains it, summed "
                "over those windows; in general a $k \\times k$ average pool passes back $1/k^2$."
            ),
            {"share": share, "k": k, "k2": k2},
        ),
    )


EXERCISE = Exercise(
    number=13,
    title="Backward pass of average pooling",
    question=(
        "Average pooling with {kernel_size}×{kernel_size} windows at stride {stride} is applied to an input of size {n}×{n}. Given the "
        "upstream gradient $G = \\partial L/\\partial Y$, what gradient does each input receive, and what is "
        "$\\partial L/\\partial X$?"
    ),
    defaults={"n": 4, "kernel_size": 2, "stride": 2},
    solve=solve,
    topics=("backpropagation", "pooling"),
)
