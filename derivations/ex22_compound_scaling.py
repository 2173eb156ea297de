"""Exercise 22: EfficientNet's compound scaling and the FLOPs it adds per step of φ."""

from fractions import Fraction

from symconv import Exercise, Rounded, Table, Text, Worked, conv_macs, derive, symbols
from symconv.teaching.domains import Choice, Constraint, MainAnswer

# A grid like the one EfficientNet searched, in steps of 0.05: depth up to 1.6, width and resolution up to 1.3
# (beyond those the other two would have to fall below 1 to keep the factor near 2).
DEPTH_GRID = Choice(*(Fraction(step, 20) for step in range(21, 33)))
SIDE_GRID = Choice(*(Fraction(step, 20) for step in range(21, 28)))


def cost_ratio(MACs_scaled, MACs_base):
    return MACs_scaled / MACs_base


def flops_factor(alpha, beta, gamma):
    """Depth multiplies the layers, width both channel counts of each layer, resolution both sides of each map."""
    return alpha * beta**2 * gamma**2


def solve(params):
    alpha, beta, gamma = params["alpha"], params["beta"], params["gamma"]
    C, K, H, W, w, r = symbols("C", "K", "H", "W", "w", "r")
    one_layer = derive(cost_ratio, conv_macs(w * C, w * C, K, r * H, r * W), conv_macs(C, C, K, H, W), lhs="ratio", unit="")
    depthwise = derive(
        cost_ratio,
        conv_macs(w * C, w * C, K, r * H, r * W, groups=w * C),
        conv_macs(C, C, K, H, W, groups=C),
        lhs="ratio_depthwise",
        unit="",
    )
    factor = derive(flops_factor, alpha, beta, gamma, lhs="FLOPs_factor", unit="")
    rows = tuple(
        (phi, Rounded(alpha**phi, 3), Rounded(beta**phi, 3), Rounded(gamma**phi, 3), Rounded(factor.value**phi, 2), 2**phi)
        for phi in range(params["max_phi"] + 1)
    )
    return Worked(
        blocks=(
            Text(
                "A network can be made larger in three ways: more layers (depth $d$), more channels per layer "
                "(width $w$), larger input images (resolution $r$). Compound scaling grows all three together from "
                "a base network, with one knob $\\phi$: $d = \\alpha^\\phi$, $w = \\beta^\\phi$, $r = \\gamma^\\phi$. "
                "The constants come from a small grid search on the base network (EfficientNet-B0) at $\\phi = 1$, "
                "under the constraint $\\alpha\\beta^2\\gamma^2 \\approx 2$ with $\\alpha, \\beta, \\gamma \\ge 1$; "
                "Tan and Le (2019) found 1.2, 1.1 and 1.15; here $\\alpha = {alpha}$, $\\beta = {beta}$, "
                "$\\gamma = {gamma}$.",
                {"alpha": Rounded(alpha, 2), "beta": Rounded(beta, 2), "gamma": Rounded(gamma, 2)},
            ),
            Text(
                "Why the squares: take a $K \\times K$ convolution from $C$ to $C$ channels on an $H \\times W$ map, "
                "widen it by $w$ (both channel counts) and enlarge its map by $r$ on each side; its cost, relative "
                "to the original layer's, $\\text{MACs}_{\\text{scaled}}/\\text{MACs}_{\\text{base}}$, is (exactly so for whole multipliers; fractional ones only add the rounding "
                "of channel counts and sizes)"
            ),
            one_layer,
            Text(
                "Depth adds layers of the same cost, so a network of such layers grows as $d w^2 r^2$. EfficientNet "
                "is only approximately such a network. Its blocks are built around depthwise convolutions, one group "
                "per channel, so that each filter reads a single channel and a layer costs $H W K^2 C$ rather than "
                "$H W K^2 C^2$; their cost grows only linearly with the width:"
            ),
            depthwise,
            Text(
                "and the stem reads the 3 colour channels, which do not scale, while the classifier after global "
                "pooling grows with the width only. The 1×1 convolutions that expand and project the channels carry "
                "most of the cost and do scale as $w^2 r^2$, so $d w^2 r^2$ is the rule the paper designs with; the "
                "real growth differs somewhat, as the depthwise layers grow more slowly and channel counts and "
                "depths are rounded to whole numbers. Per step of $\\phi$:"
            ),
            factor,
            Text(
                "Each step therefore about doubles the FLOPs, and $\\phi$ is, roughly, the base-2 logarithm of the "
                "compute budget relative to the base network. (The released EfficientNet-B1 to B7 do not follow these "
                "powers exactly: their coefficients and resolutions were rounded by hand, B1 at 240 pixels, B7 at 600 "
                "with width 2.0 and depth 3.1.)"
            ),
            Table(
                (
                    "$\\phi$",
                    "depth $\\alpha^\\phi$",
                    "width $\\beta^\\phi$",
                    "resolution $\\gamma^\\phi$",
                    "FLOPs factor",
                    "$2^\\phi$",
                ),
                rows,
            ),
            Text(
                "Why balanced scaling works: the three dimensions need each other. A larger image carries the same "
                "objects over more pixels, so the network needs more layers to grow its receptive field over them "
                "and more channels to represent the finer detail it now sees. Scaled alone, each dimension runs "
                "into diminishing returns: a very deep but narrow network is hard to train and starved of channels, "
                "a very wide but shallow one captures only simple patterns, and resolution beyond what depth and "
                "width can exploit adds cost but little accuracy. Growing all three in fixed proportion keeps the "
                "network in the regime where each extra FLOP still buys accuracy. Tan and Le (2019) show both halves "
                "on ImageNet: scaling the base network's width, depth or resolution alone improves top-1 accuracy at "
                "first and then saturates near 80 %, while compound scaling reaches higher accuracy at the same FLOPs "
                "(up to 2.5 points above the single-dimension curves), and the same holds when they scale "
                "MobileNets and ResNet-50 this way."
            ),
        ),
        answers={"alpha": alpha, "beta": beta, "gamma": gamma, "flops_factor_per_phi": factor.value},
        conclusion=Text(
            "$\\alpha\\beta^2\\gamma^2 = {factor}$ (about {rounded}): every step of $\\phi$ roughly doubles the FLOPs.",
            {"factor": factor.value, "rounded": Rounded(factor.value, 2)},
        ),
    )


EXERCISE = Exercise(
    number=22,
    title="Compound scaling",
    question=(
        "EfficientNet scales depth by $\\alpha^\\phi$, width by $\\beta^\\phi$ and resolution by $\\gamma^\\phi$ with "
        "$\\alpha = {alpha}$, $\\beta = {beta}$, $\\gamma = {gamma}$. Explain compound scaling, show by how much the "
        "FLOPs grow per step of $\\phi$, and say why scaling the three dimensions together works better than "
        "scaling one."
    ),
    defaults={"alpha": Fraction(6, 5), "beta": Fraction(11, 10), "gamma": Fraction(23, 20), "max_phi": 4},
    solve=solve,
    topics=("scaling", "FLOPs", "EfficientNet"),
    domains={"alpha": DEPTH_GRID, "beta": SIDE_GRID, "gamma": SIDE_GRID, "max_phi": Choice(3, 4, 5, 6, 7)},
    constraints=(
        Constraint(
            "the search's constraint: the FLOPs factor within 0.1 of 2",
            lambda p: abs(flops_factor(p["alpha"], p["beta"], p["gamma"]) - 2) <= Fraction(1, 10),
        ),
    ),
    main_answer=MainAnswer("flops_factor_per_phi", "the factor by which the FLOPs grow per step of $\\phi$"),
)
