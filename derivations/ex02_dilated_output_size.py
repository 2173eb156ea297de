"""Exercise 2: the same convolution with dilation; why the output shrinks."""

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
    span = derive(effective_kernel_size, params["kernel_size"], params["dilation"])
    size = derive(conv_output_size, **params, note=SIZE_RULE)
    return Worked(
        blocks=(
            Text(
                "Along one axis the input has $N$ pixels and $p$ padding pixels on each side, the kernel has "
                "$K$ taps, consecutive window positions are $s$ pixels apart (the stride), and dilation $d$ "
                "spaces the taps $d$ pixels apart: it inserts $d-1$ gaps between neighbouring taps, so the "
                "kernel reaches further without gaining weights. Its span is"
            ),
            span,
            Text("The output-size formula is unchanged; only the span it subtracts has grown:"),
            size,
            Text(
                "The padded input has $N + 2p = {padded}$ pixels. The window must fit inside it, so its first "
                "pixel can start anywhere from 0 to $N + 2p - K_{\\text{eff}} = {last}$; the undilated "
                "{k}-pixel window could start up to {last_plain}. The padding was sized for the undilated "
                "kernel, so the wider {span}-pixel window fits fewer times: each output unit looks at a wider "
                "area and there are fewer of them.",
                {
                    "padded": params["n"] + 2 * params["padding"],
                    "last": params["n"] + 2 * params["padding"] - span.value,
                    "last_plain": params["n"] + 2 * params["padding"] - params["kernel_size"],
                    "k": params["kernel_size"],
                    "span": span.value,
                },
            ),
        ),
        answers={"output_size": size.value, "effective_kernel_size": span.value},
        conclusion=f"The output is {size.value}×{size.value}; the dilated kernel spans {span.value} pixels.",
    )


EXERCISE = Exercise(
    number=2,
    title="Output size of a dilated convolution",
    question=(
        "Take the convolution of Exercise 1 ({n}×{n} input, {kernel_size}×{kernel_size} kernel, padding "
        "{padding}, stride {stride}) but set the dilation to {dilation}. What is the output size now, and "
        "why does it differ?"
    ),
    defaults={"n": 224, "kernel_size": 7, "stride": 2, "padding": 3, "dilation": 2},
    solve=solve,
    topics=("output size", "dilation"),
    domains={
        # Feature-map sizes of common networks, and DeepLab's odd 33, 65 and 129 (513-pixel inputs).
        "n": Choice(14, 15, 28, 29, 32, 33, 56, 57, 64, 65, 112, 113, 129, 224, 225),
        "kernel_size": Choice(3, 5, 7),
        "stride": Choice(1, 2),
        "padding": IntRange(0, 3),
        "dilation": IntRange(2, 4),
    },
    constraints=(
        accepted_by(conv_output_size, "the output has at least one pixel"),
        # The working says the padding was sized for the undilated kernel: keep that true.
        Constraint("padding at most half the undilated kernel", lambda p: 2 * p["padding"] <= p["kernel_size"]),
        floor_discards(conv_output_size, share=0.5, description="the floor drops a remainder (a last, overhanging step)"),
    ),
    main_answer=MainAnswer("output_size", "the output size $N_{\\text{out}}$ along one axis"),
    array_answers=formula_answers(output_size=conv_output_size, effective_kernel_size=effective_kernel_size),
)
