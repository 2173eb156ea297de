"""The ``symconv analyze MODEL`` command: a zoo model or path/to/file.py:function, as a table, JSON or LaTeX."""

from __future__ import annotations

import argparse
from typing import Any

FORMATS = ("table", "json", "latex")
CONVENTIONS = ("macs", "fvcore")


def add_command(commands: argparse._SubParsersAction) -> None:
    analyze = commands.add_parser("analyze", help="shapes, parameters, MACs and receptive field of a network")
    analyze.add_argument(
        "model",
        help="a zoo name (resnet50, vgg16, vit_b_16, …), or path/to/file.py:function or package.module:function "
        "returning a symconv.nn network or a torch.nn.Module",
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
    if _is_torch_module(network):
        from symconv.networks.torch_bridge import from_torch

        try:
            report = from_torch(network, shape or (3, "H", "W"), arguments.convention)
        except (Exception, SystemExit) as error:  # a model that fails to trace is the model's problem: one line, exit 2
            from symconv.core.errors import describe, invalid

            reason = str(error).splitlines()[0] if str(error) and not isinstance(error, SystemExit) else describe(error)
            raise invalid("model", arguments.model, reason) from None
    else:
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


def load_model(spec: str) -> tuple[Any, tuple[object, ...] | None]:
    """A zoo model with its own input size, or the network returned by ``function`` in a Python file."""
    from symconv.networks import models

    if spec in models.MODELS:
        entry = models.get(spec)
        return entry.build(), entry.input_shape
    if ":" not in spec:
        models.get(spec)  # raises the error that lists the zoo
    return _from_file(spec), None


def _is_torch_module(network: object) -> bool:
    """Asked of the class's bases by name: a symconv.nn network must not make the CLI import torch."""
    return any(f"{base.__module__}.{base.__qualname__}" == "torch.nn.modules.module.Module" for base in type(network).__mro__)


def _from_file(spec: str) -> Any:
    """The network a factory returns (a symconv.nn Layer or a torch.nn.Module): ``path/to/file.py:function``
    or ``package.module:function``."""
    import importlib
    import importlib.util
    from pathlib import Path

    from symconv.core.errors import SymconvError, describe, invalid
    from symconv.networks.nn import Layer

    filename, _, function_name = spec.rpartition(":")
    try:
        if filename.endswith(".py"):
            path = Path(filename)
            if not path.is_file():
                raise invalid("model", spec, f"no such file {filename}")
            module_spec = importlib.util.spec_from_file_location(f"symconv_user_model_{path.stem}", path)
            if module_spec is None or module_spec.loader is None:
                raise invalid("model", spec, "cannot be imported")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(filename)
    except SymconvError:
        raise
    except (Exception, SystemExit) as error:  # a broken user file or a missing package (torch) is bad input, not a crash
        hint = " (pip install 'symconv[torch]')" if getattr(error, "name", None) == "torch" else ""
        raise invalid("model", spec, f"failed to load: {describe(error)}{hint}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise invalid("model", spec, f"{filename} defines no function {function_name}")
    try:
        network = function()
    except (Exception, SystemExit) as error:  # the factory is user code: sys.exit and endless recursion too
        raise invalid("model", spec, f"{function_name}() raised {describe(error)}") from None
    if not isinstance(network, Layer) and not _is_torch_module(network):
        raise invalid(
            "model", spec, f"{function_name}() returned a {type(network).__name__}, not a symconv.nn network or a torch.nn.Module"
        )
    return network
