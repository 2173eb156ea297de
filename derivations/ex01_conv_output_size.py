"""Exercise 1: the output size of a strided, padded convolution."""

from symconv import (
    Exercise,
    Text,
    Worked,
    conv_output_size,
    derive,
    effective_kernel_size,
)
from symconv.teaching.domains import (
    Choice,
    Constraint,
    IntRange,
    MainAnswer,
    accepted_by,
    floor_discards,
    formula_answers,
)

from ._shared import SIZE_RULE


def solve(params):
    size = derive(conv_output_size, **params, note=SIZE_RULE)
    return Worked(
        blocks=(
            Text(
                "Count the window positions along one axis. The input has $N$ pixels and $p$ padding pixels on "
                "each side, so the padded input has $N + 2p$. A kernel of $K$ taps with dilation $d$ (taps $d$ "
                "pixels apart) spans $d(K-1)+1$ of them, and consecutive window positions are $s$ apart (the "
                "stride). The first window starts at pixel 0 and the last may start at $N + 2p - d(K-1) - 1$, "
                "so the starts $0, s, 2s, \\ldots$ up to that point number"
            ),
            size,
            Text("Height and width have the same hyperparameters, so both give the same count."),
        ),
        answers={"output_size": size.value},
        conclusion=f"The output feature map is {size.value}×{size.value}.",
    )


EXERCISE = Exercise(
    number=1,
    title="Output size of a strided convolution",
    question=(
        "A {n}×{n} input passes through a convolution with a {kernel_size}×{kernel_size} kernel, padding "
        "{padding}, stride {stride} and dilation {dilation}. Work out the spatial size of the output, showing each step."
    ),
    defaults={"n": 224, "kernel_size": 7, "stride": 2, "padding": 3, "dilation": 1},
    solve=solve,
    topics=("output size",),
    domains={"n": IntRange(8, 256), "kernel_size": Choice(1, 3, 5, 7), "stride": IntRange(2, 4), "padding": IntRange(0, 3)},
    constraints=(
        accepted_by(conv_output_size, "the output has at least one pixel"),
        Constraint(
            "padding at most half the effective kernel (more would add outputs that see only padding)",
            lambda p: 2 * p["padding"] <= effective_kernel_size(p["kernel_size"], p["dilation"]),
        ),
        floor_discards(conv_output_size, share=0.5, description="the floor drops a remainder (a last, overhanging step)"),
    ),
    main_answer=MainAnswer("output_size", "the output size $N_{\\text{out}}$ along one axis"),
    array_answers=formula_answers(output_size=conv_output_size),
)
