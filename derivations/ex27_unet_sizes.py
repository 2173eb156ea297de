"""Exercise 27: the feature-map sizes down and up the original U-Net, and the crops its skip connections need."""

from symconv import (
    Exercise,
    SymconvError,
    Table,
    Text,
    Worked,
    conv_output_size,
    conv_transpose_output_size,
    derive,
    pool_output_size,
)
from symconv.core.errors import invalid
from symconv.core.solution import Levels
from symconv.teaching.domains import Constraint, IntRange, MainAnswer


def crop_per_side(N_skip, N_up):
    """The encoder map is cut to the decoder's size, centred: half the difference off each side."""
    return (N_skip - N_up) // 2


def size_chain(n, depth, kernel_size):
    """Every operation of the U with the size after it, the skip sizes and the up-sampled sizes, level 1 at the top."""
    rows, skips, ups = [("input", n)], [], []

    def convs(where):
        nonlocal n
        for _ in range(2):
            n = conv_output_size(n, kernel_size)
            rows.append((f"{where}: {kernel_size}×{kernel_size} conv", n))

    for level in range(1, depth + 1):
        convs(f"level {level}")
        skips.append(n)
        n = pool_output_size(n, 2)
        rows.append((f"level {level}: 2×2 max pool", n))
    convs("bottom")
    bottom = n
    for level in range(depth, 0, -1):
        n = conv_transpose_output_size(n, 2, 2)
        ups.append(n)
        rows.append((f"level {level}: 2×2 up-conv", n))
        convs(f"level {level}")
    n = conv_output_size(n, 1)
    rows.append(("1×1 conv to classes", n))
    return rows, skips, ups[::-1], bottom, n


def _fits(size, depth, kernel_size):
    """The U can be followed from this input size: no map shrinks below one pixel."""
    try:
        size_chain(size, depth, kernel_size)
    except SymconvError:
        return False
    return True


