"""Exercise 24: Faster R-CNN's pipeline, its anchor count on a VGG-16 feature map, and RoI pooling's bins."""

from symconv import (
    Exercise,
    Table,
    Text,
    Worked,
    conv_output_size,
    derive,
    pool_output_size,
)
from symconv.core.errors import invalid
from symconv.teaching.domains import Constraint, IntRange, MainAnswer

# VGG-16's convolutional part as (number of 3×3 convolutions, channels) per block. Faster R-CNN keeps the
# max-pools after the first four blocks and drops the fifth, so conv5_3 is the shared feature map.
VGG16_BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
POOLED_BLOCKS = 4
CONV = {"kernel_size": 3, "stride": 1, "padding": 1}
POOL = {"kernel_size": 2, "stride": 2}
# The RPN scores each anchor as object or not (2 numbers) and regresses its box (4 offsets).
SCORES_PER_ANCHOR, OFFSETS_PER_ANCHOR = 2, 4
CONV_SIZE_SYMBOLS = (
    "In the size formula $N$ is the input side, $K$ the kernel side, $p$ the padding, $s$ the stride and $d$ the dilation:"
)
CEILING = "The ceiling of $a/b$ is ⌊(a + b − 1)/b⌋ for positive integers $a$ and $b$."


def anchors_per_position(n_scales, n_ratios):
    return n_scales * n_ratios


def rpn_outputs(k, n_scores=SCORES_PER_ANCHOR, n_offsets=OFFSETS_PER_ANCHOR):
    return n_scores * k + n_offsets * k


def anchor_count(H_feat, W_feat, k):
    return H_feat * W_feat * k


def bin_start(i, n, bins):
    """First cell of bin i when n cells are split into bins: the floor of i·n/bins."""
    return i * n // bins


def bin_end(i, n, bins):
    """One past the last cell of bin i: the ceiling of (i + 1)·n/bins, written with a floor."""
    return ((i + 1) * n + bins - 1) // bins


def size_chain(n, ceil_mode=False):
    """The size after each VGG-16 block: convolutions keep it, each of the first four pools halves it (floor or ceiling)."""
    sizes = []
    for block, (convs, _) in enumerate(VGG16_BLOCKS):
        for _ in range(convs):
            n = conv_output_size(n, **CONV)
        if block < POOLED_BLOCKS:
            n = pool_output_size(n, **POOL, ceil_mode=ceil_mode)
        sizes.append(n)
    return sizes


def bins(n, pooled):
    return [(bin_start(i, n, pooled), bin_end(i, n, pooled)) for i in range(pooled)]


def sorted_counts(spans):
    """The distinct bin sizes of one axis, as prose: "2 or 3"."""
    sizes = sorted({end - start for start, end in spans})
    return " or ".join(map(str, sizes))


def _check(params):
    for name in ("image_h", "image_w", "anchor_scales", "anchor_ratios", "roi_h", "roi_w", "pooled_size"):
        value = params[name]
        if not (isinstance(value, int) and value >= 1):
            raise invalid(name, value, "must be a positive integer")


