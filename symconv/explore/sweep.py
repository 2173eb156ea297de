"""Sweeps: a formula, identity or network evaluated exactly over a grid of parameters; tables and plots.

A Formula is evaluated once on numpy integer arrays through its own function (the formulas are
numpy-compatible), so a grid of a million points costs one call; identities and networks are
evaluated point by point, exactly. Points where the formula's checks fail are kept, without a value.
matplotlib is optional (``pip install symconv[plot]``) and imported only by :meth:`Sweep.plot`.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from symconv.core.errors import SymconvError, invalid
from symconv.core.formula import Formula
from symconv.core.limits import MAX_MODEL_POINTS, MAX_SWEEP_POINTS
from symconv.core.values import exact, is_sympy

MISSING = "—"  # a point where the formula's rules fail


@dataclass(frozen=True)
class Sweep:
    """Every point of a grid (the swept parameters in order) with its exact result, or None if invalid."""

    name: str
    result: str
    axes: tuple[str, ...]
    fixed: Mapping[str, Any]
    rows: tuple[tuple[Any, ...], ...]
    unit: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.axes, self.result)

    def column(self, name: str) -> list[Any]:
        """One column as exact Python values (None where the point is invalid)."""
        if name not in self.columns:
            raise invalid("column", name, f"the sweep has the columns {', '.join(self.columns)}")
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def arrays(self) -> dict[str, Any]:
        """Columns as numpy arrays: integers stay int64 where they fit, invalid points are NaN floats."""
        import numpy

        arrays = {}
        for name in self.columns:
            values = self.column(name)
            if all(isinstance(value, int) for value in values) and all(abs(value) < 2**63 for value in values):
                arrays[name] = numpy.array(values, dtype=numpy.int64)
            elif all(value is None or isinstance(value, (int, float)) or hasattr(value, "denominator") for value in values):
                arrays[name] = numpy.array([numpy.nan if value is None else float(value) for value in values])
            else:
                arrays[name] = numpy.array(values, dtype=object)
        return arrays

    def table(self, plain: bool = False) -> Any:
        """The sweep as a symconv Table; ``plain`` heads the columns with text names (C_in, not LaTeX)."""
        from symconv.core.solution import Table
        from symconv.core.symbols import latex_name, text_name

        header = tuple(text_name(name) if plain else f"${latex_name(name)}$" for name in self.columns)
        rows = tuple(tuple(MISSING if value is None else value for value in row) for row in self.rows)
        return Table(header, rows, caption=self.caption())

    def caption(self) -> str:
        from symconv.core.symbols import latex_name
        from symconv.render.latex import value_latex

        fixed = ", ".join(f"${latex_name(name)} = {value_latex(value)}$" for name, value in self.fixed.items())
        return f"{self.name}" + (f" with {fixed}" if fixed else "")

    def text(self) -> str:
        from symconv.render.text import render_table

        return render_table(self.table(plain=True))

    def latex(self) -> str:
        """A LaTeX ``tabular`` (in a ``center`` environment) for a document."""
        from symconv.render.latex_solution import render_table

        return render_table(self.table())

    def csv(self) -> str:
        """Header of argument names, then one line per point; fractions as a/b, invalid points empty."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if value is None else str(value) for value in row])
        return buffer.getvalue()

    def render(self, form: str = "text") -> str:
        renderers = {"text": self.text, "csv": self.csv, "latex": self.latex}
        if form not in renderers:
            raise invalid("format", form, f"must be one of {', '.join(renderers)}")
        return renderers[form]()

    def series(self, x: str | None = None) -> dict[tuple[tuple[str, Any], ...], tuple[list[Any], list[Any]]]:
        """The points grouped into lines along ``x``: one line per combination of the other axes."""
        x = x or self.axes[0]
        if x not in self.axes:
            raise invalid("x", x, f"must be one of the swept parameters {', '.join(self.axes)}")
        position = self.axes.index(x)
        others = [index for index in range(len(self.axes)) if index != position]
        lines: dict[tuple[tuple[str, Any], ...], tuple[list[Any], list[Any]]] = {}
        for row in self.rows:
            key = tuple((self.axes[index], row[index]) for index in others)
            xs, ys = lines.setdefault(key, ([], []))
            xs.append(row[position])
            ys.append(row[-1])
        return lines

    def plot(self, x: str | None = None, out: str | Path | None = None, title: str | None = None) -> Any:
        """A matplotlib Figure with one line per combination of the other axes; saved to ``out`` if given."""
        figure_class = _figure_class()
        from symconv.core.symbols import text_name

        x = x or self.axes[0]
        figure = figure_class(figsize=(6.4, 4.0))
        axes = figure.add_subplot()
        for key, (xs, ys) in self.series(x).items():
            label = ", ".join(f"{text_name(name)} = {value}" for name, value in key) or None
            # Whole-number results change in steps: draw them as steps, the way the floors make them.
            axes.plot(xs, [float("nan") if y is None else float(y) for y in ys], drawstyle="steps-post", marker=".", label=label)
        axes.set_xlabel(text_name(x))
        axes.set_ylabel(text_name(self.result) + (f" ({self.unit})" if self.unit else ""))
        axes.set_title(title or self.name)
        if len(self.series(x)) > 1:
            axes.legend()
        axes.grid(True, alpha=0.3)
        if out is not None:
            path = Path(out)
            path.parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(path, bbox_inches="tight")
        return figure

    def __repr__(self) -> str:
        return self.text()

    def _repr_latex_(self) -> str:
        from symconv.render.latex import latex_name, value_latex

        header = " & ".join(latex_name(name) for name in self.columns)
        body = " \\\\\n".join(
            " & ".join(r"\text{" + MISSING + "}" if value is None else value_latex(value) for value in row) for row in self.rows
        )
        return f"$$\\begin{{array}}{{{'r' * len(self.columns)}}}\n{header} \\\\ \\hline\n{body}\n\\end{{array}}$$"


