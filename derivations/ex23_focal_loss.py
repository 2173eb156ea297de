"""Exercise 23: focal loss, its modulating factor, its ratio to cross-entropy and its derivative."""

from fractions import Fraction

from symconv import Equation, Exercise, Rounded, Table, Text, Worked, derive
from symconv.formulas.gradients import syntax
from symconv.teaching.domains import AnswerParts, Choice, IntRange


def modulating_factor(p_t, gamma):
    """How much of the cross-entropy the focal loss keeps at confidence p_t."""
    return (1 - p_t) ** gamma


def loss_ratio(FL, CE):
    return FL / CE


def focal_symbols():
    """p_t in (0, 1], gamma >= 0, alpha_t > 0, as sympy symbols."""
    import sympy

    return sympy.Symbol("p_t", positive=True), sympy.Symbol("gamma", nonnegative=True), sympy.Symbol("alpha_t", positive=True)


def focal_loss(p_t, gamma, alpha_t):
    import sympy

    return -alpha_t * (1 - p_t) ** gamma * sympy.log(p_t)


# A dense detector's image for illustration: many easy background anchors, a few hard examples.
EASY_ANCHORS, EASY_CONFIDENCE, HARD_EXAMPLES = 100_000, Fraction(99, 100), 100


def swamping(gamma, p_hard):
    """Rows (examples, count, p_t, summed CE, summed FL) for the easy anchors and the hard examples."""
    import sympy

    rows = []
    for name, count, p_t in (("easy negatives", EASY_ANCHORS, EASY_CONFIDENCE), ("hard examples", HARD_EXAMPLES, p_hard)):
        cross_entropy = -count * sympy.log(sympy.Rational(p_t))
        rows.append((name, count, p_t, Rounded(cross_entropy, 2), Rounded(cross_entropy * modulating_factor(p_t, gamma), 2)))
    return tuple(rows)


