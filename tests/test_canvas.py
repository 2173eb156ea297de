"""Canvas quiz packages: the zip read back, items checked against key.json, structure against text2qti's."""

import io
import json
import os
import subprocess
import sys
import zipfile
from fractions import Fraction
from xml.etree import ElementTree

import pytest

from symconv.cli import main as cli
from symconv.core.errors import SymconvError
from symconv.render import canvas

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
MANIFEST = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
META = "{http://canvas.instructure.com/xsd/cccv1p0}"
MATHML = "{http://www.w3.org/1998/Math/MathML}"
AWKWARD_NAME = "O'Brien & <Co> 100%_#"
# The number each exercise's item asks for: an answer name, then indices into it.
MAIN_ANSWERS = {1: ("output_size",), 3: ("params",), 9: ("macs",)}
RUN = ("variants", "--seed", "7", "-n", "3", "--exercises", "1,3,9", "--format", "json,canvas")


def call(*argv):
    modules = tuple(dict.fromkeys((*cli.COMMAND_MODULES, "symconv.cli.variants")))
    saved, cli.COMMAND_MODULES = cli.COMMAND_MODULES, modules
    try:
        return cli.main([str(argument) for argument in argv])
    finally:
        cli.COMMAND_MODULES = saved


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("canvas")
    assert call(*RUN, "--out", out) == 0
    return out, Package((out / "canvas.zip").read_bytes()), json.loads((out / "key.json").read_text())


class Package:
    """A canvas.zip opened: its entries, every XML file parsed, its quizzes' items."""

    def __init__(self, data):
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.xml = {name: ElementTree.fromstring(self.zip.read(name)) for name in self.zip.namelist() if name.endswith(".xml")}
        self.manifest = self.xml["imsmanifest.xml"]

    def assessments(self):
        return [root for root in self.xml.values() if root.tag == f"{QTI}questestinterop"]

    def items(self):
        return [item for root in self.assessments() for item in root.iter(f"{QTI}item")]


def expected_answer(entry):
    name, *index = MAIN_ANSWERS[entry["exercise"]]
    value = entry["answers"][name]
    for position in index:
        value = value[position]
    return value


def metadata(item):
    return {
        field.findtext(f"{QTI}fieldlabel"): field.findtext(f"{QTI}fieldentry") for field in item.iter(f"{QTI}qtimetadatafield")
    }


def bounds(item):
    condition = [c for c in item.iter(f"{QTI}respcondition") if c.get("continue") == "No"][0]
    return tuple(condition.findtext(f".//{QTI}{tag}") for tag in ("varequal", "vargte", "varlte"))


def html(text):
    """An HTML fragment parsed: it must be well formed."""
    return ElementTree.fromstring(f"<div>{text}</div>")


def feedback_html(item):
    return item.findtext(f"{QTI}itemfeedback/{QTI}flow_mat/{QTI}material/{QTI}mattext")


# --- the package --------------------------------------------------------------------------------------------


def test_the_manifest_lists_every_file_in_the_zip(generated):
    _, package, _ = generated
    listed = {file.get("href") for file in package.manifest.iter(f"{MANIFEST}file")}
    assert listed | {"imsmanifest.xml"} == set(package.zip.namelist())
    resources = {resource.get("identifier"): resource for resource in package.manifest.iter(f"{MANIFEST}resource")}
    for resource in resources.values():
        for dependency in resource.findall(f"{MANIFEST}dependency"):
            assert resources[dependency.get("identifierref")].get("type").startswith("associatedcontent/")
    quizzes = [resource for resource in resources.values() if resource.get("type") == "imsqti_xmlv1p2"]
    assert len(quizzes) == 1  # a class set is one quiz


def test_every_xml_file_is_well_formed_and_of_its_kind(generated):
    _, package, _ = generated
    kinds = sorted(root.tag for root in package.xml.values())
    assert kinds == sorted([f"{MANIFEST}manifest", f"{QTI}questestinterop", f"{META}quiz"])
    assert all(name.endswith(".xml") for name in package.zip.namelist())


