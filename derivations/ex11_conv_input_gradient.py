"""Exercise 11: the gradient of a convolution with respect to its input is a transposed convolution."""

from typing import Any, NamedTuple

from symconv import (
    Equation,
    Exercise,
    Table,
    Text,
    Worked,
    conv_output_size,
    conv_transpose_output_size,
    derive,
    derive_expression,
    weighted_sum,
)
from symconv.core.errors import SymconvError
from symconv.formulas.gradients import (
    conv_input_gradient,
    cross_correlate,
    full_cross_correlate,
    gradient,
    jacobian,
    pad,
    rot180,
    symbol_matrix,
    syntax,
    upstream_loss,
    zero_insert,
)
from symconv.teaching.domains import AnswerParts, Choice, Constraint


def halves(name, matrix):
    """A wide symbolic matrix shown as its left and right columns, so each part fits a printed line."""
    middle = (matrix.cols + 1) // 2
    return (
        Equation(f"{name}, columns 0 to {middle - 1}", matrix[:, :middle].tolist()),
        Equation(f"{name}, columns {middle} to {matrix.cols - 1}", matrix[:, middle:].tolist()),
    )


def by_differentiation(n, kernel, stride=1, padding=0, dilation=1):
    """A symbolic n×n input X, Y = X ⋆ K, a symbolic upstream G, and sympy's ∂L/∂X for L = Σ G ⊙ Y."""
    x = symbol_matrix("x", n, n)
    output = cross_correlate(x, kernel, stride, padding, dilation)
    upstream = symbol_matrix("g", *output.shape)
    return x, output, upstream, gradient(upstream_loss(upstream, output), x)


def differing_entries(first, second):
    """How many entries of two symbolic matrices differ after expansion (0: sympy proves them equal)."""
    return sum(1 for entry in (first - second).expand() if entry != 0)


class PlainCase(NamedTuple):
    """Stride 1, no padding: sympy's gradient, and in how many entries the full correlation differs from it."""

    x: Any
    output: Any
    kernel: Any
    upstream: Any
    gradient: Any
    gap: int


def plain_case(n, k):
    kernel = symbol_matrix("k", k, k)
    x, output, upstream, differentiated = by_differentiation(n, kernel)
    gap = differing_entries(differentiated, full_cross_correlate(upstream, rot180(kernel)))
    return PlainCase(x, output, kernel, upstream, differentiated, gap)


