"""The ``symconv analyze MODEL`` command: a zoo model or path/to/file.py:function, as a table, JSON or LaTeX."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from symconv.networks.nn import Layer

FORMATS = ("table", "json", "latex")
CONVENTIONS = ("macs", "fvcore")


def add_command(commands: argparse._SubParsersAction) -> None:
    analyze = commands.add_parser("analyze", help="shapes, parameters, MACs and receptive field of a network")
    analyze.add_argument(
        "model", help="a zoo name (resnet50, vgg16, vit_b_16, …) or path/to/file.py:function returning a network"
    )
    analyze.add_argument(
        "--input", default=None, help="input size without the batch, e.g. 3x224x224 or 3xHxW (default: the zoo model's own)"
    )
    analyze.add_argument("--format", choices=FORMATS, default="table", help="a text table, JSON, or LaTeX working of the totals")
    analyze.add_argument("--convention", choices=CONVENTIONS, default="macs", help="what a MAC counts (see README, Conventions)")
    analyze.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> str:
    from symconv.core.errors import guarded
    from symconv.networks import analyze

    network, default_shape = load_model(arguments.model)
    shape = default_shape if arguments.input is None else parse_input(arguments.input)
    if shape is None:
        from symconv.core.errors import invalid

        raise invalid("--input", None, "is required for a network loaded from a file")
    # A network from a file may hold the user's own layers: what their code raises is reported, not a crash.
    report = guarded(f"model={arguments.model!r}", lambda: analyze.analyze(network, shape, arguments.convention))
    if arguments.format == "json":
        return analyze.report_json(report)
    if arguments.format == "latex":
        from symconv.render import latex_solution

        return "\n\n".join(latex_solution.BLOCK_RENDERERS[type(block)](block) for block in analyze.report_derivations(report))
    from symconv.networks.table import format_table

    return format_table(report)


def parse_input(text: str) -> tuple[int | str, ...]:
    """``3x224x224`` → (3, 224, 224); ``3xHxW`` → (3, "H", "W"); ``×`` works as the separator too."""
    from symconv.core.errors import invalid

    parts = text.replace("×", "x").split("x") if text else []
    shape: list[int | str] = []
    for part in parts:
        if part.isascii() and part.isdigit() and len(part) <= 100 and int(part) >= 1:  # int() refuses 4,300 digits
            shape.append(int(part))
        elif part.isidentifier():
            shape.append(part)
        else:
            raise invalid(
                "--input", text, "must be sizes separated by x, each a positive integer or a symbol name, e.g. 3x224x224 or 3xHxW"
            )
    return tuple(shape)


def load_model(spec: str) -> tuple[Layer, tuple[object, ...] | None]:
    """A zoo model with its own input size, or the network returned by ``function`` in a Python file."""
    from symconv.networks import models

    if spec in models.MODELS:
        entry = models.get(spec)
        return entry.build(), entry.input_shape
    if ":" not in spec or not spec.partition(":")[0].endswith(".py"):
        models.get(spec)  # raises the error that lists the zoo
    return _from_file(spec), None


def _from_file(spec: str) -> Layer:
    import importlib.util
    from pathlib import Path

    from symconv.core.errors import guarded, invalid
    from symconv.networks.nn import Layer

    filename, _, function_name = spec.rpartition(":")
    path = Path(filename)
    if not path.is_file():
        raise invalid("model", spec, f"no such file {filename}")
    module_spec = importlib.util.spec_from_file_location(f"symconv_user_model_{path.stem}", path)
    loader = module_spec.loader if module_spec is not None else None
    if module_spec is None or loader is None:
        raise invalid("model", spec, "cannot be imported")
    module = importlib.util.module_from_spec(module_spec)
    # A broken user file, or a factory that raises or exits, is bad input, not a crash.
    guarded(f"model={spec!r}: failed to load", lambda: loader.exec_module(module))
    function = getattr(module, function_name, None)
    if not callable(function):
        raise invalid("model", spec, f"{filename} defines no function {function_name}")
    network = guarded(f"model={spec!r}: {function_name}()", function)
    if not isinstance(network, Layer):
        raise invalid("model", spec, f"{function_name}() returned a {type(network).__name__}, not a symconv.networks.nn layer")
    return network
