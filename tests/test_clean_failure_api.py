"""Clean failure in the Python API: every public formula, network layer and report checks the kind
and value of each argument and raises SymconvError naming the argument, its value and the rule;
numpy integers are never wrapped at 2**63."""

from __future__ import annotations

import inspect
import keyword
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symconv
from symconv import nn
from symconv.core.errors import SymconvError
from symconv.formulas.catalogue import catalogue

FORMULAS = catalogue()
# A valid value for every argument name the formulas use (each formula accepts these together).
VALID = {
    "n": 32,
    "kernel_size": 3,
    "stride": 2,
    "padding": 1,
    "dilation": 1,
    "output_padding": 0,
    "ceil_mode": False,
    "bias": True,
    "groups": 1,
    "in_channels": 4,
    "out_channels": 8,
    "in_features": 4,
    "out_features": 8,
    "num_features": 4,
    "out_h": 5,
    "out_w": 5,
    "receptive_field_in": 3,
    "jump_in": 2,
    "start_in": -1,
    "tokens": 5,
    "embed_dim": 8,
    "elements": 10,
    "per_element": 2,
    "kernel_elements": 9,
    "output_elements": 25,
}
ARGUMENTS = [(name, parameter) for name, formula in FORMULAS.items() for parameter in formula.signature.parameters]
FLAGS = [(name, parameter) for name, parameter in ARGUMENTS if isinstance(VALID[parameter], bool)]
NUMBERS = [(name, parameter) for name, parameter in ARGUMENTS if not isinstance(VALID[parameter], bool)]


def valid_arguments(name: str) -> dict:
    return {parameter: VALID[parameter] for parameter in FORMULAS[name].signature.parameters}


def raises_naming(parameter: str, value: object):
    """SymconvError whose message opens with ``parameter=value:`` and states a rule after it."""
    return pytest.raises(SymconvError, match=rf"^{re.escape(parameter)}={re.escape(repr(value))}: \S")


def test_every_formula_accepts_the_valid_values():
    for name in FORMULAS:
        arguments = valid_arguments(name)
        assert FORMULAS[name](**arguments) == FORMULAS[name].function(**arguments)


@pytest.mark.parametrize("name, parameter", NUMBERS)
def test_none_names_the_argument(name, parameter):
    if parameter == "stride" and name == "pool_output_size":
        pytest.skip("None is pooling's own default: the stride becomes the kernel size")
    with raises_naming(parameter, None):
        FORMULAS[name](**{**valid_arguments(name), parameter: None})


@pytest.mark.parametrize("name, parameter", NUMBERS)
@pytest.mark.parametrize("flag", [True, False, np.bool_(True)])
def test_a_bool_is_not_an_integer(name, parameter, flag):
    with pytest.raises(SymconvError, match=rf"^{parameter}=.*True or False"):
        FORMULAS[name](**{**valid_arguments(name), parameter: flag})


@pytest.mark.parametrize("name, parameter", NUMBERS)
@settings(max_examples=15, deadline=None)
@given(number=st.one_of(st.integers(), st.fractions().map(str), st.integers(0, 9).map(lambda d: chr(0x0660 + d))))
def test_a_number_written_as_text_is_not_a_symbol(name, parameter, number):
    text = str(number)
    with raises_naming(parameter, text):
        FORMULAS[name](**{**valid_arguments(name), parameter: text})


@pytest.mark.parametrize("name, parameter", NUMBERS)
@settings(max_examples=15, deadline=None)
@given(text=st.text(max_size=6).filter(lambda text: not text.isidentifier()))
def test_a_string_that_is_no_name_is_refused(name, parameter, text):
    with raises_naming(parameter, text):
        FORMULAS[name](**{**valid_arguments(name), parameter: text})


@pytest.mark.parametrize("text", ["", "foo**", " H", "H ", "2H", "lambda", "None", "a-b", "x.y"])
def test_symbol_names_from_the_issue(text):
    with raises_naming("n", text):
        symconv.conv_output_size(text, 3)
    with raises_naming("name", text):
        symconv.symbol(text)


