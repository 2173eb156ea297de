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
    # The step function written H, as a teacher writes it, whatever the algebra system calls it.
    step = sympy.Function("H")
    first_formal = formal[first_row, first_col].replace(sympy.Heaviside, lambda argument, *_: step(argument))

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
                "With $Y = \\mathrm{maxpool}(X)$ and upstream gradient $G = (g_{ij})$, let $L = \\sum G \\odot Y$, "
                "which has exactly the gradient $G$ with respect to $Y$. Each $Y_{ij}$ is the maximum of its window, "
                "and the derivative of $\\max(z_1, \\dots, z_n)$ with respect to $z_k$ is $H(z_k - \\max_{l \\ne k} "
                "z_l)$, where the step function $H$ is 1 for a positive argument and 0 for a negative one. The "
                "first window has its maximum at local position ({local_row}, {local_col}), the entry "
                "$x_{{{row}{col}}}$ of $X$:",
                {"local_row": first_row, "local_col": first_col, "row": first_row, "col": first_col},
            ),
            Equation(f"∂L/∂{first_entry}", first_formal),
            Text(
                "At the given values every step is 1 for the window's maximum and 0 for the rest, so the "
                "gradient is a routing matrix: each $g_{ij}$ lands on the position its window's maximum came "
                "from and every other input receives 0."
            ),
            Grids(
                (
                    GridPanel("X", values.tolist(), frozenset(winners_flat)),
                    GridPanel("G", upstream.tolist()),
                    GridPanel("∂L/∂X", at_values.tolist(), frozenset(winners_flat)),
                ),
                caption="Each window's maximum (shaded) receives its window's upstream gradient; every other input gets 0.",
            ),
            Text(
                "Nothing is scaled: max pooling passes a gradient through unchanged or blocks it. Where windows "
                "overlap (stride below the window size), an input that wins several windows adds up their "
                "gradients."
            ),
            Text(
                "A window that holds its maximum twice, like the one below, has no derivative there: the step "
                "function's argument is 0 for both tied entries. Max pooling is convex in its window, and its "
                "subgradients at a tie are exactly the splits of $g$ between the tied entries into non-negative "
                "shares that sum to $g$; the other entries get 0. Setting $H(0) = 1/2$ gives the even split, "
                "{total} in total. PyTorch's kernels give the whole $g$ to one entry, the first maximum met "
                "scanning the window row by row (a later equal value does not replace it). That is an "
                "implementation choice, not a promise: another library or kernel may pick the other entry, and "
                "every such choice is a valid subgradient.",
                {"total": sympy.Add(*tie_formal)},
            ),
            Table(("entry", "value", "even split", "first maximum (PyTorch)"), tie_rows),
        ),
        answers={
            "grad_input": syntax(at_values),
            "matches_routing": (at_values - routed).is_zero_matrix,
            "window_maxima": [[list(position) for position in row] for row in winners],
            "tie_grad_input": syntax(tie_routed),
            "tie_even_shares": syntax(tie_formal),
        },
        conclusion=Text(
            "$\\partial L/\\partial X$ is zero except at the {count} window maxima, which receive their window's "
            "$g_{ij}$ whole; the window with its maximum at local position ({local_row}, {local_col}) sends its "
            "$g$ to that entry only. When a window holds its maximum twice, any split of $g$ between the two "
            "is a subgradient; PyTorch gives all of it to the first in row-major order, an implementation choice.",
            {"count": len(rows), "local_row": first_row, "local_col": first_col},
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
        "tie_window": ((5, 5), (1, 2)),
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
