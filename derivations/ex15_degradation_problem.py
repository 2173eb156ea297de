"""Exercise 15: why a deeper plain network with higher training error is not overfitting."""

from symconv import (
    Equation,
    Exercise,
    Table,
    Text,
    Worked,
    derive,
)
from symconv.core.errors import invalid
from symconv.core.values import maximum
from symconv.teaching.domains import Choice, Constraint, IntTuple, MainAnswer

# The first layer of the residual branch holds whatever training left there: these numbers are arbitrary.
FIRST_WEIGHTS = ((1, -2, 0, 1), (0, 1, -1, 2), (2, 0, 1, -1), (-1, 1, 1, 0))
FIRST_BIAS = (1, -1, 0, 2)
WIDTH = len(FIRST_BIAS)


def extra_layers(L_deep, L_shallow):
    return L_deep - L_shallow


def relu(z):
    return maximum(z, 0)


def first_unit(z_0):
    """The first unit of a ReLU layer, as the working writes it."""
    return maximum(z_0, 0)


def affine(weights, x, bias):
    """W x + b, exact on ints and Fractions."""
    return tuple(sum(w * v for w, v in zip(row, x)) + b for row, b in zip(weights, bias))


def relu_layer(weights, x, bias):
    return tuple(relu(z) for z in affine(weights, x, bias))


def residual_block(x, first_weights, first_bias, second_weights, second_bias):
    """ReLU(F(x) + x) with the two-layer branch F(x) = W2 ReLU(W1 x + b1) + b2 (no batch norm)."""
    hidden = relu_layer(first_weights, x, first_bias)
    branch = affine(second_weights, hidden, second_bias)
    return tuple(relu(f + v) for f, v in zip(branch, x))


def _check(params):
    shallow, deep, x = params["shallow_depth"], params["deep_depth"], params["activation"]
    if not (isinstance(shallow, int) and shallow >= 1):
        raise invalid("shallow_depth", shallow, "must be a positive integer")
    if not (isinstance(deep, int) and deep > shallow):
        raise invalid("deep_depth", deep, f"must be an integer larger than shallow_depth={shallow}")
    if len(x) != WIDTH or any(v < 0 for v in x):
        raise invalid("activation", x, f"must hold {WIDTH} non-negative numbers (it is the output of a ReLU)")


