"""Variants: reproducible draws, constraints, keys, rosters and pins, every answer recomputed with torch."""

import json
import os
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from symconv.cli import main as cli
from symconv.cli.variants import Progress
from symconv.core.errors import SymconvError
from symconv.core.solution import Worked
from symconv.teaching import domains, exercises, stress, variants
from symconv.teaching.exercises import Exercise
from symconv.teaching.publish import latexmk_available

PARAMETRISED = (1, 2, 3, 4, 5, 6, 9, 10, 28)
OUTPUTS = ("questions.tex", "solutions.tex", "key.json", "moodle.xml")
AWKWARD_NAME = "O'Brien & <Co> 100%_#"


# --- the truth, from torch ---------------------------------------------------------------------------


def torch_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    x = torch.empty(1, 1, n, n, device="meta")
    w = torch.empty(1, 1, kernel_size, kernel_size, device="meta")
    return F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation).shape[-1]


def torch_field(layers):
    """Width of the input region one output of a stack of (kernel, dilation) convolutions depends on (autograd)."""
    size = sum(d * (k - 1) for k, d in layers) + 3
    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = x
    for k, d in layers:
        y = F.conv2d(y, torch.ones(1, 1, k, k, dtype=torch.float64), dilation=d)
    y[0, 0, 0, 0].backward()
    columns = torch.nonzero(x.grad[0, 0].sum(0)).flatten()
    return int(columns.max() - columns.min() + 1)


def torch_strided_span(kernel_size, dilation, stride):
    """Width of the input region, and the number of input pixels, one output of a dilated convolution touches
    behind a stride-``stride`` layer (autograd)."""
    size = dilation * (kernel_size - 1) * stride + 1
    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = F.conv2d(x, torch.ones(1, 1, 1, 1, dtype=torch.float64), stride=stride)
    y = F.conv2d(y, torch.ones(1, 1, kernel_size, kernel_size, dtype=torch.float64), dilation=dilation)
    y[0, 0, 0, 0].backward()
    rows, columns = torch.nonzero(x.grad[0, 0], as_tuple=True)
    return int(columns.max() - columns.min() + 1), len(rows)


def torch_params(in_channels, out_channels, kernel_size, groups=1, bias=True):
    layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias, device="meta")
    return sum(p.numel() for p in layer.parameters())


