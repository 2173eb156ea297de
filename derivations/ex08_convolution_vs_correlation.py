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

    shift = k - 1  # entry (i, j) of the valid convolution is entry (i - shift, j - shift) of the correlation
    entries = tuple(
        (f"({i + shift}, {j + shift})", convolution[i, j], correlation[i, j], difference[i, j])
        for i in range(convolution.rows)
        for j in range(convolution.cols)
    )
    return Worked(
        blocks=(
            Text(
                "Definitions, for an input $X$ and a kernel $K$, indices from 0, stride 1, no padding. "
                "Convolution, as signal processing and mathematics define it, runs the kernel index against "
                "the input index: $(X * K)_{i,j} = \\sum_{m,n} X_{i-m,\\,j-n} K_{m,n}$. Cross-correlation "
                "slides the kernel as it is: $(X \\star K)_{i,j} = \\sum_{m,n} X_{i+m,\\,j+n} K_{m,n}$. "
                "Deep-learning libraries compute the cross-correlation and call it convolution. Substituting "
                "$m \\to k - 1 - m$, $n \\to k - 1 - n$ for a kernel of $k \\times k$ entries turns one into "
                "the other: $(X * K)_{i,j} = (X \\star \\mathrm{rot180}(K))_{i-k+1,\\,j-k+1}$, where "
                "$\\mathrm{rot180}(K)_{m,n} = K_{k-1-m,\\,k-1-n}$ is the kernel turned half a circle. Both are "
                "kept to the positions where the whole kernel lies on the input, which for the convolution "
                "are $i, j \\ge k - 1$."
            ),
            Text(
                "The check on a {n}×{n} input $X = (x_{ij})$ and a {k}×{k} kernel $K = (k_{mn})$, $k = {k}$:",
                {"n": n, "k": k},
            ),
            Equation("X", x.tolist()),
            Equation("K", kernel.tolist()),
            Equation("rot180(K)", turned.tolist()),
            Table(
                (
                    "$(i, j)$",
                    "$(X * K)_{i,j}$",
                    f"$(X \\star \\mathrm{{rot180}}(K))_{{i-{shift},\\,j-{shift}}}$",
                    "difference",
                ),
                entries,
            ),
            Text(
                "Every difference is 0: convolving with $K$ is cross-correlating with $K$ turned half a circle, "
                "the outputs indexed $k - 1 = {shift}$ apart. The two operations differ only in the order in which the "
                "kernel's entries are stored; true convolution also has the algebra correlation lacks "
                "(it is commutative and associative), which matters for theory, not for learning.",
                {"shift": shift},
            ),
            Text(
                "Why the distinction does not matter in deep learning. The kernel is learned, not given. The turn "
                "is a fixed permutation of the {taps} entries, so any kernel a convolutional layer could learn, "
                "a correlating layer represents by its turned copy $Q = \\mathrm{rot180}(K)$: both layers "
                "describe the same set of functions. Training agrees step by step as well. With an upstream "
                "gradient $G$ for the layer's output $Y$ and $L = \\sum G \\odot Y$, which has exactly that gradient, the gradient with "
                "respect to the convolution's kernel minus the turned gradient with respect to the correlation's "
                "kernel, taken at $Q = \\mathrm{rot180}(K)$, is",
                {"taps": k * k},
            ),
            Equation("∂L/∂K − rot180(∂L/∂Q)", gradient_gap.tolist()),
            Text(
                "So if the correlating layer starts at the turned kernel, every gradient step keeps it at the "
                "turned kernel of the convolutional layer. And the starting points match in distribution: the "
                "usual initialisation draws the entries independently from one distribution, and such a draw "
                "is unchanged in distribution by any permutation of the entries, the turn included. Trained on the same "
                "data in the same order, the two networks therefore learn the same functions with the same probabilities; the correlating one "
                "simply holds the turned kernel, and libraries save the flip. It does matter where a kernel "
                "is not learned: a hand-designed asymmetric filter (an edge detector, say), or weights "
                "carried from a library that flips to one that does not, must be turned by hand."
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
            "Convolution flips the kernel ($X_{i-m,\\,j-n}$), cross-correlation does not ($X_{i+m,\\,j+n}$); "
            "$X * K$ equals $X \\star \\mathrm{rot180}(K)$ in all {count} entries. For a learned kernel the "
            "flip is only a relabelling of its entries, which gradient descent and an i.i.d. initialisation "
            "both respect, so the network learns the turned kernel and nothing else changes.",
            {"count": len(entries)},
        ),
    )


EXERCISE = Exercise(
    number=8,
    title="Convolution against cross-correlation",
    question=(
        "Explain the difference between convolution and cross-correlation, and show on a symbolic {n}×{n} "
        "input $X$ and a symbolic {kernel_size}×{kernel_size} kernel $K$, entry by entry, that convolving $X$ "
        "with $K$ gives the same result as cross-correlating $X$ with $K$ turned by 180°. Why does the "
        "distinction hardly matter in deep learning?"
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
