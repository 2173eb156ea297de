"""Exercise 21: why an Inception module costs about a ninth of one 5×5 convolution, and what a 1×1 reduction saves."""

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

from ._shared import GROUPS_NOTE, MAC_CONVENTION

# GoogLeNet's module 3a (Szegedy et al. 2015, Table 1): its widths, its real input width and the operations listed for it.
MODULE_3A = {"branch_1x1": 64, "reduce_3x3": 96, "branch_3x3": 128, "reduce_5x5": 16, "branch_5x5": 32, "pool_proj": 32}
MODULE_3A_IN_CHANNELS = 192
MODULE_3A_LISTED_OPS = "128M"
WIDTHS = tuple(MODULE_3A)


def module_macs(H, W, C_in, C_1x1, R_3x3, C_3x3, R_5x5, C_5x5, C_pool, K):
    """Every convolution of the module: the 1×1 branch, the two reductions and their 3×3 and K×K, the pool projection."""
    return H * W * (C_in * C_1x1 + C_in * R_3x3 + 3**2 * R_3x3 * C_3x3 + C_in * R_5x5 + K**2 * R_5x5 * C_5x5 + C_in * C_pool)


def unreduced_macs(H, W, C_in, C_1x1, C_3x3, C_5x5, C_pool, K):
    """The same branches with the 3×3 and K×K convolutions reading all input channels (no 1×1 reductions)."""
    return H * W * (C_in * C_1x1 + 3**2 * C_in * C_3x3 + K**2 * C_in * C_5x5 + C_in * C_pool)


def module_saving(MACs_single, MACs_module):
    """How many times cheaper the module is than the single convolution."""
    return MACs_single / MACs_module


def saving_split(MACs_single, MACs_unreduced, MACs_module):
    """The saving as the product of the two steps from the single convolution to the module."""
    return (MACs_single / MACs_unreduced) * (MACs_unreduced / MACs_module)


def factorised_macs(MACs_reduce, MACs_conv):
    return MACs_reduce + MACs_conv


def saving(MACs_direct, MACs_factorised):
    """How many times cheaper the factorised path is."""
    return MACs_direct / MACs_factorised


def module_layers(c, w, k):
    """(layer, kernel, input channels, output channels) of every convolution in the module."""
    return (
        ("1×1 branch", 1, c, w["branch_1x1"]),
        ("1×1 reduction before the 3×3", 1, c, w["reduce_3x3"]),
        ("3×3 convolution", 3, w["reduce_3x3"], w["branch_3x3"]),
        (f"1×1 reduction before the {k}×{k}", 1, c, w["reduce_5x5"]),
        (f"{k}×{k} convolution", k, w["reduce_5x5"], w["branch_5x5"]),
        ("1×1 projection after the pool", 1, c, w["pool_proj"]),
    )


def module_widths_text(c, w, k):
    return (
        f"a 1×1 convolution {c}→{w['branch_1x1']}; a 1×1 reduction {c}→{w['reduce_3x3']} then a 3×3 convolution "
        f"{w['reduce_3x3']}→{w['branch_3x3']}; a 1×1 reduction {c}→{w['reduce_5x5']} then a {k}×{k} convolution "
        f"{w['reduce_5x5']}→{w['branch_5x5']}; a 3×3 max pool (stride 1) then a 1×1 projection {c}→{w['pool_proj']}"
    )


