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
NO_BIAS = "Biases are left out, as the comparison is about the weights; each layer maps $C$ channels to $C$."


def stack_params(L, P_layer):
    """A stack of L identical layers has L times the parameters of one."""
    return L * P_layer


def stack_versus_single(params):
    """Receptive field and parameters of a stack of equal convolutions against one larger kernel."""
    depth, kernel_size = params["depth"], params["kernel_size"]
    field = receptive_field([(kernel_size, 1)] * depth)
    single_kernel = field.size
    one_layer = derive(conv_params, "C", "C", kernel_size, bias=False, note=NO_BIAS)
    stack = derive(stack_params, depth, one_layer.value, lhs="P_stack", unit="parameters")
    single = derive(conv_params, "C", "C", single_kernel, bias=False, lhs="P_single")
    saving = stack.value - single.value
    blocks = (
        Text(
            "Stride 1 everywhere, so every layer adds $K - 1$ input pixels to the field of view "
            "(theoretical receptive field, Araujo et al. 2019):"
        ),
        field_table(field),
        derive_expression(closed_form(field), lhs="receptive_field", unit="pixels"),
        Text(
            f"One convolution with a {single_kernel}×{single_kernel} kernel sees exactly the same window. Parameters of one {kernel_size}×{kernel_size} layer:"
        ),
        one_layer,
        stack,
        Text(f"and of the single {single_kernel}×{single_kernel} layer:"),
        single,
        Text(
            "The stack saves {saving} parameters, and with a non-linearity after each layer it applies "
            "{depth} of them where the single layer applies one: it is both cheaper and more expressive.",
            {"saving": -saving, "depth": depth},
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
