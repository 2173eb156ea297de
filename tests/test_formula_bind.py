"""Formula.bind against inspect.Signature.bind: the same arguments by name, or the same error, for any call."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import SymconvError
from symconv.formulas.catalogue import catalogue

FORMULAS = catalogue()
SWITCHES = ("bias", "ceil_mode")


def reference(formula, args, kwargs):
    """What bind promises, spelled with inspect: bound, defaults applied, or the TypeError's message."""
    try:
        bound = formula.signature.bind(*args, **kwargs)
    except TypeError as error:
        return f"{formula.name}: {error}"
    bound.apply_defaults()
    return dict(bound.arguments)


@st.composite
def calls(draw):
    formula = FORMULAS[draw(st.sampled_from(sorted(FORMULAS)))]
    names = list(formula.signature.parameters)

    def value(name):  # a value of the argument's own kind: switches take True or False
        return draw(st.booleans() if name in SWITCHES else st.integers(1, 9))

    count = draw(st.integers(0, len(names) + 1))
    args = tuple(value(names[position] if position < len(names) else "") for position in range(count))
    keywords = draw(st.lists(st.sampled_from([*names, "unknown"]), unique=True, max_size=len(names)))
    return formula, args, {name: value(name) for name in keywords}


@settings(max_examples=600, deadline=None)
@given(calls())
def test_bind_agrees_with_inspect(call):
    formula, args, kwargs = call
    expected = reference(formula, args, kwargs)
    if isinstance(expected, str):
        with pytest.raises(SymconvError) as raised:
            formula.bind(*args, **kwargs)
        assert str(raised.value) == expected
        return
    bound = formula.bind(*args, **kwargs)
    assert list(bound) == list(expected)
    assert all(bound[name] == value for name, value in expected.items() if value is not None)


class Whole(int):
    """An int the checks' plain-int shortcut does not recognise, so the general path checks it."""


@settings(max_examples=400, deadline=None)
@given(calls())
def test_checks_on_plain_ints_agree_with_the_general_path(call):
    formula, args, kwargs = call
    if isinstance(reference(formula, args, kwargs), str):
        return
    args, kwargs = tuple(value - 5 for value in args), {name: value - 5 for name, value in kwargs.items()}

    def verdict(convert):
        try:
            return formula(*map(convert, args), **{name: convert(value) for name, value in kwargs.items()})
        except SymconvError as error:
            return str(error)

    assert verdict(int) == verdict(Whole)
