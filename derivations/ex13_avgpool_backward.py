"""Exercise 13: the backward pass of average pooling spreads each upstream gradient evenly over its window."""

from symconv import Equation, Exercise, Text, Worked
from symconv.core.values import exact
from symconv.formulas.gradients import (
    avg_pool,
    avg_pool_backward,
    gradient,
    symbol_matrix,
    syntax,
    upstream_loss,
)
from symconv.teaching.domains import Choice, Constraint, IntMatrix, MainAnswer


def solve(params):
    import sympy

    n, k, stride = params["n"], params["kernel_size"], params["stride"]
    x = symbol_matrix("x", n, n)
    pooled = avg_pool(x, k, stride)
    upstream = symbol_matrix("g", *pooled.shape)
    differentiated = gradient(upstream_loss(upstream, pooled), x)
    spread = avg_pool_backward(upstream, (n, n), k, stride)
    share = pooled[0, 0].diff(x[0, 0])
    overlapping = avg_pool_backward(symbol_matrix("g", *avg_pool(x, k, 1).shape), (n, n), k, 1)
    given = sympy.Matrix(params["upstream"])
    at_given = differentiated.xreplace(dict(zip(upstream, given)))
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
    blocks += [
        Text("For the upstream gradient of the question, each entry of $G$ spread over its window:"),
        Equation("G", given.tolist()),
        Equation("∂L/∂X", at_given.tolist()),
    ]
    return Worked(
        blocks=tuple(blocks),
        answers={
            "grad_fraction": syntax(share),
            "grad_input": syntax(differentiated),
            "matches_spreading": (differentiated - spread).is_zero_matrix,
            "share": exact(share),
            "grad_input_example": [[exact(entry) for entry in row] for row in at_given.tolist()],
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
        "$\\partial L/\\partial X$? Evaluate it for $G = {upstream}$ (rows)."
    ),
    defaults={"n": 4, "kernel_size": 2, "stride": 2, "upstream": ((2, 3), (5, 7))},
    solve=solve,
    topics=("backpropagation", "pooling"),
    domains={
        "n": Choice(4, 5, 6, 7),
        "kernel_size": Choice(2, 3),
        "stride": Choice(1, 2, 3),
        "upstream": IntMatrix((2, 3), 1, 9),
    },
    constraints=(
        Constraint(
            "the windows tile the input exactly (stride at most the window, no row or column left over)",
            lambda p: p["stride"] <= p["kernel_size"] < p["n"] and (p["n"] - p["kernel_size"]) % p["stride"] == 0,
        ),
        Constraint(
            "G holds one entry per window",
            lambda p: len(p["upstream"]) == (p["n"] - p["kernel_size"]) // p["stride"] + 1,
        ),
        Constraint(
            "at most 9 windows, so the gradient matrix fits a page",
            lambda p: ((p["n"] - p["kernel_size"]) // p["stride"] + 1) ** 2 <= 9,
        ),
    ),
    main_answer=MainAnswer("grad_input_example", "$\\partial L/\\partial X$ for the given $G$, entry by entry"),
)
