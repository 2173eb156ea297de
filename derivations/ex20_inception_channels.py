"""Exercise 20: the output channels of an Inception module are the sum of its branches' channels."""

from symconv import (
    Exercise,
    Table,
    Text,
    Worked,
    conv_output_size,
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
    branches = (
        ("1×1", f"1×1 conv {c_in}→{one}", conv_output_size(size, 1), one),
        ("3×3", f"1×1 conv {c_in}→{r3}, 3×3 conv {r3}→{three} (padding {3 // 2})", conv_output_size(size, 3, 1, 3 // 2), three),
        ("5×5", f"1×1 conv {c_in}→{r5}, 5×5 conv {r5}→{five} (padding {5 // 2})", conv_output_size(size, 5, 1, 5 // 2), five),
        ("pool", f"3×3 max pool (stride 1, padding 1), 1×1 conv {c_in}→{pool}", pool_output_size(size, 3, 1, 1), pool),
    )
    total = derive(concat_channels, one, three, five, pool, lhs="C_out", unit="channels")
    return Worked(
        blocks=(
            Text(
                "The four branches run side by side on the same {size}×{size} input with {c_in} channels. Their maps "
                "can be stacked only if they agree in height and width, so every branch keeps the size: the 3×3 and "
                "5×5 convolutions are padded by half their kernel and the max pool has stride 1 and padding 1. The "
                "1×1 convolutions in front of the larger kernels, and after the pool, set how many channels each "
                "branch contributes.",
                {"size": size, "c_in": c_in},
            ),
            Table(("branch", "layers", "output size", "output channels"), branches),
            Text("The concatenation adds up the channel counts:"),
            total,
        ),
        answers={"out_channels": total.value},
        conclusion=Text(
            "{channels} output channels at {size}×{size}: the module widens the map from {c_in} to {channels} channels.",
            {"channels": total.value, "size": size, "c_in": c_in},
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
        "channels leave the module?"
    ),
    defaults={
        "in_channels": 192,
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