def torch_macs(in_channels, out_channels, kernel_size, h, w, groups=1):
    """MACs of a size-keeping convolution, from torch's FLOP counter (2 FLOPs per MAC)."""
    x = torch.empty(1, in_channels, h, w, device="meta")
    weight = torch.empty(out_channels, in_channels // groups, kernel_size, kernel_size, device="meta")
    with FlopCounterMode(display=False) as counter:
        y = F.conv2d(x, weight, padding=(kernel_size - 1) // 2, groups=groups)
    assert tuple(y.shape[-2:]) == (h, w)
    return counter.get_total_flops() // 2


def torch_average(n, kernel_size, stride):
    """The averaging convolution of 0..n²-1 as exact Fractions: torch sums integers exactly in float64."""
    x = torch.arange(n * n, dtype=torch.float64).reshape(1, 1, n, n)
    sums = F.conv2d(x, torch.ones(1, 1, kernel_size, kernel_size, dtype=torch.float64), stride=stride)[0, 0]
    return [[Fraction(int(value), kernel_size**2) for value in row] for row in sums.tolist()]


def truth(number, p):
    """Every answer of a variant, from its parameters alone; symbolic answers as functions of C."""
    if number in (1, 2):
        answers = {"output_size": torch_output_size(p["n"], p["kernel_size"], p["stride"], p["padding"], p["dilation"])}
        if number == 2:
            answers["effective_kernel_size"] = torch_field([(p["kernel_size"], p["dilation"])])
        return answers
    if number == 3:
        return {"params": torch_params(p["in_channels"], p["out_channels"], p["kernel_size"], p["groups"], p["bias"])}
    if number == 4:
        output = torch_average(p["n"], p["kernel_size"], p["stride"])
        return {"output": output, "output_shape": [len(output), len(output[0])]}
    if number in (5, 6):
        field = torch_field([(p["kernel_size"], 1)] * p["depth"])
        return {
            "receptive_field": field,
            "params_stack": lambda c: p["depth"] * torch_params(c, c, p["kernel_size"], bias=False),
            "params_single": lambda c: torch_params(c, c, field, bias=False),
        }
    if number == 28:
        span, touched = torch_strided_span(p["kernel_size"], p["dilation"], p["output_stride"])
        return {
            "receptive_field": torch_field([(p["kernel_size"], p["dilation"])]),
            "input_span": span,
            "weighted_cells": touched,
        }
    c_in, c_out, k, h, w = (p[name] for name in ("in_channels", "out_channels", "kernel_size", "out_h", "out_w"))
    if number == 9:
        return {"macs": torch_macs(c_in, c_out, k, h, w)}
    if number == 10:
        separable = torch_macs(c_in, c_in, k, h, w, groups=c_in) + torch_macs(c_in, c_out, 1, h, w)
        standard = torch_macs(c_in, c_out, k, h, w)
        separable_params = torch_params(c_in, c_in, k, groups=c_in, bias=False) + torch_params(c_in, c_out, 1, bias=False)
        standard_params = torch_params(c_in, c_out, k, bias=False)
        return {
            "macs": separable,
            "params": separable_params,
            "standard_macs": standard,
            "standard_params": standard_params,
            "macs_ratio": Fraction(standard, separable),
            "params_ratio": Fraction(standard_params, separable_params),
        }
    raise AssertionError(f"no truth for exercise {number}")


def assert_agrees(actual, expected, as_json=False):
    """Exact answers equal the truth; key.json's forms are its JSON images (Fractions as floats, symbols as text)."""
    if callable(expected):
        expression = sympy.sympify(actual) if as_json else actual
        for channels in (1, 3, 16):
            assert expression.subs({symbol: channels for symbol in expression.free_symbols if symbol.name == "C"}) == expected(
                channels
            )
    elif isinstance(expected, list):
        actual = actual.tolist() if hasattr(actual, "tolist") else actual
        assert len(actual) == len(expected)
        for got, want in zip(actual, expected):
            assert_agrees(got, want, as_json)
    elif isinstance(expected, Fraction) and as_json:
        assert actual == float(expected)
    else:
        assert actual == expected and type(actual) is not float


# --- sampling ------------------------------------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**40), number=st.sampled_from(PARAMETRISED))
def test_every_drawn_variant_is_valid_and_its_answers_match_torch(seed, number):
    exercise = exercises.get(number)
    for variant in variants.sample(exercise, seed, 2):
        solution = variant.solution()
        expected = truth(number, variant.params)
        assert set(solution.answers) == set(expected)
        for name, value in solution.answers.items():
            assert_agrees(value, expected[name])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**40))
def test_size_variants_keep_padding_within_the_kernel(seed):
    for number in (1, 2):
        for variant in variants.sample(exercises.get(number), seed, 3):
            p = variant.params
            span = p["dilation"] * (p["kernel_size"] - 1) + 1 if number == 1 else p["kernel_size"]
            assert 2 * p["padding"] <= span


def test_about_half_the_size_variants_have_a_floor_that_drops_a_remainder():
    drawn = variants.sample(exercises.get(1), 11, 100)  # half the 198 distinct valid variants
    dropped = [
        (p["n"] + 2 * p["padding"] - p["dilation"] * (p["kernel_size"] - 1) - 1) % p["stride"] != 0
        for p in (v.params for v in drawn)
    ]
    assert 0.4 <= sum(dropped) / len(dropped) <= 0.6


def test_same_seed_same_variants_and_a_prefix_does_not_depend_on_the_set_size():
    exercise = exercises.get(2)
    five, three = variants.sample(exercise, 5, 5), variants.sample(exercise, 5, 3)
    assert [(v.id, v.params) for v in five[:3]] == [(v.id, v.params) for v in three]


def test_different_seeds_give_different_variants():
    exercise = exercises.get(1)
    first, second = variants.sample(exercise, 1, 5), variants.sample(exercise, 2, 5)
    assert {v.id for v in first}.isdisjoint(v.id for v in second)
    assert [v.params for v in first] != [v.params for v in second]


