"""Exercise 9: multiply-accumulates of a 3×3 convolution on a 56×56 map."""

from fractions import Fraction

from symconv import Exercise, Rounded, Text, Worked, conv_macs, derive
from symconv.teaching.domains import Choice, MainAnswer, formula_answers

from ._shared import GROUPS, MAC_CONVENTION, REALISTIC_LAYER


def solve(params):
    macs = derive(conv_macs, **params, note=MAC_CONVENTION)
    return Worked(
        blocks=(
            Text(
                "A convolution with a $K \\times K$ kernel maps $C_{\\text{in}}$ channels to "
                "$C_{\\text{out}}$ channels on an output map of $H_{\\text{out}} \\times W_{\\text{out}}$ "
                "positions (here the map keeps its size, as with padding 1). Every output value is a dot "
                "product of the kernel with one window: $K^2 C_{\\text{in}}/g$ multiply-accumulates, and "
                "there are $H_{\\text{out}} W_{\\text{out}} C_{\\text{out}}$ output values. " + GROUPS + " "
                "This layer is an ordinary convolution, $g = 1$."
            ),
            macs,
            Text(
                "That is {mega} million MACs, or {mflops} MFLOPs counting the multiply and the add separately.",
                {"mega": Rounded(Fraction(macs.value, 10**6)), "mflops": Rounded(Fraction(2 * macs.value, 10**6))},
            ),
        ),
        answers={"macs": macs.value},
        conclusion=Text(
            "{macs} MACs: about {mega} MFLOPs counting one multiply-accumulate as one operation, or {mflops} "
            "MFLOPs counting the multiply and the add separately.",
            {
                "macs": macs.value,
                "mega": Rounded(Fraction(macs.value, 10**6)),
                "mflops": Rounded(Fraction(2 * macs.value, 10**6)),
            },
        ),
    )


EXERCISE = Exercise(
    number=9,
    title="Cost of a convolution in multiply-accumulates",
    question=(
        "A {kernel_size}×{kernel_size} convolution with {in_channels} input and {out_channels} output channels "
        "produces a {out_h}×{out_w} feature map. Count its multiply-accumulates and express the cost in millions."
    ),
    defaults={"in_channels": 64, "out_channels": 128, "kernel_size": 3, "out_h": 56, "out_w": 56},
    solve=solve,
    topics=("MACs",),
    # The kernel stays 3×3: the working says the map keeps its size as with padding 1.
    domains={
        "in_channels": Choice(16, 32, 64, 96, 128, 256, 512),
        "out_channels": Choice(16, 32, 64, 96, 128, 256, 512),
        "out_h": Choice(7, 14, 28, 56, 112),
        "out_w": Choice(7, 14, 28, 56, 112),
    },
    # A 56×28 map costs what a 28×56 one does: the same question.
    constraints=REALISTIC_LAYER,
    key=lambda p: (p["in_channels"], p["out_channels"], p["kernel_size"], tuple(sorted((p["out_h"], p["out_w"])))),
    main_answer=MainAnswer("macs", "the number of multiply-accumulates (MACs)"),
    array_answers=formula_answers(macs=conv_macs),
)