def solve(params):
    _check(params)
    height, width, pooled = params["image_h"], params["image_w"], params["pooled_size"]
    rows, cols = size_chain(height), size_chain(width)
    feature_h, feature_w = rows[-1], cols[-1]
    ceil_h, ceil_w = size_chain(height, ceil_mode=True)[-1], size_chain(width, ceil_mode=True)[-1]
    channels = VGG16_BLOCKS[-1][1]
    stride = POOL["stride"] ** POOLED_BLOCKS
    pool_inputs = [height, *rows[: POOLED_BLOCKS - 1], width, *cols[: POOLED_BLOCKS - 1]]
    # Show the pools where the floor matters (odd inputs); with none, the first pool stands for all.
    shown_pools = list(dict.fromkeys(n for n in pool_inputs if n % 2)) or [height]
    roi_h, roi_w = params["roi_h"], params["roi_w"]
    k = derive(anchors_per_position, params["anchor_scales"], params["anchor_ratios"], lhs="k", unit="anchors")
    per_position = derive(rpn_outputs, k.value, lhs="outputs", unit="numbers per position")
    anchors = derive(anchor_count, feature_h, feature_w, k.value, lhs="anchors", unit="anchors")
    first_bin = 1 if pooled > 1 else 0
    row_bins, col_bins = bins(roi_h, pooled), bins(roi_w, pooled)
    stages = tuple(f"conv{block + 1}" + (" + pool" if block < POOLED_BLOCKS else "") for block in range(len(VGG16_BLOCKS)))
    return Worked(
        blocks=(
            Text(
                "Faster R-CNN is one network in four stages. (1) A backbone, here VGG-16 up to $\\mathrm{conv5}_3$, turns "
                "the image into a feature map shared by everything after it. (2) The region proposal network "
                "(RPN) slides a 3×3 convolution over that map; at every position two sibling 1×1 convolutions "
                "judge $k$ reference boxes (anchors) centred there: $n_{\\text{scores}} = {score_count}$ objectness "
                "scores and $n_{\\text{offsets}} = {offset_count}$ box offsets per anchor. The best-scoring corrected anchors, after non-maximum suppression, are the "
                "proposals. (3) RoI pooling cuts each proposal out of the same feature map and resamples it "
                "to a fixed {p}×{p} grid. (4) A head of fully connected layers classifies each pooled region "
                "and refines its box once more.",
                {"score_count": SCORES_PER_ANCHOR, "offset_count": OFFSETS_PER_ANCHOR, "p": pooled},
            ),
            Text(
                "With $n_{\\text{scales}} = {scale_count}$ scales and $n_{\\text{ratios}} = {ratio_count}$ aspect ratios, the "
                "number $k$ of anchors at each position and the number of outputs there are",
                {"scale_count": params["anchor_scales"], "ratio_count": params["anchor_ratios"]},
            ),
            k,
            per_position,
            Text(
                "How many positions are there? VGG-16's 3×3 convolutions use padding 1 and stride 1, so they keep the "
                "size, whatever it is. " + CONV_SIZE_SYMBOLS
            ),
            derive(conv_output_size, "n", **CONV),  # for every input side N, not just this image's
            Text(
                "Each 2×2 max-pool with stride 2 halves the size. With the floor rule used here (and by most current "
                "implementations), an odd size loses its last row or column; after the first pool the sizes count "
                "feature-map cells, not image pixels:"
            ),
            *(derive(pool_output_size, n, **POOL, unit="cells") for n in shown_pools),
            Table(
                ("after block", "height", "width"),
                tuple(zip(stages, rows, cols)),
                caption=f"A {height}×{width} image through VGG-16 (the fifth pool is removed)",
            ),
            Text(
                "The $\\mathrm{conv5}_3$ map is $H_{\\text{feat}} \\times W_{\\text{feat}}$ = {fh}×{fw} cells with {c} channels; one step on it is {stride} image pixels "
                "({pools} pools of stride 2). Every position carries {k} anchors:",
                {"fh": feature_h, "fw": feature_w, "c": channels, "stride": stride, "pools": POOLED_BLOCKS, "k": k.value},
            ),
            anchors,
            Text(
                "The original Caffe model pooled with the ceiling instead, keeping a last, partial window, and gets "
                "{ch}×{cw} cells and {ceil_anchors} anchors; that is the paper's “roughly 20,000 (≈ 60 × 40 × 9)” "
                "for a 1000×600 image (Ren et al. 2015). The proposal network evaluates them all in one pass of two "
                "small convolutions over features the detector computes anyway, so proposals cost about 10 ms per "
                "image where Selective Search, which the Fast R-CNN detector used before, took about 2 s on a CPU: "
                "sharing the features is what makes the proposals almost free, and learning them is what makes them "
                "better.",
                {"ch": ceil_h, "cw": ceil_w, "ceil_anchors": anchor_count(ceil_h, ceil_w, k.value)},
            ),
            Text(
                "The role of RoI pooling (Girshick 2015): proposals come in every size, the fully connected head "
                "takes one size. RoI pooling projects a proposal onto the shared feature map, rounded to whole cells, "
                "splits its $h \\times w$ cells into {p}×{p} bins and keeps the maximum of each, so every proposal "
                "is read from the one feature map instead of being cropped, warped and passed through the backbone on "
                "its own as in R-CNN. Along an axis of $N$ cells, with $\\text{bins} = {p}$, bin $i$ (counted from 0) "
                "starts at the floor of $iN/\\text{bins}$ and stops just before the ceiling of "
                "$(i+1)N/\\text{bins}$: rounding the start down and the end up covers every cell, and neighbouring "
                "bins may share one. For a proposal of {h}×{w} cells (about {h_px}×{w_px} image pixels), bin {i} "
                "of the rows:",
                {"p": pooled, "h": roi_h, "w": roi_w, "h_px": roi_h * stride, "w_px": roi_w * stride, "i": first_bin},
            ),
            derive(bin_start, first_bin, roi_h, pooled, lhs="start_i", unit="", note=CEILING),
            derive(bin_end, first_bin, roi_h, pooled, lhs="end_i", unit=""),
            Table(
                ("bin $i$", "rows", "row count", "columns", "column count"),
                tuple(
                    (i, f"{r0}–{r1 - 1}", r1 - r0, f"{c0}–{c1 - 1}", c1 - c0)
                    for i, ((r0, r1), (c0, c1)) in enumerate(zip(row_bins, col_bins))
                ),
                caption="Cells of each bin (inclusive ranges, counted from 0 inside the proposal)",
            ),
            Text(
                "Whatever the proposal's size, the head receives {p}×{p}×{c} = {features} numbers per "
                "proposal, exactly what VGG-16's first fully connected layer takes, so its pretrained weights "
                "are reused.",
                {"p": pooled, "c": channels, "features": pooled * pooled * channels},
            ),
            Text(
                "Today's detectors replace RoI pooling by RoIAlign (He et al. 2017, Mask R-CNN): it rounds neither "
                "the proposal nor the bin boundaries, and reads each bin at a few regularly spaced points by "
                "bilinear interpolation. The two roundings above shift a bin by up to a cell, {stride} image pixels, "
                "which costs accuracy in box placement and above all in masks and small objects.",
                {"stride": stride},
            ),
        ),
        answers={
            "feature_map": [feature_h, feature_w],
            "feature_map_ceil": [ceil_h, ceil_w],
            "feature_stride": stride,
            "anchors_per_position": k.value,
            "rpn_outputs_per_position": per_position.value,
            "anchors": anchors.value,
            "roi_row_bins": [list(span) for span in row_bins],
            "roi_col_bins": [list(span) for span in col_bins],
        },
        conclusion=Text(
            "A {h}×{w} image gives a {fh}×{fw} $\\mathrm{conv5}_3$ map (floor pooling; {ch}×{cw} with the original ceiling), "
            "{k} anchors per position ({outputs} RPN outputs each) and {anchors} anchors in all. RoI pooling cuts "
            "the {rh}×{rw}-cell proposal into {p}×{p} bins of {row_counts} rows and {col_counts} columns and hands "
            "the head {p}×{p}×{c} numbers.",
            {
                "h": height,
                "w": width,
                "fh": feature_h,
                "fw": feature_w,
                "k": k.value,
                "outputs": per_position.value,
                "anchors": anchors.value,
                "ch": ceil_h,
                "cw": ceil_w,
                "rh": roi_h,
                "rw": roi_w,
                "p": pooled,
                "c": channels,
                "row_counts": sorted_counts(row_bins),
                "col_counts": sorted_counts(col_bins),
            },
        ),
    )