def test_a_set_never_repeats_a_question():
    drawn = variants.sample(exercises.get(28), 0, 9)  # all nine kernel/rate pairs
    assert len({(v.params["kernel_size"], v.params["dilation"]) for v in drawn}) == 9
    half = variants.distinct_valid(exercises.get(9), {}) // 2
    macs = variants.sample(exercises.get(9), 0, half)
    questions = {(v.params["in_channels"], v.params["out_channels"], v.params["out_h"], v.params["out_w"]) for v in macs}
    assert len(questions) == half > 40 and all(v.params["out_h"] == v.params["out_w"] for v in macs)


def test_more_variants_than_exist_is_refused():
    with pytest.raises(SymconvError, match=r"-n=10: exercise 28 has only 9 distinct variants"):
        variants.sample(exercises.get(28), 0, 10)
    # 25 kernel and padding pairs; at stride 4 only 7×7 and 11×11 kernels, each padded by 0 or K // 2.
    with pytest.raises(SymconvError, match=r"-n=7: exercise 1 has only 4 distinct valid variants with the pinned parameters"):
        variants.sample(exercises.get(1), 0, 7, {"n": 224, "stride": 4})


def test_a_domain_too_tight_is_reported_with_its_rejection_rate():
    def solve(params):
        return Worked(blocks=(), answers={"x": params["x"]})

    impossible = Exercise(
        number=99,
        title="t",
        question="q",
        solve=solve,
        defaults={"x": 1},
        domains={"x": domains.IntRange(1, 10**6)},
        constraints=(domains.Constraint("x is negative", lambda p: p["x"] < 0),),
    )
    with pytest.raises(SymconvError) as raised:
        variants.sample(impossible, 0, 1)
    assert str(raised.value) == (
        "exercise=99: domain too tight: no acceptable variant in 1000 draws; 1000 of 1000 draws rejected (100.0%), "
        "most often (1000) because: x is negative"
    )


def test_exercises_without_domains_are_not_parametrised():
    exercise = Exercise(number=99, title="t", question="q", solve=None, defaults={"n": 1})
    assert not exercise.parametrised
    with pytest.raises(SymconvError, match="exercise=99: not parametrised"):
        variants.sample(exercise, 0, 1)


def test_prose_only_exercises_say_why_they_have_no_variants():
    exercise = exercises.get(29)
    assert exercise.prose_only and not exercise.parametrised
    with pytest.raises(SymconvError, match="exercise=29: prose only: the answer explains"):
        variants.sample(exercise, 0, 1)


def test_a_domain_must_name_a_parameter():
    with pytest.raises(SymconvError, match="domains='k': exercise 99 has parameters \\['n'\\]"):
        Exercise(number=99, title="t", question="q", solve=None, defaults={"n": 1}, domains={"k": domains.IntRange(1, 3)})


def test_pins_hold_in_every_variant_and_are_part_of_its_identity():
    exercise = exercises.get(1)
    pinned = variants.sample(exercise, 4, 20, {"kernel_size": 5})
    assert {v.params["kernel_size"] for v in pinned} == {5}
    assert {v.id for v in pinned}.isdisjoint(v.id for v in variants.sample(exercise, 4, 20))


@pytest.mark.parametrize(
    "texts, message",
    [
        (["foo=1"], "--param='foo=1': unknown parameter 'foo'"),
        (["kernel_size"], "--param='kernel_size': must be name=value"),
        (["kernel_size=five"], "--param='kernel_size=five': must be an integer"),
        (["bias=false"], "--param='bias=false': 'bias' is not stated in the questions"),
        (["rates=1"], "--param='rates=1': 'rates' is not stated in the questions"),
    ],
)
def test_bad_pins_are_refused(texts, message):
    with pytest.raises(SymconvError, match=message.replace("(", r"\(").replace(")", r"\)")):
        variants.parse_pins(texts, [exercises.get(3), exercises.get(28)])


def test_pin_values_follow_the_types_of_the_defaults():
    def solve(params):
        return Worked(blocks=(), answers={})

    stated = Exercise(99, "t", "With bias {bias}, {sizes} and {n}?", solve, defaults={"bias": True, "sizes": (1, 2), "n": 3})
    assert variants.parse_pins(["bias=false", "n=5"], [stated]) == {"bias": False, "n": 5}
    with pytest.raises(SymconvError, match="--param='bias=maybe': must be true or false"):
        variants.parse_pins(["bias=maybe"], [stated])
    with pytest.raises(SymconvError, match="--param='sizes=1': a parameter holding tuple values cannot be pinned"):
        variants.parse_pins(["sizes=1"], [stated])


