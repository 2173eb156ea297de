"""Exercise 3: learnable parameters of a convolution, biases included."""

from symconv import Exercise, Text, Worked, conv_params, derive
from symconv.teaching.domains import Choice, MainAnswer, accepted_by, formula_answers

from ._shared import GROUPS


def solve(params):
    count = derive(
        conv_params,
        **params,
        note="Every output channel has one $K \\times K$ filter for each of the $C_{\\text{in}}/g$ input channels it sees, plus one bias.",
    )
    return Worked(
        blocks=(
            Text(
                "A convolution with a $K \\times K$ kernel from $C_{\\text{in}}$ to $C_{\\text{out}}$ channels "
                "holds its weights in a tensor of shape $C_{\\text{out}} \\times (C_{\\text{in}}/g) \\times K "
                "\\times K$; the bias adds one number per output channel. " + GROUPS + " This layer has $g = {groups}$.",
                {"groups": params["groups"]},
            ),
            count,
        ),
        answers={"params": count.value},
        conclusion=Text("The layer has {params} learnable parameters.", {"params": count.value}),
    )


EXERCISE = Exercise(
    number=3,
    title="Parameters of a convolution",
    question=(
        "A {kernel_size}×{kernel_size} convolution maps $C_{\\text{in}} = {in_channels}$ channels to "
        "$C_{\\text{out}} = {out_channels}$ channels. How many learnable parameters does it have, biases included?"
    ),
    defaults={"in_channels": 64, "out_channels": 128, "kernel_size": 3, "groups": 1, "bias": True},
    solve=solve,
    topics=("parameters",),
    domains={
        "in_channels": Choice(1, 3, 16, 24, 32, 48, 64, 96, 128, 256, 512),
        "out_channels": Choice(8, 16, 32, 64, 96, 128, 256, 512),
        "kernel_size": Choice(1, 3, 5, 7),
    },
    constraints=(accepted_by(conv_params, "the groups divide both channel counts"),),
    main_answer=MainAnswer("params", "the number of learnable parameters"),
    array_answers=formula_answers(params=conv_params),
)