def sweep(target: Any, **parameters: Any) -> Sweep:
    """Evaluate ``target`` at every point of the grid spanned by the parameters given as ranges or lists.

    ``target`` is a :class:`~symconv.core.formula.Formula` (vectorised through numpy), an
    :class:`~symconv.explore.identities.Identity`, or any function of keyword arguments returning a number.
    Scalars are held fixed; at least one parameter must be a range or a list.
    """
    _require_points(parameters, MAX_SWEEP_POINTS)
    axes = {name: _axis(name, values) for name, values in parameters.items() if _is_axis(values)}
    fixed = {name: value for name, value in parameters.items() if name not in axes}
    if not axes:
        raise invalid("parameters", sorted(parameters), "give at least one parameter as a range or a list to sweep over")
    for name, value in fixed.items():
        if isinstance(value, str) or is_sympy(value):
            raise invalid(name, value, "a sweep needs numbers; symbols belong in solve_for or the identities")
    grid = list(itertools.product(*axes.values()))
    if isinstance(target, Formula):
        target.bind(**dict(zip(axes, grid[0])), **fixed)  # a missing or unknown argument is an error, not a blank table
        results = _formula_results(target, list(axes), grid, fixed)
        return Sweep(target.name, target.result, tuple(axes), fixed, _rows(grid, results), target.unit)
    if hasattr(target, "closed_form") and hasattr(target, "parameters"):
        missing = [name for name, _ in target.parameters if name not in parameters]
        if missing:
            raise invalid(
                missing[0],
                None,
                f"{target.name} needs a value or a range for each of {', '.join(name for name, _ in target.parameters)}",
            )
        results = [_checked_point(lambda values: target(**values), dict(zip(axes, point)) | fixed) for point in grid]
        return Sweep(target.name, target.result, tuple(axes), fixed, _rows(grid, results))
    if callable(target):
        results = [_checked_point(lambda values: target(**values), dict(zip(axes, point)) | fixed) for point in grid]
        name = getattr(target, "__name__", "value")
        return Sweep(name, name if name != "<lambda>" else "value", tuple(axes), fixed, _rows(grid, results))
    raise invalid("target", target, "must be a Formula, an Identity or a function of keyword arguments")


# What a network sweep can report: the Report attribute and its unit.
NETWORK_QUANTITIES = {"macs": "MACs", "params": "parameters", "receptive_field": "pixels", "jump": "pixels"}


