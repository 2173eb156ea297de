"""Formula: a plain single-expression Python function, its argument checks, and its expression tree.

The function is the one source of the formula. Called with ints it is the fast numeric path; with
sympy expressions it is symbolic (``//`` becomes ``floor``); with numpy arrays it is vectorised.
Its ``return`` expression, parsed once, is the template of every line of working.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Callable, Mapping

from symconv.core.checks import check_argument, exact_arrays, narrowed
from symconv.core.display import latex_repr
from symconv.core.errors import SymconvError

Check = Callable[[Mapping[str, Any]], None]
ResultCheck = Callable[[Mapping[str, Any], Any], None]


@dataclass(frozen=True, eq=False)
class Formula:
    """A layer formula with its result's name and unit, derived defaults and argument checks."""

    function: Callable[..., Any]
    result: str
    unit: str | None = None
    check: Check | None = None
    check_result: ResultCheck | None = None
    # Defaults that depend on other arguments (pooling's stride defaults to kernel_size).
    derived_defaults: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.function.__name__

    @cached_property
    def signature(self) -> inspect.Signature:
        return inspect.signature(self.function)

    @cached_property
    def expression(self) -> ast.expr:
        """The ``return`` expression of the function, parsed from its source."""
        return return_expression(self.function)

    @property
    def namespace(self) -> Mapping[str, Any]:
        """Names the expression may call (the function's module globals)."""
        return self.function.__globals__

    @cached_property
    def _plain_parameters(self) -> tuple[tuple[str, ...], dict[str, Any]] | None:
        """Names and defaults when every parameter is positional-or-keyword, the case ``bind`` does itself."""
        parameters = self.signature.parameters.values()
        if any(parameter.kind is not parameter.POSITIONAL_OR_KEYWORD for parameter in parameters):
            return None
        return tuple(p.name for p in parameters), {p.name: p.default for p in parameters if p.default is not p.empty}

    def bind(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """All arguments by name, defaults filled in, names of symbols turned into sympy symbols."""
        # A well-formed call is bound here, in a fraction of inspect's time (formulas are called in
        # bulk by variant checks); any other call goes to inspect, whose error message is kept.
        arguments = _bind_plain(self._plain_parameters, args, kwargs)
        if arguments is None:
            try:
                bound = self.signature.bind(*args, **kwargs)
            except TypeError as error:
                raise SymconvError(f"{self.name}: {error}") from None
            bound.apply_defaults()
            arguments = bound.arguments
        values = {name: _as_value(self._checked(name, value)) for name, value in arguments.items()}
        for name, default in self.derived_defaults.items():
            if values[name] is None:
                values[name] = default(values)
        return values

    def _checked(self, name: str, value: Any) -> Any:
        """The kind of one argument: a switch where the default is a bool, None only where a default is derived."""
        default = self.signature.parameters[name].default
        return check_argument(name, value, flag=isinstance(default, bool), optional=name in self.derived_defaults)

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """Check the arguments, apply the function, then check the result (e.g. an output size >= 1).

        Integer arrays are computed with Python ints and narrowed back to int64 where the result fits.
        """
        values = exact_arrays(dict(values))
        if self.check is not None:
            self.check(values)
        result = self.function(**values)
        if self.check_result is not None:
            self.check_result(values, result)
        return narrowed(result)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.evaluate(self.bind(*args, **kwargs))

    def __repr__(self) -> str:
        return f"<formula {self.name}{self.signature}>"

    _repr_latex_ = latex_repr


def formula(
    result: str,
    unit: str | None = None,
    check: Check | None = None,
    check_result: ResultCheck | None = None,
    derived_defaults: Mapping[str, Callable[[Mapping[str, Any]], Any]] | None = None,
) -> Callable[[Callable[..., Any]], Formula]:
    """Decorator: turn a single-expression function into a :class:`Formula`."""

    def wrap(function: Callable[..., Any]) -> Formula:
        made = Formula(function, result, unit, check, check_result, dict(derived_defaults or {}))
        object.__setattr__(made, "__doc__", function.__doc__)  # help() shows the formula's own doc
        return made

    return wrap


def return_expression(function: Callable[..., Any]) -> ast.expr:
    """The expression of a function whose body is one ``return`` (a docstring may precede it)."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        raise SymconvError(f"{function.__name__}: a formula must be defined in a source file") from None
    definition = ast.parse(source).body[0]
    assert isinstance(definition, ast.FunctionDef)
    body = [
        statement
        for statement in definition.body
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
    ]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        raise SymconvError(f"{function.__name__}: a formula's body must be a single return expression")
    return body[0].value


def _bind_plain(
    plain: tuple[tuple[str, ...], dict[str, Any]] | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any] | None:
    """Arguments by name in the signature's order, or None unless the call is well formed and every parameter plain."""
    if plain is None:
        return None
    names, defaults = plain
    if len(args) > len(names):
        return None
    given = dict(zip(names, args))
    for name, value in kwargs.items():
        if name in given or name not in names:
            return None
        given[name] = value
    if len(given) < len(names) and any(name not in given and name not in defaults for name in names):
        return None
    return {name: given[name] if name in given else defaults[name] for name in names}


def _as_value(value: Any) -> Any:
    """A string argument names a symbol: ``"C"`` is the sympy symbol C with its assumptions."""
    if isinstance(value, str):
        from symconv.core.symbols import symbol

        return symbol(value)
    return value


@lru_cache(maxsize=8192)
def compute(formula: Formula, *args: Any) -> Any:
    """``formula(*args)``, memoised: formulas are pure, and a network applies the same layer to the same
    input again and again (ResNet-50's walk makes 431 formula calls, 143 of them distinct)."""
    return formula(*args)
