"""Exercise 17: why batch normalisation tolerates large learning rates: the weight scale drops out of the layer."""

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
    # factor_terms pulls a common factor (the scale a) out of each deviation and of the variance, so that
    # sqrt(a²V) = a·sqrt(V) and the cancellation happens as the expressions are built
    centred = [sympy.factor_terms(value - mean) for value in values]
    variance = sympy.factor_terms(sympy.Add(*(deviation**2 for deviation in centred)) / len(values))
    return sympy.Matrix([deviation / sympy.sqrt(variance) for deviation in centred])


WITHOUT_NORMALISATION = (
    "Why a plain network needs small steps. Write layer $l$ as $x_l = \\phi(W_l x_{l-1})$ with weight "
    "matrix $W_l$ and a ReLU $\\phi$. A ReLU passes a scale through ($\\phi(a z) = a\\,\\phi(z)$ for $a > 0$), "
    "so (biases aside) multiplying $W_l$ by $a$ multiplies every activation above layer $l$ by $a$, and the scales of the "
    "layers multiply: the output grows like the product of the per-layer factors. Backpropagation runs the "
    "same product the other way, $\\partial L/\\partial x_{l-1} = W_l^T D_l\\, \\partial L/\\partial x_l$ "
    "with $D_l$ the diagonal of ReLU slopes, so the gradient reaching a layer is scaled by the weights of all "
    "layers above it. A gradient step that changes every layer's scale by 10% can change the output of "
    "a 20-layer stack by a factor of $1.1^{20} \\approx 6.7$; the larger activations bring larger gradients, "
    "the next step is larger still, and training can diverge. The learning rate must therefore stay small "
    "enough for the most sensitive layer, and the deeper the network the smaller that is."
)

IOFFE_SZEGEDY = (
    "What batch normalisation changes (Ioffe and Szegedy, 2015). A layer $z = W u$ followed by batch "
    "normalisation (BN) standardises each feature of $z$ over the batch, so its output does not depend on "
    "the scale of $W$: $\\mathrm{BN}(aWu) = \\mathrm{BN}(Wu)$ for every $a > 0$. Two facts follow, both "
    "in the paper: backpropagation through the layer does not depend on the scale of $W$ either (the "
    "Jacobian with respect to the input $u$ is the same at $aW$ as at $W$, because the outputs are equal "
    "for every $u$), and the gradient with respect to the weights at $aW$ is $1/a$ times the gradient at "
    "$W$, so larger weights receive smaller gradients. The layer's scale can no longer compound through "
    "the network, and a step that lengthens $W$ damps its own next steps."
)