def model_sweep(model: Any, size: Iterable[int], quantity: str = "macs", channels: int | None = None) -> Sweep:
    """A quantity of a zoo model (or network) on square inputs of each ``size``, exactly, every stair-step kept."""
    from symconv.explore.identities import MAC_CONVENTION, network_report

    if quantity not in NETWORK_QUANTITIES:
        raise invalid("quantity", quantity, f"must be one of {', '.join(NETWORK_QUANTITIES)}")
    _require_points({"size": size}, MAX_MODEL_POINTS)
    sizes = _axis("size", size if _is_axis(size) else [size])
    for value in sizes:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise invalid("size", value, "a model sweep takes whole sizes of at least 1, e.g. size=32:224:32")
    results = [
        _checked_point(
            lambda values: getattr(network_report(model, values["size"], values["size"], channels), quantity), {"size": value}
        )
        for value in sizes
    ]
    name = model if isinstance(model, str) else type(model).__name__
    title = f"{name} MACs ({MAC_CONVENTION})" if quantity == "macs" else f"{name} {quantity}"
    fixed = {} if channels is None else {"channels": channels}
    return Sweep(title, quantity, ("size",), fixed, _rows([(value,) for value in sizes], results), NETWORK_QUANTITIES[quantity])


def parse_values(text: str, name: str = "value") -> Any:
    """Command-line values: ``1:10`` (both ends included), ``1:10:3``, ``1,2,4``, ``7``, ``true``, ``1/2``."""
    from fractions import Fraction

    def number(part: str) -> Any:
        lowered = part.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        try:
            return exact(Fraction(part.strip()))
        except ValueError:
            raise invalid(name, text, "must be a number, a range start:stop[:step] or a list a,b,c") from None

    if ":" in text:
        parts = [number(part) for part in text.split(":")]
        if len(parts) not in (2, 3) or not all(isinstance(part, int) and not isinstance(part, bool) for part in parts):
            raise invalid(name, text, "a range must be start:stop or start:stop:step with whole numbers")
        start, stop, step = (*parts, 1) if len(parts) == 2 else parts
        if step == 0:
            raise invalid(name, text, "the step of a range must not be 0")
        return range(start, stop + (1 if step > 0 else -1), step)
    if "," in text:
        return [number(part) for part in text.split(",")]
    return number(text)


def _require_points(parameters: Mapping[str, Any], limit: int) -> None:
    """Count the grid before it is listed: ranges know their length, so 1:100000000 costs nothing to refuse."""
    points = 1
    for values in parameters.values():
        if _is_axis(values):
            points *= len(values)
    if points > limit:
        axes = " x ".join(f"{len(values)} {name}" for name, values in parameters.items() if _is_axis(values))
        raise invalid("parameters", axes, f"the grid has {points} points; a sweep takes at most {limit}")


def _is_axis(values: Any) -> bool:
    return isinstance(values, (range, list, tuple)) or (hasattr(values, "__array__") and getattr(values, "ndim", 0) > 0)


def _axis(name: str, values: Any) -> list[Any]:
    listed = [exact(value) for value in (values.tolist() if hasattr(values, "tolist") else values)]
    if not listed:
        raise invalid(name, values, "a swept parameter needs at least one value")
    for value in listed:
        if isinstance(value, str) or is_sympy(value):
            raise invalid(name, value, "a sweep needs numbers; symbols belong in solve_for or the identities")
    return listed


def _rows(grid: list[tuple[Any, ...]], results: list[Any]) -> tuple[tuple[Any, ...], ...]:
    return tuple((*point, result) for point, result in zip(grid, results))


def _checked_point(evaluate: Callable[[dict[str, Any]], Any], values: dict[str, Any]) -> Any:
    try:
        return exact(evaluate(values))
    except SymconvError:
        return None


def _formula_results(formula: Formula, names: list[str], grid: list[tuple[Any, ...]], fixed: Mapping[str, Any]) -> list[Any]:
    """One vectorised call when every point is valid; otherwise point by point, so invalid points stay empty."""
    import numpy

    columns = {name: numpy.array([point[index] for point in grid]) for index, name in enumerate(names)}
    if all(column.dtype.kind in "iu" for column in columns.values()):
        try:
            with numpy.errstate(all="ignore"):
                values = formula(**columns, **fixed)
            return [exact(value) for value in numpy.broadcast_to(values, (len(grid),)).tolist()]
        except SymconvError:
            pass  # some point breaks a rule: find which, one by one
        except (TypeError, ValueError):
            pass  # a branch on a swept switch (ceil_mode) cannot take an array
    return [_checked_point(lambda values: formula(**values), dict(zip(names, point)) | dict(fixed)) for point in grid]


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise SymconvError("plotting needs matplotlib, which is not installed: pip install symconv[plot]") from None
    return Figure