def solve(params):
    c, r, k, n = params["channels"], params["reduction"], params["kernel_size"], params["size"]
    w = {name: params[name] for name in WIDTHS}
    c_out = w["branch_1x1"] + w["branch_3x3"] + w["branch_5x5"] + w["pool_proj"]
    single = derive(conv_macs, c, c_out, k, n, n, lhs="MACs_single", note=MAC_CONVENTION)
    module = derive(
        module_macs, n, n, c, w["branch_1x1"], w["reduce_3x3"], w["branch_3x3"], w["reduce_5x5"], w["branch_5x5"],
        w["pool_proj"], k, lhs="MACs_module", unit="MACs",
    )  # fmt: skip
    ratio = derive(module_saving, single.value, module.value, lhs="saving", unit="")
    unreduced = derive(
        unreduced_macs, n, n, c, w["branch_1x1"], w["branch_3x3"], w["branch_5x5"], w["pool_proj"], k,
        lhs="MACs_unreduced", unit="MACs",
    )  # fmt: skip
    split = derive(saving_split, single.value, unreduced.value, module.value, lhs="saving", unit="")
    layers = module_layers(c, w, k)
    per_position = module.value // (n * n)
    rows = tuple(
        (name, f"{ci}→{co}", kernel**2 * ci * co, Rounded(Fraction(100 * kernel**2 * ci * co, per_position), 1))
        for name, kernel, ci, co in layers
    )
    taps = Fraction(w["branch_1x1"] + 9 * w["branch_3x3"] + k * k * w["branch_5x5"] + w["pool_proj"], c_out)
    blocks = [
        Text(
            "The module (Szegedy et al. 2015) runs four branches side by side on the same {n}×{n} map with $C_{\\text{in}} = {c}$ "
            "channels: {widths}. Every convolution keeps the map size (padding of half the kernel), so the branches "
            "can be concatenated: ${one} + {three} + {five} + {pool} = {c_out}$ channels leave the module. Its widest path, a 1×1 "
            "then the {k}×{k} convolution, sees a {k}×{k} window of the input, the same receptive field as one {k}×{k} "
            "convolution from {c} to {c_out} channels, which is what it is compared with.",
            {
                "n": n,
                "c": c,
                "widths": module_widths_text(c, w, k),
                "one": w["branch_1x1"],
                "three": w["branch_3x3"],
                "five": w["branch_5x5"],
                "pool": w["pool_proj"],
                "c_out": c_out,
                "k": k,
            },
        ),  # fmt: skip
        Text(
            "A $K \\times K$ convolution from $C_{\\text{in}}$ to $C_{\\text{out}}$ channels does one multiply-accumulate "
            "per weight at each of its $H_{\\text{out}} \\cdot W_{\\text{out}}$ output positions. " + GROUPS_NOTE
        ),
        single,
        Text(
            "The module's cost is the sum over its six convolutions, each $K^2 C_{\\text{in}} C_{\\text{out}}$ per output "
            "position, times the $H \\cdot W$ positions; the max pool multiplies nothing. With $R_{3 \\times 3}$, "
            "$R_{5 \\times 5}$ the widths of the two reductions and $C_{1 \\times 1}$, $C_{3 \\times 3}$, $C_{5 \\times 5}$, "
            "$C_{\\text{pool}}$ the branch outputs ($K$ the larger kernel, $H \\cdot W$ the map):"
        ),
        module,
        ratio,
        Table(("layer", "channels", "MACs per position", "share of the module (%)"), rows),
    ]
    if w == MODULE_3A and k == 5 and c == MODULE_3A_IN_CHANNELS and n == 28:
        blocks.append(
            Text(
                "This is GoogLeNet's module 3a; the paper's table lists {listed} operations for it.",
                {"listed": MODULE_3A_LISTED_OPS},
            )
        )
    elif w == MODULE_3A and k == 5 and n == 28:
        blocks.append(
            Text(
                "These are the widths of GoogLeNet's module 3a, whose input in the network has {c3a} channels, not {c}; "
                "with {c3a} the same count gives {ops} MACs, the {listed} operations the paper's table lists for 3a.",
                {
                    "c3a": MODULE_3A_IN_CHANNELS,
                    "c": c,
                    "listed": MODULE_3A_LISTED_OPS,
                    "ops": module_macs(n, n, MODULE_3A_IN_CHANNELS, *MODULE_3A.values(), k),
                },
            )  # fmt: skip
        )
    blocks += [
        Text(
            "Where the saving comes from. It is the product of two steps. First, most output channels use a small "
            "kernel: only {five} of the {c_out} outputs come from a {k}×{k} kernel, {three} from a 3×3 and {ones} from 1×1 "
            "kernels, so an output channel averages {taps} taps instead of {k2}. Without the reductions (each 3×3 and "
            "{k}×{k} convolution reading all {c} input channels) the branches would cost",
            {
                "five": w["branch_5x5"],
                "three": w["branch_3x3"],
                "ones": w["branch_1x1"] + w["pool_proj"],
                "c_out": c_out,
                "k": k,
                "k2": k * k,
                "taps": Rounded(taps, 2) if taps.denominator > 1 else taps.numerator,
                "c": c,
            },
        ),  # fmt: skip
        unreduced,
        Text(
            "Second, the 1×1 reductions let the 3×3 and {k}×{k} convolutions read {r3} and {r5} channels instead of {c}. "
            "The two factors multiply to the whole saving:",
            {"k": k, "r3": w["reduce_3x3"], "r5": w["reduce_5x5"], "c": c},
        ),
        split,
        Text(
            "The module is cheaper because it computes less: only {five} of its outputs integrate a {k}×{k} window, and "
            "those see the input through {r5} channels. Szegedy et al. designed it that way, as a dense approximation of a "
            "sparse network, with 1×1 convolutions (as in Lin et al.'s Network in Network, 2014) reducing the width "
            "before the expensive kernels; GoogLeNet's accuracy showed the restriction costs little, and stacking "
            "modules grows the receptive field layer by layer.",
            {"five": w["branch_5x5"], "k": k, "r5": w["reduce_5x5"]},
        ),
    ]
    mechanism, direct, factorised, branch_saving = bottleneck_mechanism(c, r, k, n, single if c_out == c else None)
    blocks += mechanism
    return Worked(
        blocks=tuple(blocks),
        answers={
            "macs_single": single.value,
            "macs_module": module.value,
            "module_saving": ratio.value,
            "module_out_channels": c_out,
            "macs_direct": direct.value,
            "macs_factorised": factorised.value,
            "saving": branch_saving.value,
            "reduction_channels": r,
        },
        conclusion=Text(
            "The module costs {module} MACs against {single} for one {k}×{k} convolution {c}→{c_out} on the same map: "
            "{times} times cheaper{magnitude}: a factor {factor1} because most outputs get small kernels, times {factor2} "
            "because the 1×1 reductions thin the input of the larger ones. A single 1×1 reduction to {r} channels in front of the {k}×{k} saves a factor "
            "{branch} on its own.",
            {
                "module": module.value,
                "single": single.value,
                "k": k,
                "c": c,
                "c_out": c_out,
                "times": Rounded(ratio.value, 2),
                "magnitude": " (roughly an order of magnitude)" if 5 <= ratio.value < 50 else "",
                "factor1": Rounded(Fraction(single.value, unreduced.value), 3),
                "factor2": Rounded(Fraction(unreduced.value, module.value), 3),
                "r": r,
                "branch": Rounded(branch_saving.value, 2),
            },
        ),  # fmt: skip
    )


