"""Exercise 12: the backward pass of max pooling routes each upstream gradient to its window's maximum."""

from symconv import Equation, Exercise, Table, Text, Worked, pool_output_size
from symconv.core.solution import GridPanel, Grids
from symconv.formulas.gradients import (
    gradient,
    max_pool,
    max_pool_backward,
    max_pool_indices,
    symbol_matrix,
    syntax,
    upstream_loss,
)
from symconv.teaching.domains import Choice, Constraint, IntMatrix, MainAnswer


def windows(matrix, k, stride):
    """The windows of a square matrix (rows of tuples) in row-major order, each as its entries row by row."""
    starts = range(0, len(matrix) - k + 1, stride)
    return [[matrix[r][c] for r in range(i, i + k) for c in range(j, j + k)] for i in starts for j in starts]


def winners_vary(params):
    """Each window's maximum is unique and not always at the same place inside its window, rarely its first entry."""
    found = windows(params["input"], params["kernel_size"], params["stride"])
    if any(window.count(max(window)) > 1 for window in found):
        return False
    local = [window.index(max(window)) for window in found]
    return len(set(local)) >= min(3, len(found)) and local.count(0) <= 1


def solve(params):
    import sympy

    values = sympy.Matrix(params["input"])
    k, stride = params["kernel_size"], params["stride"]
    x = symbol_matrix("x", *values.shape)
    pooled = max_pool(x, k, stride)
    upstream = symbol_matrix("g", *pooled.shape)
    formal = gradient(upstream_loss(upstream, pooled), x)
    at_values = formal.xreplace(dict(zip(x, values)))
    routed = max_pool_backward(values, upstream, k, stride)
    winners = max_pool_indices(values, k, stride)

    rows = []
    for i, row in enumerate(winners):
        for j, (r, c) in enumerate(row):
            window = values[i * stride : i * stride + k, j * stride : j * stride + k]
            rows.append((f"({i}, {j})", list(window), values[r, c], f"({r - i * stride}, {c - j * stride})", f"({r}, {c})"))
    winners_flat = [position for row in winners for position in row]
    first_row, first_col = winners[0][0]
    first_entry = x[first_row, first_col]

    tie = sympy.Matrix(params["tie_window"])
    tie_x = symbol_matrix("x", *tie.shape)
    tie_g = sympy.Symbol("g", real=True)
    tie_formal = gradient(upstream_loss([[tie_g]], max_pool(tie_x, tie.rows)), tie_x).xreplace(dict(zip(tie_x, tie)))
    tie_routed = max_pool_backward(tie, [[tie_g]], tie.rows)
    tie_rows = tuple(
        (f"({r}, {c})", tie[r, c], tie_formal[r, c], tie_routed[r, c]) for r in range(tie.rows) for c in range(tie.cols)
    )
    return Worked(
        blocks=(
            Text(
                "Conventions: windows of {k}×{k} at stride {s}, no padding; positions are (row, column) from 0, "
                "local positions counted inside the window. The pooled map has {size}×{size} entries.",
                {"k": k, "s": stride, "size": pool_output_size(values.rows, k, stride)},
            ),
            Equation("X", values.tolist()),
            Table(("output", "window, row by row", "maximum", "local position", "position in X"), tuple(rows)),
            Text(
                "With $Y = \\mathrm{maxpool}(X)$ and upstream gradient $G = (g_{ij})$, let $L = \\sum G \\odot Y$. "
                "sympy writes each $Y_{ij}$ as a Max of its window and differentiates; the derivative of a Max "
                "with respect to one argument is a step function (Heaviside) of that argument minus the Max "
                "of the others. For the maximum of the first window:"
            ),
            Equation(f"dL/d{first_entry}", formal[first_row, first_col]),
            Text(
                "At the given values every step is 1 for the window's maximum and 0 for the rest, so the "
                "gradient is a routing matrix: each $g_{ij}$ lands on the position its window's maximum came "
                "from and every other input receives 0."
            ),
            Grids(
                (
                    GridPanel("X", values.tolist(), frozenset(winners_flat)),
                    GridPanel("G", upstream.tolist()),
                    GridPanel("dL/dX", at_values.tolist(), frozenset(winners_flat)),
                ),
                caption="Each window's maximum (shaded) receives its window's upstream gradient; every other input gets 0.",
            ),
            Text(
                "Nothing is scaled: max pooling passes a gradient through unchanged or blocks it. Where windows "
                "overlap (stride below the window size), an input that wins several windows adds up their "
                "gradients."
            ),
            Text(
                "Ties: a Max with two equal largest arguments has no derivative there; any split of $g$ between "
                "the tied entries that sums to $g$ is a valid subgradient. sympy's Heaviside takes the value "
                "1/2 at 0 and hands every tied entry $g/2$; in the window below these shares sum to {total}, "
                "where a subgradient's must sum to $g$. PyTorch scans the window row by row and keeps the first "
                "maximum it meets (a later equal value does not replace it), so the whole $g$ goes to that one "
                "entry:",
                {"total": sympy.Add(*tie_formal)},
            ),
            Table(("entry", "value", "sympy's formal derivative", "PyTorch's routing"), tie_rows),
        ),
        answers={
            "grad_input": syntax(at_values),
            "matches_routing": (at_values - routed).is_zero_matrix,
            "window_maxima": [[list(position) for position in row] for row in winners],
            "tie_grad_input": syntax(tie_routed),
            "tie_sympy_shares": syntax(tie_formal),
        },
        conclusion=Text(
            "$\\partial L/\\partial X$ is zero except at the {count} window maxima, which receive their window's "
            "$g_{ij}$ whole; on a tie PyTorch gives it to the first maximum in row-major order.",
            {"count": len(rows)},
        ),
    )


EXERCISE = Exercise(
    number=12,
    title="Backward pass of max pooling",
    question=(
        "Max-pool the input $X$ with rows {input} using {kernel_size}×{kernel_size} windows at stride "
        "{stride}. Given the upstream gradient "
        "$G = \\partial L/\\partial Y$ with entries $g_{ij}$, write down $\\partial L/\\partial X$. What happens "
        "when a window holds its maximum twice?"
    ),
    defaults={
        "input": ((1, 3, 2, 0), (8, 4, 5, 7), (6, 2, 9, 1), (0, 3, 4, 2)),
        "kernel_size": 2,
        "stride": 2,
        "tie_window": ((5, 5), (1, 5)),
    },
    solve=solve,
    topics=("backpropagation", "pooling"),
    domains={
        "input": IntMatrix((4, 5), 0, 9),
        "kernel_size": Choice(2, 3),
        "stride": Choice(1, 2),
        "tie_window": IntMatrix((2,), 0, 9),
    },
    constraints=(
        Constraint(
            "the windows tile the input exactly (stride at most the window, no row or column left over)",
            lambda p: (
                p["stride"] <= p["kernel_size"] < len(p["input"]) and (len(p["input"]) - p["kernel_size"]) % p["stride"] == 0
            ),
        ),
        Constraint(
            "at most 9 windows, so the table stays readable",
            lambda p: len(windows(p["input"], p["kernel_size"], p["stride"])) <= 9,
        ),
        Constraint("every window has one maximum, found at different places inside the windows", winners_vary),
        Constraint(
            "the tie window holds its maximum at least twice",
            lambda p: sum(row.count(max(map(max, p["tie_window"]))) for row in p["tie_window"]) >= 2,
        ),
    ),
    main_answer=MainAnswer("window_maxima", "the position (row, column) in $X$ of each window's maximum, one cell per window"),
)
