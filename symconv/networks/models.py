"""The zoo: ResNets, VGG-16, MobileNetV2, an Inception module, CIFAR ResNets, U-Net and ViT-B/16 as symconv.networks.nn values.

Layer paths follow torchvision where it has the model (``layer3.1.conv2``, ``features.4.conv.1.0``,
``encoder.layers.encoder_layer_0.mlp.0``); see each builder for the conventions it fixes.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial
from typing import Any, Callable, NamedTuple

from symconv.core.errors import invalid
from symconv.networks.nn import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    ClassToken,
    Concat,
    Conv2d,
    ConvTranspose2d,
    Dropout,
    EncoderBlock,
    Flatten,
    Identity,
    Layer,
    LayerNorm,
    Linear,
    MaxPool2d,
    PatchEmbedding,
    PositionEmbedding,
    ReLU,
    ReLU6,
    Residual,
    SelectToken,
    Sequential,
)

LAYOUTS = ("v1.5", "v1")


# ---- ResNets ------------------------------------------------------------------------------------


def _projection(in_channels: Any, out_channels: Any, stride: Any) -> Layer | None:
    """The shortcut: identity when the shape is kept, else a strided 1×1 convolution and batch norm."""
    if stride == 1 and in_channels == out_channels:
        return None
    return Sequential(Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), BatchNorm2d(out_channels))


def basic_block(in_channels: Any, width: Any, stride: Any = 1) -> tuple[Layer, Any]:
    """Two 3×3 convolutions (stride on the first) around a shortcut; output width ``width``."""
    body = Sequential(
        OrderedDict(
            conv1=Conv2d(in_channels, width, 3, stride=stride, padding=1, bias=False),
            bn1=BatchNorm2d(width),
            relu1=ReLU(),
            conv2=Conv2d(width, width, 3, padding=1, bias=False),
            bn2=BatchNorm2d(width),
        )
    )
    return Residual(body, _projection(in_channels, width, stride), ReLU()), width


def bottleneck(in_channels: Any, width: Any, stride: Any = 1, layout: str = "v1.5") -> tuple[Layer, Any]:
    """1×1 reduce, 3×3, 1×1 expand (×4); v1.5 strides the 3×3 convolution, v1 the first 1×1."""
    out_channels = 4 * width
    first, middle = (1, stride) if layout == "v1.5" else (stride, 1)
    body = Sequential(
        OrderedDict(
            conv1=Conv2d(in_channels, width, 1, stride=first, bias=False),
            bn1=BatchNorm2d(width),
            relu1=ReLU(),
            conv2=Conv2d(width, width, 3, stride=middle, padding=1, bias=False),
            bn2=BatchNorm2d(width),
            relu2=ReLU(),
            conv3=Conv2d(width, out_channels, 1, bias=False),
            bn3=BatchNorm2d(out_channels),
        )
    )
    return Residual(body, _projection(in_channels, out_channels, stride), ReLU()), out_channels


def _stage(block: Callable[..., tuple[Layer, Any]], in_channels: Any, width: Any, blocks: int, stride: Any) -> tuple[Layer, Any]:
    layers = []
    for index in range(blocks):
        layer, in_channels = block(in_channels, width, stride if index == 0 else 1)
        layers.append(layer)
    return Sequential(*layers), in_channels


def resnet(blocks: tuple[int, int, int, int], bottlenecks: bool, layout: str = "v1.5", num_classes: int = 1000) -> Sequential:
    """He et al. 2016 for ImageNet with torchvision's names; bias-free convolutions, each followed by batch norm.

    layout "v1.5" (torchvision) puts a bottleneck's stride on its 3×3 convolution, "v1" (the paper) on its
    first 1×1. Shortcuts are identities, or a strided 1×1 convolution + batch norm where the shape changes.
    """
    if layout not in LAYOUTS:
        raise invalid("layout", layout, f"must be one of {', '.join(LAYOUTS)}")
    block = partial(bottleneck, layout=layout) if bottlenecks else basic_block
    layers: dict[str, Layer] = OrderedDict(
        conv1=Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
        bn1=BatchNorm2d(64),
        relu=ReLU(),
        maxpool=MaxPool2d(3, stride=2, padding=1),
    )
    channels = 64
    for index, (count, width) in enumerate(zip(blocks, (64, 128, 256, 512)), start=1):
        layers[f"layer{index}"], channels = _stage(block, channels, width, count, 1 if index == 1 else 2)
    layers.update(avgpool=AdaptiveAvgPool2d(1), flatten=Flatten(), fc=Linear(channels, num_classes))
    return Sequential(layers)


def resnet18(layout: str = "v1.5", num_classes: int = 1000) -> Sequential:
    return resnet((2, 2, 2, 2), False, layout, num_classes)


def resnet34(layout: str = "v1.5", num_classes: int = 1000) -> Sequential:
    return resnet((3, 4, 6, 3), False, layout, num_classes)


def resnet50(layout: str = "v1.5", num_classes: int = 1000) -> Sequential:
    return resnet((3, 4, 6, 3), True, layout, num_classes)


def resnet101(layout: str = "v1.5", num_classes: int = 1000) -> Sequential:
    return resnet((3, 4, 23, 3), True, layout, num_classes)


def resnet152(layout: str = "v1.5", num_classes: int = 1000) -> Sequential:
    return resnet((3, 8, 36, 3), True, layout, num_classes)


def cifar_resnet(n: int, block: str = "basic", widths: tuple[Any, Any, Any] = (16, 32, 64), num_classes: int = 10) -> Sequential:
    """He et al. 2016's CIFAR-10 ResNet: a 3×3 convolution to widths[0], three stages of n blocks at
    32×32, 16×16 and 8×8 (stride 2 at the first block of stages 2 and 3), global average pooling, a
    linear classifier.

    block "basic": two 3×3 convolutions per block, stage widths ``widths``, depth 6n + 2 (n = 3 is
    ResNet-20). block "bottleneck": 1×1, 3×3, 1×1 with expansion 4, so ``widths`` are the inner widths
    and the stages output 4× them (64, 128, 256 by default), depth 9n + 2 (n = 18 is ResNet-164).
    Shortcuts are identities where the shape is kept and a 1×1 projection convolution + batch norm
    where it changes (the paper's option B; its CIFAR runs used zero-padding, option A, which has no
    parameters). Convolutions have no bias; each is followed by batch norm.
    """
    builders = {"basic": basic_block, "bottleneck": bottleneck}
    if block not in builders:
        raise invalid("block", block, "must be basic or bottleneck")
    if not isinstance(n, int) or n < 1:
        raise invalid("n", n, "must be a positive number of blocks per stage")
    layers: dict[str, Layer] = OrderedDict(
        conv1=Conv2d(3, widths[0], 3, padding=1, bias=False),
        bn1=BatchNorm2d(widths[0]),
        relu=ReLU(),
    )
    channels = widths[0]
    for index, width in enumerate(widths, start=1):
        layers[f"layer{index}"], channels = _stage(builders[block], channels, width, n, 1 if index == 1 else 2)
    layers.update(avgpool=AdaptiveAvgPool2d(1), flatten=Flatten(), fc=Linear(channels, num_classes))
    return Sequential(layers)


# ---- VGG-16, MobileNetV2, Inception -------------------------------------------------------------


def vgg16(num_classes: int = 1000) -> Sequential:
    """Simonyan & Zisserman's configuration D without batch norm (torchvision's vgg16)."""
    features: list[Layer] = []
    channels = 3
    for width in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if width == "M":
            features.append(MaxPool2d(2, stride=2))
        else:
            assert isinstance(width, int)
            features += [Conv2d(channels, width, 3, padding=1), ReLU()]
            channels = width
    classifier = Sequential(
        Linear(512 * 7 * 7, 4096), ReLU(), Dropout(), Linear(4096, 4096), ReLU(), Dropout(), Linear(4096, num_classes)
    )
    return Sequential(
        OrderedDict(features=Sequential(*features), avgpool=AdaptiveAvgPool2d(7), flatten=Flatten(), classifier=classifier)
    )


def _conv_bn_relu6(in_channels: Any, out_channels: Any, kernel_size: int = 3, stride: Any = 1, groups: Any = 1) -> Sequential:
    padding = (kernel_size - 1) // 2
    return Sequential(
        Conv2d(in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=False),
        BatchNorm2d(out_channels),
        ReLU6(),
    )


def inverted_residual(in_channels: Any, out_channels: Any, stride: Any, expand_ratio: int) -> Layer:
    """MobileNetV2's block: 1×1 expansion (unless t = 1), 3×3 depthwise, linear 1×1 projection;
    a residual sum when stride is 1 and the width is kept."""
    hidden = in_channels * expand_ratio
    layers: list[Layer] = [_conv_bn_relu6(in_channels, hidden, 1)] if expand_ratio != 1 else []
    layers += [
        _conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
        Conv2d(hidden, out_channels, 1, bias=False),
        BatchNorm2d(out_channels),
    ]
    body = Sequential(OrderedDict(conv=Sequential(*layers)))
    return Residual(body) if stride == 1 and in_channels == out_channels else body


def mobilenet_v2(num_classes: int = 1000) -> Sequential:
    """Sandler et al. 2018 at width 1.0 (torchvision's mobilenet_v2): rows (t, c, n, s) of the paper's table 2."""
    settings = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
    features: list[Layer] = [_conv_bn_relu6(3, 32, stride=2)]
    channels = 32
    for expand_ratio, width, repeats, stride in settings:
        for index in range(repeats):
            features.append(inverted_residual(channels, width, stride if index == 0 else 1, expand_ratio))
            channels = width
    features.append(_conv_bn_relu6(channels, 1280, 1))
    return Sequential(
        OrderedDict(
            features=Sequential(*features),
            avgpool=AdaptiveAvgPool2d(1),
            flatten=Flatten(),
            classifier=Sequential(Dropout(0.2), Linear(1280, num_classes)),
        )
    )


def _conv_relu(in_channels: Any, out_channels: Any, kernel_size: int) -> Sequential:
    return Sequential(OrderedDict(conv=Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2), relu=ReLU()))


def inception_module(
    in_channels: Any, ch1x1: Any, ch3x3red: Any, ch3x3: Any, ch5x5red: Any, ch5x5: Any, pool_proj: Any
) -> Concat:
    """GoogLeNet's Inception module as in Szegedy et al. 2015: four branches concatenated by channel —
    1×1; 1×1 reduce then 3×3; 1×1 reduce then 5×5 (a true 5×5, where torchvision uses 3×3); 3×3 max
    pool (stride 1, padding 1) then a 1×1 projection. Convolutions have biases and a ReLU, no batch
    norm, and keep the spatial size. Output channels ch1x1 + ch3x3 + ch5x5 + pool_proj.
    """
    return Concat(
        OrderedDict(
            branch1=_conv_relu(in_channels, ch1x1, 1),
            branch2=Sequential(_conv_relu(in_channels, ch3x3red, 1), _conv_relu(ch3x3red, ch3x3, 3)),
            branch3=Sequential(_conv_relu(in_channels, ch5x5red, 1), _conv_relu(ch5x5red, ch5x5, 5)),
            branch4=Sequential(MaxPool2d(3, stride=1, padding=1), _conv_relu(in_channels, pool_proj, 1)),
        )
    )


# ---- U-Net --------------------------------------------------------------------------------------


def _double_conv(in_channels: Any, out_channels: Any) -> Sequential:
    return Sequential(
        OrderedDict(
            conv1=Conv2d(in_channels, out_channels, 3), relu1=ReLU(), conv2=Conv2d(out_channels, out_channels, 3), relu2=ReLU()
        )
    )


def _unet_level(widths: tuple[Any, ...], in_channels: Any) -> Sequential:
    """Encode at this resolution; below the bottom, pool, recurse, up-convolve, copy-and-crop, decode."""
    width, deeper_widths = widths[0], widths[1:]
    encode = _double_conv(in_channels, width)
    if not deeper_widths:
        return encode
    deeper = Sequential(
        OrderedDict(
            pool=MaxPool2d(2, stride=2),
            down=_unet_level(deeper_widths, width),
            up=ConvTranspose2d(deeper_widths[0], width, 2, stride=2),
        )
    )
    return Sequential(
        OrderedDict(
            encode=encode,
            skip=Concat(OrderedDict(copy=Identity(), deeper=deeper), crop=True),
            decode=_double_conv(2 * width, width),
        )
    )


def unet(in_channels: Any = 1, num_classes: Any = 2, widths: tuple[Any, ...] = (64, 128, 256, 512, 1024)) -> Sequential:
    """Ronneberger et al. 2015: unpadded 3×3 convolutions with biases and ReLU, 2×2 max pooling, 2×2
    stride-2 up-convolutions halving the width, the encoder's map centre-cropped and concatenated,
    a final 1×1 convolution; 572×572 in, 388×388 out. Each level is ``encode``, then ``skip`` (``copy``
    and the ``deeper`` levels: ``pool``, ``down``, ``up``), then ``decode``.
    """
    return Sequential(OrderedDict(body=_unet_level(tuple(widths), in_channels), head=Conv2d(widths[0], num_classes, 1)))


# ---- ViT-B/16 -----------------------------------------------------------------------------------


def vision_transformer(
    image_size: Any, patch_size: Any, num_layers: int, num_heads: Any, hidden_dim: Any, mlp_dim: Any, num_classes: int = 1000
) -> Sequential:
    """Dosovitskiy et al. 2021 with torchvision's names: patch embedding, class token, learned position
    embedding for (image_size / patch_size)² + 1 tokens, pre-norm encoder blocks, final layer norm,
    the class token through a linear head. Dropout rates do not change any count."""
    from symconv.networks.layers import size

    grid = size("image_size", image_size) // size("patch_size", patch_size)
    blocks = OrderedDict((f"encoder_layer_{index}", EncoderBlock(num_heads, hidden_dim, mlp_dim)) for index in range(num_layers))
    encoder = Sequential(
        OrderedDict(
            pos_embedding=PositionEmbedding(grid * grid + 1, hidden_dim),
            dropout=Dropout(0.0),
            layers=Sequential(blocks),
            ln=LayerNorm(hidden_dim, eps=1e-6),
        )
    )
    return Sequential(
        OrderedDict(
            conv_proj=PatchEmbedding(3, hidden_dim, patch_size),
            class_token=ClassToken(hidden_dim),
            encoder=encoder,
            class_token_output=SelectToken(0),
            heads=Sequential(OrderedDict(head=Linear(hidden_dim, num_classes))),
        )
    )


def vit_b_16(image_size: Any = 224, num_classes: int = 1000) -> Sequential:
    return vision_transformer(image_size, 16, 12, 12, 768, 3072, num_classes)


# ---- registry -----------------------------------------------------------------------------------


class ZooModel(NamedTuple):
    build: Callable[[], Layer]
    input_shape: tuple[Any, ...]
    description: str


MODELS: dict[str, ZooModel] = {
    **{
        f"resnet{depth}": ZooModel(builder, (3, 224, 224), f"ResNet-{depth}, torchvision layout (v1.5)")
        for depth, builder in ((18, resnet18), (34, resnet34), (50, resnet50), (101, resnet101), (152, resnet152))
    },
    **{
        f"resnet{depth}_v1": ZooModel(partial(builder, layout="v1"), (3, 224, 224), f"ResNet-{depth}, the paper's layout (v1)")
        for depth, builder in ((50, resnet50), (101, resnet101), (152, resnet152))
    },
    "vgg16": ZooModel(vgg16, (3, 224, 224), "VGG-16 (configuration D)"),
    "mobilenet_v2": ZooModel(mobilenet_v2, (3, 224, 224), "MobileNetV2, width 1.0"),
    "inception_3a": ZooModel(
        partial(inception_module, 192, 64, 96, 128, 16, 32, 32), (192, 28, 28), "GoogLeNet's Inception module 3a"
    ),
    "cifar_resnet20": ZooModel(partial(cifar_resnet, 3), (3, 32, 32), "CIFAR ResNet-20 (basic blocks, n = 3)"),
    "cifar_resnet56": ZooModel(partial(cifar_resnet, 9), (3, 32, 32), "CIFAR ResNet-56 (basic blocks, n = 9)"),
    "cifar_resnet110": ZooModel(partial(cifar_resnet, 18), (3, 32, 32), "CIFAR ResNet-110 (basic blocks, n = 18)"),
    "cifar_resnet164": ZooModel(partial(cifar_resnet, 18, "bottleneck"), (3, 32, 32), "CIFAR ResNet-164 (bottlenecks, n = 18)"),
    "unet": ZooModel(unet, (1, 572, 572), "U-Net, the original valid-convolution network"),
    "vit_b_16": ZooModel(vit_b_16, (3, 224, 224), "ViT-B/16 at 224×224"),
}


def names() -> tuple[str, ...]:
    return tuple(MODELS)


def get(name: str) -> ZooModel:
    if name not in MODELS:
        raise invalid("model", name, f"not in the zoo; choose one of {', '.join(MODELS)}, or give path/to/file.py:function")
    return MODELS[name]
