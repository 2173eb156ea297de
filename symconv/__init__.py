"""symconv: exact, step-by-step arithmetic of convolutional networks.

The public API, loaded lazily (PEP 562): ``import symconv`` imports neither sympy, numpy, latexify nor
torch, and a name's module is imported the first time the name is used, so a numeric answer is plain
Python. ``dir(symconv)`` lists everything below; each entry's own docstring says what it does.
"""

from __future__ import annotations

import importlib
from typing import Any

from symconv.core import display
from symconv.core.version import __version__ as __version__

# name -> "module" (the module itself) or "module:attribute"
_API: dict[str, str] = {
    # working as data
    "Derivation": "symconv.core.derive:Derivation",
    "Step": "symconv.core.derive:Step",
    "derive": "symconv.core.derive:derive",
    "derive_expression": "symconv.core.derive:derive_expression",
    "weighted_sum": "symconv.core.derive:weighted_sum",
    "SymconvError": "symconv.core.errors:SymconvError",
    "Formula": "symconv.core.formula:Formula",
    "formula": "symconv.core.formula:formula",
    "Equation": "symconv.core.solution:Equation",
    "Rounded": "symconv.core.solution:Rounded",
    "Solution": "symconv.core.solution:Solution",
    "Table": "symconv.core.solution:Table",
    "Text": "symconv.core.solution:Text",
    "Worked": "symconv.core.solution:Worked",
    "symbol": "symconv.core.symbols:symbol",
    "symbols": "symconv.core.symbols:symbols",
    # layer formulas and receptive-field recurrences
    "batchnorm_params": "symconv.formulas.layers:batchnorm_params",
    "conv_macs": "symconv.formulas.layers:conv_macs",
    "conv_output_size": "symconv.formulas.layers:conv_output_size",
    "conv_params": "symconv.formulas.layers:conv_params",
    "conv_transpose_output_size": "symconv.formulas.layers:conv_transpose_output_size",
    "depthwise_separable_macs": "symconv.formulas.layers:depthwise_separable_macs",
    "depthwise_separable_params": "symconv.formulas.layers:depthwise_separable_params",
    "effective_kernel_size": "symconv.formulas.layers:effective_kernel_size",
    "elementwise_macs": "symconv.formulas.layers:elementwise_macs",
    "linear_macs": "symconv.formulas.layers:linear_macs",
    "linear_params": "symconv.formulas.layers:linear_params",
    "pool_output_size": "symconv.formulas.layers:pool_output_size",
    "LayerWindow": "symconv.formulas.receptive_field:LayerWindow",
    "ReceptiveField": "symconv.formulas.receptive_field:ReceptiveField",
    "jump_growth": "symconv.formulas.receptive_field:jump_growth",
    "receptive_field": "symconv.formulas.receptive_field:receptive_field",
    "receptive_field_growth": "symconv.formulas.receptive_field:receptive_field_growth",
    "start_growth": "symconv.formulas.receptive_field:start_growth",
    # whole networks
    "analyze": "symconv.networks.analyze:analyze",
    "from_torch": "symconv.networks.torch_bridge:from_torch",
    "nn": "symconv.networks.nn",
    "models": "symconv.networks.models",
    # exploration
    "solve_for": "symconv.explore.inverse:solve_for",
    "sweep": "symconv.explore.sweep:sweep",
    # teaching
    "Exercise": "symconv.teaching.exercises:Exercise",
}

__all__ = sorted([*_API, "exercise", "solve"])


def __getattr__(name: str) -> Any:
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'symconv' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])


def exercise(number: int) -> Any:
    """The exercise ``number`` from the shipped derivations (an :class:`Exercise`)."""
    from symconv.teaching.exercises import get

    return get(number)


def solve(number: int, **params: object) -> Any:
    """Work exercise ``number`` with the chapter's parameters unless overridden (a :class:`Solution`)."""
    return exercise(number).solution(**params)


# The model's objects display through renderers that sit above it; load them on first display.
display.load_renderers_with(lambda: importlib.import_module("symconv.render.display"))
