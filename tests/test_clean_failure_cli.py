"""Clean failure on the command line: bad arguments, user code that raises or exits, impossible
questions and bad plot targets all end in one ``error:`` line and exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symconv.cli.main import MAX_EXERCISES, main, parse_exercise_list
from symconv.core.errors import SymconvError

ROOT = Path(__file__).resolve().parent.parent
UNICODE_DIGITS = st.characters(categories=["Nd", "No"]).filter(lambda c: not ("0" <= c <= "9"))
HUGE = st.integers(min_value=10**6, max_value=10**40)


def one_error_line(capsys, *fragments: str) -> str:
    """The run printed exactly one line, to stderr, opening with ``error:`` and holding every fragment."""
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: "), captured.err
    assert "Traceback" not in captured.err
    for fragment in fragments:
        assert fragment in captured.err, (fragment, captured.err)
    return captured.err


def cli(*arguments: object) -> subprocess.CompletedProcess:
    """The real console entry point, in a process of its own (what a user sees, tracebacks included)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "symconv", *map(str, arguments)], capture_output=True, text=True, env=environment, timeout=120
    )


@pytest.fixture
def a_file(tmp_path):
    """A plain file: as an output folder it fails the folder check before any work is done."""
    path = tmp_path / "a-file"
    path.write_text("not a folder\n")
    return path


# ---- exercise lists ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, rule",
    [
        ("²", "must be numbers and ranges"),
        ("1-", "must be numbers and ranges"),
        ("-3", "must be numbers and ranges"),
        ("1--3", "must be numbers and ranges"),
        ("١", "must be numbers and ranges"),
        ("1-99999999999999", f"lists at most {MAX_EXERCISES} exercises"),
        ("1-100000000", f"lists at most {MAX_EXERCISES} exercises"),
        ("9" * 400, "must be numbers and ranges"),
    ],
)
def test_bad_exercise_lists(text, rule, a_file, capsys):
    assert main(["sheet", "--exercises", text, "--no-pdf", "--out", str(a_file)]) == 2
    one_error_line(capsys, "--exercises=", rule)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(
        st.one_of(
            st.integers(0, 10**30).map(str),
            st.tuples(st.integers(0, 2000), st.integers(0, 10**20)).map(lambda pair: f"{pair[0]}-{pair[1]}"),
            st.text(UNICODE_DIGITS, min_size=1, max_size=3),
            st.text(st.sampled_from("0123456789-, "), max_size=8),
        ),
        min_size=1,
        max_size=6,
    ).map(",".join)
)
def test_exercise_lists_parse_or_fail_cleanly(text):
    try:
        numbers = parse_exercise_list(text)
    except SymconvError as error:
        assert str(error).startswith(f"--exercises={text!r}: ")
        return
    assert len(numbers) == len(set(numbers)) <= MAX_EXERCISES
    assert all(isinstance(number, int) and number >= 0 for number in numbers)
    listed = []  # the same list by a plain reading: every part a number or a range, repeats dropped
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        listed += range(int(first), int(last or first) + 1)
    assert numbers == list(dict.fromkeys(listed))


def test_repeated_exercises_are_merged_in_order():
    assert parse_exercise_list("3,1-3,2,3,1") == [3, 1, 2]
    assert parse_exercise_list(",".join(["1-5"] * 5000)) == [1, 2, 3, 4, 5]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(UNICODE_DIGITS, min_size=1, max_size=3), HUGE.map(lambda n: f"1-{n}")))
def test_the_sheet_command_never_crashes_on_an_exercise_list(text, a_file, capsys):
    assert main(["sheet", "--exercises", text, "--no-pdf", "--out", str(a_file)]) == 2
    one_error_line(capsys, "--exercises=")


# ---- network inputs and sweeps ------------------------------------------------------------------


@pytest.fixture
def tiny_model(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text("from symconv import nn\n\ndef net():\n    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())\n")
    return f"{path}:net"


@pytest.mark.parametrize("text", ["3x²x²", "3xlambdaxlambda", "3x٣x٣", "3x0x4", "3x-4x4", "3xNonexNone", "3x4.5x4", "3x", "x"])
def test_bad_network_inputs(text, tiny_model, capsys):
    assert main(["analyze", tiny_model, "--input", text]) == 2
    one_error_line(capsys)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    height=st.one_of(st.text(UNICODE_DIGITS, min_size=1, max_size=2), st.sampled_from(["lambda", "def", "if", "", "H W", "²H"])),
)
def test_network_inputs_from_hypothesis(height, tiny_model, capsys):
    assert main(["analyze", tiny_model, "--input", f"3x{height}x8"]) == 2
    one_error_line(capsys)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.one_of(st.integers(-(10**30), 0).map(str), st.sampled_from(["1/2", "true", "²", "x"])))