def solve(params):
    size, depth, k = params["input_size"], params["depth"], params["kernel_size"]
    try:
        rows, skips, ups, bottom, output = size_chain(size, depth, k)
    except SymconvError as error:
        raise invalid("input_size", size, f"too small for {depth} levels of unpadded {k}×{k} convolutions ({error})") from None
    first_conv = derive(conv_output_size, size, k)
    first_pool = derive(pool_output_size, skips[0], 2)
    first_up = derive(conv_transpose_output_size, bottom, 2, 2)
    deepest_crop = derive(crop_per_side, skips[-1], ups[-1], lhs="crop", unit="pixels per side")
    figure = Levels(
        nodes=(
            *((f"{n}²", level) for level, n in enumerate(skips)),
            (f"{bottom}²", depth),
            *((f"{n}²", level) for level, n in reversed(list(enumerate(ups)))),
        ),
        links=tuple((level, 2 * depth - level) for level in range(depth)),
        caption=(
            "Down the U, the map at the end of each level; up the U, the up-sampled map that level's skip joins; "
            "dashed: the skip connections, each cropped from the encoder's size to the decoder's."
        ),
    )
    crops = tuple(
        (level, skip, up, skip - up, crop_per_side(skip, up)) for level, (skip, up) in enumerate(zip(skips, ups), start=1)
    )
    return Worked(
        blocks=(
            Text(
                "Every {k}×{k} convolution is unpadded (valid), so it makes the map {lost} pixels smaller; each "
                "level of the contracting path applies two of them and a 2×2 max pool with stride 2; the expanding "
                "path doubles the size with a 2×2 up-convolution (transposed convolution, stride 2). In the size "
                "formulas $N$ is the input side, $K$ the kernel side, $p$ the padding, $s$ the stride, $d$ the "
                "dilation and $p_{\\text{out}}$ the output padding of the transposed convolution. The first "
                "convolution:",
                {"k": k, "lost": k - 1},
            ),
            first_conv,
            Text("The first pool, on the {n}×{n} map at the end of level 1:", {"n": skips[0]}),
            first_pool,
            Text("The first up-convolution, on the {n}×{n} map at the bottom of the U:", {"n": bottom}),
            first_up,
            Text("The whole chain (square maps, so one side is enough):"),
            Table(("operation", "size after"), tuple(rows)),
            figure,
            Text(
                "The encoder map at a level is larger than the up-sampled decoder map it joins, because the decoder "
                "has lost pixels to every valid convolution below; the skip connection crops it, centred, before "
                "the channel concatenation. With $N_{\\text{skip}}$ the side of the encoder map and $N_{\\text{up}}$ "
                "that of the up-sampled map, at level {level}:",
                {"level": depth},
            ),
            deepest_crop,
            Table(("level", "encoder map", "up-sampled map", "cropped away", "per side"), crops),
            Text(
                "Overlap-tile and the input size. The valid convolutions make the output smaller than the input, so "
                "Ronneberger et al. (2015) segment a large image tile by tile (overlap-tile): each {output}×{output} "
                "output tile is computed from a {size}×{size} input tile that adds {context} pixels of context on "
                "every side, and where the image ends the missing context is filled by mirroring the image. "
                + (
                    "The size is also chosen so that every 2×2 max pool receives an even size ({pooled}), so no row "
                    "or column is dropped and the crops stay exact."
                    if all(n % 2 == 0 for n in skips)
                    else "Here not every 2×2 max pool receives an even size ({pooled}); where one is odd the floor "
                    "drops a row and a column, which U-Net's own 572 avoids."
                ),
                {
                    "size": size,
                    "output": output,
                    "context": (size - output) // 2,
                    "pooled": ", ".join(str(n) for n in skips),
                },
            ),
            Text(
                "Why the long skip connections are essential: pooling throws away where exactly a feature was, and "
                "the bottom of the U knows what is in the image but only on a coarse {bottom}×{bottom} grid, one "
                "cell for every {stride}×{stride} input pixels. Up-convolutions alone cannot invent the lost detail. "
                "The skips hand the decoder the encoder's high-resolution maps, so each up-sampling step combines "
                "what (from below) with precisely where (from the skip), which is what sharp segmentation "
                "boundaries need. They also give gradients a short path from the loss to the early layers.",
                {"bottom": bottom, "stride": 2**depth},
            ),
            Text(
                "What goes wrong without them: the same encoder-decoder without skips must rebuild every boundary from "
                "the {bottom}×{bottom} bottom alone. Its output is blurred, edges can be off by up to a bottom cell "
                "({stride} pixels), and thin structures, such as the cell membranes the original U-Net was built to "
                "trace, break up or disappear, although the map still says roughly what is where. Long et al. "
                "(2015) measured the effect in their fully convolutional networks: adding skips from finer layers "
                "to the coarsest prediction raised the mean intersection over union on PASCAL VOC by about 3 points "
                "and visibly sharpened the boundaries.",
                {"bottom": bottom, "stride": 2**depth},
            ),
        ),
        answers={"output_size": output, "bottleneck_size": bottom, "skip_sizes": skips, "upsampled_sizes": ups},
        conclusion=Text(
            "A {size}×{size} input gives a {output}×{output} segmentation map; the skip connections crop "
            "{first_skip}→{first_up} at the top level.",
            {"size": size, "output": output, "first_skip": skips[0], "first_up": ups[0]},
        ),
    )


EXERCISE = Exercise(
    number=27,
    title="Sizes through a U-Net",
    question=(
        "The original U-Net applies two unpadded {kernel_size}×{kernel_size} convolutions per level, 2×2 max "
        "pooling on the way down ({depth} times) and 2×2 up-convolutions on the way up, then a 1×1 convolution. "
        "Follow a {input_size}×{input_size} input through the network: what size is the output, and how much must "
        "each skip connection crop? Why are these long skip connections essential for high-resolution "
        "segmentation, and what goes wrong without them?"
    ),
    defaults={"input_size": 572, "depth": 4, "kernel_size": 3},
    solve=solve,
    topics=("output size", "U-Net", "transposed convolution", "skip connections"),
    domains={"input_size": IntRange(188, 700)},
    constraints=(
        Constraint("every level keeps at least one pixel", lambda p: _fits(p["input_size"], p["depth"], p["kernel_size"])),
    ),
    main_answer=MainAnswer("output_size", "the output size along one axis"),
)
