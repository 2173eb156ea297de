"""Moodle XML: parsed back with ElementTree and checked against key.json; HTML feedback well formed and escaped."""

import json
import re
import shutil
import subprocess
from fractions import Fraction
from xml.etree import ElementTree

import pytest

from symconv.cli import main as cli
from symconv.core.solution import Solution, Text
from symconv.render import moodle

# The number each exercise's quiz question asks for: an answer name, then indices into it.
MAIN_ANSWERS = {
    1: ("output_size",),
    2: ("output_size",),
    3: ("params",),
    5: ("receptive_field",),
    6: ("receptive_field",),
    9: ("macs",),
    10: ("macs",),
    28: ("receptive_field",),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("moodle")
    modules = tuple(dict.fromkeys((*cli.COMMAND_MODULES, "symconv.cli.variants")))
    saved, cli.COMMAND_MODULES = cli.COMMAND_MODULES, modules
    try:
        assert (
            cli.main(
                [
                    "variants",
                    "--seed",
                    "31",
                    "-n",
                    "3",
                    "--exercises",
                    "1-6,9,10,28",
                    "--out",
                    str(out),
                    "--format",
                    "json,moodle",
                ]
            )
            == 0
        )
    finally:
        cli.COMMAND_MODULES = saved
    return ElementTree.parse(out / "moodle.xml").getroot(), json.loads((out / "key.json").read_text())


def html_fragment(text):
    """The HTML of a question or feedback, parsed: it must be well formed, every special escaped."""
    return ElementTree.fromstring(f"<div>{text}</div>")


def questions_of(quiz):
    """Every question but the category entries, numerical or cloze, in key order."""
    return [question for question in quiz.findall("question") if question.get("type") != "category"]


def test_one_category_per_exercise_holding_its_variants_in_key_order(generated):
    quiz, key = generated
    children = quiz.findall("question")
    categories = [child.findtext("category/text") for child in children if child.get("type") == "category"]
    assert categories == [f"$course$/top/symconv seed 31/Exercise {number}. {title}" for number, title in _titles(key)]
    kinds = ["cloze" if number in CLOZE_EXERCISES else "numerical" for number, _ in _titles(key)]
    assert [child.get("type") for child in children] == [kind for one in kinds for kind in ["category", one, one, one]]
    names = [question.findtext("name/text") for question in questions_of(quiz)]
    assert [name.rsplit("variant ", 1)[1] for name in names] == [entry["id"] for entry in key["variants"]]


def _titles(key):
    from symconv.teaching import exercises

    numbers = dict.fromkeys(entry["exercise"] for entry in key["variants"])
    return [(number, exercises.get(number).title) for number in numbers]


def test_answers_and_tolerances_agree_with_the_key(generated):
    quiz, key = generated
    for question, entry in zip(questions_of(quiz), key["variants"]):
        if entry["exercise"] in CLOZE_EXERCISES:  # checked field by field below
            continue
        name, *index = MAIN_ANSWERS[entry["exercise"]]
        expected = entry["answers"][name]
        for position in index:
            expected = expected[position]
        answer = question.find("answer")
        assert answer.get("fraction") == "100"
        if isinstance(expected, int):
            assert (answer.findtext("text"), answer.findtext("tolerance")) == (str(expected), "0")
        else:  # a mean of the window: graded within 0.1 % of its value
            assert float(answer.findtext("text")) == expected
            assert float(answer.findtext("tolerance")) == pytest.approx(abs(expected) / 1000, rel=1e-12)


def test_question_and_feedback_are_well_formed_html_with_mathjax_delimiters(generated):
    quiz, key = generated
    for question, entry in zip(questions_of(quiz), key["variants"]):
        body = html_fragment(question.findtext("questiontext/text"))
        text = "".join(body.itertext())
        assert entry["id"] in text and "Enter " in text and "$" not in text
        feedback = question.findtext("generalfeedback/text")
        working = "".join(html_fragment(feedback).itertext())
        assert r"\[\begin{aligned}" in working and "&=" in working and "align*" not in working
        assert "$" not in working and "Answer." in working
        assert "&=" not in feedback  # the ampersand is escaped in the HTML source
    params = [q for q, e in zip(questions_of(quiz), key["variants"]) if e["exercise"] == 3][0]
    assert r"\(C_{\text{in}} = " in params.findtext("questiontext/text")


def test_tables_and_figures_reach_the_feedback(generated):
    quiz, key = generated
    feedback = {
        entry["exercise"]: question.findtext("generalfeedback/text")
        for question, entry in zip(questions_of(quiz), key["variants"])
    }
    assert "<table>" in feedback[10] and "<table>" in feedback[28]
    assert "<pre>" in feedback[4]  # the grids, drawn as text


def test_cdata_and_markup_inside_prose_survive():
    solution = Solution(
        number=1,
        title="t",
        question="Is ]]> <b>bold</b> & $a < b$ safe?",
        params={},
        blocks=(Text("A ]]> B"),),
        answers={"x": 1},
        conclusion=Text("done"),
    )
    question = moodle.NumericalQuestion("a/b & <c>", "head <1>", solution, "$x$", Fraction(29, 9))
    quiz = ElementTree.fromstring(moodle.render_quiz([(("top/level", "Exercise 1"), [question])]))
    assert quiz.findtext("question/category/text") == "$course$/top/top//level/Exercise 1"
    parsed = quiz.findall("question")[1]
    assert parsed.findtext("name/text") == "a/b & <c>"
    body = html_fragment(parsed.findtext("questiontext/text"))
    assert "".join(body.itertext()) == "head <1>\nIs ]]> <b>bold</b> & \\(a < b\\) safe?\nEnter \\(x\\)."
    assert "A ]]> B" in "".join(html_fragment(parsed.findtext("generalfeedback/text")).itertext())
    assert parsed.findtext("answer/text") == repr(29 / 9)


@pytest.mark.parametrize(
    "value, expected",
    [(12, ("12", "0")), (Fraction(5, 2), ("2.5", "0.0025")), (Fraction(-29, 9), (repr(-29 / 9), repr(29 / 9000)))],
)
def test_exact_integers_are_graded_exactly_and_other_values_within_a_relative_tolerance(value, expected):
    assert moodle.answer_and_tolerance(value) == expected


CLOZE_FIELD = re.compile(r"\{1:NUMERICAL:=([^:}]+):([^}]+)\}")
# exercise: the answers its cloze question asks for, in order
CLOZE_EXERCISES = {
    4: ("output",),
    16: ("stacked_terms",),
    31: ("similarities", "probabilities"),
    8: ("output_shape",),
    11: ("general_output_size", "output_padding"),
    12: ("window_maxima",),
    13: ("grad_input_example",),
    18: ("example_elements_per_statistic",),
    23: ("multipliers",),
    26: ("precision", "recall", "voc_ap", "ap50", "ap75", "map_coco"),
    32: ("elements_per_statistic",),
}


def flatten(value):
    """The numbers of nested lists (and of mappings, in their order) in reading order."""
    if isinstance(value, dict):
        value = list(value.values())
    return [leaf for entry in value for leaf in flatten(entry)] if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def cloze(tmp_path_factory):
    out = tmp_path_factory.mktemp("cloze")
    argv = ["variants", "--seed", "8", "-n", "3", "--exercises", ",".join(map(str, CLOZE_EXERCISES)), "--out", str(out)]
    modules = tuple(dict.fromkeys((*cli.COMMAND_MODULES, "symconv.cli.variants")))
    saved, cli.COMMAND_MODULES = cli.COMMAND_MODULES, modules
    try:
        assert cli.main([*argv, "--format", "json,moodle"]) == 0
    finally:
        cli.COMMAND_MODULES = saved
    return out / "moodle.xml", json.loads((out / "key.json").read_text())


def test_multi_part_answers_are_cloze_questions_whose_fields_are_the_keys_numbers(cloze):
    path, key = cloze
    questions = [question for question in ElementTree.parse(path).getroot() if question.get("type") != "category"]
    assert [question.get("type") for question in questions] == ["cloze"] * len(key["variants"])
    for question, entry in zip(questions, key["variants"]):
        # Where the cloze asks for the last precision and recall, the key holds them after every rank.
        answers = {name: value[-1] if name in ("precision", "recall") else value for name, value in entry["answers"].items()}
        expected = flatten([answers[name] for name in CLOZE_EXERCISES[entry["exercise"]]])
        fields = CLOZE_FIELD.findall(question.findtext("questiontext/text"))
        assert len(fields) == len(expected) > 1
        for (answer, tolerance), value in zip(fields, expected):
            if isinstance(value, int):
                assert (answer, tolerance) == (str(value), "0")
            else:
                assert float(answer) == value and float(tolerance) == pytest.approx(abs(value) / 1000, rel=1e-12)
        html_fragment(question.findtext("questiontext/text"))


@pytest.mark.skipif(shutil.which("xmllint") is None, reason="xmllint (apt: libxml2-utils) is not installed")
def test_xmllint_accepts_the_quiz(cloze):
    path, _ = cloze
    result = subprocess.run(["xmllint", "--noout", str(path)], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")
