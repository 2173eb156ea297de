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
    # Sizes practitioners meet (7 to 224, CIFAR's 32, Inception's 299) and odd neighbours where the floor bites
    # (AlexNet's 227); "same" padding K // 2 or none; stride 4 only for a large stem kernel, as in AlexNet.
    domains={
        "n": Choice(7, 14, 15, 28, 29, 32, 56, 57, 64, 112, 113, 224, 225, 227, 299),
        "kernel_size": Choice(1, 3, 5, 7, 11),
        "stride": Choice(1, 2, 4),
        "padding": Choice(0, 1, 2, 3, 5),
    },
    constraints=(
        accepted_by(conv_output_size, "the output has at least one pixel"),
        Constraint(
            "padding at most half the effective kernel (more would add outputs that see only padding)",
            lambda p: 2 * p["padding"] <= effective_kernel_size(p["kernel_size"], p["dilation"]),
        ),
        Constraint(
            "padding as practitioners set it: none, or K // 2 (same size at stride 1)",
            lambda p: (p["padding"] == 0) | (p["padding"] == p["kernel_size"] // 2),
        ),
        Constraint("the kernel fits the map", lambda p: p["kernel_size"] <= p["n"]),
        Constraint("large kernels (7 and 11) only on large inputs, as stems", lambda p: (p["kernel_size"] < 7) | (p["n"] >= 112)),
        Constraint(
            "stride 4 only with a large kernel, and an 11×11 kernel only at stride 4 (AlexNet's stem)",
            lambda p: ((p["stride"] < 4) | (p["kernel_size"] >= 7)) & ((p["kernel_size"] < 11) | (p["stride"] == 4)),
        ),
        floor_discards(conv_output_size, share=0.5, description="the floor drops a remainder (a last, overhanging step)"),
    ),
    main_answer=MainAnswer("output_size", "the output size $N_{\\text{out}}$ along one axis"),
    array_answers=formula_answers(output_size=conv_output_size),
)