def solve(params):
    import sympy

    gamma, alpha = params["gamma"], params["alpha"]
    probabilities = (params["p_low"], params["p_mid"], params["p_high"])
    p, g, a = focal_symbols()
    focal = focal_loss(p, g, a)
    cross_entropy = -sympy.log(p)
    ratio = derive(loss_ratio, focal, cross_entropy, lhs="ratio", unit="")
    derivative = sympy.simplify(focal.diff(p))
    product_rule = sympy.Mul(
        -a, sympy.Add(-g * (1 - p) ** (g - 1) * sympy.log(p), (1 - p) ** g / p, evaluate=False), evaluate=False
    )
    swamp = swamping(gamma, params["p_low"])
    factors = [derive(modulating_factor, probability, gamma, lhs="factor", unit="") for probability in probabilities]

    concrete = {g: gamma, a: alpha}
    rows = []
    for probability, factor in zip(probabilities, factors):
        at = {**concrete, p: sympy.Rational(probability)}
        focal_value = focal.subs(at)
        slope = derivative.subs(at)
        rows.append(
            (
                probability,
                factor.value,
                Rounded(cross_entropy.subs(at), 4),
                Rounded(focal_value, 4),
                ratio.value.subs(at),
                Rounded(cross_entropy.diff(p).subs(at), 4),
                Rounded(slope, 4),
                Rounded(slope / cross_entropy.diff(p).subs(at), 4),
            )
        )
    return Worked(
        blocks=(
            Text(
                "Conventions: $p_t$ is the probability the model gives the true class ($p$ for a positive, "
                "$1 - p$ for a negative), $\\alpha_t$ a class weight, $\\gamma \\ge 0$ the focusing parameter, "
                "natural logarithms. Cross-entropy and focal loss:"
            ),
            Equation("CE", cross_entropy),
            Equation("FL", focal),
            Text("For $p_t < 1$ the common factor $-\\log p_t$ is not zero and cancels in their ratio:"),
            ratio,
            Text(
                "With $\\alpha_t = {alpha}$ the ratio is the modulating factor alone. At $\\gamma = {gamma}$, for a "
                "hard, an undecided and an easy example:",
                {"alpha": alpha, "gamma": gamma},
            ),
            *factors,
            Text(
                "The derivative with respect to $p_t$, by the product rule (the power rule on the factor "
                "$(1 - p_t)^\\gamma$, times $-1$ from the chain rule, and $d \\log p_t / dp_t = 1/p_t$):"
            ),
            Equation("∂FL/∂p_t", product_rule),
            Text(
                "Taking the common factor out of the bracket gives the closed form; for $\\gamma = 0$, "
                "$\\alpha_t = 1$ it is the cross-entropy's $-1/p_t$, as it must be:"
            ),
            Equation("∂FL/∂p_t", derivative),
            Table(
                ("$p_t$", "$(1 - p_t)^\\gamma$", "$\\mathrm{CE}$", "$\\mathrm{FL}$", "$\\mathrm{FL}/\\mathrm{CE}$"),
                tuple(row[:5] for row in rows),
                caption=f"Losses at $\\gamma = {gamma}$, $\\alpha_t = {alpha}$; decimals rounded to 4 places",
            ),
            Table(
                ("$p_t$", "$\\partial\\mathrm{CE}/\\partial p_t$", "$\\partial\\mathrm{FL}/\\partial p_t$", "ratio of the two"),
                tuple((row[0], *row[5:]) for row in rows),
                caption="Gradients with respect to $p_t$",
            ),
            Text(
                "The easy example keeps {easy} of its cross-entropy, the hard one {hard}: the loss of a "
                "well-classified example shrinks {cut}-fold, against {hard_cut}-fold for the hard one. The gradient, "
                "relative to the cross-entropy's (last table), is scaled by {easy_slope} for the easy example and "
                "by {hard_slope} for the hard one.",
                {
                    "easy": factors[-1].value,
                    "hard": factors[0].value,
                    "cut": Rounded(1 / Fraction(factors[-1].value), 0),
                    "hard_cut": Rounded(1 / Fraction(factors[0].value), 2),
                    "easy_slope": rows[-1][7],
                    "hard_slope": rows[0][7],
                },
            ),
            Text(
                "Why this improves single-stage detection (Lin et al. 2017). A one-stage detector such as RetinaNet "
                "classifies every anchor of a dense grid, about 100,000 per image over the pyramid levels, and only "
                "a handful of them cover an object. Almost all are easy background. Each contributes little "
                "cross-entropy, but there are so many that their sum swamps the loss of the few objects and of the "
                "hard negatives, and the gradient mostly teaches what the network already knows. For illustration, "
                "{easy_count} easy negatives at $p_t = {p_easy}$ against {hard_count} hard examples at "
                "$p_t = {p_hard}$, with $\\alpha_t = 1$:",
                {"easy_count": swamp[0][1], "p_easy": swamp[0][2], "hard_count": swamp[1][1], "p_hard": swamp[1][2]},
            ),
            Table(
                ("examples", "count", "$p_t$", "summed CE", "summed FL"),
                swamp,
                caption=f"Summed losses at $\\gamma = {gamma}$, $\\alpha_t = 1$",
            ),
            Text(
                "Under cross-entropy the easy negatives carry most of the loss; under the focal loss the hard "
                "examples do. Two-stage detectors never meet the problem in this form: their proposal stage cuts the "
                "candidates to one or two thousand, and the second stage samples minibatches with a fixed share of "
                "foreground (one in four). The focal loss lets a single-stage detector train on all anchors without "
                "sampling; with it RetinaNet matched or passed the accuracy of the two-stage detectors of its time at one-stage speed. The "
                "paper's best setting is $\\gamma = 2$ with $\\alpha = 0.25$ on the rare foreground class "
                "($1 - \\alpha$ on background): once $\\gamma$ has silenced the easy negatives, the positives "
                "need less extra weight, not more."
            ),
        ),
        answers={
            "multipliers": [factor.value for factor in factors],
            "loss_ratio": syntax(ratio.value),
            "loss_ratios": [row[4] for row in rows],
            "derivative": syntax(derivative),
        },
        conclusion=Text(
            "At $\\gamma = {gamma}$ the focal loss keeps {low}, {mid} and {high} of the cross-entropy at "
            "$p_t$ = {p_low}, {p_mid}, {p_high}; $\\partial \\mathrm{FL}/\\partial p_t$ = {derivative}.",
            {
                "gamma": gamma,
                "low": factors[0].value,
                "mid": factors[1].value,
                "high": factors[2].value,
                "p_low": probabilities[0],
                "p_mid": probabilities[1],
                "p_high": probabilities[2],
                "derivative": derivative,
            },
        ),
    )


EXERCISE = Exercise(
    number=23,
    title="Focal loss",
    question=(
        "The focal loss $\\mathrm{FL}(p_t) = -\\alpha_t (1 - p_t)^\\gamma \\log p_t$ scales the cross-entropy by a factor "
        "that vanishes for confident predictions. Explain why it improves single-stage object detection. For $\\gamma = {gamma}$ and $\\alpha_t = {alpha}$, compute the "
        "factor and the ratio $\\mathrm{FL}/\\mathrm{CE}$ at $p_t$ = {p_low}, {p_mid} and {p_high}, and derive "
        "$\\partial \\mathrm{FL}/\\partial p_t$."
    ),
    defaults={"gamma": 2, "alpha": 1, "p_low": Fraction(1, 10), "p_mid": Fraction(1, 2), "p_high": Fraction(9, 10)},
    solve=solve,
    topics=("loss functions", "focal loss"),
    # alpha stays 1: the working reads FL/CE as the modulating factor alone, true only then.
    domains={
        "gamma": IntRange(1, 5),
        "p_low": Choice(Fraction(1, 20), Fraction(1, 10), Fraction(1, 5), Fraction(1, 4)),
        "p_mid": Choice(Fraction(2, 5), Fraction(1, 2), Fraction(3, 5)),
        "p_high": Choice(Fraction(3, 4), Fraction(4, 5), Fraction(9, 10), Fraction(19, 20)),
    },
    main_answer=AnswerParts(
        "multipliers",
        "the modulating factor $(1 - p_t)^\\gamma$ of each example",
        (
            ("at the smallest $p_t$ (the hard example)", "multipliers", (0,)),
            ("at the middle $p_t$", "multipliers", (1,)),
            ("at the largest $p_t$ (the easy example)", "multipliers", (2,)),
        ),
    ),
)
