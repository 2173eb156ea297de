"""Exercise 20: the output channels of an Inception module are the sum of its branches' channels."""

from symconv import (
    Exercise,
    Table,
    Text,
    Worked,
    conv_macs,
    conv_output_size,
    conv_params,
    derive,
    pool_output_size,
)
from symconv.teaching.domains import Choice, Constraint, MainAnswer


def concat_channels(C_1x1, C_3x3, C_5x5, C_pool):
    """Concatenation along the channel axis stacks the branches' maps."""
    return C_1x1 + C_3x3 + C_5x5 + C_pool


def solve(params):
    c_in, size = params["in_channels"], params["size"]
    one, three, five, pool = (params[name] for name in ("branch_1x1", "branch_3x3", "branch_5x5", "pool_proj"))
    r3, r5 = params["reduce_3x3"], params["reduce_5x5"]
    # 'Same' padding (half the kernel) for the 3×3 and 5×5 convolutions, a stride-1 3×3 max pool: sizes agree.
    convolutions = (
        (f"1×1 conv {c_in}→{one}", 1, c_in, one),
        (f"1×1 conv {c_in}→{r3}", 1, c_in, r3),
        (f"3×3 conv {r3}→{three}, pad 1", 3, r3, three),
        (f"1×1 conv {c_in}→{r5}", 1, c_in, r5),
        (f"5×5 conv {r5}→{five}, pad 2", 5, r5, five),
        ("3×3 max pool, stride 1, pad 1", None, c_in, c_in),
        (f"1×1 conv {c_in}→{pool}", 1, c_in, pool),
    )
    branch_of = ("1×1", "3×3", "3×3", "5×5", "5×5", "pool", "pool")
    rows, params_total, macs_total = [], 0, 0
    for branch, (layer, kernel, ci, co) in zip(branch_of, convolutions):
        if kernel is None:
            side, params, macs = pool_output_size(size, 3, 1, 1), 0, 0
        else:
            side = conv_output_size(size, kernel, 1, kernel // 2)
            params, macs = conv_params(ci, co, kernel), conv_macs(ci, co, kernel, side, side)
        params_total, macs_total = params_total + params, macs_total + macs
        rows.append((branch, layer, f"{co}×{side}×{side}", params, macs))
    rows.append(
        (
            "module",
            "concatenation",
            f"{one + three + five + pool}×{size}×{size}",
            params_total,
            macs_total,
        )
    )
    total = derive(concat_channels, one, three, five, pool, lhs="C_out", unit="channels")
    googlenet_3a = (one, r3, three, r5, five, pool) == (64, 96, 128, 16, 32, 32)
    return Worked(
        blocks=(
            Text(
                "The four branches run side by side on the same {size}×{size} input with {c_in} channels. Their maps "
                "can be stacked only if they agree in height and width, so every branch keeps the size: the 3×3 and "
                "5×5 convolutions are padded by half their kernel and the max pool has stride 1 and padding 1. The "
                "1×1 convolutions in front of the larger kernels, and after the pool, set how many channels each "
                "branch contributes. One forward pass, layer by layer (each convolution with its bias and a ReLU; "
                "parameters include the biases, multiply-accumulates do not, and the pool only compares):",
                {"size": size, "c_in": c_in},
            ),
            Table(("branch", "layer", "output $C \\times H \\times W$", "parameters", "MACs"), tuple(rows)),
            *(
                (
                    Text(
                        "These are the branch widths of GoogLeNet's module 3a (Szegedy et al. 2015), which in the "
                        "network receives 192 channels; here the input has {c_in}, which changes the 1×1 layers that read "
                        "it but not the output width.",
                        {"c_in": c_in},
                    ),
                )
                if googlenet_3a and c_in != 192
                else ()
            ),
            Text(
                "The concatenation stacks the branch outputs along the channel axis, so with $C_{1 \\times 1}$, $C_{3 \\times 3}$, "
                "$C_{5 \\times 5}$ and $C_{\\text{pool}}$ the output channels of the four branches:"
            ),
            total,
        ),
        answers={"out_channels": total.value, "params": params_total, "macs": macs_total},
        conclusion=Text(
            "The module outputs {channels} channels at {size}×{size} (a {channels}×{size}×{size} map) from {c_in}×{size}×{size}; "
            "its forward pass uses {params} parameters and {macs} multiply-accumulates.",
            {"channels": total.value, "size": size, "c_in": c_in, "params": params_total, "macs": macs_total},
        ),
    )


EXERCISE = Exercise(
    number=20,
    title="Output channels of an Inception module",
    question=(
        "An Inception module receives a {size}×{size} map with {in_channels} channels. Its branches are a 1×1 "
        "convolution with {branch_1x1} filters; a 1×1 reduction to {reduce_3x3} channels followed by a 3×3 "
        "convolution with {branch_3x3} filters; a 1×1 reduction to {reduce_5x5} followed by a 5×5 convolution with "
        "{branch_5x5} filters; and a 3×3 max pool followed by a 1×1 convolution with {pool_proj} filters. How many "
        "channels leave the module? Trace one forward pass: the shape after every layer, with the parameters and "
        "multiply-accumulates of each."
    ),
    defaults={
        "in_channels": 256,
        "size": 28,
        "branch_1x1": 64,
        "reduce_3x3": 96,
        "branch_3x3": 128,
        "reduce_5x5": 16,
        "branch_5x5": 32,
        "pool_proj": 32,
    },
    solve=solve,
    topics=("Inception", "concatenation", "channels"),
    # Widths from GoogLeNet's modules (3a to 5b), mixed freely.
    domains={
        "in_channels": Choice(192, 256, 480, 512, 528, 832),
        "size": Choice(7, 14, 28),
        "branch_1x1": Choice(64, 112, 128, 160, 192, 256, 384),
        "reduce_3x3": Choice(64, 96, 112, 128, 144, 160, 192),
        "branch_3x3": Choice(128, 192, 208, 224, 256, 288, 320, 384),
        "reduce_5x5": Choice(16, 24, 32, 48),
        "branch_5x5": Choice(32, 48, 64, 96, 128),
        "pool_proj": Choice(32, 64, 128),
    },
    constraints=(
        Constraint(
            "each 1×1 reduction is narrower than the module's input and than the convolution it feeds",
            lambda p: (
                max(p["reduce_3x3"], p["reduce_5x5"]) < p["in_channels"]
                and p["reduce_3x3"] < p["branch_3x3"]
                and p["reduce_5x5"] < p["branch_5x5"]
            ),
        ),
    ),
    main_answer=MainAnswer("out_channels", "the number of channels that leave the module"),
)
