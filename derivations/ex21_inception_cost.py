"""Exercise 21: what a 1×1 reduction in front of a 5×5 convolution saves, numerically and in general."""

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
from symconv.teaching.domains import Choice, Constraint, MainAnswer

from ._shared import MAC_CONVENTION


def factorised_macs(MACs_reduce, MACs_conv):
    return MACs_reduce + MACs_conv


def saving(MACs_direct, MACs_factorised):
    """How many times cheaper the factorised path is."""
    return MACs_direct / MACs_factorised


def solve(params):
    c, r, k, n = params["channels"], params["reduction"], params["kernel_size"], params["size"]
    direct = derive(conv_macs, c, c, k, n, n, lhs="MACs_direct", note=MAC_CONVENTION)
    reduce = derive(conv_macs, c, r, 1, n, n, lhs="MACs_reduce")
    conv = derive(conv_macs, r, c, k, n, n, lhs="MACs_conv")
    factorised = derive(factorised_macs, reduce.value, conv.value, lhs="MACs_factorised", unit="MACs")
    ratio = derive(saving, direct.value, factorised.value, lhs="saving", unit="")
    C, R, H, W = symbols("C", "R", "H", "W")
    general = derive(
        saving,
        conv_macs(C, C, k, H, W),
        conv_macs(C, R, 1, H, W) + conv_macs(R, C, k, H, W),
        lhs="saving",
        unit="",
    )
    weights_direct = conv_params(c, c, k, bias=False)
    weights_factorised = conv_params(c, r, 1, bias=False) + conv_params(r, c, k, bias=False)
    return Worked(
        blocks=(
            Text(
                "Both paths map {c} channels to {c} on a {n}×{n} map; the {k}×{k} convolutions are padded by {pad} so "
                "the size is kept. The factorised path first squeezes the channels to $R = {r}$ with a 1×1 "
                "convolution and runs the {k}×{k} convolution on the thin map.",
                {"c": c, "n": n, "k": k, "pad": k // 2, "r": r},
            ),
            direct,
            reduce,
            conv,
            factorised,
            ratio,
            Text("In general, with $C$ channels in and out and a reduction to $R$ channels, the map size cancels:"),
            general,
            Text(
                "The 1×1 layer costs only $CR$ per position, so the saving is close to $C/R$; it exceeds 1 as long as "
                "$R < {k2}C/{k2p1}$. The weights shrink by the same factor, because without biases a convolution's "
                "MACs are its weights times the number of output positions:",
                {"k2": k * k, "k2p1": k * k + 1},
            ),
            Table(
                ("path", "MACs", "weights"),
                (("direct", direct.value, weights_direct), ("1×1 reduction first", factorised.value, weights_factorised)),
            ),
        ),
        answers={
            "macs_direct": direct.value,
            "macs_factorised": factorised.value,
            "saving": ratio.value,
            "reduction_channels": r,
        },
        conclusion=Text(
            "{direct} MACs directly against {factorised} with the 1×1 reduction to {r} channels: {times} times "
            "cheaper, {percent} % of the work saved.",
            {
                "direct": direct.value,
                "factorised": factorised.value,
                "r": r,
                "times": Rounded(ratio.value, 2),
                "percent": Rounded(100 * (1 - Fraction(factorised.value, direct.value)), 1),
            },
        ),
    )


EXERCISE = Exercise(
    number=21,
    title="The cost saved by a 1×1 reduction",
    question=(
        "A {kernel_size}×{kernel_size} convolution maps {channels} channels to {channels} on a {size}×{size} map. "
        "Count its multiply-accumulates, then those of a 1×1 convolution down to {reduction} channels followed by "
        "the {kernel_size}×{kernel_size} convolution back to {channels}. How large is the saving, and how does it "
        "depend on the widths?"
    ),
    defaults={"channels": 256, "reduction": 64, "kernel_size": 5, "size": 28},
    solve=solve,
    topics=("MACs", "Inception", "bottleneck"),
    domains={
        "channels": Choice(128, 192, 256, 480, 512),
        "reduction": Choice(16, 32, 48, 64, 96, 128),
        "kernel_size": Choice(3, 5, 7),
        "size": Choice(7, 14, 28, 56),
    },
    constraints=(Constraint("the 1×1 layer reduces the width", lambda p: p["reduction"] < p["channels"]),),
    main_answer=MainAnswer("macs_factorised", "the multiply-accumulates of the reduced (1×1 then K×K) version"),
)
