"""Exercise 9: multiply-accumulates of a 3×3 convolution on a 56×56 map."""

from fractions import Fraction

from symconv import Exercise, Rounded, Text, Worked, conv_macs, derive

from ._shared import MAC_CONVENTION


def solve(params):
    macs = derive(conv_macs, **params, note=MAC_CONVENTION)
    return Worked(
        blocks=(
            Text(
                "Every output value is a dot product of the kernel with one window: $K^2 C_{\\text{in}}$ "
                "multiply-accumulates. There are $H_{\\text{out}} W_{\\text{out}} C_{\\text{out}}$ output values "
                "(the map keeps its size, as with padding 1)."
            ),
            macs,
            Text(
                "That is {mega} million MACs, or {mflops} MFLOPs counting the multiply and the add separately.",
                {"mega": Rounded(Fraction(macs.value, 10**6)), "mflops": Rounded(Fraction(2 * macs.value, 10**6))},
            ),
        ),
        answers={"macs": macs.value},
        conclusion=Text(
            "{macs} MACs, about {mega} million (the chapter's MFLOPs, counting one MAC as one operation).",
            {"macs": macs.value, "mega": Rounded(Fraction(macs.value, 10**6))},
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
)