def solve(params):
    n = params["n"]
    kernel_sizes = (params["kernel_size"], params["larger_kernel_size"])
    cases = {k: plain_case(n, k) for k in kernel_sizes}
    k = kernel_sizes[0]
    x, output, kernel, upstream, differentiated, _ = cases[k]
    # Entry (0, 1): its window over the padded G still holds padding zeros, which the working drops.
    window = pad(upstream, k - 1)[0:k, 1 : 1 + k]
    entry = derive_expression(weighted_sum(list(window), list(rot180(kernel))), lhs="dL/dx_01")

    jacobian_matrix = jacobian(output, x)
    transposed = (jacobian_matrix.T * upstream.reshape(len(upstream), 1)).reshape(n, n)
    transpose_gap = differing_entries(transposed, differentiated)
    nonzero = sum(1 for weight in jacobian_matrix if weight != 0)

    gn, gk, stride, padding, dilation = (
        params[name] for name in ("general_n", "general_kernel_size", "stride", "padding", "dilation")
    )
    general_kernel = symbol_matrix("k", gk, gk)
    _, _, general_upstream, general_differentiated = by_differentiation(gn, general_kernel, stride, padding, dilation)
    size = derive(conv_output_size, gn, gk, stride, padding, dilation)
    spread = zero_insert(general_upstream, stride)
    full = full_cross_correlate(spread, rot180(general_kernel), dilation)
    general_formula = conv_input_gradient(general_upstream, general_kernel, (gn, gn), stride, padding, dilation)
    general_gap = differing_entries(general_differentiated, general_formula)
    # The rows the floor dropped in the forward pass: PyTorch's output_padding of the transposed convolution.
    dropped = gn + 2 * padding - full.rows
    back = derive(conv_transpose_output_size, size.value, gk, stride, padding, dropped, dilation)

    return Worked(
        blocks=(
            Text(
                "Conventions: cross-correlation as conv2d computes it, $Y = X \\star K$ on one channel, indices "
                "from 0. To differentiate through the layer, let the layers above hand back an arbitrary "
                "upstream gradient $G = \\partial L/\\partial Y$ of symbols $g_{ij}$; then $L = \\sum_{i,j} "
                "G_{ij} Y_{ij}$ has exactly that gradient, and sympy differentiates it with respect to every "
                "$x_{ij}$ of the symbolic {n}×{n} input.",
                {"n": n},
            ),
            Equation("K", kernel.tolist()),
            Equation("G", upstream.tolist()),
            *halves("dL/dX", differentiated),
            Text(
                "Each input entry collects $g_{ij} k_{mn}$ from every output whose window covered it. Pad $G$ "
                "with $K - 1 = {pad}$ zeros on every side and slide the kernel turned 180° over it: that full "
                "cross-correlation gives the same sums. For instance the entry (0, 1), where the window "
                "still overlaps the padding:",
                {"pad": k - 1},
            ),
            entry,
            Text("sympy compares the two matrices entry by entry for each kernel:"),
            Table(
                ("kernel", "entries of $\\partial L/\\partial X$", "entries that differ"),
                tuple((f"{size}×{size}", n * n, case.gap) for size, case in cases.items()),
            ),
            *(block for size in kernel_sizes[1:] for block in halves(f"dL/dX for K = {size}x{size}", cases[size].gradient)),
            Text(
                "Why the name transposed convolution: the forward pass is linear in $X$, "
                "$\\mathrm{vec}(Y) = J\\,\\mathrm{vec}(X)$ with a {rows}×{cols} Jacobian $J$ holding only "
                "{nonzero} non-zero weights, and the chain rule gives $\\mathrm{vec}(\\partial L/\\partial X) = "
                "J^T \\mathrm{vec}(G)$. sympy builds $J$ and multiplies $G$ by its transpose: {gap} entries "
                "differ from the gradient above.",
                {"rows": jacobian_matrix.rows, "cols": jacobian_matrix.cols, "nonzero": nonzero, "gap": transpose_gap},
            ),
            Text(
                "In general, with stride $s$, padding $p$ and dilation $d$: insert $s - 1$ zeros between the "
                "entries of $G$ (the forward pass placed its windows $s$ apart), full-correlate with the "
                "turned kernel dilated by the same $d$ (the taps that met an input entry sat $d$ apart), give "
                "rows and columns that no window reached a zero gradient, and crop the $p$ padded rows and "
                "columns away. Worked on a {gn}×{gn} input, {gk}×{gk} kernel, $s = {s}$, $p = {p}$, $d = {d}$:",
                {"gn": gn, "gk": gk, "s": stride, "p": padding, "d": dilation},
            ),
            size,
            Equation("G", general_upstream.tolist()),
            Equation("G with zeros inserted", spread.tolist()),
            Equation("dilated rot180(K)", zero_insert(rot180(general_kernel), dilation).tolist()),
            Equation("full correlation", full.tolist()),
            Equation("dL/dX", general_formula.tolist()),
            Text(
                "sympy's direct differentiation differs from it in {gap} of the {entries} entries. The backward pass "
                "is a transposed convolution with the forward layer's own hyperparameters; the rows the "
                "forward floor discarded become its output padding ({dropped} here), so it restores the "
                "input size exactly:",
                {"gap": general_gap, "entries": gn * gn, "dropped": dropped},
            ),
            back,
        ),
        answers={
            "grad_input": syntax(differentiated),
            "grad_input_by_kernel_size": {size: syntax(case.gradient) for size, case in cases.items()},
            "matches_full_correlation": all(case.gap == 0 for case in cases.values()),
            "matches_jacobian_transpose": transpose_gap == 0,
            "general_grad_input": syntax(general_formula),
            "general_matches": general_gap == 0,
            "general_output_size": size.value,
            "output_padding": dropped,
        },
        conclusion=Text(
            "$\\partial L/\\partial X$ = full cross-correlation of $G$ (zero-padded by $K - 1$) with the kernel "
            "turned 180°, i.e. a transposed convolution; with stride and dilation, $G$ gets $s - 1$ zeros "
            "between its entries and the turned kernel is dilated by $d$."
        ),
    )