def test_a_model_sweep_with_a_bad_size(size, capsys):
    assert main(["sweep", "cifar_resnet20", f"size={size}"]) == 2
    one_error_line(capsys, "size")


def test_a_model_sweep_at_one_size_is_a_table_of_one_row(capsys):
    assert main(["sweep", "resnet18", "size=224"]) == 0
    assert "1,814,073,344" in capsys.readouterr().out  # torchvision's published MACs of ResNet-18


# ---- user code: model files and derivations ------------------------------------------------------

FACTORIES = {
    "raises": ("def net():\n    raise ValueError('no such width')\n", "net()", "ValueError: no such width"),
    "needs arguments": ("def net(width):\n    return None\n", "net()", "TypeError"),
    "recurses": ("def net():\n    return net()\n", "net()", "RecursionError"),
    "exits 3": ("import sys\n\ndef net():\n    sys.exit(3)\n", "net()", "sys.exit(3)"),
    "exits 0": ("import sys\n\ndef net():\n    sys.exit(0)\n", "net()", "sys.exit(0)"),
    "exits on import": ("import sys\nsys.exit('bye')\n\ndef net():\n    pass\n", "failed to load", "sys.exit('bye')"),
    "raises on import": ("1 / 0\n", "failed to load", "ZeroDivisionError"),
    "multi-line message": ("def net():\n    raise RuntimeError('one\\ntwo\\n\\nthree')\n", "net()", "one two three"),
    "bad layer size": ("from symconv import nn\n\ndef net():\n    return nn.GroupNorm(0, 8)\n", "", "num_groups=0"),
    "forward raises": (
        textwrap.dedent(
            """
            from symconv import nn

            class Broken(nn.Layer):
                def forward(self, shape):
                    raise KeyError("channels")

            def net():
                return nn.Sequential(nn.ReLU(), Broken())
            """
        ),
        "model=",
        "KeyError: 'channels'",
    ),
}


@pytest.mark.parametrize("case", FACTORIES)
def test_user_model_files_fail_cleanly(case, tmp_path, capsys):
    source, where, what = FACTORIES[case]
    path = tmp_path / "user_model.py"
    path.write_text(source)
    assert main(["analyze", f"{path}:net", "--input", "3x8x8"]) == 2
    one_error_line(capsys, where, what)


def test_sys_exit_in_a_factory_is_exit_status_two_in_a_real_process(tmp_path):
    path = tmp_path / "exiting.py"
    path.write_text(FACTORIES["exits 3"][0])
    completed = cli("analyze", f"{path}:net", "--input", "3x8x8")
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.startswith("error: ") and completed.stderr.count("\n") == 1 and "net()" in completed.stderr


EXERCISE = """
from symconv.teaching.exercises import Exercise

def solve(params):
    {body}

EXERCISE = Exercise(1, "A broken exercise", "What is it?", solve)
"""


@pytest.mark.parametrize(
    "body, what",
    [
        ("raise KeyError('missing')", "KeyError: 'missing'"),
        ("return 1 / 0", "ZeroDivisionError"),
        ("return solve(params)", "RecursionError"),
        ("import sys; sys.exit(3)", "sys.exit(3)"),
        ("return None", "returned NoneType, not Worked"),
    ],
)
def test_a_derivation_whose_solve_fails(body, what, tmp_path, capsys):
    (tmp_path / "ex01_broken.py").write_text(EXERCISE.format(body=body))
    assert main(["--derivations", str(tmp_path), "solve", "1"]) == 2
    one_error_line(capsys, "exercise 1 (ex01_broken.py)", what)


@pytest.mark.parametrize("text", ["", " "])
def test_an_empty_derivations_name_is_an_error(text, capsys):
    assert main(["--derivations", text, "list"]) == 2
    one_error_line(capsys, "--derivations", "must name a folder")


def test_an_empty_derivations_folder_is_an_error(tmp_path, capsys):
    (tmp_path / "_helpers.py").write_text("X = 1\n")
    (tmp_path / "notes.txt").write_text("no exercises here\n")
    assert main(["--derivations", str(tmp_path), "list"]) == 2
    one_error_line(capsys, "holds no exercise modules")


def test_an_unreadable_derivations_folder_is_an_error(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "ex01_a.py").write_text(EXERCISE.format(body="return None"))
    reading = Path.iterdir

    def refused(path):
        if path == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return reading(path)

    monkeypatch.setattr(Path, "iterdir", refused)  # root reads any folder, so the refusal is injected
    assert main(["--derivations", str(folder), "list"]) == 2
    one_error_line(capsys, f"derivations={str(folder)!r}", "cannot be read: Permission denied")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_a_folder_without_read_permission_is_an_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "ex01_a.py").write_text(EXERCISE.format(body="return None"))
    folder.chmod(0)
    try:
        completed = cli("--derivations", folder, "list")
    finally:
        folder.chmod(0o755)
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert completed.stderr.startswith("error: derivations=") and completed.stderr.count("\n") == 1


