"""Exercise 28: the field of view of a dilated 3×3 kernel in ASPP."""

from symconv import Exercise, Table, Text, Worked, derive, effective_kernel_size
from symconv.teaching.domains import Choice, MainAnswer, formula_answers


def solve(params):
    span = derive(effective_kernel_size, params["kernel_size"], params["dilation"])
    branches = tuple((rate, effective_kernel_size(params["kernel_size"], rate)) for rate in params["rates"])
    return Worked(
        blocks=(
            Text(
                "A dilated kernel keeps its {k}×{k} weights but spaces them $d$ pixels apart, so a single layer "
                "covers a square of side",
                {"k": params["kernel_size"]},
            ),
            span,
            Text("ASPP runs such branches side by side, one per rate, to see context at several scales at once:"),
            Table(("rate $d$", "field of view"), branches),
        ),
        answers={"receptive_field": span.value},
        conclusion=Text(
            "The dilation-{d} branch sees {r}×{r} pixels with only {taps} weights per channel pair.",
            {"d": params["dilation"], "r": span.value, "taps": params["kernel_size"] ** 2},
        ),
    )


EXERCISE = Exercise(
    number=28,
    title="Receptive field of an atrous convolution",
    question=(
        "Atrous spatial pyramid pooling runs {kernel_size}×{kernel_size} convolutions in parallel at "
        "dilation rates 6, 12 and 18. What is the receptive field of the branch with dilation {dilation}?"
    ),
    defaults={"kernel_size": 3, "dilation": 18, "rates": (6, 12, 18)},
    solve=solve,
    topics=("receptive field", "dilation"),
    # The question names the rates 6, 12 and 18, so the branch asked about is one of them.
    domains={"kernel_size": Choice(3, 5, 7), "dilation": Choice(6, 12, 18)},
    main_answer=MainAnswer("receptive_field", "the receptive field of the branch, in pixels along one side"),
    array_answers=formula_answers(receptive_field=effective_kernel_size),
)
