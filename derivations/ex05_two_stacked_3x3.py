"""Exercise 5: two stacked 3×3 convolutions against one 5×5."""

from symconv import Exercise
from symconv.teaching.domains import IntRange, MainAnswer

from ._shared import stack_versus_single

EXERCISE = Exercise(
    number=5,
    title="Two stacked small kernels against one large kernel",
    question=(
        "Show that {depth} stacked {kernel_size}×{kernel_size} convolutions (stride 1) see as much of the "
        "input as a single larger convolution, and compare the parameter counts, with $C$ channels in and "
        "out of every layer."
    ),
    defaults={"depth": 2, "kernel_size": 3},
    solve=stack_versus_single,
    topics=("receptive field", "parameters"),
    # The depth is in the title, so only the kernel varies.
    domains={"kernel_size": IntRange(2, 5)},
    main_answer=MainAnswer("receptive_field", "the receptive field of the stack, in pixels along one side"),
)