def test_domains_draw_inside_their_bounds_and_reach_every_value():
    import random

    rng = random.Random(0)
    assert {domains.IntRange(2, 10, 4).draw(rng) for _ in range(200)} == {2, 6, 10}
    assert {domains.Choice("a", "b").draw(rng) for _ in range(200)} == {"a", "b"}
    with pytest.raises(SymconvError):
        domains.IntRange(5, 1)


# --- bulk answers on arrays ---------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [1, 2, 3, 9, 10, 28])
def test_array_answers_match_torch_on_sampled_rows(number):
    exercise = exercises.get(number)
    arrays = stress.sample_arrays(exercise, 3, 2000)
    answers = stress.answer_arrays(exercise, arrays)
    for row in range(0, 2000, 97):
        params = {name: value[row].item() if hasattr(value, "shape") else value for name, value in arrays.items()}
        expected = truth(number, params)
        for name, column in answers.items():
            assert column[row].item() == expected[name]
    if number in (1, 2):  # every row is a convolution torch accepts, padding within the kernel
        for row in range(0, 2000, 41):
            p = {name: value[row].item() if hasattr(value, "shape") else value for name, value in arrays.items()}
            assert torch_output_size(p["n"], p["kernel_size"], p["stride"], p["padding"], p["dilation"]) >= 1
            assert 2 * p["padding"] <= p["dilation"] * (p["kernel_size"] - 1) + 1


def test_array_answers_need_a_hook():
    with pytest.raises(SymconvError, match="exercise=4: declares no array_answers hook"):
        stress.answer_arrays(exercises.get(4), {})


# --- rosters ---------------------------------------------------------------------------------------------------


def test_roster_reads_ids_and_names(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(f'\ufeffName,ID,email\n"{AWKWARD_NAME}",s1,a@b\nAda,s2,c@d\n\n', encoding="utf-8")
    assert variants.read_roster(roster) == [variants.Student("s1", AWKWARD_NAME), variants.Student("s2", "Ada")]


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "the roster is empty"),
        ("id,name\n", "the roster is empty"),
        ("name\nAda\n", "has no 'id' column"),
        ("id,name\ns1,Ada\ns1,Bob\n", "student id 's1' appears twice (lines 2 and 3)"),
        ("id,name\ns1,Ada,extra\n", "line 2 has 3 fields where the header has 2"),
        ("id,name\n ,Ada\n", "line 2 has an empty id"),
        ("id,name\ns1,A\x07da\n", "line 2 contains a control character"),
    ],
)
def test_bad_rosters_stop_the_run_with_one_line_and_no_files(content, message, tmp_path, run):
    roster = tmp_path / "roster.csv"
    roster.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = run("variants", "--seed", 1, "--students", roster, "--exercises", "1", "--out", out)
    assert (code, stdout) == (2, "")
    assert stderr.startswith("error: --students=") and stderr.count("\n") == 1 and message in stderr
    assert not out.exists()


def test_a_students_set_does_not_depend_on_the_rest_of_the_roster():
    ada, bob = variants.Student("s1", "Ada"), variants.Student("s2", "Bob")
    exercise = exercises.get(3)
    alone = variants.sample(exercise, 8, 2, student=ada)
    assert [v.params for v in alone] == [v.params for v in variants.sample(exercise, 8, 2, student=ada)]
    assert [v.params for v in alone] != [v.params for v in variants.sample(exercise, 8, 2, student=bob)]


# --- the command line ---------------------------------------------------------------------------------------------