def solve(params):
    _check(params)
    x = tuple(params["activation"])
    identity = tuple(tuple(int(i == j) for j in range(WIDTH)) for i in range(WIDTH))
    zeros = tuple((0,) * WIDTH for _ in range(WIDTH))
    no_bias = (0,) * WIDTH
    extra = derive(extra_layers, params["deep_depth"], params["shallow_depth"], lhs="L_extra", unit="layers")
    unit = derive(first_unit, x[0], lhs="y_0", unit="")
    plain_identity = relu_layer(identity, x, no_bias)
    plain_zero = relu_layer(zeros, x, no_bias)
    hidden = relu_layer(FIRST_WEIGHTS, x, FIRST_BIAS)
    residual_zero = residual_block(x, FIRST_WEIGHTS, FIRST_BIAS, zeros, no_bias)
    return Worked(
        blocks=(
            Text(
                "The degradation problem (He et al., 2016): as plain networks (convolutions, batch "
                "normalisation and ReLUs, no shortcuts) get deeper, accuracy saturates and then falls, and "
                "it falls on the training set too. On CIFAR-10 their 56-layer plain network had a higher "
                "training error than their 20-layer one throughout training, and the same happened with 34 "
                "against 18 layers on ImageNet. Overfitting and degradation leave different fingerprints. "
                "An overfitted model fits its training set well and generalises badly: low training error, a "
                "wide gap to the test error. Degradation is visible on the training set itself: the deeper "
                "network fits its own training data worse than the shallower one."
            ),
            Text(
                "That a deeper network should fit at least as well follows from a construction. Take the "
                "trained network of $L_{\\text{shallow}} = {n_shallow}$ layers and insert the layers a network of "
                "$L_{\\text{deep}} = {n_deep}$ layers has in addition after its last hidden layer:",
                {"n_shallow": params["shallow_depth"], "n_deep": params["deep_depth"]},
            ),
            extra,
            Text(
                "Set every inserted layer to the identity. The deeper network then computes exactly the "
                "shallower one's function, so some choice of its weights reaches the same training error. Can a "
                "plain layer $y = \\mathrm{ReLU}(Wx + b)$ be the identity? With $W = I$ and $b = 0$ each unit "
                "returns $\\mathrm{ReLU}(x_i)$, which is $x_i$ because the layer's input came out of a ReLU and "
                "has no negative entries. For the activation below, $z = Wx + b = x$, and unit $i$ (counted "
                "from 0) returns $y_i = \\max(z_i, 0)$; the first unit:"
            ),
            Equation("W", identity),
            Equation("x", x),
            unit,
            Equation("y", plain_identity),
            Text(
                "So the deeper plain network has a solution whose training error is no higher than the "
                "shallower network's. When training ends above that error, the optimiser failed to find such "
                "weights: degradation is an optimisation difficulty. Overfitting cannot explain it, because "
                "overfitting lowers the training error, and here the training error is the one that rose. "
                "Vanishing gradients do not explain it either: He et al.'s plain networks used batch "
                "normalisation, which keeps the forward signals at non-zero variance, and they checked that "
                "the backward gradients had healthy norms. They conjecture that deep plain networks may "
                "converge exponentially slowly."
            ),
            Text(
                "Why the identity is hard for a plain layer. It has to learn the exact matrix $W = I$, {ones} "
                "diagonal ones among {entries} weights. Its size is not the obstacle: under He "
                "initialisation the $n^2$ weights of an $n$-wide layer have variance $2/n$, so $\\|W\\|_F "
                "\\approx \\sqrt{2n}$, the same order as $\\|I\\|_F = \\sqrt{n}$. The direction is: $I$ is one "
                "direction in an $n^2$-dimensional weight space, and a random $W$ is nearly orthogonal to it "
                "(the cosine between them, $\\mathrm{tr}(W)/(\\|W\\|_F \\|I\\|_F)$, is of order $1/n$). Residual "
                "learning moves the target (He et al., 2016): with a shortcut the layers fit the residual "
                "$F(x) = H(x) - x$ of the wanted map $H$, and when $H$ is close to the identity that is close "
                "to 0, which a small branch reaches easily. A residual block $y = \\mathrm{ReLU}(F(x) + x)$ with branch "
                "$F(x) = W_2\\,\\mathrm{ReLU}(W_1 x + b_1) + b_2$ (no batch normalisation here) is the identity "
                "as soon as $W_2 = 0$ and $b_2 = 0$, whatever its first layer holds. With the first layer "
                "below, its hidden units are",
                {"ones": WIDTH, "entries": WIDTH * WIDTH},
            ),
            Equation("W_1", FIRST_WEIGHTS),
            Equation("b_1", FIRST_BIAS),
            Equation("h", hidden),
            Text(
                "and the zero second layer sends them all to $F(x) = 0 \\cdot h + 0 = 0$, so the block "
                "returns $\\mathrm{ReLU}(0 + x) = x$. Zero weights mean opposite things in the two designs:"
            ),
            Table(
                ("all weights of the layer or branch zero", "output for $x$"),
                (("plain ReLU layer", plain_zero), ("residual block (second layer zero)", residual_zero)),
            ),
        ),
        answers={
            "extra_layers": extra.value,
            "plain_identity_output": list(plain_identity),
            "plain_zero_weights_output": list(plain_zero),
            "residual_zero_init_output": list(residual_zero),
        },
        conclusion=Text(
            "The {deep}-layer network can copy the {shallow}-layer one by setting its {extra} extra layers to "
            "the identity, so its higher training error is a failure of optimisation: not overfitting, which "
            "lowers the training error, and not vanishing gradients, which batch normalisation prevented. A "
            "residual block reaches the identity at zero branch weights, where a plain layer outputs zeros.",
            {"deep": params["deep_depth"], "shallow": params["shallow_depth"], "extra": extra.value},
        ),
    )


EXERCISE = Exercise(
    number=15,
    title="Degradation is not overfitting",
    question=(
        "On the same training set, a plain {deep_depth}-layer network ends with a higher training error than "
        "a plain {shallow_depth}-layer network. Explain why this is not overfitting, using a deeper network "
        "that copies the shallower one. Show, on the post-ReLU activation $x = {activation}$, how a ReLU layer "
        "and a residual block can each pass their input through unchanged."
    ),
    defaults={"shallow_depth": 20, "deep_depth": 56, "activation": (3, 0, 5, 2)},
    solve=solve,
    topics=("residual networks", "optimisation"),
    # He et al.'s plain networks: 18 and 34 layers on ImageNet, 6n + 2 layers on CIFAR-10.
    domains={
        "shallow_depth": Choice(18, 20, 32, 44),
        "deep_depth": Choice(34, 56, 110),
        "activation": IntTuple(WIDTH, 0, 9),
    },
    constraints=(
        Constraint(
            "two depths of the same family (ImageNet's 18 and 34, or CIFAR's 6n + 2), the second deeper",
            lambda p: p["shallow_depth"] < p["deep_depth"] and (p["shallow_depth"] % 6 == 2) == (p["deep_depth"] % 6 == 2),
        ),
        Constraint(
            "a post-ReLU activation: some entries zero, at least two positive",
            lambda p: 0 in p["activation"] and sum(v > 0 for v in p["activation"]) >= 2,
        ),
    ),
    main_answer=MainAnswer("extra_layers", "the number of layers the deeper network adds"),
)
