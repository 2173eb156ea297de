"""Exercise 10: depthwise separable convolution against the standard one, numerically and symbolically."""

from fractions import Fraction

from symconv import (
    Exercise,
    Rounded,
    Table,
    Text,
    Worked,
    conv_macs,
    conv_params,
    derive,
    symbols,
)
from symconv.formulas.layers import depthwise_separable_macs, depthwise_separable_params
from symconv.teaching.domains import Choice, MainAnswer, formula_answers

from ._shared import GROUPS, MAC_CONVENTION, REALISTIC_LAYER


def separable_macs(MACs_dw, MACs_pw):
    return MACs_dw + MACs_pw


def separable_params(P_dw, P_pw):
    return P_dw + P_pw


def cost_ratio(MACs_std, MACs_sep):
    return MACs_std / MACs_sep


def params_ratio(P_std, P_sep):
    return P_std / P_sep


def solve(params):
    c_in, c_out, k, h, w = (params[name] for name in ("in_channels", "out_channels", "kernel_size", "out_h", "out_w"))
    depthwise_macs = derive(conv_macs, c_in, c_in, k, h, w, groups=c_in, lhs="MACs_dw", note=MAC_CONVENTION)
    pointwise_macs = derive(conv_macs, c_in, c_out, 1, h, w, lhs="MACs_pw")
    macs = derive(separable_macs, depthwise_macs.value, pointwise_macs.value, lhs="MACs_sep", unit="MACs")
    depthwise_params = derive(conv_params, c_in, c_in, k, groups=c_in, bias=False, lhs="P_dw")
    pointwise_params = derive(conv_params, c_in, c_out, 1, bias=False, lhs="P_pw")
    params_total = derive(separable_params, depthwise_params.value, pointwise_params.value, lhs="P_sep", unit="parameters")
    standard_macs = conv_macs(c_in, c_out, k, h, w)
    standard_params = conv_params(c_in, c_out, k, bias=False)
    ratio = derive(cost_ratio, standard_macs, macs.value, lhs="ratio_MACs", unit="")
    weights_ratio = derive(params_ratio, standard_params, params_total.value, lhs="ratio_P", unit="")

    C_in, C_out, K, H_out, W_out = symbols("C_in", "C_out", "K", "out_h", "out_w")
    symbolic_ratio = derive(
        cost_ratio,
        conv_macs(C_in, C_out, K, H_out, W_out),
        conv_macs(C_in, C_in, K, H_out, W_out, groups=C_in) + conv_macs(C_in, C_out, 1, H_out, W_out),
        lhs="ratio_MACs",
        unit="",
    )
    symbolic_params_ratio = derive(
        params_ratio,
        conv_params(C_in, C_out, K, bias=False),
        conv_params(C_in, C_in, K, groups=C_in, bias=False) + conv_params(C_in, C_out, 1, bias=False),
        lhs="ratio_P",
        unit="",
    )
    separable_share = _expand(1 / symbolic_ratio.value)
    return Worked(
        blocks=(
            Text(
                "Notation as in Exercise 9: a convolution with a $K \\times K$ kernel maps $C_{\\text{in}}$ to "
                "$C_{\\text{out}}$ channels on an $H_{\\text{out}} \\times W_{\\text{out}}$ output map. " + GROUPS
            ),
            Text(
                "A depthwise separable convolution splits the work in two: a depthwise {k}×{k} convolution "
                "filters each of the {c_in} channels on its own ($g = C_{\\text{in}}$, one channel per group, "
                "$C_{\\text{out}} = C_{\\text{in}}$), then a pointwise 1×1 convolution ($K = 1$, $g = 1$) mixes "
                "channels. Biases are left out throughout, as in the standard layer.",
                {"k": k, "c_in": c_in},
            ),
            depthwise_macs,
            pointwise_macs,
            macs,
            depthwise_params,
            pointwise_params,
            params_total,
            Text(
                "The standard convolution of Exercise 9 needs $\\text{MACs}_{\\text{std}} = {macs}$ MACs and "
                "has $P_{\\text{std}} = {params}$ weights, so the separable layer is cheaper by",
                {"macs": standard_macs, "params": standard_params},
            ),
            ratio,
            Text("and smaller by"),
            weights_ratio,
            Text(
                "The two ratios agree, and not by chance. In general, for any channel counts, kernel and map "
                "size, the map size cancels from the cost ratio:"
            ),
            symbolic_ratio,
            Text(
                "and the weights give the same ratio, since each layer costs its weights times the same $H_{\\text{out}} W_{\\text{out}}$ output positions:"
            ),
            symbolic_params_ratio,
            Text(
                "Its reciprocal, the separable cost as a share of the standard cost, is {share}: "
                "for wide layers the saving approaches $K^2 = {k2}$.",
                {"share": separable_share, "k2": k * k},
            ),
            Table(
                ("", "MACs", "parameters"),
                (("standard", standard_macs, standard_params), ("separable", macs.value, params_total.value)),
            ),
        ),
        answers={
            "macs": macs.value,
            "params": params_total.value,
            "standard_macs": standard_macs,
            "standard_params": standard_params,
            "macs_ratio": ratio.value,
            "params_ratio": weights_ratio.value,
        },
        conclusion=Text(
            "{macs} MACs (about {mega} M) and {params} parameters, against {standard} MACs and {standard_params} "
            "parameters: {ratio}× cheaper and {params_ratio}× smaller, both ratios $K^2 C_{\\text{out}}/(K^2 + "
            "C_{\\text{out}})$.",
            {
                "macs": macs.value,
                "mega": Rounded(Fraction(macs.value, 10**6)),
                "params": params_total.value,
                "standard": standard_macs,
                "standard_params": standard_params,
                "ratio": Rounded(ratio.value),
                "params_ratio": Rounded(weights_ratio.value),
            },
        ),
    )


def _expand(expression):
    import sympy

    return sympy.expand(expression)


EXERCISE = Exercise(
    number=10,
    title="Depthwise separable convolution",
    question=(
        "Replace the convolution of Exercise 9 ({kernel_size}×{kernel_size}, {in_channels} → {out_channels} "
        "channels, {out_h}×{out_w} output) by a depthwise separable one. Count its MACs and parameters and "
        "compare both with the standard convolution."
    ),
    defaults={"in_channels": 64, "out_channels": 128, "kernel_size": 3, "out_h": 56, "out_w": 56},
    solve=solve,
    topics=("MACs", "parameters", "depthwise separable"),
    domains={
        "in_channels": Choice(16, 32, 64, 96, 128, 256, 512),
        "out_channels": Choice(16, 32, 64, 96, 128, 256, 512),
        "kernel_size": Choice(3, 5),
        "out_h": Choice(7, 14, 28, 56, 112),
        "out_w": Choice(7, 14, 28, 56, 112),
    },
    constraints=REALISTIC_LAYER,
    key=lambda p: (p["in_channels"], p["out_channels"], p["kernel_size"], tuple(sorted((p["out_h"], p["out_w"])))),
    main_answer=MainAnswer("macs", "the multiply-accumulates (MACs) of the depthwise separable convolution"),
    array_answers=formula_answers(macs=depthwise_separable_macs, params=depthwise_separable_params, standard_macs=conv_macs),
)
