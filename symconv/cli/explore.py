"""Command line for exploring: ``symconv formulas``, ``sweep``, ``plot`` and ``solve-for``.

Registered through ``add_command(commands)`` (listed in ``symconv.cli.main.COMMAND_MODULES``). Only argparse
is imported here; the work, and sympy or numpy, start inside each command's ``run``.
"""

from __future__ import annotations

import argparse

from symconv.core.limits import MAX_MODEL_POINTS, MAX_SWEEP_POINTS

SWEEP_FORMATS = ("text", "csv", "latex")
SOLVE_FORMATS = ("text", "latex", "markdown")


def add_command(commands: argparse._SubParsersAction) -> None:
    formulas = commands.add_parser(
        "formulas", help="every formula and identity that solve-for, sweep and plot accept, with its notation"
    )
    formulas.set_defaults(run=run_formulas)

    sweep = commands.add_parser(
        "sweep",
        help="a formula, identity or zoo model evaluated over a grid of parameters",
        description="Ranges are start:stop or start:stop:step with both ends included; lists are a,b,c. "
        f"A grid has at most {MAX_SWEEP_POINTS} points, a model sweep at most {MAX_MODEL_POINTS} sizes.",
    )
    _target_arguments(sweep)
    sweep.add_argument("--format", choices=SWEEP_FORMATS, default="text", help="a text table, CSV or a LaTeX table")
    sweep.set_defaults(run=run_sweep)

    plot = commands.add_parser("plot", help="the same sweep drawn with matplotlib (pip install symconv[plot])")
    _target_arguments(plot)
    plot.add_argument("--out", required=True, help="output/NAME.png, .pdf or .svg (the suffix picks the format)")
    plot.add_argument("--x", default=None, help="the swept parameter on the horizontal axis (default: the first)")
    plot.set_defaults(run=run_plot)

    solve = commands.add_parser("solve-for", help="every whole value of one argument that gives a formula a target")
    solve.add_argument("formula", help="a formula or an identity, as symconv formulas lists them")
    solve.add_argument("unknown", help="the argument to solve for, e.g. padding")
    solve.add_argument("target", help="a value such as 112, or a relation such as '>=100'")
    solve.add_argument("assignments", nargs="*", metavar="name=value", help="the other arguments (numbers or symbol names)")
    solve.add_argument("--format", choices=SOLVE_FORMATS, default="text", help="how to write the working")
    solve.add_argument(
        "--explain", action="store_true", help="print the working even when a given value breaks the formula's rules (exit 2)"
    )
    solve.set_defaults(run=run_solve_for)


def _target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "formula", help="a formula or identity (see symconv formulas) or a zoo model (see symconv analyze --help)"
    )
    parser.add_argument(
        "assignments", nargs="+", metavar="name=values", help="e.g. n=32:64 kernel_size=3 stride=1,2; a model takes size=…"
    )
    parser.add_argument(
        "--quantity", choices=("macs", "params", "receptive_field", "jump"), default="macs", help="what a model sweep reports"
    )


def run_formulas(arguments: argparse.Namespace) -> str:
    """Each formula: its call signature and result, what it means, and how each argument is written."""
    import inspect

    from symconv.core.symbols import text_name
    from symconv.explore.identities import IDENTITIES
    from symconv.formulas.catalogue import catalogue

    def meaning(function) -> str:
        doc = inspect.getdoc(function)
        assert doc is not None  # every formula and identity is documented
        return doc.splitlines()[0].replace("``", "")

    def call(function) -> str:
        parameters = inspect.signature(function).parameters.values()
        return ", ".join(
            name if value.default is value.empty else f"{name}={value.default!r}"
            for name, value in ((parameter.name, parameter) for parameter in parameters)
        )

    def notation(parameters) -> str:
        return ", ".join(f"{name} is {text_name(name)}" for name in parameters if text_name(name) != name)

    entries = ["Formulas (arguments as in torch; the working writes them in the notation shown):", ""]
    for name, formula in catalogue().items():
        entries += [
            f"{name}({call(formula.function)}) → {text_name(formula.result)}",
            f"    {meaning(formula.function)}",
            f"    notation: {notation(formula.signature.parameters)}",
        ]
    entries += ["", "Identities (closed forms; every argument has a symbolic default):", ""]
    for name, identity in IDENTITIES.items():
        entries += [f"{name}({call(identity)})", f"    {meaning(identity)}"]
    return "\n".join(entries)