def test_each_item_asks_for_the_keys_answer_with_the_right_tolerance(generated):
    _, package, key = generated
    items = package.items()
    assert len(items) == len(key["variants"]) == 9
    for item, entry in zip(items, key["variants"]):
        assert item.get("title").endswith(f"variant {entry['id']}")
        assert metadata(item)["question_type"] == "numerical_question"
        assert metadata(item)["points_possible"] == "1"
        expected = expected_answer(entry)
        assert isinstance(expected, int)  # exercises 1, 3 and 9 ask for counts: graded exactly
        assert bounds(item) == (str(expected),) * 3


def test_real_answers_are_graded_within_the_moodle_relative_tolerance(tmp_path):
    assert call("variants", "--seed", "7", "-n", "3", "--exercises", "4", "--format", "json,canvas", "--out", tmp_path) == 0
    package = Package((tmp_path / "canvas.zip").read_bytes())
    key = json.loads((tmp_path / "key.json").read_text())
    reals = 0
    # Exercise 4 asks for its whole output: one item per entry, variant by variant, row by row.
    entries = [value for entry in key["variants"] for row in entry["answers"]["output"] for value in row]
    for item, expected in zip(package.items(), entries, strict=True):
        exact, lowest, highest = bounds(item)
        if isinstance(expected, int):
            assert (exact, lowest, highest) == (str(expected),) * 3
            continue
        reals += 1
        assert float(exact) == expected
        assert float(lowest) < expected < float(highest)
        assert (float(highest) - float(lowest)) / 2 == pytest.approx(abs(expected) / 1000, rel=1e-9)
    assert reals  # a mean of a window is a fraction in some variant


def test_a_class_set_draws_one_variant_of_each_exercise_for_each_student(generated):
    _, package, key = generated
    (assessment,) = package.assessments()
    groups = assessment.findall(f"{QTI}assessment/{QTI}section/{QTI}section")
    assert [group.findtext(f".//{QTI}selection_number") for group in groups] == ["1", "1", "1"]
    assert [len(group.findall(f"{QTI}item")) for group in groups] == [3, 3, 3]
    (meta,) = [root for root in package.xml.values() if root.tag == f"{META}quiz"]
    assert meta.findtext(f"{META}points_possible") == "3.0"  # one point per exercise drawn