@pytest.mark.parametrize("value", [None, 3, 1.5, b"H", ("H",)])
def test_symbol_takes_only_a_name(value):
    with raises_naming("name", value):
        symconv.symbol(value)


@settings(max_examples=30, deadline=None)
@given(name=st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True).filter(lambda text: not keyword.iskeyword(text)))
def test_a_valid_name_gives_a_symbolic_size(name):
    result = symconv.conv_output_size(name, 3, padding=1)
    assert str(symconv.symbol(name)) in {str(symbol) for symbol in result.free_symbols}


@pytest.mark.parametrize("name, parameter", FLAGS)
@settings(max_examples=10, deadline=None)
@given(value=st.one_of(st.none(), st.integers(), st.text(max_size=4), st.just("yes"), st.just(1)))
def test_a_switch_takes_true_or_false_only(name, parameter, value):
    with raises_naming(parameter, value):
        FORMULAS[name](**{**valid_arguments(name), parameter: value})


@pytest.mark.parametrize("name, parameter", NUMBERS)
@pytest.mark.parametrize("value", [[224], {"n": 1}, 1j, object])
def test_other_kinds_are_refused(name, parameter, value):
    with raises_naming(parameter, value):
        FORMULAS[name](**{**valid_arguments(name), parameter: value})


@settings(max_examples=40, deadline=None)
@given(value=st.integers(max_value=0), which=st.sampled_from(["receptive_field_in", "jump_in"]))
def test_receptive_field_inputs_must_be_positive(value, which):
    growth = {"receptive_field_in": 1, "jump_in": 1, "kernel_size": 3, which: value}
    with raises_naming(which, value):
        symconv.receptive_field_growth(**growth)
    if which == "jump_in":
        with raises_naming(which, value):
            symconv.jump_growth(value, 2)
        with raises_naming(which, value):
            symconv.start_growth(0, value, 1)


@pytest.mark.parametrize("name, parameter", [(name, parameter) for name, parameter in NUMBERS if parameter.endswith("elements")])
@settings(max_examples=10, deadline=None)
@given(value=st.integers(max_value=0))
def test_element_counts_are_positive(name, parameter, value):
    with raises_naming(parameter, value):
        FORMULAS[name](**{**valid_arguments(name), parameter: value})


@settings(max_examples=40, deadline=None)
@given(elements=st.integers(max_value=0), per_element=st.integers(max_value=-1))
def test_elementwise_counts_are_not_negative(elements, per_element):
    with raises_naming("elements", elements):
        symconv.elementwise_macs(elements, 2)
    with raises_naming("per_element", per_element):
        symconv.elementwise_macs(10, per_element)
    with raises_naming("elements", -5):
        symconv.elementwise_macs(-5, 2)


@pytest.mark.parametrize(
    "layers, argument",
    [
        (None, "layers"),
        (3, "layers"),
        ("33", "layers"),
        ({"kernel_size": 3}, "layers"),
        ([(0, 1)], "kernel_size"),
        ([(3, -1)], "stride"),
        ([(3, 1, 1, -2)], "padding"),
        ([{"kernel": 3}], "layer"),
        ([(None, 1)], "kernel_size"),
    ],
)
def test_receptive_field_of_bad_layers(layers, argument):
    with pytest.raises(SymconvError, match=rf"^{argument}="):
        symconv.receptive_field(layers)


# ---- numpy: never wrapped at 2**63 --------------------------------------------------------------

INT64 = st.integers(-(2**63), 2**63 - 1)


def test_the_overflow_of_the_issue():
    result = symconv.conv_output_size(np.array([224]), 3, padding=np.array([2**63 - 1]))
    assert result.tolist() == [symconv.conv_output_size(224, 3, padding=2**63 - 1)] == [2**64 + 220]


