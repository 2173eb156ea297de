"""torch.nn's names and keyword arguments as values, plus Residual and Concat: the one namespace for writing networks.

A leaf layer answers ``forward(shape) -> Effect`` (its output shape, parameters and MACs, computed
by the single-source formulas) and, if it is a sliding window or mixes the whole grid, ``field``.
A container overrides ``trace(signal, walk)`` and visits its children through the walk (see
``symconv.networks.analyze.Walk``: ``visit``, ``leaf``, ``merge``, ``fail``). Shapes exclude the batch:
(C, H, W) for feature maps, (L, D) for token sequences, (F,) for vectors. Any size or width may be
an int, a sympy expression or a string naming a symbol ("C", "H").
"""

from symconv.networks.containers import Concat, Residual, Sequential
from symconv.networks.layers import (
    GELU,
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    Dropout,
    Effect,
    Flatten,
    GroupNorm,
    Hardswish,
    Identity,
    Layer,
    LayerNorm,
    Linear,
    MaxPool2d,
    ReLU,
    ReLU6,
    Sigmoid,
    Signal,
    SiLU,
)
from symconv.networks.transformer import (
    MLP,
    ClassToken,
    EncoderBlock,
    MultiheadAttention,
    PatchEmbedding,
    PositionEmbedding,
    SelectToken,
)

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BatchNorm2d",
    "ClassToken",
    "Concat",
    "Conv2d",
    "ConvTranspose2d",
    "Dropout",
    "Effect",
    "EncoderBlock",
    "Flatten",
    "GELU",
    "GroupNorm",
    "Hardswish",
    "Identity",
    "Layer",
    "LayerNorm",
    "Linear",
    "MLP",
    "MaxPool2d",
    "MultiheadAttention",
    "PatchEmbedding",
    "PositionEmbedding",
    "ReLU",
    "ReLU6",
    "Residual",
    "SelectToken",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Signal",
]
