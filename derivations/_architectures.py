"""Helpers shared by the architecture exercises: residual networks counted convolution by convolution."""

import ast
from dataclasses import dataclass

from symconv import (
    Table,
    Text,
    batchnorm_params,
    conv_params,
    derive,
    derive_expression,
    linear_params,
)
from symconv.core.errors import invalid
from symconv.core.transform import constant

CONV_BN_CONVENTION = (
    "Convention: every convolution is followed by batch normalisation and so carries no bias; BatchNorm "
    "learns a scale and a shift per channel, $2C$ parameters for $C$ channels (its running mean and variance "
    "are buffers, not parameters); "
    "the classifier is a fully connected layer with bias. Pooling, ReLU and the residual additions have "
    "no parameters."
)


@dataclass(frozen=True)
class Conv:
    """One bias-free convolution and the BatchNorm after it."""

    role: str
    kernel_size: int
    in_channels: int
    out_channels: int

    @property
    def weights(self):
        return conv_params(self.in_channels, self.out_channels, self.kernel_size, bias=False)

    @property
    def batchnorm(self):
        return batchnorm_params(self.out_channels)


@dataclass(frozen=True)
class Stage:
    """Residual blocks at one resolution: the first block may change width and stride, the others repeat."""

    number: int
    blocks: int
    in_channels: int
    width: int
    out_channels: int
    stride: int

    @property
    def projection(self):
        """A 1×1 convolution + BN on the shortcut when the identity cannot be added (shape changes)."""
        return self.stride != 1 or self.in_channels != self.out_channels


@dataclass(frozen=True)
class Count:
    """Parameters of one part of a network, split the way the conventions need it."""

    part: str
    weights: int = 0
    batchnorm: int = 0
    classifier: int = 0

    @property
    def total(self):
        return self.weights + self.batchnorm + self.classifier


def bottleneck(in_channels, width, out_channels):
    """1×1 reduce, 3×3 at the narrow width, 1×1 expand (torchvision puts the stride on the 3×3)."""
    return (
        Conv("1×1 reduce", 1, in_channels, width),
        Conv("3×3", 3, width, width),
        Conv("1×1 expand", 1, width, out_channels),
    )


def basic(in_channels, width, out_channels):
    """Two 3×3 convolutions (the first carries the stride)."""
    return (Conv("3×3", 3, in_channels, width), Conv("3×3", 3, width, out_channels))


BLOCKS = {"bottleneck": bottleneck, "basic": basic}


def resnet_stages(stem_channels, widths, blocks, expansion):
    """Stage i has width w_i and w_i·expansion outputs; every stage after the first halves the map."""
    if len(widths) != len(blocks):
        raise invalid("widths", widths, f"must give one width per stage of blocks={blocks}")
    if not all(isinstance(count, int) and count >= 1 for count in blocks):
        raise invalid("blocks", blocks, "every stage needs at least one block")
    stages, in_channels = [], stem_channels
    for number, (width, count) in enumerate(zip(widths, blocks), start=1):
        stages.append(Stage(number, count, in_channels, width, width * expansion, 1 if number == 1 else 2))
        in_channels = width * expansion
    return tuple(stages)


def block_convs(stage, block, first):
    """The convolutions of the stage's first block (with its projection, if any) or of a later block."""
    in_channels = stage.in_channels if first else stage.out_channels
    shortcut = (Conv("projection 1×1", 1, stage.in_channels, stage.out_channels),) if first and stage.projection else ()
    return BLOCKS[block](in_channels, stage.width, stage.out_channels) + shortcut


def stage_params(P_first, n_blocks, P_later):
    """A stage: its first block plus n - 1 copies of the repeated block."""
    return P_first + (n_blocks - 1) * P_later


def sum_convs(convs, attribute):
    return sum(getattr(conv, attribute) for conv in convs)


def stage_count(stage, block):
    first, later = block_convs(stage, block, True), block_convs(stage, block, False)
    return Count(
        f"stage {stage.number}",
        stage_params(sum_convs(first, "weights"), stage.blocks, sum_convs(later, "weights")),
        stage_params(sum_convs(first, "batchnorm"), stage.blocks, sum_convs(later, "batchnorm")),
    )


