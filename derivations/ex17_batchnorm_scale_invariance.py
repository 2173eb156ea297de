"""Exercise 17: batch normalisation ignores the scale of the weights before it, and what that does to learning."""

from fractions import Fraction

from symconv import Equation, Exercise, Text, Worked, derive
from symconv.formulas.gradients import gradient, symbol_matrix, syntax
from symconv.teaching.domains import Choice, MainAnswer


def effective_learning_rate(eta, r, a):
    """The step is r times as long while the weights are a times longer: the step relative to the weights."""
    return eta * r / a


def normalise(values):
    """Batch normalisation of one feature over a batch, training mode, no epsilon, no affine part."""
    import sympy

    mean = sympy.Add(*values) / len(values)
    variance = sympy.Add(*((value - mean) ** 2 for value in values)) / len(values)
    return sympy.Matrix([(value - mean) / sympy.sqrt(variance) for value in values])


def solve(params):
    import sympy

    batch, features = params["batch_size"], params["in_features"]
    inputs = symbol_matrix("u", batch, features)  # row b: the input of sample b
    weights = sympy.Matrix([sympy.Symbol(f"w_{j}", real=True) for j in range(features)])
    scale = sympy.Symbol("a", positive=True)
    eta = sympy.Symbol("eta", positive=True)

    plain = normalise(list(inputs * weights))
    scaled = normalise(list(inputs * (scale * weights)))
    # factor_terms pulls a out of each sum and square root, which is all these cancellations need
    # (sympy.simplify gets there too, fifteen times slower).
    scale_gap = (scaled - plain).applyfunc(sympy.factor_terms)

    slope = gradient(plain[0], weights)
    at_scaled = slope.xreplace({weight: scale * weight for weight in weights})
    gradient_gap = (at_scaled - slope / scale).applyfunc(sympy.factor_terms)
    ratio = sympy.factor_terms(at_scaled[0] / slope[0])
    radial = sympy.cancel(sympy.together((weights.T * slope)[0]))
    step = derive(effective_learning_rate, eta, ratio, scale, lhs="eta_eff", unit="")
    grown, rate = params["scale"], params["learning_rate"]
    example = derive(effective_learning_rate, rate, Fraction(1, grown), grown, lhs="eta_eff", unit="")

    return Worked(
        blocks=(
            Text(
                "Conventions: one feature $z_b = w \\cdot u_b$ of a layer whose weight vector $w$ has "
                "{features} entries, a batch of {batch} samples $u_b$, batch normalisation in "
                "training mode, $y_b = (z_b - \\mu)/\\sigma$ with the batch mean $\\mu$ and the biased batch "
                "variance $\\sigma^2$. The learnable scale and shift act after $y$ and play no part here; "
                "$\\epsilon$ is set to 0 (with $\\epsilon > 0$ the statements hold up to $\\epsilon/\\sigma^2$).",
                {"features": features, "batch": batch},
            ),
            Equation("u", inputs.tolist()),
            Equation("w", weights.tolist()),
            Text("sympy normalises the batch for $w$ and for $aw$ with $a > 0$; their difference simplifies to"),
            Equation("BN((aw) u) - BN(w u)", scale_gap.tolist()),
            Text(
                "because $\\mu$ and $\\sigma$ both scale by $a$, which cancels. Differentiating a function that "
                "does not change along the ray $aw$: the gradient of $y_1$ with respect to $w$, taken at "
                "$aw$, against the gradient at $w$:"
            ),
            Equation("grad at aw - (1/a) grad at w", gradient_gap.tolist()),
            Equation("ratio", ratio),
            Text("and the gradient is orthogonal to the weights (Euler's relation for a function of degree 0):"),
            Equation("w . grad", radial),
            Text(
                "Consequences for learning. The gradient step $-\\eta g$ taken at weights $aw$ is $r$ = {ratio} "
                "times the step at $w$, while the weights are $a$ times longer; relative to the weights the layer "
                "therefore moves as if trained with the learning rate",
                {"ratio": ratio},
            ),
            step,
            Text("For weights grown to {a} times their length, trained with $\\eta = {eta}$:", {"a": grown, "eta": rate}),
            example,
            Text(
                "Since the step is orthogonal to $w$, $|w - \\eta g|^2 = |w|^2 + \\eta^2 |g|^2$: plain gradient "
                "descent can only lengthen $w$. Weights that grow get smaller effective steps, large gradients "
                "grow $w$ the most and so damp themselves, and the scale settles on its own: BN makes the "
                "layer's learning rate self-stabilising, which is why it tolerates larger learning rates (and "
                "why weight decay, which shrinks $w$, raises the effective rate again)."
            ),
        ),
        answers={
            "scale_invariant": scale_gap.is_zero_matrix,
            "gradient_scale": syntax(ratio),
            "gradient_scales_by_one_over_a": gradient_gap.is_zero_matrix,
            "gradient_orthogonal_to_weights": radial == 0,
            "effective_learning_rate": syntax(step.value),
            "effective_learning_rate_example": example.value,
        },
        conclusion=Text(
            "$BN((aw)u) = BN(wu)$ for every $a > 0$, and $\\partial BN/\\partial w$ at $aw$ is {ratio} times the "
            "gradient at $w$: the effective learning rate is {rate}, so growing weights slow their own updates.",
            {"ratio": ratio, "rate": step.value},
        ),
    )


EXERCISE = Exercise(
    number=17,
    title="Batch normalisation and the scale of the weights",
    question=(
        "Show symbolically, for a batch of {batch_size} samples and a weight vector with {in_features} entries, "
        "that batch normalisation gives the same output for the weights $W$ and $aW$ ($a > 0$), and that the "
        "gradient with respect to the weights at $aW$ is $1/a$ times the gradient at $W$. What does this mean "
        "for the learning rate the weights effectively see? Give it for weights that have grown to {scale} times "
        "their length under the learning rate $\\eta = {learning_rate}$."
    ),
    defaults={"batch_size": 3, "in_features": 2, "scale": 2, "learning_rate": Fraction(1, 10)},
    solve=solve,
    topics=("batch normalisation", "optimisation"),
    # The batch and the weight vector stay small: the symbolic working grows fast with them. SGD's usual rates.
    domains={"scale": Choice(2, 3, 4, 5, 10), "learning_rate": Choice(*(Fraction(1, d) for d in (10, 20, 100, 1000)))},
    main_answer=MainAnswer("effective_learning_rate_example", "the effective learning rate $\\eta/a^2$ of the grown weights"),
)
