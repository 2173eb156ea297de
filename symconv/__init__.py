"""symconv: exact, step-by-step arithmetic of convolutional networks.

Importing symconv loads neither sympy, numpy nor latexify: numeric answers are plain Python.
"""

from symconv.derive import Derivation, Step, derive, derive_expression, weighted_sum
from symconv.errors import SymconvError
from symconv.exercises import Exercise
from symconv.formula import Formula, formula
from symconv.formulas import (
    batchnorm_params,
    conv_macs,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    depthwise_separable_macs,
    depthwise_separable_params,
    effective_kernel_size,
    linear_macs,
    linear_params,
    pool_output_size,
)
from symconv.receptive_field import (
    LayerWindow,
    ReceptiveField,
    jump_growth,
    receptive_field,
    receptive_field_growth,
    start_growth,
)
from symconv.solution import Equation, Rounded, Solution, Table, Text, Worked
from symconv.symbols import symbol, symbols

__version__ = "0.1.0"


def exercise(number: int) -> Exercise:
    """The exercise ``number`` from the shipped derivations."""
    from symconv.exercises import get

    return get(number)


def solve(number: int, **params: object) -> Solution:
    """Work exercise ``number``, with the chapter's parameters unless overridden."""
    return exercise(number).solution(**params)


__all__ = [
    "Derivation",
    "Equation",
    "Exercise",
    "Formula",
    "LayerWindow",
    "ReceptiveField",
    "Rounded",
    "Solution",
    "Step",
    "SymconvError",
    "Table",
    "Text",
    "Worked",
    "batchnorm_params",
    "conv_macs",
    "conv_output_size",
    "conv_params",
    "conv_transpose_output_size",
    "depthwise_separable_macs",
    "depthwise_separable_params",
    "derive",
    "derive_expression",
    "effective_kernel_size",
    "exercise",
    "formula",
    "jump_growth",
    "linear_macs",
    "linear_params",
    "pool_output_size",
    "receptive_field",
    "receptive_field_growth",
    "solve",
    "start_growth",
    "symbol",
    "symbols",
    "weighted_sum",
]