def resnet_counts(stem, stages, block, features, classes):
    """Stem, each stage and the classifier head (global average pooling, then features → classes)."""
    return (
        Count("stem", stem.weights, stem.batchnorm),
        *(stage_count(stage, block) for stage in stages),
        Count("head", classifier=linear_params(features, classes)),
    )


def stage_working(stage, block):
    """Text, table of both block kinds, and the stage's sum, for one stage."""
    first, later = block_convs(stage, block, True), block_convs(stage, block, False)
    rows = []
    for kind, convs in (("first", first), ("later", later)):
        rows += [
            (
                kind,
                conv.role,
                f"{conv.in_channels}→{conv.out_channels}",
                conv.weights,
                conv.batchnorm,
                conv.weights + conv.batchnorm,
            )
            for conv in convs
        ]
        weights, batchnorm = sum_convs(convs, "weights"), sum_convs(convs, "batchnorm")
        rows.append((kind, "block total", "", weights, batchnorm, weights + batchnorm))
    shortcut = (
        "its shortcut needs a 1×1 projection because the shape changes"
        if stage.projection
        else "its shortcut is the identity because the shape does not change"
    )
    total = derive(
        stage_params,
        sum_convs(first, "weights") + sum_convs(first, "batchnorm"),
        stage.blocks,
        sum_convs(later, "weights") + sum_convs(later, "batchnorm"),
        lhs=f"P_stage{stage.number}",
        unit="parameters",
    )
    return (
        Text(
            "Stage {number}: {count} blocks of width {width}, {c_in}→{c_out} channels, stride {stride} in the "
            "first block; "
            + shortcut
            + "."
            + (
                " $P_{\\text{first}}$ counts a stage's first block, $P_{\\text{later}}$ each of the $n_{\\text{blocks}} - 1$ "
                "identical blocks after it (weights and BatchNorm together)."
                if stage.number == 1
                else ""
            ),
            {
                "number": stage.number,
                "count": stage.blocks,
                "width": stage.width,
                "c_in": stage.in_channels,
                "c_out": stage.out_channels,
                "stride": stage.stride,
            },
        ),
        Table(("block", "layer", "channels", "weights", "BatchNorm", "together"), tuple(rows)),
        total,
    )


def counts_table(counts):
    """Summary per part, with a total row."""
    rows = [(count.part, count.weights, count.batchnorm, count.classifier, count.total) for count in counts]
    rows.append(("total", *(total_of(counts, name) for name in ("weights", "batchnorm", "classifier", "total"))))
    return Table(("part", "conv weights", "BatchNorm", "fc (with bias)", "total"), tuple(rows))


def total_of(counts, attribute):
    return sum(getattr(count, attribute) for count in counts)


def sum_derivation(values, lhs, unit="parameters", note=""):
    """``lhs = v_1 + v_2 + … = total``: the parts of a summary table added up."""
    tree = constant(values[0])
    for value in values[1:]:
        tree = ast.BinOp(left=tree, op=ast.Add(), right=constant(value))
    return derive_expression(tree, lhs=lhs, unit=unit, note=note)


RESNET50 = {"stem_channels": 64, "widths": (64, 128, 256, 512), "blocks": (3, 4, 6, 3), "expansion": 4, "classes": 1000}
RESNET50_FEATURES = RESNET50["widths"][-1] * RESNET50["expansion"]  # channels that reach the pooled classifier


def resnet50_counts(classes=RESNET50["classes"]):
    """torchvision's ResNet-50: 7×7 stem, bottleneck stages 3-4-6-3, fc 2048 → classes."""
    stages = resnet_stages(RESNET50["stem_channels"], RESNET50["widths"], RESNET50["blocks"], RESNET50["expansion"])
    stem = Conv("7×7 stem", 7, 3, RESNET50["stem_channels"])
    return resnet_counts(stem, stages, "bottleneck", RESNET50_FEATURES, classes)