def bottleneck_mechanism(c, r, k, n, single=None):
    """The mechanism on one path: a K×K convolution C→C against a 1×1 reduction to R followed by the K×K back to C.

    ``single`` is the module's comparison when it already is that K×K convolution C→C (then not worked out twice).
    """
    direct = derive(conv_macs, c, c, k, n, n, lhs="MACs_direct")
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
    blocks = (
        Text(
            "The mechanism, on one path. Put a 1×1 convolution from $C$ channels down to $R$ in front of a {k}×{k} "
            "convolution that maps them back to $C$. The saving is the cost $\\text{MACs}_{\\text{direct}}$ of the "
            "{k}×{k} convolution from $C$ to $C$ alone over the cost $\\text{MACs}_{\\text{factorised}}$ of the pair; "
            "on a map of $H \\cdot W$ positions the map size cancels:",
            {"k": k},
        ),
        general,
        Text(
            "The {k}×{k} convolution now reads $R$ channels instead of $C$, and the 1×1 layer adds only $CR$ per position, "
            "so the saving is close to $C/R$; it exceeds 1 as long as $R < {k2}C/{k2p1}$. For $C = {c}$ and $R = {r}$ "
            "on the {n}×{n} map:",
            {"k": k, "k2": k * k, "k2p1": k * k + 1, "c": c, "r": r, "n": n},
        ),
        Text(
            "Directly it costs $\\text{MACs}_{\\text{direct}} = \\text{MACs}_{\\text{single}}$ = {macs} MACs, as above.",
            {"macs": direct.value},
        )
        if single is not None
        else direct,
        reduce,
        conv,
        factorised,
        ratio,
        Text(
            "The weights shrink by the same factor, because without biases a convolution's MACs are its weights "
            "times the number of output positions:"
        ),
        Table(
            ("path", "MACs", "weights"),
            (("direct", direct.value, weights_direct), ("1×1 reduction first", factorised.value, weights_factorised)),
        ),
    )
    return blocks, direct, factorised, ratio