def general_output(params):
    """The side of Y in the general case, or 0 when the layer does not fit the input."""
    try:
        return conv_output_size(*(params[name] for name in ("general_n", "general_kernel_size", "stride", "padding", "dilation")))
    except SymconvError:
        return 0


def output_padding(params):
    """The input rows and columns beyond the last window: what the floor of the forward size discarded."""
    k, d = params["general_kernel_size"], params["dilation"]
    reach = (general_output(params) - 1) * params["stride"] + d * (k - 1) + 1
    return params["general_n"] + 2 * params["padding"] - reach


EXERCISE = Exercise(
    number=11,
    title="Gradient of a convolution with respect to its input",
    question=(
        "A convolution layer maps a {n}×{n} input $X$ to $Y$. Given the upstream gradient "
        "$G = \\partial L/\\partial Y$, derive $\\partial L/\\partial X$ for a {kernel_size}×{kernel_size} and a "
        "{larger_kernel_size}×{larger_kernel_size} kernel and show "
        "that it is a full cross-correlation of $G$ with the kernel turned by 180°. How does the rule change "
        "with stride and dilation? Work it out for a {general_n}×{general_n} input and a "
        "{general_kernel_size}×{general_kernel_size} kernel with stride {stride}, padding {padding} and "
        "dilation {dilation}, and give the output padding a transposed convolution needs to restore the input size."
    ),
    defaults={
        "n": 4,
        "kernel_size": 2,
        "larger_kernel_size": 3,
        "general_n": 5,
        "general_kernel_size": 2,
        "stride": 2,
        "padding": 1,
        "dilation": 3,
    },
    solve=solve,
    topics=("backpropagation", "convolution", "transposed convolution"),
    domains={
        "n": Choice(4, 5),
        "kernel_size": Choice(2, 3),
        "larger_kernel_size": Choice(3, 4),
        "general_n": Choice(5, 6, 7),
        "general_kernel_size": Choice(2, 3),
        "stride": Choice(1, 2, 3),
        "padding": Choice(0, 1),
        "dilation": Choice(1, 2, 3),
    },
    constraints=(
        Constraint(
            "two kernels of different sizes, each leaving an output of at least 2×2",
            lambda p: p["kernel_size"] < p["larger_kernel_size"] <= p["n"] - 1,
        ),
        Constraint("the general case has an output of at least 2×2", lambda p: general_output(p) >= 2),
        Constraint(
            "the general case strides or dilates (otherwise it is the plain case again)",
            lambda p: p["stride"] * p["dilation"] > 1,
        ),
        Constraint(
            "padding at most half the effective kernel",
            lambda p: 2 * p["padding"] <= p["dilation"] * (p["general_kernel_size"] - 1) + 1,
        ),
        Constraint("the forward floor drops rows (an output padding to restore)", lambda p: output_padding(p) > 0, share=0.5),
    ),
    main_answer=AnswerParts(
        "general_output_size",
        "the sizes in the general case",
        (
            ("the side of $Y$", "general_output_size", ()),
            ("the output padding that makes the transposed convolution restore the input size", "output_padding", ()),
        ),
    ),
)
