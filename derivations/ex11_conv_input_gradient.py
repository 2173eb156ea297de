"""Exercise 11: the gradient of a convolution with respect to its input is a transposed convolution."""

from typing import Any, NamedTuple

from symconv import (
    Equation,
    Exercise,
    Table,
    Text,
    Worked,
    conv_output_size,
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


def by_differentiation(n, kernel, stride=1, padding=0, dilation=1):
    """A symbolic n×n input X, Y = X ⋆ K, a symbolic upstream G, and ∂L/∂X for L = Σ G ⊙ Y by differentiation."""
    x = symbol_matrix("x", n, n)
    output = cross_correlate(x, kernel, stride, padding, dilation)
    upstream = symbol_matrix("g", *output.shape)
    return x, output, upstream, gradient(upstream_loss(upstream, output), x)


def differing_entries(first, second):
    """How many entries of two symbolic matrices differ after expansion (0: the two are equal)."""
    return sum(1 for entry in (first - second).expand() if entry != 0)


class PlainCase(NamedTuple):
    """Stride 1, no padding: the differentiated gradient, and in how many entries the full correlation differs."""

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


GENERAL_RULE = (
    "Conventions: one channel, stride 1, no padding, indices from 0. The layer computes the "
    "cross-correlation that deep-learning libraries call convolution, $y_{ij} = \\sum_{m,n} x_{i+m,\\,j+n}\\, "
    "k_{mn}$, for an input $X = (x_{ab})$ and a kernel $K = (k_{mn})$ of $k \\times k$ entries. Let the layers "
    "above hand back the upstream gradient $G = \\partial L/\\partial Y$ with entries $g_{ij}$. The input entry "
    "$x_{ab}$ meets the kernel entry $k_{mn}$ in the output $y_{ij}$ with $i = a - m$, $j = b - n$, so the "
    "chain rule gives"
)
GENERAL_FORMULA = (
    "$\\partial L/\\partial x_{ab} = \\sum_{m,n} g_{a-m,\\,b-n}\\, k_{mn}$, where a $g$ whose index falls "
    "outside $G$ counts as 0."
)
GENERAL_FORM = (
    "This is a sum of the forward pass's form: the kernel, turned by 180°, slides over $G$ padded with "
    "$k - 1$ zeros on every side (a full cross-correlation with the turned kernel, which is a true "
    "convolution of $G$ with $K$). With $C_{\\text{in}}$ input and $C_{\\text{out}}$ output channels the "
    "forward pass also sums over the input channels, $y_{o,i,j} = \\sum_c \\sum_{m,n} x_{c,\\,i+m,\\,j+n}\\, "
    "k_{o,c,m,n}$, and each input channel collects from every output channel:"
)
CHANNELS_FORMULA = (
    "$\\partial L/\\partial x_{c,a,b} = \\sum_{o} \\sum_{m,n} g_{o,\\,a-m,\\,b-n}\\, k_{o,c,m,n}$, a "
    "convolution from $C_{\\text{out}}$ channels back to $C_{\\text{in}}$ with the kernel's two channel axes "
    "swapped and every filter turned."
)


def solve(params):
    n = params["n"]
    kernel_sizes = (params["kernel_size"], params["larger_kernel_size"])
    cases = {k: plain_case(n, k) for k in kernel_sizes}
    k = kernel_sizes[0]
    x, output, kernel, upstream, differentiated, _ = cases[k]
    # Entry (0, 1): its window over the padded G still holds padding zeros, which the working drops.
    window = pad(upstream, k - 1)[0:k, 1 : 1 + k]
    entry = derive_expression(weighted_sum(list(window), list(rot180(kernel))), lhs="∂L/∂x_01")

    jacobian_matrix = jacobian(output, x)
    transposed = (jacobian_matrix.T * upstream.reshape(len(upstream), 1)).reshape(n, n)
    transpose_gap = differing_entries(transposed, differentiated)
    nonzero = sum(1 for weight in jacobian_matrix if weight != 0)

    gn, gk, stride, padding, dilation = (
        params[name] for name in ("general_n", "general_kernel_size", "stride", "padding", "dilation")
    )
    general_kernel = symbol_matrix("k", gk, gk)
    _, _, general_upstream, general_differentiated = by_differentiation(gn, general_kernel, stride, padding, dilation)
    spread = zero_insert(general_upstream, stride)
    full = full_cross_correlate(spread, rot180(general_kernel), dilation)
    general_formula = conv_input_gradient(general_upstream, general_kernel, (gn, gn), stride, padding, dilation)
    general_gap = differing_entries(general_differentiated, general_formula)
    # The rows the floor dropped in the forward pass: the output padding of the transposed convolution.
    dropped = gn + 2 * padding - full.rows

    return Worked(
        blocks=(
            Text(GENERAL_RULE),
            Text(GENERAL_FORMULA),
            Text(GENERAL_FORM),
            Text(CHANNELS_FORMULA),
            Text(
                "Why the backward pass has the form of the forward pass. The forward pass is linear in $X$: "
                "$\\mathrm{vec}(Y) = J\\,\\mathrm{vec}(X)$. Row $(i, j)$ of $J$ holds the kernel's entries in "
                "the columns of the window at $(i, j)$, so all rows are shifted copies of one pattern: the same "
                "weights at every position. The chain rule gives $\\mathrm{vec}(\\partial L/\\partial X) = "
                "J^T \\mathrm{vec}(G)$, and row $(a, b)$ of $J^T$ holds the kernel entries that touched $x_{ab}$. "
                "Moving $(a, b)$ by one shifts that row by one, so $J^T$ is again one set of shared weights slid "
                "over its input, the kernel turned by 180°: a convolution, called the transposed convolution "
                "after $J^T$."
            ),
            Text(
                "The check on a {n}×{n} input with a {k}×{k} kernel: differentiating $L = \\sum_{i,j} g_{ij} "
                "y_{ij}$, which has exactly the upstream gradient $G$, with respect to every $x_{ab}$ gives",
                {"n": n, "k": k},
            ),
            Equation("K", kernel.tolist()),
            Equation("G", upstream.tolist()),
            Equation("∂L/∂X", differentiated.tolist()),
            Text(
                "Each input entry collects $g_{ij} k_{mn}$ from every output whose window covered it. The full "
                "cross-correlation gives the same sums: pad $G$ with $k - 1 = {pad}$ zeros on every side and "
                "slide the turned kernel over it. For instance the entry (0, 1), where the window still "
                "overlaps the padding:",
                {"pad": k - 1},
            ),
            entry,
            Text("Both matrices compared entry by entry, for each kernel:"),
            Table(
                ("kernel", "entries of $\\partial L/\\partial X$", "entries that differ"),
                tuple((f"{size}×{size}", n * n, case.gap) for size, case in cases.items()),
            ),
            *(Equation(f'∂L/∂X "for a {size}×{size} kernel"', cases[size].gradient.tolist()) for size in kernel_sizes[1:]),
            Text(
                "Here $J$ is {rows}×{cols} with only {nonzero} non-zero entries, and $J^T \\mathrm{vec}(G)$ "
                "differs from the gradient above in {gap} entries.",
                {"rows": jacobian_matrix.rows, "cols": jacobian_matrix.cols, "nonzero": nonzero, "gap": transpose_gap},
            ),
            Text(
                "With stride $s$, padding $p$ and dilation $d$ the same argument gives: insert $s - 1$ zeros "
                "between the entries of $G$ (the forward windows were $s$ apart), pad it with $d(k - 1)$ zeros, "
                "slide the turned kernel dilated by $d$ over it (its taps were $d$ apart), give rows and "
                "columns that no window reached a zero gradient, and crop $p$ rows and columns from each side "
                "(the padding the forward pass added). On a {gn}×{gn} input with a {gk}×{gk} kernel, $s = {s}$, "
                "$p = {p}$, $d = {d}$, the output is {out}×{out}, and",
                {"gn": gn, "gk": gk, "s": stride, "p": padding, "d": dilation, "out": general_upstream.rows},
            ),
            Equation('G "with zeros inserted"', spread.tolist()),
            Equation('rot180(K) "dilated"', zero_insert(rot180(general_kernel), dilation).tolist()),
            Equation("∂L/∂X", general_formula.tolist()),
            Text(
                "Differentiating directly gives the same matrix: {gap} of the {entries} entries differ. As a transposed "
                "convolution with the forward layer's own $s$, $p$ and $d$, the backward pass needs an output "
                "padding of {dropped} to restore the {gn}×{gn} size: the rows the forward floor discarded.",
                {"gap": general_gap, "entries": gn * gn, "dropped": dropped, "gn": gn},
            ),
        ),
        answers={
            "grad_input": syntax(differentiated),
            "grad_input_by_kernel_size": {size: syntax(case.gradient) for size, case in cases.items()},
            "matches_full_correlation": all(case.gap == 0 for case in cases.values()),
            "matches_jacobian_transpose": transpose_gap == 0,
            "general_grad_input": syntax(general_formula),
            "general_matches": general_gap == 0,
            "general_output_size": general_upstream.rows,
            "output_padding": dropped,
        },
        conclusion=Text(
            "$\\partial L/\\partial x_{ab} = \\sum_{m,n} g_{a-m,\\,b-n}\\, k_{mn}$, summed also over the output "
            "channels when there are several: a full cross-correlation of $G$ (zero-padded by $k - 1$) with the "
            "kernel turned 180°, the transposed convolution. It has the forward pass's form because $J^T$, like "
            "$J$, applies one set of shared weights at every position. With stride and dilation, $G$ gets "
            "$s - 1$ zeros between its entries, the padding is $d(k - 1)$, the turned kernel is dilated by $d$, "
            "and $p$ rows and columns are cropped."
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
        "A convolution layer maps an input $X$ to $Y$. State the formula for $\\partial L/\\partial X$ in terms "
        "of the upstream gradient $G = \\partial L/\\partial Y$, and explain why it has the same form as the "
        "forward pass. Check it on a {n}×{n} input with a {kernel_size}×{kernel_size} and a "
        "{larger_kernel_size}×{larger_kernel_size} kernel, and say how the rule changes with stride and dilation. "
        "Work it out for a {general_n}×{general_n} input and a {general_kernel_size}×{general_kernel_size} kernel "
        "with stride {stride}, padding {padding} and dilation {dilation}, and give the output padding a transposed "
        "convolution needs to restore the input size."
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