EXERCISE = Exercise(
    number=21,
    title="Why an Inception module is cheap",
    question=(
        "An Inception module receives a {size}×{size} map with {channels} channels. Its branches are a 1×1 convolution "
        "with {branch_1x1} filters; a 1×1 reduction to {reduce_3x3} channels followed by a 3×3 convolution with "
        "{branch_3x3} filters; a 1×1 reduction to {reduce_5x5} channels followed by a {kernel_size}×{kernel_size} "
        "convolution with {branch_5x5} filters; and a 3×3 max pool followed by a 1×1 convolution with {pool_proj} "
        "filters. How much cheaper is it than a single {kernel_size}×{kernel_size} convolution of comparable receptive "
        "field from {channels} channels to as many as the module outputs, and why? Count the multiply-accumulates of "
        "both, quantify the saving and show where it comes from. Then isolate the "
        "mechanism: what does a 1×1 reduction to {reduction} channels save in front of one "
        "{kernel_size}×{kernel_size} convolution from {channels} to {channels} channels, and how does the saving "
        "depend on the widths?"
    ),
    defaults={"channels": 256, **MODULE_3A, "reduction": 64, "kernel_size": 5, "size": 28},
    solve=solve,
    topics=("MACs", "Inception", "bottleneck"),
    # Modules whose output is as wide as their input: 3a's widths on 256 channels (the chapter's case),
    # GoogLeNet's 4b, 4c and 5a; widths mixed freely, the constraint keeps C_out = C_in.
    domains={
        "channels": Choice(256, 512, 832),
        "branch_1x1": Choice(64, 128, 160, 256),
        "reduce_3x3": Choice(96, 112, 128, 160),
        "branch_3x3": Choice(128, 224, 256, 320),
        "reduce_5x5": Choice(16, 24, 32),
        "branch_5x5": Choice(32, 64, 128),
        "pool_proj": Choice(32, 64, 128),
        "reduction": Choice(16, 32, 48, 64, 96, 128),
        "size": Choice(7, 14, 28),
    },
    constraints=(
        Constraint(
            "the module outputs as many channels as it receives",
            lambda p: p["branch_1x1"] + p["branch_3x3"] + p["branch_5x5"] + p["pool_proj"] == p["channels"],
        ),
        Constraint(
            "every 1×1 layer reduces the width",
            lambda p: (
                (p["reduction"] < p["channels"]) & (p["reduce_3x3"] < p["branch_3x3"]) & (p["reduce_5x5"] < p["branch_5x5"])
            ),
        ),
    ),
    main_answer=MainAnswer("macs_module", "the multiply-accumulates of the Inception module"),
)
