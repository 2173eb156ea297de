"""Exercise 7: receptive field of a conv–pool–conv–pool stack, layer by layer."""

from symconv import (
    Exercise,
    LayerWindow,
    Text,
    Worked,
    derive_expression,
    receptive_field,
)
from symconv.core.derive import general
from symconv.formulas.receptive_field import (
    closed_form,
    field_table,
    jump_growth,
    receptive_field_growth,
)
from symconv.teaching.domains import Choice, Constraint, MainAnswer


def stack(params):
    """conv, pool, conv, pool: the windows in order, each named as the question names it."""
    first, second, pool, stride = (params[name] for name in ("conv1_kernel", "conv2_kernel", "pool_kernel", "pool_stride"))
    return [
        LayerWindow(first, 1, name=f"conv {first}×{first}"),
        LayerWindow(pool, stride, name=f"pool {pool}×{pool}"),
        LayerWindow(second, 1, name=f"conv {second}×{second}"),
        LayerWindow(pool, stride, name=f"pool {pool}×{pool}"),
    ]


def solve(params):
    field = receptive_field(stack(params))
    pool = params["pool_kernel"]
    return Worked(
        blocks=(
            Text(
                "Track two numbers through the stack (Araujo et al., 2019): the field size $r_l$, the width in "
                "input pixels of the window one unit of layer $l$ depends on, and the jump $j_l$, the distance "
                "in input pixels between neighbouring units of layer $l$. Pooling is a window like any other. "
                "Starting from $r_0 = j_0 = 1$ at the input, a layer with a $K \\times K$ window, stride $s$ and "
                "dilation $d$ ($d = 1$ throughout here) applies"
            ),
            general(receptive_field_growth),
            general(jump_growth),
            field_table(field),
            Text(
                "Unrolled, the recurrence is a sum with one term per layer: after $L$ layers, "
                "$r_L = 1 + \\sum_{l=1}^{L} d_l (K_l - 1)\\, j_{l-1}$ with $j_{l-1} = s_1 \\cdots s_{l-1}$, "
                "the product of the strides below layer $l$. For the {layers} layers here:",
                {"layers": len(field.rows)},
            ),
            derive_expression(closed_form(field), lhs=f"r_{len(field.rows)}", unit="pixels"),
            Text(
                "Strides early in the stack multiply the growth of every later layer: the last pooling "
                "layer's {pool}×{pool} window adds {last} pixels, not {alone}, because its inputs are already {jump} "
                "pixels apart.",
                {
                    "pool": pool,
                    "last": field.size - field.rows[-2].receptive_field,
                    "alone": pool - 1,
                    "jump": field.rows[-2].jump,
                },
            ),
        ),
        answers={"receptive_field": field.size, "jump": field.jump},
        conclusion=Text(
            "One output unit sees a {size}×{size} patch of the image; neighbouring outputs are {jump} pixels apart.",
            {"size": field.size, "jump": field.jump},
        ),
    )


EXERCISE = Exercise(
    number=7,
    title="Receptive field through convolutions and pooling",
    question=(
        "A network applies, in order: a {conv1_kernel}×{conv1_kernel} convolution with stride 1, "
        "{pool_kernel}×{pool_kernel} pooling with stride {pool_stride}, a {conv2_kernel}×{conv2_kernel} convolution "
        "with stride 1, and {pool_kernel}×{pool_kernel} pooling with stride {pool_stride}. How large is the region of "
        "the input image that one unit of the final output depends on?"
    ),
    defaults={"conv1_kernel": 5, "pool_kernel": 2, "pool_stride": 2, "conv2_kernel": 3},
    solve=solve,
    topics=("receptive field",),
    domains={
        "conv1_kernel": Choice(3, 5, 7),
        "conv2_kernel": Choice(1, 3, 5),
        "pool_kernel": Choice(2, 3),
        "pool_stride": Choice(1, 2, 3),
    },
    constraints=(
        Constraint(
            "the pooling windows tile or overlap (stride at most the window)", lambda p: p["pool_stride"] <= p["pool_kernel"]
        ),
    ),
    main_answer=MainAnswer("receptive_field", "the receptive field of one output unit, in input pixels"),
)
