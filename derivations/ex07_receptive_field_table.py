"""Exercise 7: receptive field of a conv–pool–conv–pool stack, layer by layer."""

from symconv import Exercise, LayerWindow, Text, Worked, derive_expression, receptive_field
from symconv.derive import general
from symconv.solution import Bars
from symconv.receptive_field import closed_form, field_table, jump_growth, receptive_field_growth


def solve(params):
    layers = [LayerWindow(kernel, stride, name=name) for name, kernel, stride in params["layers"]]
    field = receptive_field(layers)
    return Worked(
        blocks=(
            Text(
                "Track two numbers through the stack (Araujo et al. 2019): the field size $r_l$ and the jump "
                "$j_l$, the distance in input pixels between neighbouring units of layer $l$. Pooling is a "
                "window like any other; starting from $r_0 = j_0 = 1$, each layer applies"
            ),
            general(receptive_field_growth),
            general(jump_growth),
            field_table(field),
            Bars(
                ("input", *(row.layer.name for row in field.rows)),
                (1, *(row.receptive_field for row in field.rows)),
                caption="Receptive field after each layer, in input pixels.",
            ),
            Text("Unrolled, the recurrence is a sum with one term per layer:"),
            derive_expression(closed_form(field), lhs="receptive_field", unit="pixels"),
            Text(
                "Strides early in the stack multiply the growth of every later layer: the last pooling "
                "layer's 2×2 window adds {last} pixels, not 1, because its inputs are already {jump} pixels apart.",
                {"last": field.size - field.rows[-2].receptive_field, "jump": field.rows[-2].jump},
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
        "A network applies, in order: a 5×5 convolution with stride 1, 2×2 pooling with stride 2, a 3×3 "
        "convolution with stride 1, and 2×2 pooling with stride 2. How large is the region of the input "
        "image that one unit of the final output depends on?"
    ),
    defaults={"layers": (("conv 5×5", 5, 1), ("pool 2×2", 2, 2), ("conv 3×3", 3, 1), ("pool 2×2", 2, 2))},
    solve=solve,
    topics=("receptive field",),
)