@pytest.fixture
def run(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMAND_MODULES", tuple(dict.fromkeys((*cli.COMMAND_MODULES, "symconv.cli.variants"))))

    def call(*argv):
        code = cli.main([str(argument) for argument in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_key_json_answers_match_torch_for_every_variant(tmp_path, run):
    code, stdout, _ = run(
        "variants", "--seed", 2024, "-n", 3, "--exercises", "1-6,9,10,28", "--out", tmp_path, "--format", "json"
    )
    assert code == 0 and f"wrote {tmp_path / 'key.json'}" in stdout
    key = json.loads((tmp_path / "key.json").read_text())
    assert (key["generator"], key["seed"], key["pinned"]) == (variants.GENERATOR, 2024, {})
    assert [entry["exercise"] for entry in key["variants"]] == [number for number in PARAMETRISED for _ in range(3)]
    assert len({entry["id"] for entry in key["variants"]}) == len(key["variants"])
    for entry in key["variants"]:
        expected = truth(entry["exercise"], entry["params"])
        assert set(entry["answers"]) == set(expected)
        for name, value in entry["answers"].items():
            assert_agrees(value, expected[name], as_json=True)


def test_a_variant_is_regenerated_from_its_key_entry(tmp_path, run):
    run("variants", "--seed", 77, "-n", 4, "--exercises", "2", "--out", tmp_path, "--format", "json")
    entry = json.loads((tmp_path / "key.json").read_text())["variants"][3]
    again = variants.sample(exercises.get(entry["exercise"]), 77, entry["index"] + 1)[entry["index"]]
    assert (again.id, dict(again.params)) == (entry["id"], entry["params"])
    # …and its parameters alone pin the same question and answers.
    pins = [f"{name}={value}" for name, value in entry["params"].items()]
    run(
        "variants",
        "--seed",
        0,
        "-n",
        1,
        "--exercises",
        "2",
        "--out",
        tmp_path / "pinned",
        "--format",
        "json",
        *sum((["--param", p] for p in pins), []),
    )
    pinned = json.loads((tmp_path / "pinned" / "key.json").read_text())["variants"][0]
    assert (pinned["params"], pinned["answers"]) == (entry["params"], entry["answers"])


def test_outputs_are_byte_identical_across_processes_and_differ_across_seeds(tmp_path, run):
    roster = tmp_path / "roster.csv"
    roster.write_text(f'id,name\ns1,"{AWKWARD_NAME}"\ns2,Ada\n', encoding="utf-8")
    arguments = ["variants", "--seed", 9, "--students", roster, "-n", 2, "--format", "latex,json,moodle"]
    assert run(*arguments, "--out", tmp_path / "here")[0] == 0
    script = (
        "import sys; from symconv.cli import main as cli; "
        "cli.COMMAND_MODULES = tuple(dict.fromkeys((*cli.COMMAND_MODULES, 'symconv.cli.variants'))); sys.exit(cli.main(sys.argv[1:]))"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    command = [sys.executable, "-c", script, *map(str, arguments), "--out", str(tmp_path / "there")]
    subprocess.run(command, check=True, capture_output=True, env=environment, cwd=tmp_path)
    for name in OUTPUTS:
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "there" / name).read_bytes(), name
    assert run(*arguments[:2], 10, *arguments[3:], "--out", tmp_path / "other")[0] == 0
    for name in OUTPUTS:
        assert (tmp_path / "here" / name).read_bytes() != (tmp_path / "other" / name).read_bytes(), name


def test_awkward_names_are_escaped_in_every_output(tmp_path, run):
    roster = tmp_path / "roster.csv"
    roster.write_text(f'id,name\n"s<1>&","{AWKWARD_NAME}"\n', encoding="utf-8")
    assert (
        run(
            "variants",
            "--seed",
            1,
            "--students",
            roster,
            "--exercises",
            "1,4",
            "--out",
            tmp_path,
            "--format",
            "latex,json,moodle",
        )[0]
        == 0
    )
    escaped = r"O'Brien \& <Co> 100\%\_\#"
    for name in ("questions.tex", "solutions.tex"):
        tex = (tmp_path / name).read_text()
        assert escaped in tex and AWKWARD_NAME not in tex
    key = json.loads((tmp_path / "key.json").read_text())
    assert {json.dumps(entry["student"]) for entry in key["variants"]} == {json.dumps({"id": "s<1>&", "name": AWKWARD_NAME})}
    from xml.etree import ElementTree

    quiz = ElementTree.parse(tmp_path / "moodle.xml").getroot()
    names = [question.findtext("name/text") for question in quiz.iter("question") if question.get("type") != "category"]
    assert len(names) == 2 and all(f"{AWKWARD_NAME} (s<1>&)" in name for name in names)


def test_roster_sets_hold_one_variant_per_exercise_per_student(tmp_path, run):
    roster = tmp_path / "roster.csv"
    roster.write_text("id\na\nb\nc\n", encoding="utf-8")
    run("variants", "--seed", 3, "--students", roster, "--exercises", "1-3", "--out", tmp_path, "--format", "json,latex")
    key = json.loads((tmp_path / "key.json").read_text())
    assert [(e["student"]["id"], e["exercise"]) for e in key["variants"]] == [(s, n) for s in "abc" for n in (1, 2, 3)]
    questions = (tmp_path / "questions.tex").read_text()
    assert all(entry["id"] in questions for entry in key["variants"]) and questions.count("\\clearpage") == 2


def test_a_range_skips_the_exercises_without_variants_and_says_why(tmp_path, run, monkeypatch):
    from symconv.teaching import exercises as registry

    prose = [number for number, exercise in registry.load().items() if exercise.prose_only]
    assert 0 < len(prose) <= 4
    code, stdout, _ = run("variants", "--seed", 2, "-n", 1, "--exercises", "28-29,34", "--out", tmp_path, "--format", "json")
    assert code == 0
    assert [json.loads((tmp_path / "key.json").read_text())["variants"][0]["exercise"]] == [28]
    assert "skipped exercise 29: prose only: the answer explains" in stdout
    assert "skipped exercise 34: prose only: the answer is a judgement" in stdout
    code, stdout, _ = run("list")
    assert code == 0 and all(f"(prose only: {registry.get(number).prose_only})" in stdout for number in prose)
    code, stdout, stderr = run("stress", 29, "-n", 5)
    assert (code, stdout) == (2, "") and stderr.startswith("error: exercise=29: prose only: ")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-n", "20", "--exercises", "28"], "-n=20: exercise 28 has only 9 distinct variants"),
        (["-n", "2", "--param", "stride=x"], "--param='stride=x': must be an integer"),
        (["-n", "2", "--param", "wings=2"], "--param='wings=2': unknown parameter 'wings'"),
        (["-n", "2", "--exercises", "29,34"], "exercise=29: prose only"),
        (["-n", "2", "--format", "latex,docx"], "--format='latex,docx': must be a comma-separated list"),
        (["--exercises", "1"], "-n=None: give the number of variants"),
    ],
)
def test_bad_variant_requests_are_one_line_exit_two_and_write_nothing(argv, message, tmp_path, run):
    code, stdout, stderr = run("variants", "--seed", 1, "--out", tmp_path / "out", *argv)
    assert (code, stdout) == (2, "")
    assert stderr.startswith("error: ") and stderr.count("\n") == 1 and message in stderr
    assert not (tmp_path / "out").exists()


def test_pinned_parameters_reach_every_output(tmp_path, run):
    run(
        "variants",
        "--seed",
        5,
        "-n",
        4,
        "--exercises",
        "1,3",
        "--param",
        "kernel_size=5",
        "--out",
        tmp_path,
        "--format",
        "json,latex",
    )
    key = json.loads((tmp_path / "key.json").read_text())
    assert key["pinned"] == {"kernel_size": 5}
    assert {entry["params"]["kernel_size"] for entry in key["variants"]} == {5}
    assert (tmp_path / "questions.tex").read_text().count(r"5\(\times\)5") == 8


def test_stress_reports_ranges_rejections_duplicates_and_cost(run):
    code, stdout, _ = run("stress", "1", "-n", "300")
    assert code == 0
    rows = {line.split()[0]: line.split() for line in stdout.splitlines() if line.strip()}
    assert 7 <= int(rows["n"][1]) <= int(rows["n"][2]) <= 299 and rows["kernel_size"][1:4] == ["1", "11", "5"]
    assert int(rows["output_size"][1]) >= 1
    for phrase in (
        "rejected as invalid",
        "padding at most half",
        "interest: the floor drops",
        "duplicates:",
        "of 198 distinct valid variants",
        "time per variant",
    ):
        assert phrase in stdout
    assert run("stress", "29")[0] == 2


def test_progress_bar_only_on_a_terminal():
    class Stream:
        def __init__(self, terminal):
            self.terminal, self.text = terminal, ""

        def isatty(self):
            return self.terminal

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    for terminal in (False, True):
        stream = Stream(terminal)
        progress = Progress(100, "variants", stream)
        for _ in range(100):
            progress()
        progress.close()
        assert ("100/100" in stream.text) is terminal


@pytest.mark.tex
@pytest.mark.skipif(not latexmk_available(), reason="needs latexmk")
def test_pdfs_compile_with_awkward_names(tmp_path, run):
    roster = tmp_path / "roster.csv"
    roster.write_text(f'id,name\n"#1","{AWKWARD_NAME}"\n', encoding="utf-8")
    code, stdout, _ = run(
        "variants", "--seed", 1, "--students", roster, "--exercises", "1,4,10", "--out", tmp_path / "out", "--format", "pdf"
    )
    assert code == 0
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "questions.pdf",
        "questions.tex",
        "solutions.pdf",
        "solutions.tex",
    ]
    assert (tmp_path / "out" / "solutions.pdf").read_bytes().startswith(b"%PDF")