# ---- solve-for ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "known, named",
    [
        ("kernel_size=0", "kernel_size=0"),
        ("stride=-2", "stride=-2"),
        ("stride=1/2", "stride=1/2"),
        ("dilation=0", "dilation=0"),
        ("n=0", "n=0"),
    ],
)
def test_solve_for_with_an_impossible_known_exits_two(known, named, capsys):
    defaults = {"n": "n=224", "kernel_size": "kernel_size=7", "stride": "stride=2"}
    defaults[known.partition("=")[0]] = known
    assert main(["solve-for", "conv_output_size", "padding", "112", *defaults.values()]) == 2
    one_error_line(capsys, named, "breaks the formula's rules")


def test_solve_for_explains_before_it_fails(capsys):
    assert main(["solve-for", "conv_output_size", "padding", "112", "n=224", "kernel_size=0", "--explain"]) == 2
    captured = capsys.readouterr()
    assert "N_out = ⌊(N + 2p − d(K − 1) − 1)/s⌋ + 1" in captured.out
    assert captured.err.startswith("error: kernel_size=0") and captured.err.count("\n") == 1


def test_a_genuinely_empty_answer_exits_zero_and_says_so(capsys):
    # With N = 224, K = 7 and no padding the output is at most 218 pixels: 300 cannot be reached.
    assert main(["solve-for", "conv_output_size", "stride", "300", "n=224", "kernel_size=7"]) == 0
    out = capsys.readouterr().out
    assert "s ∈ ∅" in out and "the question is valid and its answer is the empty set" in out


def test_a_pinned_parameter_that_rules_out_every_variant_is_named(tmp_path, capsys):
    assert (
        main(["variants", "--seed", "1", "-n", "1", "--exercises", "1", "--param", "kernel_size=0", "--out", str(tmp_path)]) == 2
    )
    one_error_line(capsys, "--param='kernel_size=0'")
    assert list(tmp_path.iterdir()) == []


# ---- plot targets -------------------------------------------------------------------------------

PLOT = ["plot", "conv_output_size", "n=8:12", "kernel_size=3"]


@pytest.mark.parametrize("target, rule", [("p", "must end in"), ("x.txt", "must end in"), ("dir/", "names a folder"), ("", "")])
def test_bad_plot_targets(target, rule, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*PLOT, "--out", target]) == 2
    one_error_line(capsys, "--out=", rule)
    assert list(tmp_path.iterdir()) == []


def test_a_plot_below_a_file_is_refused(a_file, capsys):
    assert main([*PLOT, "--out", str(a_file / "plot.png")]) == 2
    one_error_line(capsys, "--out=", "which is a file")


def test_a_plot_target_that_is_a_folder_is_refused(tmp_path, capsys):
    (tmp_path / "plot.png").mkdir()
    assert main([*PLOT, "--out", str(tmp_path / "plot.png")]) == 2
    one_error_line(capsys, "--out=")


@pytest.mark.parametrize("name, magic", [("sweep.png", b"\x89PNG"), ("sweep.pdf", b"%PDF"), ("sweep.svg", b"<?xml")])
def test_a_plot_writes_the_file_it_reports(name, magic, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    target = tmp_path / "figures" / name
    assert main([*PLOT, "--out", str(target)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {target}"
    assert sorted(path.name for path in target.parent.iterdir()) == [name]
    assert target.read_bytes().startswith(magic)


def test_an_empty_output_folder_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["sheet", "--exercises", "1", "--no-pdf", "--out", ""]) == 2
    one_error_line(capsys, "--out=''", "must name a folder")
    assert list(tmp_path.iterdir()) == []


# ---- what a user sees -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        ["sheet", "--exercises", "²", "--no-pdf"],
        ["analyze", "resnet18", "--input", "3x²x²"],
        ["analyze", "resnet18", "--input", "3xlambdaxlambda"],
        ["solve-for", "conv_output_size", "padding", "112", "n=224", "kernel_size=0"],
    ],
)
def test_no_traceback_in_a_real_process(arguments):
    completed = cli(*arguments)
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert completed.stderr.startswith("error: ") and completed.stderr.count("\n") == 1


def test_unicode_digit_categories_are_what_the_strategies_assume():
    assert unicodedata.category("²") == "No" and "²".isdigit() and not "²".isdecimal()


# ---- argument strings from hypothesis: exit 0 or one error line, nothing else ----------------------

