"""Helpers shared by several exercise modules (not an exercise itself)."""

from symconv import (
    Text,
    Worked,
    conv_params,
    derive,
    derive_expression,
    receptive_field,
)
from symconv.formulas.receptive_field import closed_form, field_table
from symconv.teaching.domains import Constraint

SIZE_RULE = (
    "PyTorch's rule along each axis: the window starts at every multiple of the stride for which it "
    "still fits inside the padded input; the floor discards a last step that would overhang."
)
MAC_CONVENTION = (
    "Convention: one multiply-accumulate (MAC) counts 1; biases are not counted. FLOPs, if one counts "
    "the multiply and the add separately, are twice the MACs."
)
GROUPS = (
    "Here $g$ is the number of groups: the input channels are split into $g$ groups and each filter "
    "sees only the $C_{\\text{in}}/g$ channels of its own group; an ordinary convolution has $g = 1$. A "
    "grouped layer needs $g$ to divide both $C_{\\text{in}}$ and $C_{\\text{out}}$, so the floor in "
    "$\\lfloor C_{\\text{in}}/g \\rfloor$ never discards anything."
)
NO_BIAS = (
    "Biases are left out, as the comparison is about the weights. Every layer maps $C_{\\text{in}} = C$ to "
    "$C_{\\text{out}} = C$ channels and is an ordinary convolution: $g = 1$, where $g$ is the number of groups "
    "a grouped convolution splits its channels into."
)
GROUPS_NOTE = (
    "In the general formula $g$ is the number of groups the channels are split into: each output channel reads "
    "$C_{\\text{in}}/g$ of the input channels, and $g$ must divide $C_{\\text{in}}$ (and $C_{\\text{out}}$), so the floor "
    "is exact. Every convolution here is an ordinary one, $g = 1$, so $\\lfloor C_{\\text{in}}/g \\rfloor = C_{\\text{in}}$."
)


def stack_params(L, P_layer):
    """A stack of L identical layers has L times the parameters of one."""
    return L * P_layer


def stack_versus_single(params):
    """Receptive field and parameters of a stack of equal convolutions against one larger kernel."""
    depth, kernel_size = params["depth"], params["kernel_size"]
    field = receptive_field([(kernel_size, 1)] * depth)
    single_kernel = field.size
    one_layer = derive(conv_params, "C", "C", kernel_size, bias=False, lhs="P_layer", note=NO_BIAS)
    stack = derive(stack_params, depth, one_layer.value, lhs="P_stack", unit="parameters")
    single = derive(conv_params, "C", "C", single_kernel, bias=False, lhs="P_single")
    saving = stack.value - single.value
    blocks = (
        Text(
            "Let $r_l$ be the receptive field after layer $l$: the width, in input pixels, of the window "
            "one unit of layer $l$ depends on, with $r_0 = 1$ for a pixel of the input (theoretical "
            "receptive field, Araujo et al., 2019). With stride 1 everywhere, neighbouring units of every "
            "layer are one input pixel apart (jump $j_l = 1$), so a layer with a $K \\times K$ kernel "
            "(stride $s = 1$, dilation $d = 1$) adds $K - 1$ pixels to the field of the layer below."
        ),
        field_table(field),
        derive_expression(closed_form(field), lhs=f"r_{depth}", unit="pixels"),
        Text(
            "One convolution with a {single}×{single} kernel sees exactly the same window. A convolution with "
            "a $K \\times K$ kernel from $C_{\\text{in}}$ to $C_{\\text{out}}$ channels holds one "
            "$K \\times K$ filter per input channel for each output channel. $P_{\\text{layer}}$ "
            "counts the weights of one {k}×{k} layer:",
            {"single": single_kernel, "k": kernel_size},
        ),
        one_layer,
        Text("A stack of $L = {depth}$ such layers has $L$ times as many:", {"depth": depth}),
        stack,
        Text("and the single {single}×{single} layer has", {"single": single_kernel}),
        single,
        Text(
            "The stack saves {saving} parameters. It is not more expressive than the large kernel: without "
            "the non-linearities, {depth} stacked {k}×{k} filters compose to one {single}×{single} filter, and "
            "only some {single}×{single} filters factor that way. The gain Simonyan and Zisserman (2015) point out is "
            "more non-linearity for fewer parameters: with a ReLU after each layer the stack applies {depth} "
            "non-linearities where the single layer applies one, which makes the decision function more "
            "discriminative, and the factorisation acts as a regulariser on the large filter.",
            {"saving": -saving, "depth": depth, "k": kernel_size, "single": single_kernel},
        ),
    )
    return Worked(
        blocks=blocks,
        answers={"receptive_field": field.size, "params_stack": stack.value, "params_single": single.value},
        conclusion=Text(
            "Receptive field {size}×{size} for both; {stack} parameters for the stack against {single} for the single layer.",
            {"size": field.size, "stack": stack.value, "single": single.value},
        ),
    )


# Constraints for a convolution layer's cost questions (exercises 9 and 10): the sizes a practitioner meets.
REALISTIC_LAYER = (
    Constraint("a square map (the layer's question is not about non-square ones)", lambda p: p["out_h"] == p["out_w"]),
    Constraint(
        "the layer keeps, halves or doubles the width (C_in/2 <= C_out <= 2 C_in), as network stages do",
        lambda p: (2 * p["out_channels"] >= p["in_channels"]) & (p["out_channels"] <= 2 * p["in_channels"]),
    ),
    Constraint(
        "wide layers on small maps: channels times side at most VGG's 64 channels at 224",
        lambda p: (p["out_channels"] * p["out_h"] <= 64 * 224) & (p["in_channels"] * p["out_h"] <= 64 * 224),
    ),
)
