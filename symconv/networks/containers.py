"""Composition: Sequential, Residual (element-wise sum of a body and a shortcut) and Concat (channel concatenation)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from symconv.core.checks import require_flag
from symconv.core.errors import invalid
from symconv.core.values import same
from symconv.networks.layers import Layer, Signal, shape_text

# ---- composition --------------------------------------------------------------------------------


def named_layers(layers: tuple[Any, ...], owner: str) -> tuple[tuple[str, Layer], ...]:
    """Positional layers are named 0, 1, …; a single mapping gives its own names."""
    if len(layers) == 1 and isinstance(layers[0], Mapping):
        items = tuple((str(name), layer) for name, layer in layers[0].items())
    else:
        items = tuple((str(index), layer) for index, layer in enumerate(layers))
    for name, layer in items:
        if not isinstance(layer, Layer):
            raise invalid(f"{owner}[{name}]", layer, "must be a symconv.networks.nn layer")
    return items


class Container(Layer):
    """A layer made of named children."""

    children: tuple[tuple[str, Layer], ...] = ()

    def __iter__(self) -> Iterable[Layer]:
        return iter(layer for _, layer in self.children)

    def __len__(self) -> int:
        return len(self.children)

    def __getitem__(self, key: int | str) -> Layer:
        if isinstance(key, int):
            return self.children[key][1]
        for name, layer in self.children:
            if name == key:
                return layer
        raise KeyError(key)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({name}): " + repr(layer).replace("\n", "\n  ") for name, layer in self.children)
        return f"{self.kind}({inner}\n)"


class Sequential(Container):
    def __init__(self, *layers):
        self.children = named_layers(layers, "Sequential")

    def trace(self, signal, walk):
        for name, layer in self.children:
            signal = walk.visit(layer, name, signal)
        return signal


class Residual(Container):
    """body(x) + shortcut(x) (None: identity), then an optional activation (ResNet's ReLU after the sum).

    Paths: the body's layers are listed under the Residual's own path (a Sequential body gives
    ``layer3.1.conv2``), the shortcut under ``.shortcut``, the activation under ``.activation``; the
    sum is the row of kind ``Add`` at the Residual's path.
    """

    def __init__(self, body, shortcut=None, activation=None):
        named = {"body": body, "shortcut": shortcut, "activation": activation}
        self.children = named_layers(({name: layer for name, layer in named.items() if layer is not None},), "Residual")
        self.body, self.shortcut, self.activation = body, shortcut, activation

    def trace(self, signal, walk):
        body = walk.visit(self.body, "", signal)
        shortcut = signal if self.shortcut is None else walk.visit(self.shortcut, "shortcut", signal)
        summed = add(walk, "", body, shortcut)
        return summed if self.activation is None else walk.visit(self.activation, "activation", summed)


def add(walk: Any, name: str, left: Signal, right: Signal) -> Signal:
    """The element-wise sum of two paths: shapes must agree; each unit sees what it sees along both."""
    if len(left.shape) != len(right.shape) or not all(map(same, left.shape, right.shape)):
        raise walk.fail(
            f"cannot add the body's output {shape_text(left.shape)} to the shortcut's {shape_text(right.shape)}: shapes must agree"
        )
    return walk.merge("Add", name, left.shape, (left, right))


class Concat(Container):
    """Channel concatenation of branches; with ``crop=True`` every branch is centre-cropped to the
    spatial size t of the last one first (U-Net's copy and crop), dropping ⌊(n − t)/2⌋ leading rows
    and columns of a size-n map."""

    def __init__(self, *branches, crop=False):
        if not branches:
            raise invalid("branches", branches, "a concatenation needs at least one branch")
        self.children = named_layers(branches, "Concat")
        self.crop = require_flag("crop", crop)

    def trace(self, signal, walk):
        outputs = [walk.visit(branch, name, signal) for name, branch in self.children]
        for (name, _), output in zip(self.children, outputs):
            if len(output.shape) != 3:
                raise walk.fail(f"branch {name} gives {shape_text(output.shape)}, not a C×H×W feature map")
        target = outputs[-1].shape[1:]
        for (name, _), output in zip(self.children, outputs):
            spatial = output.shape[1:]
            if self.crop:
                # A crop needs room; symbolic sizes cannot be compared for every input, so they pass.
                numeric = all(isinstance(n, int) for n in (*spatial, *target))
                if numeric and any(n < t for n, t in zip(spatial, target)):
                    raise walk.fail(
                        f"branch {name} gives {shape_text(spatial)}, smaller than the last branch's {shape_text(target)}: cannot crop"
                    )
            elif not all(map(same, spatial, target)):
                raise walk.fail(
                    f"branch {name} gives {shape_text(spatial)}, the last branch {shape_text(target)}: spatial sizes must agree"
                )
        if self.crop:  # a cropped branch's unit u is its uncropped unit u + ⌊(n − t)/2⌋ (along the width)
            outputs = [
                Signal(output.shape, output.field and output.field.cropped((output.shape[2] - target[1]) // 2))
                for output in outputs
            ]
        channels = sum(output.shape[0] for output in outputs)
        return walk.merge("Concat", "", (channels, *target), outputs)