def test_a_late_failure_leaves_the_output_folder_as_it_was(tmp_path, run, monkeypatch):
    import symconv.teaching.publish

    def failing(tex):
        raise SymconvError(f"{tex}: LaTeX failed: Undefined control sequence")

    monkeypatch.setattr(symconv.teaching.publish, "latexmk_available", lambda: True)
    monkeypatch.setattr(symconv.teaching.publish, "compile_pdf", failing)
    (tmp_path / "key.json").write_text("earlier run\n")
    code, _, stderr = run("variants", "--seed", 1, "-n", 2, "--exercises", "1", "--out", tmp_path, "--format", "pdf,json")
    assert code == 2 and "LaTeX failed" in stderr
    assert [path.name for path in tmp_path.iterdir()] == ["key.json"]
    assert (tmp_path / "key.json").read_text() == "earlier run\n"


def test_roster_errors_name_the_file_line(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text('id,name\n\ns1,Ada\n\ns1,"Bob"\n', encoding="utf-8")
    with pytest.raises(SymconvError, match=r"student id 's1' appears twice \(lines 3 and 5\)"):
        variants.read_roster(roster)


@pytest.mark.parametrize("number", [14, 21, 25])
def test_architecture_variants_against_torch(number):
    """Variants of the newer parametrised exercises: every main answer recomputed by torch."""
    for variant in variants.sample(exercises.get(number), seed=11, count=15):
        p, answers = variant.params, variant.solution().answers
        if number == 14:
            head = torch.nn.Linear(p["channels"] * p["height"] * p["width"], p["classes"], device="meta")
            assert answers["flatten_head_params"] == sum(t.numel() for t in head.parameters())
        elif number == 21:
            k, c, r = p["kernel_size"], p["channels"], p["reduction"]
            reduced = torch.nn.Sequential(
                torch.nn.Conv2d(c, r, 1, bias=False), torch.nn.Conv2d(r, c, k, padding=k // 2, bias=False)
            )
            with FlopCounterMode(display=False) as counter:
                reduced(torch.zeros(1, c, p["size"], p["size"], device="meta"))
            assert answers["macs_factorised"] == counter.get_total_flops() // 2
        else:
            head = torch.nn.Conv2d(1024, 5 * p["boxes"] + p["classes"], 1, device="meta")
            shape = head(torch.zeros(1, 1024, p["grid"], p["grid"], device="meta")).shape
            assert answers["outputs"] == shape[1] * shape[2] * shape[3]


def test_receptive_field_variants_against_autograd():
    """Exercise 7's variants: the field one output unit sees, measured by backpropagation in torch."""
    from test_core_exercises import ones_conv, receptive_field_by_gradient

    for variant in variants.sample(exercises.get(7), seed=3, count=12):
        p = variant.params
        pool = lambda: torch.nn.AvgPool2d(p["pool_kernel"], p["pool_stride"])  # noqa: E731
        layers = torch.nn.Sequential(ones_conv(p["conv1_kernel"]), pool(), ones_conv(p["conv2_kernel"]), pool())
        assert variant.solution().answers["receptive_field"] == receptive_field_by_gradient(layers, size=96)


def test_stress_counts_the_distinct_variants_or_says_how_many_combinations_the_domains_hold():
    assert "of 198 distinct valid variants" in stress.stress(exercises.get(1), 3).text()
    report = stress.stress(exercises.get(26), 3)
    layouts = len(exercises.get(26).domains["truths"])
    assert report.combinations == layouts * exercises.get(26).domains["detections"].count and report.combinations_at_least
    assert f"the domains hold {report.combinations:,} combinations or more before constraints" in report.text()
