"""How model objects show themselves in a REPL or Jupyter, without the model importing a renderer.

Renderers sit above the model, so the model cannot import them, not even inside a method. Instead
``symconv.render.display`` registers one function per (type, format) here, and the package's top level
tells this module how to load that registry the first time a display is asked for (sympy's way:
``Basic`` does not import its printers; the caller's setup chooses them).
"""

from __future__ import annotations

from typing import Any, Callable

Renderer = Callable[[Any], str]

_renderers: dict[tuple[type, str], Renderer] = {}
_loaders: list[Callable[[], object]] = []


def register(kind: type, output: str) -> Callable[[Renderer], Renderer]:
    """Decorator: ``function`` displays objects of ``kind`` (and its subclasses) in ``output``."""

    def add(function: Renderer) -> Renderer:
        _renderers[kind, output] = function
        return function

    return add


def load_renderers_with(loader: Callable[[], object]) -> None:
    """Run ``loader`` (which registers renderers) before the first display that finds none."""
    _loaders.append(loader)


def _lookup(value: Any, output: str) -> Renderer | None:
    for kind in type(value).__mro__:
        found = _renderers.get((kind, output))
        if found is not None:
            return found
    return None


def show(value: Any, output: str) -> str:
    """``value`` rendered as ``output`` ("text" or "latex") by the registered renderer."""
    found = _lookup(value, output)
    while found is None and _loaders:
        _loaders.pop(0)()
        found = _lookup(value, output)
    if found is None:
        return object.__repr__(value)
    return found(value)


def text_repr(self: Any) -> str:
    """``__repr__`` of a displayable model object: its plain-text rendering."""
    return show(self, "text")


def latex_repr(self: Any) -> str:
    """``_repr_latex_`` of a displayable model object: its LaTeX rendering for Jupyter."""
    return show(self, "latex")


def markdown_repr(self: Any) -> str:
    """``_repr_markdown_``: prose and mathematics together, which notebooks render before LaTeX."""
    return show(self, "markdown")