NUMBER_TEXT = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.text(UNICODE_DIGITS, min_size=1, max_size=3),
    st.fractions(max_denominator=10**6).map(str),
    st.sampled_from(["", "true", "false", "1e3", "nan", "inf", "-0", "0x10", "1_000", " 3", "3 ", "H", "lambda", "²"]),
)
VALUE_TEXT = st.one_of(
    NUMBER_TEXT,
    st.tuples(NUMBER_TEXT, NUMBER_TEXT).map(":".join),
    st.tuples(NUMBER_TEXT, NUMBER_TEXT, NUMBER_TEXT).map(":".join),
    st.lists(NUMBER_TEXT, min_size=2, max_size=4).map(",".join),
)


def clean_exit(code: int, capsys) -> None:
    captured = capsys.readouterr()
    assert code in (0, 2)
    if code == 2:
        assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=VALUE_TEXT, kernel=VALUE_TEXT)
def test_sweep_arguments_from_hypothesis(n, kernel, capsys):
    clean_exit(main(["sweep", "conv_output_size", f"n={n}", f"kernel_size={kernel}"]), capsys)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=NUMBER_TEXT, kernel=NUMBER_TEXT, stride=NUMBER_TEXT)
def test_solve_for_arguments_from_hypothesis(target, kernel, stride, capsys):
    arguments = ["solve-for", "conv_output_size", "padding", target, "n=224", f"kernel_size={kernel}", f"stride={stride}"]
    clean_exit(main(arguments), capsys)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pin=NUMBER_TEXT, count=st.one_of(NUMBER_TEXT, st.just("1")))
def test_variant_arguments_from_hypothesis(pin, count, a_file, capsys):
    # The output folder is a file, so every valid request stops at the folder check: cheap, and still exit 2.
    arguments = ["variants", "--seed", "1", "-n", count, "--exercises", "1", "--param", f"kernel_size={pin}"]
    assert main([*arguments, "--out", str(a_file)]) == 2
    one_error_line(capsys)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    count=st.one_of(
        HUGE.map(str),
        st.integers(-(10**30), 0).map(str),
        # Digits int() refuses (², ½); the decimal digits of other scripts it reads (٣ is 3) would start real work.
        st.text(st.characters(categories=["No"]), min_size=1, max_size=2),
    )
)
def test_stress_counts_from_hypothesis(count, capsys):
    assert main(["stress", "1", "-n", count]) == 2
    one_error_line(capsys)


PARAMETRISED = """
from symconv.core.solution import Worked
from symconv.teaching.domains import Constraint, IntRange
from symconv.teaching.exercises import Exercise


def rule(params):
    {rule}


EXERCISE = Exercise(
    1,
    "A parametrised exercise",
    "Take {{n}}.",
    lambda params: Worked([], {{"n": params["n"]}}, "Done."),
    defaults={{"n": 5}},
    domains={{"n": IntRange(1, 50)}},
    constraints=(Constraint("a rule of the exercise's own", rule),),
)
"""


@pytest.mark.parametrize(
    "rule, what",
    [("raise RuntimeError('rule broke')", "RuntimeError: rule broke"), ("import sys; sys.exit(4)", "sys.exit(4)")],
)
@pytest.mark.parametrize("command", ["variants", "stress"])
def test_an_exercise_rule_that_fails(rule, what, command, tmp_path, capsys):
    folder = tmp_path / "derivations"
    folder.mkdir()
    (folder / "ex01_ruled.py").write_text(PARAMETRISED.format(rule=rule))
    arguments = ["--derivations", str(folder), command]
    arguments += (
        ["--seed", "1", "-n", "2", "--exercises", "1", "--out", str(tmp_path / "out")]
        if command == "variants"
        else ["1", "-n", "3"]
    )
    assert main(arguments) == 2
    one_error_line(capsys, "exercise 1 (ex01_ruled.py)", what)
    assert not (tmp_path / "out").exists()


BEYOND_INT = "9" * 5000  # past the 4,300 digits int() reads from text


@pytest.mark.parametrize(
    "arguments",
    [
        ["analyze", "{model}", "--input", f"3x{BEYOND_INT}x8"],
        ["sweep", "conv_output_size", f"n={BEYOND_INT}", "kernel_size=1:3"],
        ["sweep", "conv_output_size", f"n=1:{BEYOND_INT}"],
        ["solve-for", "conv_output_size", "padding", BEYOND_INT, "n=224", "kernel_size=3"],
        ["solve", BEYOND_INT],
        ["variants", "--seed", BEYOND_INT, "-n", "1", "--exercises", "1", "--out", "{file}"],
        ["variants", "--seed", "1", "-n", "1", "--exercises", "1", "--param", f"kernel_size={BEYOND_INT}", "--out", "{file}"],
        ["sheet", "--exercises", BEYOND_INT, "--no-pdf", "--out", "{file}"],
        ["stress", "1", "-n", BEYOND_INT],
    ],
)
def test_numbers_too_long_for_int(arguments, tiny_model, a_file, capsys):
    filled = [argument.format(model=tiny_model, file=a_file) for argument in arguments]
    assert main(filled) == 2
    one_error_line(capsys)
