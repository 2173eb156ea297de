"""Every formula by name: the layer formulas and the receptive-field recurrences, in the order they are written."""

from __future__ import annotations

from symconv.core.formula import Formula
from symconv.formulas import layers, receptive_field


def catalogue() -> dict[str, Formula]:
    """Name -> formula for every formula that ``symconv formulas`` lists and the explorers accept."""
    return {
        name: value for module in (layers, receptive_field) for name, value in vars(module).items() if isinstance(value, Formula)
    }
