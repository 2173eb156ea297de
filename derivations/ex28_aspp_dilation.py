"""Exercise 28: the field of view of a dilated 3×3 kernel in ASPP, on the feature map and in the image."""

from fractions import Fraction

from symconv import Exercise, Rounded, Table, Text, Worked, derive, effective_kernel_size
from symconv.teaching.domains import Choice, MainAnswer, formula_answers


def input_span(K_eff, S):
    """Neighbouring feature-map cells are S input pixels apart, so K_eff cells span (K_eff − 1)·S + 1 pixels."""
    return (K_eff - 1) * S + 1


def solve(params):
    k, d, stride, side = params["kernel_size"], params["dilation"], params["output_stride"], params["map_size"]
    span = derive(effective_kernel_size, k, d, unit="cells")
    pixels = derive(input_span, span.value, stride, lhs="span", unit="input pixels")
    branches = tuple(
        (rate, effective_kernel_size(k, rate), input_span(effective_kernel_size(k, rate), stride)) for rate in params["rates"]
    )
    taps = k * k
    return Worked(
        blocks=(
            Text(
                "ASPP (Chen et al. 2017, DeepLab) runs on the backbone's feature map, so its sizes are counted in "
                "feature-map cells. A dilated kernel keeps its $K \\times K$ = {k}×{k} weights but spaces them "
                "$d$ cells apart, so one layer covers a square of side",
                {"k": k},
            ),
            span,
            Text(
                "The field is sparse: only {taps} of the {square} cells of that {r}×{r} square carry a weight, so one "
                "dilated layer sees a grid of points, not a patch; the backbone's own receptive field around each "
                "point, and the other branches, fill the gaps.",
                {"taps": taps, "square": span.value**2, "r": span.value},
            ),
            Text(
                "In the image. At output stride $S = {stride}$ (DeepLabv3's usual setting) neighbouring cells are "
                "{stride} input pixels apart, and the taps, from the outermost on one side to the outermost on the "
                "other, cover",
                {"stride": stride},
            ),
            pixels,
            Text(
                "the branch's theoretical receptive field is the backbone's field plus {extra} pixels. "
                "ASPP runs one branch per rate, to see context at several scales at once:",
                {"extra": pixels.value - 1},
            ),
            Table(("rate $d$", "field of view (cells)", "span of the taps (input pixels)"), branches),
            Text(
                "Large rates degenerate on small maps. DeepLabv3 (Chen et al. 2017) trains on 513×513 crops at "
                "output stride {stride}, a {side}×{side} feature map. A tap falls on real features only if it lies "
                "inside the map, so the outer taps of the rate-{d} kernel, {half} cells from the centre on both "
                "sides, fit together only on a map at least {r} cells wide{verdict}. As the rate approaches the map "
                "size the 3×3 filter acts more and more like a 1×1 filter at its centre; DeepLabv3 therefore adds "
                "an image-level branch (global average pooling, a 1×1 convolution, upsampling) to supply the "
                "global context that the largest rate can no longer deliver.",
                {
                    "stride": stride,
                    "side": side,
                    "d": d,
                    "half": span.value // 2,
                    "r": span.value,
                    "verdict": f": on {side}×{side} no position has all {taps} taps inside"
                    if span.value > side
                    else f"; on {side}×{side}, {Rounded(Fraction(100 * (side - span.value + 1) ** 2, side * side), 1)} % "
                    f"of the positions have all {taps} inside",
                },
            ),
        ),
        answers={"receptive_field": span.value, "input_span": pixels.value, "weighted_cells": taps},
        conclusion=Text(
            "The dilation-{d} branch covers {r}×{r} feature-map cells with only {taps} weights per channel pair "
            "({taps} of the {square} cells); at output stride {stride} its taps span {pixels} input pixels. On a "
            "{side}×{side} map it {fits}, hence DeepLabv3's image-pooling branch.",
            {
                "d": d,
                "r": span.value,
                "taps": taps,
                "square": span.value**2,
                "stride": stride,
                "pixels": pixels.value,
                "side": side,
                "fits": "no longer fits anywhere" if span.value > side else "fits only near the centre",
            },
        ),
    )


EXERCISE = Exercise(
    number=28,
    title="Receptive field of an atrous convolution",
    question=(
        "Atrous spatial pyramid pooling runs {kernel_size}×{kernel_size} convolutions in parallel at "
        "dilation rates 6, 12 and 18 on a feature map of output stride {output_stride}. What is the receptive "
        "field of the branch with dilation {dilation}, on the feature map and in the input image? What happens to "
        "it on a {map_size}×{map_size} map?"
    ),
    defaults={"kernel_size": 3, "dilation": 18, "rates": (6, 12, 18), "output_stride": 16, "map_size": 33},
    solve=solve,
    topics=("receptive field", "dilation"),
    # The question names the rates 6, 12 and 18, so the branch asked about is one of them.
    domains={"kernel_size": Choice(3, 5, 7), "dilation": Choice(6, 12, 18)},
    main_answer=MainAnswer("receptive_field", "the receptive field of the branch, in feature-map cells along one side"),
    array_answers=formula_answers(receptive_field=effective_kernel_size),
)
