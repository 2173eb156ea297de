"""General identities derived with sympy from the layer formulas, each with the working that derives it.

* :func:`stacked_receptive_field` — L equal layers: r = 1 + Σ d(K − 1) s^(l−1), which is L(K − 1) + 1
  for stride 1 (the receptive-field recurrence summed with a symbolic L);
* :func:`stack_versus_single` — parameters of L stacked K×K convolutions against one convolution with
  the same receptive field (9L/(2L + 1)² for 3×3 kernels);
* :func:`depthwise_separable_ratio` — the cost of a depthwise separable convolution against a standard
  one, 1/C_out + 1/K²;
* :func:`model_macs` — a zoo network's MACs as a closed form in H and W, and its leading term.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable

from symconv.core.derive import Derivation, Step, derive, general
from symconv.core.errors import invalid
from symconv.core.solution import Block, Text
from symconv.core.symbols import symbol
from symconv.core.transform import constant
from symconv.core.values import exact, is_symbolic
from symconv.formulas.layers import conv_macs, conv_params
from symconv.formulas.receptive_field import jump_growth, receptive_field_growth

MAC_CONVENTION = "one multiply-accumulate counts 1; biases are not counted"


@dataclass(frozen=True)
class Identity:
    """A closed form in named parameters, with the working that derives it.

    ``parameters`` pairs each argument name with its sympy symbol; calling the identity with values
    for them gives the exact value. :func:`symconv.explore.inverse.solve_for` accepts an identity in place of a
    formula.
    """

    name: str
    result: str
    closed_form: Any
    parameters: tuple[tuple[str, Any], ...]
    blocks: tuple[Block, ...]
    statement: str
    leading_term: Any = None

    def __call__(self, **values: Any) -> Any:
        names = dict(self.parameters)
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise invalid(unknown[0], values[unknown[0]], f"{self.name} has the parameters {', '.join(names)}")
        replacements = {names[name]: _sympy_value(value) for name, value in values.items()}
        return exact(_settle(self.closed_form.xreplace(replacements)))

    def text(self) -> str:
        from symconv.render.text import BLOCK_RENDERERS, value_text

        parts = [self.statement]
        parts += [BLOCK_RENDERERS[type(block)](block) for block in self.blocks]
        if self.leading_term is not None:
            parts.append(f"leading term: {value_text(self.leading_term)}")
        return "\n".join(parts)

    def latex(self) -> str:
        from symconv.render.latex import escape_text, value_latex
        from symconv.render.latex_solution import BLOCK_RENDERERS

        parts = [escape_text(self.statement)]
        parts += [BLOCK_RENDERERS[type(block)](block) for block in self.blocks]
        if self.leading_term is not None:
            parts.append(f"Leading term: ${value_latex(self.leading_term)}$")
        return "\n\n".join(parts)

    def markdown(self) -> str:
        from symconv.render.latex import value_latex
        from symconv.render.markdown import BLOCK_RENDERERS

        parts = [self.statement]
        parts += [BLOCK_RENDERERS[type(block)](block) for block in self.blocks]
        if self.leading_term is not None:
            parts.append(f"Leading term: ${value_latex(self.leading_term)}$")
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return self.text()

    def _repr_latex_(self) -> str:
        from symconv.render.latex import latex_name, value_latex

        return f"$\\displaystyle {latex_name(self.result)} = {value_latex(self.closed_form)}$"


def stacked_receptive_field(kernel_size: Any = "K", stride: Any = 1, dilation: Any = 1, layers: str = "L") -> Identity:
    """Receptive field of L equal layers, summed from the recurrence of Araujo et al.

    r_L = 1 + Σ_{l=1}^{L} d(K − 1) j_{l−1} with j_{l−1} = s^(l−1): the closed form is L d(K − 1) + 1
    at stride 1.
    """
    import sympy

    count = symbol(layers)
    k, s, d = (_sympy_value(value) for value in (kernel_size, stride, dilation))
    index, inner = sympy.Symbol("l", integer=True, positive=True), sympy.Symbol("i", integer=True, positive=True)
    # The jump before layer l: the product of the l − 1 strides before it, from jump_growth itself.
    jump_before = sympy.product(jump_growth.function(1, s), (inner, 1, index - 1))
    growth = receptive_field_growth.function(0, jump_before, k, d)  # what layer l adds
    total = 1 + sympy.Sum(growth, (index, 1, count))
    closed = _tidy(total.doit())
    blocks = (
        Text("Each layer widens the field by its effective kernel minus one, in units of the jump before it:"),
        general(receptive_field_growth),
        general(jump_growth),
        Text(
            "From $r_0 = 1$ and $j_0 = 1$, with {count} equal layers the jump before layer $l$ is {jump} and "
            "the recurrence sums to",
            {"count": count, "jump": jump_before},
        ),
        _chain("receptive_field", (total, closed)),
    )
    return Identity(
        name="stacked_receptive_field",
        result="receptive_field",
        closed_form=closed,
        parameters=_parameters((layers, count), kernel_size=k, stride=s, dilation=d),
        blocks=blocks,
        statement=f"Receptive field of {layers} stacked layers (kernel {_show(k)}, stride {_show(s)}, dilation {_show(d)}).",
    )


def stack_versus_single(layers: str = "L", kernel_size: Any = 3, channels: Any = "C", bias: bool = False) -> Identity:
    """Parameters of L stacked K×K convolutions over those of one convolution with the same receptive field."""
    import sympy

    count = symbol(layers)
    k, c = _sympy_value(kernel_size), _sympy_value(channels)
    single_kernel = stacked_receptive_field(k, 1, 1, layers).closed_form
    one_layer = derive(conv_params, c, c, k, bias=bias, lhs="P_layer")
    stack = count * one_layer.value
    single = derive(conv_params, c, c, single_kernel, bias=bias, lhs="P_single")
    ratio = sympy.factor(sympy.simplify(stack / single.value))
    blocks = (
        Text(
            "At stride 1, {count} layers of kernel {k} see a window of {window}, the kernel of the single "
            "convolution. Each convolution maps {c} channels to {c}" + ("" if bias else ", biases left out") + ".",
            {"count": count, "k": k, "window": single_kernel, "c": c},
        ),
        one_layer,
        single,
        _chain("ratio", (_Ratio(stack, single.value), ratio)),
    )
    return Identity(
        name="stack_versus_single",
        result="ratio",
        closed_form=ratio,
        parameters=_parameters((layers, count), kernel_size=k, channels=c),
        blocks=blocks,
        statement=f"Parameters of {layers} stacked {_square(k)} convolutions over those of one {_square(single_kernel)} convolution.",
    )


def depthwise_separable_ratio(in_channels: Any = "C_in", out_channels: Any = "C_out", kernel_size: Any = "K") -> Identity:
    """MACs of a depthwise separable convolution over those of the standard one: 1/C_out + 1/K²."""
    import sympy

    c_in, c_out, k = (_sympy_value(value) for value in (in_channels, out_channels, kernel_size))
    height, width = symbol("H"), symbol("W")
    depthwise = derive(conv_macs, c_in, c_in, k, height, width, groups=c_in, lhs="MACs_dw", note=f"Convention: {MAC_CONVENTION}.")
    pointwise = derive(conv_macs, c_in, c_out, 1, height, width, lhs="MACs_pw")
    standard = derive(conv_macs, c_in, c_out, k, height, width, lhs="MACs_std")
    quotient = (depthwise.value + pointwise.value) / standard.value
    ratio = sympy.expand(sympy.simplify(quotient))
    blocks = (
        Text("Both layers produce an $H \\times W$ map; the separable one is a depthwise convolution then a pointwise one."),
        depthwise,
        pointwise,
        standard,
        _chain("ratio", (_Ratio(depthwise.value + pointwise.value, standard.value), ratio)),
        Text("The map size cancels, so the saving depends only on the kernel and the output width."),
    )
    return Identity(
        name="depthwise_separable_ratio",
        result="ratio",
        closed_form=ratio,
        parameters=_parameters(in_channels=c_in, out_channels=c_out, kernel_size=k),
        blocks=blocks,
        statement="MACs of a depthwise separable convolution as a share of a standard convolution's.",
    )


def model_macs(model: Any, height: str = "H", width: str = "W", channels: int | None = None) -> Identity:
    """A network's MACs as a closed form in the input height and width, with its leading term.

    ``model`` is a zoo name (``"resnet50"``) or a network from :mod:`symconv.networks.nn`. The floors of every
    downsampling layer stay in the closed form; the leading term drops them.
    """
    import sympy

    h, w = symbol(height), symbol(width)
    macs = network_macs(model, h, w, channels)
    leading = leading_term(macs, (h, w))
    name = model if isinstance(model, str) else type(model).__name__
    blocks = (
        Text(
            f"Convention: {MAC_CONVENTION}. Every downsampling layer puts a floor into the sizes after it; "
            "as ⌊u⌋ differs from u by less than one, the terms of highest degree without the floors lead."
        ),
        _chain("macs", (macs,)),
    )
    return Identity(
        name=f"{name}_macs",
        result="macs",
        closed_form=macs,
        parameters=((height, h), (width, w)),
        blocks=blocks,
        statement=f"MACs of {name} on an input of height {height} and width {width}.",
        leading_term=sympy.expand(leading),
    )


def network_macs(model: Any, height: Any, width: Any, channels: int | None = None) -> Any:
    """Total MACs of a zoo model (by name) or a symconv.networks.nn network for one input size (numbers or symbols)."""
    return network_report(model, height, width, channels).macs


def network_report(model: Any, height: Any, width: Any, channels: int | None = None) -> Any:
    """The analysis report of a zoo model (by name) or a symconv.networks.nn network on one input size.

    A zoo model's input channels are its own unless ``channels`` is given; a network needs ``channels``.
    """
    from symconv.networks import analyze, models

    if isinstance(model, str):
        entry = models.get(model)
        network, channels = entry.build(), channels or entry.input_shape[0]
    elif channels is None:
        raise invalid("channels", channels, "give the input channels of a network that is not from the zoo")
    else:
        network = model
    return analyze.analyze(network, (channels, height, width))


def leading_term(expression: Any, variables: tuple[Any, ...]) -> Any:
    """The terms of highest total degree once every floor ⌊u⌋ is replaced by u."""
    import sympy

    smooth = sympy.expand(
        expression.replace(sympy.floor, lambda argument: argument).replace(sympy.ceiling, lambda argument: argument)
    )
    polynomial = sympy.Poly(smooth, *variables)
    degree = polynomial.total_degree()
    return sum(
        (
            coefficient * sympy.prod(variable**power for variable, power in zip(variables, powers))
            for powers, coefficient in polynomial.terms()
            if sum(powers) == degree
        ),
        sympy.Integer(0),
    )


IDENTITIES: dict[str, Callable[..., Identity]] = {
    "stacked_receptive_field": stacked_receptive_field,
    "stack_versus_single": stack_versus_single,
    "depthwise_separable_ratio": depthwise_separable_ratio,
}


@dataclass(frozen=True)
class _Ratio:
    """numerator/denominator kept apart in a line of working."""

    numerator: Any
    denominator: Any


def _chain(lhs: str, values: tuple[Any, ...]) -> Derivation:
    """A derivation ``lhs = v_1 = v_2 = …`` of already computed sympy values (repeats dropped)."""
    steps, last = [], None
    for value in values:
        if last is not None and not isinstance(value, _Ratio) and value == last:
            continue
        tree = (
            ast.BinOp(left=constant(value.numerator), op=ast.Div(), right=constant(value.denominator))
            if isinstance(value, _Ratio)
            else constant(value)
        )
        steps.append(Step("evaluation", tree))
        last = value
    steps[-1] = Step("result", steps[-1].expression)
    final = values[-1]
    return Derivation(lhs, tuple(steps), final if not isinstance(final, _Ratio) else None)


def _tidy(summed: Any) -> Any:
    """1 + factor(r − 1) in every branch: L(K − 1) + 1 and (K − 1)(2^L − 1) + 1 rather than expanded sums."""
    import sympy

    folded = sympy.piecewise_fold(sympy.simplify(summed))
    if isinstance(folded, sympy.Piecewise):
        return sympy.Piecewise(*((1 + sympy.factor(branch - 1), condition) for branch, condition in folded.args))
    return 1 + sympy.factor(folded - 1)


def _sympy_value(value: Any) -> Any:
    import sympy

    return symbol(value) if isinstance(value, str) else sympy.sympify(value)


def _settle(value: Any) -> Any:
    import sympy

    return sympy.piecewise_fold(value).doit() if value.has(sympy.Piecewise) else value


def _parameters(*pairs: tuple[str, Any], **values: Any) -> tuple[tuple[str, Any], ...]:
    """(argument, symbol) for every parameter left symbolic."""
    named = list(pairs) + [(name, value) for name, value in values.items() if is_symbolic(value) and value.is_Symbol]
    return tuple(named)


def _square(size: Any) -> str:
    """3×3, or (2L + 1)×(2L + 1) for a compound size."""
    side = _show(size)
    side = f"({side})" if " " in side else side
    return f"{side}×{side}"


def _show(value: Any) -> str:
    from symconv.render.text import value_text

    return value_text(exact(value))