@settings(max_examples=60, deadline=None)
@given(
    n=st.lists(st.integers(1, 2**63 - 1), min_size=1, max_size=4), padding=st.integers(0, 2**63 - 1), kernel=st.integers(1, 2**62)
)
def test_array_sizes_equal_python_integers(n, padding, kernel):
    expected = []
    for size in n:
        try:
            expected.append(symconv.conv_output_size(size, kernel, 1, padding))
        except SymconvError:
            expected.append(None)
    if None in expected:
        with pytest.raises(SymconvError):
            symconv.conv_output_size(np.array(n, dtype=np.int64), kernel, 1, np.array([padding] * len(n)))
        return
    result = symconv.conv_output_size(np.array(n, dtype=np.int64), kernel, 1, np.array([padding] * len(n)))
    assert result.tolist() == expected
    assert result.dtype == (np.int64 if max(expected) < 2**63 else object)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(1, 2**40), min_size=5, max_size=5))
def test_products_of_counts_do_not_wrap(values):
    channels_in, channels_out, kernel, height, width = values
    arrays = symconv.conv_macs(np.array([channels_in]), channels_out, kernel, np.array([height]), width)
    scalars = symconv.conv_macs(np.int64(channels_in), np.int64(channels_out), kernel, np.int64(height), np.int64(width))
    assert arrays.tolist() == [scalars] == [channels_in * channels_out * kernel**2 * height * width]


@given(value=INT64)
@settings(max_examples=30, deadline=None)
def test_numpy_scalars_become_python_integers(value):
    padding = abs(value)
    assert symconv.conv_output_size(np.int64(5), 3, padding=np.uint64(padding)) == 5 + 2 * padding - 2


# ---- networks and reports ----------------------------------------------------------------------

LAYERS_WITH_SIZES = [
    (
        nn.Conv2d,
        dict(in_channels=3, out_channels=8, kernel_size=3),
        ["in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups"],
    ),
    (nn.ConvTranspose2d, dict(in_channels=3, out_channels=8, kernel_size=3), ["in_channels", "kernel_size", "stride", "groups"]),
    (nn.MaxPool2d, dict(kernel_size=2), ["kernel_size", "stride", "dilation"]),
    (nn.GroupNorm, dict(num_groups=2, num_channels=8), ["num_groups", "num_channels"]),
    (nn.MultiheadAttention, dict(embed_dim=768, num_heads=12), ["embed_dim", "num_heads"]),
    (nn.Linear, dict(in_features=3, out_features=4), ["in_features", "out_features"]),
    (nn.BatchNorm2d, dict(num_features=3), ["num_features"]),
]


@pytest.mark.parametrize("layer, arguments, sizes", LAYERS_WITH_SIZES)
@settings(max_examples=10, deadline=None)
@given(value=st.integers(max_value=0))
def test_layer_sizes_must_be_positive(layer, arguments, sizes, value):
    for name in sizes:
        with raises_naming(name, value):
            layer(**{**arguments, name: value})


@pytest.mark.parametrize("layer, arguments", [(nn.GroupNorm, (0, 8)), (nn.MultiheadAttention, (768, 0))])
def test_zero_groups_and_heads_from_the_issue(layer, arguments):
    with pytest.raises(SymconvError, match=r"=0: must be at least 1"):
        layer(*arguments)


@pytest.mark.parametrize(
    "layer, arguments, switch",
    [
        (nn.Conv2d, (3, 8, 3), "bias"),
        (nn.Linear, (3, 4), "bias"),
        (nn.MaxPool2d, (2,), "ceil_mode"),
        (nn.BatchNorm2d, (3,), "affine"),
        (nn.MultiheadAttention, (8, 2), "bias"),
    ],
)
@pytest.mark.parametrize("value", ["yes", 1, None, "False"])
def test_layer_switches_take_true_or_false(layer, arguments, switch, value):
    with raises_naming(switch, value):
        layer(*arguments, **{switch: value})


