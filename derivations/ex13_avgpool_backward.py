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
    return Worked(
        blocks=(
            Text(
                "Conventions: {k}×{k} windows at stride {s}, no padding, on a symbolic {n}×{n} input. Each output "
                "is the mean of its window:",
                {"k": k, "s": stride, "n": n},
            ),
            Equation("Y_00", pooled[0, 0]),
            Text(
                "so every input of the window enters $Y_{00}$ with the same weight, one over the window's {k2} entries:",
                {"k2": k * k},
            ),
            Equation("dY_00/dx_00", share),
            Text(
                "With the upstream gradient $G = (g_{ij})$ and $L = \\sum G \\odot Y$, sympy differentiates "
                "with respect to every $x_{ij}$:"
            ),
            Equation("dL/dX", differentiated.tolist()),
            Text(
                "Each input receives its window's $g_{ij}$ times {share}: the gradient is spread evenly rather "
                "than routed to one winner as in max pooling. Where windows overlap, the shares add up; at "
                "stride 1 the same pooling gives",
                {"share": share},
            ),
            Equation("dL/dX at stride 1", overlapping.tolist()),
            Text("For the upstream gradient of the question, each entry of $G$ spread over its window:"),
            Equation("G", given.tolist()),
            Equation("dL/dX", at_given.tolist()),
        ),
        answers={
            "grad_fraction": syntax(share),
            "share": exact(share),
            "grad_input": syntax(differentiated),
            "matches_spreading": (differentiated - spread).is_zero_matrix,
            "grad_input_example": [[exact(entry) for entry in row] for row in at_given.tolist()],
        },
        conclusion=Text(
            "Every input of a window receives {share} of that window's upstream gradient: $\\partial L/\\partial "
            "x_{ij} = g/{k2}$ for the $g$ of the window that contains it.",
            {"share": share, "k2": k * k},
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