def solve(params):
    import sympy

    batch, features = params["batch_size"], params["in_features"]
    inputs = symbol_matrix("u", batch, features)  # row b: the input of sample b
    weights = sympy.Matrix([sympy.Symbol(f"w_{j}", real=True) for j in range(features)])
    upstream = sympy.Matrix([sympy.Symbol(f"g_{b}", real=True) for b in range(batch)])
    scale = sympy.Symbol("a", positive=True)
    eta = sympy.Symbol("eta", positive=True)

    plain = normalise(list(inputs * weights))
    scaled = normalise(list(inputs * (scale * weights)))
    scale_gap = scaled - plain

    # The loss depends on the weights only through the normalised outputs y_b; locally it is Σ g_b y_b.
    loss = (upstream.T * plain)[0]
    slope = gradient(loss, weights)
    # the chain rule: the gradient of L(aw) with respect to w is a times the gradient of L taken at aw
    loss_at_scaled = (upstream.T * scaled)[0]
    at_scaled = (slope if loss_at_scaled == loss else gradient(loss_at_scaled, weights)) / scale
    gradient_gap = at_scaled - slope / scale
    ratio = sympy.factor_terms(at_scaled[0] / slope[0])
    # Euler's relation: w·∇L is the derivative of L(aw) in a (at a = 1), and L(aw) does not involve a
    radial = sympy.diff(loss_at_scaled, scale)
    step = derive(effective_learning_rate, eta, ratio, scale, lhs="eta_eff", unit="")
    grown, rate = params["scale"], params["learning_rate"]
    example = derive(effective_learning_rate, rate, Fraction(1, grown), grown, lhs="eta_eff", unit="")

    return Worked(
        blocks=(
            Text(WITHOUT_NORMALISATION),
            Text(IOFFE_SZEGEDY),
            Text(
                "The check on a small case. BN normalises each feature on its own, so it suffices to follow "
                "one feature $z_b = w \\cdot u_b$, where $w$ is the row of $W$ that produces it ({features} "
                "entries) and $u_b$ is the input of sample $b$ of a batch of {batch}; scaling $W$ by $a$ "
                "scales $w$ by $a$. In training mode $y_b = (z_b - \\mu)/\\sigma$ with the batch mean $\\mu$ "
                "and the biased batch variance $\\sigma^2$. The learnable scale and shift act after $y$ and "
                "play no part here; $\\epsilon$ is set to 0 (with $\\epsilon > 0$ the statements hold up to "
                "terms of relative size $\\epsilon/\\sigma^2$).",
                {"features": features, "batch": batch},
            ),
            Equation("u", inputs.tolist()),
            Equation("w", weights.tolist()),
            Text("Normalising the batch for $w$ and for $aw$ with $a > 0$, the difference of the outputs is"),
            Equation("BN(a·w·u) − BN(w·u)", scale_gap.tolist()),
            Text(
                "because $\\mu$ and $\\sigma$ both scale by $a$, which cancels. For the gradient, let the "
                "layers above hand back $g_b = \\partial L/\\partial y_b$; these are the same at $aw$ as at $w$, "
                "since the outputs $y_b$ are. The loss $L$ depends on $w$ only through the $y_b$, so "
                "$\\nabla_w L = \\sum_b g_b\\, \\partial y_b/\\partial w$. Its value at $aw$ against $1/a$ "
                "times its value at $w$:"
            ),
            Equation("∇_w L(a·w) − (1/a)·∇_w L(w)", gradient_gap.tolist()),
            Equation("ratio", ratio),
            Text(
                "so the ratio $r$ of the gradient at $aw$ to the gradient at $w$ is $1/a$. The gradient is also "
                "orthogonal to the weights: $L(aw)$ does not change with $a$, and its derivative in $a$ at "
                "$a = 1$ is $w \\cdot \\nabla_w L$ (Euler's relation for a function homogeneous of degree 0):"
            ),
            Equation("w·∇_w L", radial),
            Text(
                "What this does to the learning rate. The step $-\\eta \\nabla_w L$ taken at weights $aw$ is "
                "$r$ times the step at $w$, while the weights are $a$ times longer; relative to the weights, "
                "the layer moves as if it were trained with the effective learning rate $\\eta_{\\text{eff}}$:"
            ),
            step,
            Text("For weights grown to {a} times their length, trained with $\\eta = {eta}$:", {"a": grown, "eta": rate}),
            example,
            Text(
                "Since the step is orthogonal to $w$, $|w - \\eta \\nabla_w L|^2 = |w|^2 + \\eta^2 |\\nabla_w L|^2$: "
                "gradient descent can only lengthen $w$. A learning rate that is too large makes a large step, "
                "which lengthens $w$ and lowers the effective rate $\\eta/|w|^2$ of every later step: the "
                "weights before a BN layer tune their own step size (van Laarhoven, 2017). Arora, Li and Lyu "
                "(2019) prove that gradient descent on such scale-invariant weights converges for any fixed "
                "learning rate, asymptotically as fast as the best bound for a well-tuned one. Weight decay, which shrinks $w$, raises "
                "the effective rate again."
            ),
            Text(
                "The smoothness account (Santurkar et al., 2018). Ioffe and Szegedy motivated BN by reducing "
                "the change of each layer's input distribution during training (internal covariate shift). "
                "Santurkar et al. found that this is not what matters: a network with noise injected after "
                "each BN layer, so that the distributions shift more, still trains about as well. What BN "
                "does change is the loss landscape: along the training path the loss and its gradient "
                "change more slowly (smaller Lipschitz constants of the loss and of its gradient), so the "
                "gradient computed at one point still points downhill some distance away. A long step then "
                "lands where the gradient predicted, instead of overshooting into a region of much higher loss."
            ),
            Text(
                "Together: without BN the weight scale compounds through the layers, so activations and "
                "gradients explode under a large step and the learning rate must be small; with BN each layer's "
                "output and its backward pass ignore the weight scale, growing weights slow their own updates "
                "($\\eta/a^2$), and the smoother loss keeps long steps reliable. Ioffe and Szegedy trained "
                "their batch-normalised Inception network with learning rates 5 and 30 times the original "
                "one. The invariance covers only the weights in front of BN: the learnable scale and shift "
                "and the final classifier still need a sensible learning rate."
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
            "Without BN the scale of each layer's weights multiplies through the network, so a large step "
            "blows up activations and gradients. With BN, $\\mathrm{BN}(aWu) = \\mathrm{BN}(Wu)$ for every "
            "$a > 0$: the layer's backward pass ignores the weight scale, the gradient of the loss at $aw$ is "
            "{ratio} times that at $w$, and the effective learning rate is {rate}, so growing weights slow "
            "their own updates; BN also makes the loss smoother (Santurkar et al., 2018), so long steps stay "
            "reliable.",
            {"ratio": ratio, "rate": step.value},
        ),
    )


EXERCISE = Exercise(
    number=17,
    title="Batch normalisation and large learning rates",
    question=(
        "Explain why batch normalisation lets a network train with much larger learning rates than the same "
        "network without it. As part of the argument, show symbolically, for a batch of {batch_size} samples "
        "and one feature computed by a weight vector $w$ with {in_features} entries, that batch normalisation "
        "gives the same output for the weights $w$ and $aw$ ($a > 0$), and that the gradient of the loss with "
        "respect to the weights at $aw$ is $1/a$ times the gradient at $w$. What does this mean for the "
        "learning rate the weights effectively see? Give it for weights that have grown to {scale} times their "
        "length under the learning rate $\\eta = {learning_rate}$."
    ),
    defaults={"batch_size": 3, "in_features": 2, "scale": 2, "learning_rate": Fraction(1, 10)},
    solve=solve,
    topics=("batch normalisation", "optimisation"),
    # The batch and the weight vector stay small: the symbolic working grows fast with them. SGD's usual rates.
    domains={"scale": Choice(2, 3, 4, 5, 10), "learning_rate": Choice(*(Fraction(1, d) for d in (10, 20, 100, 1000)))},
    main_answer=MainAnswer("effective_learning_rate_example", "the effective learning rate $\\eta/a^2$ of the grown weights"),
)
