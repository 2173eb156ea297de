"""Exercise 6: three stacked 3×3 convolutions against one 7×7."""

from symconv import Exercise
from symconv.teaching.domains import IntRange, MainAnswer

from ._shared import stack_versus_single

EXERCISE = Exercise(
    number=6,
    title="Three stacked small kernels against one large kernel",
    question=(
        "What is the theoretical receptive field of {depth} stacked {kernel_size}×{kernel_size} "
        "convolutions (stride 1)? How many parameters does the stack have, compared with the single "
        "convolution of the same receptive field, with $C$ channels in and out of every layer?"
    ),
    defaults={"depth": 3, "kernel_size": 3},
    solve=stack_versus_single,
    topics=("receptive field", "parameters"),
    # The depth is in the title, so only the kernel varies.
    domains={"kernel_size": IntRange(2, 5)},
    main_answer=MainAnswer("receptive_field", "the receptive field of the stack, in pixels along one side"),
)