def run_sweep(arguments: argparse.Namespace) -> str:
    return _sweep(arguments).render(arguments.format).rstrip("\n")


def run_plot(arguments: argparse.Namespace) -> str:
    from symconv.teaching.publish import publish_figure

    written = publish_figure(arguments.out, lambda: _sweep(arguments).plot(x=arguments.x))
    return f"wrote {written}"


def run_solve_for(arguments: argparse.Namespace) -> str:
    from symconv.core.errors import SymconvError
    from symconv.explore.inverse import solve_for

    known = {name: _solve_value(name, value) for name, value in _assignments(arguments.assignments).items()}
    source = resolve(arguments.formula)
    try:
        broken = None
        check_knowns(source, arguments.unknown, known)
    except SymconvError as error:
        broken = error
        if not arguments.explain:
            raise SymconvError(f"{error} (a given value breaks the formula's rules, so the question has no answer)") from None
    inversion = solve_for(source, arguments.unknown, arguments.target, **known)
    text = {"text": inversion.text, "latex": inversion.latex, "markdown": inversion.markdown}[arguments.format]()
    if broken is not None:  # --explain: the working, then the error and exit status 2
        print(text, flush=True)
        raise SymconvError(f"{broken} (a given value breaks the formula's rules, so the question has no answer)")
    if inversion.solutions.is_empty:
        text += (
            f"\nNo whole value of {arguments.unknown} meets the target: the question is valid and its answer is the empty set."
        )
    return text


def check_knowns(source, unknown: str, known: dict) -> None:
    """The formula's own rules on the given values alone (the unknown left symbolic, so rules on it pass)."""
    from symconv.core.formula import Formula
    from symconv.core.symbols import symbol

    if isinstance(source, Formula) and source.check is not None and unknown in source.signature.parameters:
        source.check(
            source.bind(**{name: value for name, value in known.items() if name != unknown}, **{unknown: symbol(unknown)})
        )


def resolve(name: str):
    """A formula or identity by name (identities with their default, symbolic parameters)."""
    from symconv.core.errors import invalid
    from symconv.explore.identities import IDENTITIES
    from symconv.formulas.catalogue import catalogue

    formulas = catalogue()
    if name in formulas:
        return formulas[name]
    if name in IDENTITIES:
        return IDENTITIES[name]()
    known = sorted([*formulas, *IDENTITIES])
    raise invalid(
        "formula",
        name,
        f"unknown; choose one of {', '.join(known)} (symconv formulas describes them) or a zoo model name (sweep and plot)",
    )


def _sweep(arguments: argparse.Namespace):
    from symconv.core.errors import SymconvError, invalid
    from symconv.explore.sweep import model_sweep, parse_values, sweep

    values = {name: parse_values(text, name) for name, text in _assignments(arguments.assignments).items()}
    try:
        target = resolve(arguments.formula)
    except SymconvError:
        if not _is_model(arguments.formula):
            raise
        unexpected = sorted(set(values) - {"size", "channels"})
        if unexpected or "size" not in values:
            raise invalid(
                "parameters", unexpected or sorted(values), "a model sweep takes size=start:stop[:step] and optionally channels=N"
            ) from None
        return model_sweep(arguments.formula, values["size"], arguments.quantity, values.get("channels"))
    return sweep(target, **values)


def _is_model(name: str) -> bool:
    try:
        from symconv.networks import models
    except ImportError:  # the network zoo is optional for this command
        return False
    return name in models.names()


def _assignments(items: list[str]) -> dict[str, str]:
    from symconv.core.errors import invalid

    pairs = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name.isidentifier() or not value:
            raise invalid("argument", item, "must be name=value")
        pairs[name] = value
    return pairs


def _solve_value(name: str, text: str):
    """A number (7, 1/2, true) or else a symbol name, for a symbolic known."""
    from symconv.core.errors import invalid
    from symconv.explore.sweep import parse_values

    if text.isidentifier() and text.lower() not in ("true", "false"):
        return text
    value = parse_values(text, name)
    if isinstance(value, (range, list)):
        raise invalid(name, text, "solve-for takes one value per argument, not a range or a list")
    return value