EXERCISE = Exercise(
    number=24,
    title="Faster R-CNN: anchors and RoI pooling",
    question=(
        "Trace a {image_h}×{image_w} image through Faster R-CNN with a VGG-16 backbone (3×3 convolutions "
        "with padding 1, 2×2 max-pools with stride 2 after the first four blocks). Name the stages. How many "
        "numbers does the region proposal network output per feature-map position with {anchor_scales} anchor "
        "scales and {anchor_ratios} aspect ratios, and how many anchors does the image get? Then split a "
        "proposal of {roi_h}×{roi_w} feature-map cells into the {pooled_size}×{pooled_size} bins of RoI pooling. "
        "What role do the region proposal network and RoI pooling play?"
    ),
    defaults={
        "image_h": 600,
        "image_w": 1000,
        "anchor_scales": 3,
        "anchor_ratios": 3,
        "roi_h": 11,
        "roi_w": 16,
        "pooled_size": 7,
    },
    solve=solve,
    topics=("object detection", "output size"),
    # pooled_size stays 7: the working reuses VGG-16's fc6, which takes 7×7×512 inputs.
    domains={
        "image_h": IntRange(400, 800),
        "image_w": IntRange(500, 1000),
        "anchor_scales": IntRange(2, 5),
        "anchor_ratios": IntRange(2, 5),
        "roi_h": IntRange(7, 24),
        "roi_w": IntRange(7, 32),
    },
    constraints=(
        Constraint(
            "the proposal fits inside the conv5_3 feature map",
            lambda p: p["roi_h"] <= size_chain(p["image_h"])[-1] and p["roi_w"] <= size_chain(p["image_w"])[-1],
        ),
    ),
    main_answer=MainAnswer("anchors", "the number of anchors the image gets"),
)