def test_feedback_is_the_worked_solution_with_its_mathematics_as_mathml(generated):
    _, package, key = generated
    for item, entry in zip(package.items(), key["variants"]):
        feedback = html(feedback_html(item))
        formulas = list(feedback.iter(f"{MATHML}math"))
        working = [formula for formula in formulas if formula.get("display") == "block"]
        assert working and all(formula.find(f".//{MATHML}mtable") is not None for formula in working)
        # No LaTeX is left for a browser to show raw: every command became MathML.
        text = "".join(feedback.itertext())
        assert "\\" not in text and "$" not in text and "Answer." in text
        # Some line of the working reads "= <the key's answer> <unit>".
        results = {
            "".join(row[-1].itertext()).replace("=", "").replace(",", "").split("\xa0")[0]
            for formula in working
            for row in formula.iter(f"{MATHML}mtr")
        }
        assert str(expected_answer(entry)) in results
        question = html(item.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext"))
        assert entry["id"] in "".join(question.itertext()) and "Enter " in "".join(question.itertext())


def test_the_same_seed_gives_the_same_bytes_in_another_process(generated, tmp_path):
    out, package, _ = generated
    script = (
        "import sys; from symconv.cli import main as cli; "
        "cli.COMMAND_MODULES = tuple(dict.fromkeys((*cli.COMMAND_MODULES, 'symconv.cli.variants'))); sys.exit(cli.main(sys.argv[1:]))"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "4321"}
    subprocess.run([sys.executable, "-c", script, *RUN, "--out", str(tmp_path)], check=True, env=environment, cwd=tmp_path)
    assert (tmp_path / "canvas.zip").read_bytes() == (out / "canvas.zip").read_bytes()
    entries = package.zip.infolist()
    assert [entry.filename for entry in entries] == sorted(entry.filename for entry in entries)
    assert {entry.date_time for entry in entries} == {(1980, 1, 1, 0, 0, 0)}
    assert call(*RUN[:2], "8", *RUN[3:], "--out", tmp_path / "other") == 0
    assert (tmp_path / "other" / "canvas.zip").read_bytes() != (out / "canvas.zip").read_bytes()


# --- students -------------------------------------------------------------------------------------------------


def test_a_roster_gives_each_student_a_quiz_of_their_own(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(f'id,name\n"s<1>&","{AWKWARD_NAME}"\ns2,Ada\n', encoding="utf-8")
    argv = ("variants", "--seed", "3", "--students", roster, "--exercises", "1,3,9", "--format", "json,canvas")
    assert call(*argv, "--out", tmp_path) == 0
    package = Package((tmp_path / "canvas.zip").read_bytes())
    key = json.loads((tmp_path / "key.json").read_text())
    titles = [root.find(f"{QTI}assessment").get("title") for root in package.assessments()]
    assert sorted(title.split(":")[0] for title in titles) == sorted([f"{AWKWARD_NAME} (s<1>&)", "Ada (s2)"])
    by_student = {entry["student"]["id"]: [] for entry in key["variants"]}
    for entry in key["variants"]:
        by_student[entry["student"]["id"]].append(entry)
    for root in package.assessments():
        title = root.find(f"{QTI}assessment").get("title")
        entries = by_student["s2" if title.startswith("Ada") else "s<1>&"]
        items = list(root.iter(f"{QTI}item"))
        assert root.find(f".//{QTI}selection_ordering") is None  # a student answers every variant of their set
        assert [bounds(item)[0] for item in items] == [str(expected_answer(entry)) for entry in entries]
        assert all(title.split(":")[0] in item.get("title") for item in items)


# --- the same structure as text2qti's ---------------------------------------------------------------------------


STRUCTURAL_TEXTS = {f"{QTI}{tag}" for tag in ("fieldlabel", "setvar", "selection_number", "points_per_item")}


def shape(element):
    """An element's tags, attributes and structural texts (metadata labels, scores), without content or identifiers."""
    named = {"ident", "title", "identifier", "identifierref", "href"}
    attributes = tuple(sorted((name, "" if name in named else value) for name, value in element.attrib.items()))
    text = element.text.strip() if element.tag in STRUCTURAL_TEXTS and element.text else ""
    return (element.tag, attributes, text, tuple(shape(node) for node in element))


def text2qti_package(source):
    from text2qti.config import Config
    from text2qti.qti import QTI as Text2qti
    from text2qti.quiz import Quiz

    return Text2qti(Quiz(source, config=Config()))


def numerical_question(ident, value):
    from symconv.core.solution import Solution, Text

    solution = Solution(1, "t", "What is it?", {}, (Text("Worked."),), {"x": value}, Text("done"))
    return canvas.Question(ident, "title", "heading", solution, (canvas.Part("it", value),))


def test_items_have_the_structure_text2qti_writes_for_a_numerical_question_with_feedback():
    source = "Quiz title: T\nQuiz description: D\n\n1.  What is the mean?\n... Worked solution.\n=   2.5 +- 0.0025\n"
    reference = text2qti_package(source)
    their_item = ElementTree.fromstring(reference.assessment).find(f".//{QTI}item")
    quiz = canvas.Quiz("key", "T", "D", (canvas.Group("Exercise 1", (numerical_question("1-a", Fraction(5, 2)),)),))
    files = canvas.package_files([quiz], "T")
    ours = [ElementTree.fromstring(text) for name, text in files.items() if name.endswith(".xml")]
    our_item = next(root for root in ours if root.tag == f"{QTI}questestinterop").find(f".//{QTI}item")
    assert shape(our_item) == shape(their_item)
    assert [float(bound) for bound in bounds(our_item)] == [float(bound) for bound in bounds(their_item)]  # 2.5 ± 0.1 %
    # The quiz settings we write are settings text2qti writes too, and the manifest's resources have its types.
    their_meta = ElementTree.fromstring(reference.assessment_meta)
    our_meta = next(root for root in ours if root.tag == f"{META}quiz")
    assert {node.tag for node in our_meta.iter()} <= {node.tag for node in their_meta.iter()}
    their_manifest = ElementTree.fromstring(reference.imsmanifest_xml)
    our_manifest = next(root for root in ours if root.tag == f"{MANIFEST}manifest")
    assert [shape(node) for node in our_manifest.find(f"{MANIFEST}resources")] == [
        shape(node) for node in their_manifest.find(f"{MANIFEST}resources")
    ]


def test_a_drawing_group_has_the_structure_text2qti_writes_for_a_question_group():
    group = "GROUP\npick: 1\npoints per question: 1\n\n1.  What?\n... W.\n=   5\n\n2.  What else?\n... W.\n=   6\n\nEND_GROUP\n"
    reference = text2qti_package("Quiz title: T\nQuiz description: D\n\n" + group)
    questions = (numerical_question("1-a", 5), numerical_question("1-b", 6))
    quiz = canvas.Quiz("key", "T", "D", (canvas.Group("Exercise 1", questions, pick=1),))
    (assessment,) = [
        text for name, text in canvas.package_files([quiz], "T").items() if not name.endswith(("meta.xml", "manifest.xml"))
    ]
    assert shape(ElementTree.fromstring(assessment)) == shape(ElementTree.fromstring(reference.assessment))


@pytest.mark.parametrize(
    "value, expected",
    [
        (112, ("112", "112", "112")),
        (Fraction(5, 2), ("2.5", repr(2.5 - 0.0025), repr(2.5 + 0.0025))),
        (
            Fraction(-29, 9),
            (
                repr(-29 / 9),
                repr(float(Fraction(-29, 9) * Fraction(1001, 1000))),
                repr(float(Fraction(-29, 9) * Fraction(999, 1000))),
            ),
        ),
    ],
)
def test_exact_integers_have_an_empty_interval_and_other_values_a_relative_one(value, expected):
    assert canvas.answer_interval(value) == expected


@pytest.mark.parametrize("tex", [r"\unknowncommand{x}", r"\begin{align*} a &= b"])
def test_latex_the_converter_cannot_read_is_an_error_not_raw_text(tex):
    with pytest.raises(SymconvError, match="LaTeX .*MathML"):
        canvas.mathml(tex)


# --- bad input ---------------------------------------------------------------------------------------------------


def run_failing(capsys, *argv):
    code = call(*argv)
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    return captured.err


def test_an_unknown_format_is_refused(tmp_path, capsys):
    error = run_failing(capsys, "variants", "--seed", "1", "-n", "2", "--format", "canvas,qti", "--out", tmp_path / "out")
    assert "--format='canvas,qti': must be a comma-separated list from latex,pdf,json,moodle,canvas" in error
    assert not (tmp_path / "out").exists()


def test_an_exercise_without_a_single_number_answer_stops_the_run(tmp_path, capsys):
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "ex01_shape.py").write_text(
        "from symconv import Exercise, Text, Worked\n"
        "from symconv.teaching.domains import IntRange\n\n"
        "def solve(params):\n"
        "    return Worked(blocks=(), answers={'shape': (params['n'], params['n'])}, conclusion=Text('square'))\n\n"
        "EXERCISE = Exercise(number=1, title='A shape', question='An {n} by {n} grid.', defaults={'n': 2}, solve=solve,\n"
        "                    domains={'n': IntRange(2, 9)})\n"
    )
    out = tmp_path / "out"
    error = run_failing(capsys, "--derivations", folder, "variants", "--seed", "1", "-n", "2", "--format", "canvas", "--out", out)
    assert "exercise=1: has no single-number answer" in error
    assert not out.exists()


@pytest.mark.parametrize(
    "name, message",
    [("A\x07da", "line 2 contains a control character"), ("Ada\uffff", "line 2 contains U+FFFF, a character XML forbids")],
)
def test_a_roster_name_xml_cannot_hold_stops_the_run(name, message, tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id,name\ns1,{name}\n", encoding="utf-8")
    out = tmp_path / "out"
    error = run_failing(
        capsys, "variants", "--seed", "1", "--students", roster, "--exercises", "1", "--format", "canvas", "--out", out
    )
    assert error.startswith("error: --students=") and message in error
    assert not out.exists()


def test_an_answer_of_several_numbers_becomes_one_item_per_number(tmp_path, capsys):
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "ex01_matrix.py").write_text(
        "from fractions import Fraction\n"
        "from symconv import Exercise, Text, Worked\n"
        "from symconv.teaching.domains import IntRange, MainAnswer\n\n"
        "def solve(params):\n"
        "    n = params['n']\n"
        "    answers = {'output': [[n, Fraction(n, 3)], [n + 1, -n]]}\n"
        "    return Worked(blocks=(Text('Fill the matrix.'),), answers=answers, conclusion=Text('done'))\n\n"
        "EXERCISE = Exercise(number=1, title='A matrix', question='Fill a matrix from {n}.', defaults={'n': 2}, solve=solve,\n"
        "                    domains={'n': IntRange(2, 9)}, main_answer=MainAnswer('output', 'the output $Y$'))\n"
    )
    argv = ("--derivations", folder, "variants", "--seed", "1", "-n", "2", "--format", "json,canvas", "--out", tmp_path)
    assert call(*argv) == 0
    assert "canvas.zip holds every variant: exercise 1 asks several numbers" in capsys.readouterr().out
    package = Package((tmp_path / "canvas.zip").read_bytes())
    key = json.loads((tmp_path / "key.json").read_text())
    items = package.items()
    expected = [entry for variant in key["variants"] for row in variant["answers"]["output"] for entry in row]
    assert len(items) == len(expected) == 8
    for item, value in zip(items, expected):
        exact, lowest, highest = bounds(item)
        assert float(exact) == value and float(lowest) <= value <= float(highest)
    prompts = ["".join(html(item.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext")).itertext()) for item in items]
    assert [prompt.rsplit("position ", 1)[1] for prompt in prompts[:4]] == ["(1, 1).", "(1, 2).", "(2, 1).", "(2, 2)."]
    # The parts of one variant stay together: no question group draws among them.
    assert all(root.find(f".//{QTI}selection_ordering") is None for root in package.assessments())


def test_every_parametrised_exercise_exports_with_well_formed_html(tmp_path):
    # Any LaTeX command the MathML converter does not know would stop this run with its name.
    assert call("variants", "--seed", "31", "-n", "2", "--format", "json,canvas", "--out", tmp_path) == 0
    package = Package((tmp_path / "canvas.zip").read_bytes())
    key = json.loads((tmp_path / "key.json").read_text())
    # Every variant is asked for, by one item or (several numbers) by more.
    titles = [item.get("title") for item in package.items()]
    assert {title.rsplit("variant ", 1)[1] for title in titles} == {entry["id"] for entry in key["variants"]}
    for item in package.items():
        question = html(item.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext"))
        assert "Enter " in "".join(question.itertext())
        assert html(feedback_html(item)).find(f".//{MATHML}math") is not None
