"""Worked solutions as data: prose, derivations, tables and displayed values, plus named exact answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Union

from symconv.core.derive import Derivation
from symconv.core.display import latex_repr, markdown_repr, text_repr

# A braced name right after a LaTeX command, _ or ^ is that command's argument (\text{in}, C_{out}, 2^{k}),
# never a placeholder: the optional first group catches it so that it is left as written.
_PLACEHOLDER = re.compile(r"(\\[A-Za-z]+|[_^])?\{(\w+)\}")


def fill(template: str, values: Mapping[str, Any], show: Callable[[Any], str] = str) -> str:
    """Replace each ``{name}`` that names one of ``values`` by ``show(value)``; other braces stay.

    So inline LaTeX such as ``$C_{\\text{in}}$`` needs no escaping in prose templates, even when a value
    shares the braced word's name.
    """

    def replace(match: re.Match[str]) -> str:
        argument_of, name = match.groups()
        return show(values[name]) if name in values and argument_of is None else match.group(0)

    return _PLACEHOLDER.sub(replace, template)


def fill_prose(template: str, values: Mapping[str, Any], in_math: Callable[[Any], str], in_text: Callable[[Any], str]) -> str:
    """Fill placeholders of prose whose inline mathematics stands between ``$`` signs.

    A value inside a math segment is shown with ``in_math``, elsewhere with ``in_text``.
    """
    segments = template.split("$")
    return "$".join(fill(segment, values, in_math if index % 2 else in_text) for index, segment in enumerate(segments))


def prose_value(value: Any) -> str:
    """A value as a sentence reads it: 16,384; a sequence as words, "8, 14 and 20"; its items as tuples.

    Items of a sequence are coordinates or rows, written (10, 10, 40, 40) with spaces that do not break.
    """
    if isinstance(value, (list, tuple)):
        items = [_item(item) for item in value]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return _item(value)


def math_value(value: Any) -> str:
    """A value inside inline mathematics: a sequence is a vector, (1, 2, 2, 0); digits grouped as 16{,}384."""
    return _item(value).replace(",", "{,}").replace("{,}\u00a0", ", ") if not isinstance(value, str) else value


def _item(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ",\u00a0".join(_item(item) for item in value) + ")"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)


@dataclass(frozen=True)
class Rounded:
    """An exact value to be shown rounded to ``digits`` decimals (231.2 for 231211008/10**6).

    The value stays exact; only renderers round it, and they write it as approximate.
    """

    value: Any
    digits: int = 1

    def __str__(self) -> str:
        return f"{float(self.value):,.{self.digits}f}"


@dataclass(frozen=True)
class Text:
    """A paragraph of prose; inline mathematics goes between ``$`` signs.

    ``{name}`` placeholders are filled with ``values[name]`` by each renderer in its own format
    (an exact symbolic value is typeset in LaTeX, printed plainly in text).
    """

    content: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """A table of values; header cells are prose, body cells are values or prose."""

    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Equation:
    """A displayed value with its name, e.g. a matrix: ``Y = (…)``."""

    lhs: str
    value: Any
    unit: str | None = None


@dataclass(frozen=True)
class GridPanel:
    """One matrix of a grid figure; ``highlight`` marks cells (row, column), e.g. a kernel window."""

    label: str
    values: Any
    highlight: frozenset[tuple[int, int]] = frozenset()


@dataclass(frozen=True)
class Grids:
    """Matrices drawn side by side as grids of cells (input, kernel, output)."""

    panels: tuple[GridPanel, ...]
    caption: str = ""


@dataclass(frozen=True)
class Bars:
    """One bar per label, e.g. the receptive field after each layer."""

    labels: tuple[str, ...]
    values: tuple[Any, ...]
    caption: str = ""


@dataclass(frozen=True)
class Levels:
    """Boxes left to right, each at a depth, joined in order; ``links`` join two boxes directly.

    An encoder-decoder drawn this way is a U, its skip connections the links.
    """

    nodes: tuple[tuple[str, int], ...]
    links: tuple[tuple[int, int], ...] = ()
    caption: str = ""


Figure = Union[Grids, Bars, Levels]
Block = Union[Text, Derivation, Table, Equation, Grids, Bars, Levels]


@dataclass(frozen=True)
class Worked:
    """What an exercise's ``solve`` returns: the working and the answers it establishes."""

    blocks: tuple[Block, ...]
    answers: Mapping[str, Any]
    conclusion: Text | str = ""


@dataclass(frozen=True)
class Solution:
    """An exercise with its parameters filled in, worked."""

    number: int
    title: str
    question: str
    params: Mapping[str, Any]
    blocks: tuple[Block, ...]
    answers: Mapping[str, Any]
    conclusion: Text = Text("")
    topics: tuple[str, ...] = field(default=())

    __repr__ = text_repr
    _repr_latex_ = latex_repr
    _repr_markdown_ = markdown_repr