@pytest.mark.parametrize(
    "shape", [(3, "", ""), (3, "224", "224"), (3, "H**", "W"), (3, None, 4), (3, 2.5, 4), (True, 4, 4), (3, 0, 4)]
)
def test_analyze_refuses_bad_input_shapes(shape):
    with pytest.raises(SymconvError, match=r"^input_shape="):
        symconv.analyze(nn.Sequential(nn.ReLU()), shape)


@pytest.fixture(scope="module")
def symbolic_report():
    return symconv.analyze(nn.Sequential(nn.Conv2d(3, 8, 3)), (3, "H", "W"))


@pytest.mark.parametrize("value", ["x", "224", 1.5, True, None, 0, -3, [5]])
def test_report_subs_takes_whole_sizes(symbolic_report, value):
    with raises_naming("H", value):
        symbolic_report.subs(H=value, W=5)


def test_report_subs_with_whole_sizes_still_evaluates(symbolic_report):
    report = symbolic_report.subs(H=np.int64(7), W=5)
    assert report.output_shape == (8, 5, 3)


def test_every_public_formula_is_checked():
    """Each formula of the API answers None with SymconvError, whatever argument it is given for."""
    public = [name for name in symconv.__all__ if isinstance(getattr(symconv, name), symconv.Formula)]
    assert set(public) <= set(FORMULAS)
    for name in public:
        first = next(iter(inspect.signature(FORMULAS[name].function).parameters))
        with raises_naming(first, None):
            FORMULAS[name](**{**valid_arguments(name), first: None})


# ---- the rest of the public API -----------------------------------------------------------------

CONV = symconv.conv_output_size


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: symconv.solve_for(CONV, "padding", None, n=224, kernel_size=3), "target"),
        (lambda: symconv.solve_for(CONV, "padding", True, n=224, kernel_size=3), "target"),
        (lambda: symconv.solve_for(CONV, "padding", "foo**", n=224, kernel_size=3), "target"),
        (lambda: symconv.solve_for(CONV, "padding", 112, n=None, kernel_size=3), "n"),
        (lambda: symconv.solve_for(CONV, "padding", 112, n="224", kernel_size=3), "n"),
        (lambda: symconv.solve_for(None, "padding", 112, n=224), "formula"),
        (lambda: symconv.sweep(CONV, n=[None, 3], kernel_size=3), "n"),
        (lambda: symconv.sweep(CONV, n=["a"], kernel_size=3), "n"),
        (lambda: symconv.sweep(CONV, n=[True], kernel_size=3), "n"),
        (lambda: symconv.sweep(CONV, n=[5], kernel_size=None), "kernel_size"),
        (lambda: symconv.sweep(CONV, n=range(10**12), kernel_size=3), "parameters"),
        (lambda: symconv.sweep(None, n=[5]), "target"),
        (lambda: symconv.analyze(None, (3, 8, 8)), "net"),
        (lambda: symconv.analyze(nn.Sequential(nn.ReLU()), None), "input_shape"),
        (lambda: symconv.analyze(nn.Sequential(nn.ReLU()), (3, 8, 8), None), "convention"),
        (lambda: symconv.exercise("1"), "exercise"),
        (lambda: symconv.exercise([1]), "exercise"),
        (lambda: symconv.solve(1, kernel_size=None), "kernel_size"),
        (lambda: symconv.solve(1, kernel_size="7"), "kernel_size"),
        (lambda: symconv.solve(1, kernel_size=True), "kernel_size"),
        (lambda: symconv.derive(None), "formula"),
        (lambda: symconv.derive("224"), "formula"),
        (lambda: nn.Concat(crop=True), "branches"),
        (lambda: symconv.symbols("H", None), "name"),
    ],
)
def test_public_functions_name_the_bad_argument(call, argument):
    with pytest.raises(SymconvError, match=rf"^{argument}="):
        call()
