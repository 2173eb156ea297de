"""Canvas quiz packages: QTI 1.2 numerical questions with Canvas metadata, worked solutions in MathML, in a zip.

The layout is the one Canvas exports and text2qti writes: ``imsmanifest.xml`` (IMS Content Packaging)
lists, for each quiz, its ``questestinterop`` assessment and its ``assessment_meta.xml`` (Canvas's
quiz settings). A numerical item accepts the exact answer or any number in an interval around it,
the shape Canvas's importer reads as "exact answer with margin". Mathematics is MathML converted by
latex2mathml, so the quiz displays without an equation server. Identifiers are hashes of what the
caller names the quiz and its questions, and the zip's entries have fixed dates and a fixed order:
the same quizzes give the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from html import escape as escape_html
from typing import Any, Sequence
from xml.etree import ElementTree
from xml.etree.ElementTree import Element, SubElement

from symconv.core.errors import SymconvError
from symconv.core.solution import Solution
from symconv.render.html import HtmlWriter
from symconv.render.moodle import RELATIVE_TOLERANCE

QTI_NAMESPACE = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CANVAS_NAMESPACE = "http://canvas.instructure.com/xsd/cccv1p0"
MANIFEST_NAMESPACE = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
METADATA_NAMESPACE = "http://www.imsglobal.org/xsd/imsmd_v1p2"
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold: no build time leaks in
POINTS = 1  # every item is worth one point
RESPONSE = "response1"


@dataclass(frozen=True)
class Part:
    """One number a question asks for: prose completing "Enter …" (inline math between ``$``), exact value."""

    prompt: str
    answer: Any  # int or Fraction


@dataclass(frozen=True)
class Question:
    """One variant: its worked solution and the numbers it asks for, each becoming a numerical item."""

    ident: str  # unique within the package (a variant id)
    title: str
    heading: str  # plain text shown above the question (student, variant id)
    solution: Solution
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Group:
    """One exercise's questions in a quiz; ``pick`` questions are drawn for each student, or all when None."""

    title: str
    questions: tuple[Question, ...]
    pick: int | None = None


@dataclass(frozen=True)
class Quiz:
    """One Canvas quiz; ``key`` names it uniquely (its identifiers are derived from it)."""

    key: str
    title: str
    description: str
    groups: tuple[Group, ...]

    def points(self) -> int:
        return sum(
            POINTS * (group.pick if group.pick is not None else sum(len(question.parts) for question in group.questions))
            for group in self.groups
        )


# --- mathematics and HTML --------------------------------------------------------------------------------

_UNKNOWN_COMMAND = re.compile(r"<mi>(\\[A-Za-z]+)</mi>")


@functools.lru_cache(maxsize=4096)  # prose and tables repeat their symbols across variants: most calls are repeats
def mathml(tex: str, display: str = "inline") -> str:
    """``tex`` as a MathML ``<math>`` element; a command the converter does not know is an error, not raw text."""
    from latex2mathml.converter import convert

    try:
        converted = convert(tex, display=display)
        ElementTree.fromstring(converted)
    except Exception as error:  # latex2mathml's errors share no base class but Exception; ParseError is one too
        raise SymconvError(f"LaTeX {tex!r}: cannot be converted to MathML ({type(error).__name__}: {error})") from None
    unknown = _UNKNOWN_COMMAND.search(converted)
    if unknown:
        raise SymconvError(f"LaTeX {tex!r}: the MathML converter does not know {unknown.group(1)}")
    return converted


MATHML = HtmlWriter(inline_math=mathml, display_math=lambda tex: f"<div>{mathml(tex, 'block')}</div>")


def question_html(question: Question, part: Part) -> str:
    return (
        f"<p><strong>{escape_html(question.heading, quote=False)}</strong></p>\n"
        f"<p>{MATHML.prose(question.solution.question)}</p>\n<p>Enter {MATHML.prose(part.prompt)}.</p>"
    )


# --- numbers ---------------------------------------------------------------------------------------------


def answer_interval(value: Any) -> tuple[str, str, str]:
    """(exact, lowest, highest) accepted: integers exactly, other values within the Moodle export's relative tolerance."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (str(value),) * 3
    value = Fraction(value)
    margin = abs(value) * RELATIVE_TOLERANCE
    return repr(float(value)), repr(float(value - margin)), repr(float(value + margin))


# --- XML -------------------------------------------------------------------------------------------------


def identifier(*names: Any) -> str:
    """A stable XML identifier for what ``names`` name (Canvas's own have this shape: g + 32 hex digits)."""
    return "g" + hashlib.sha256(json.dumps(names).encode("utf-8")).hexdigest()[:32]


def child(parent: Element, tag: str, text: str | None = None, **attributes: str) -> Element:
    element = SubElement(parent, tag, attributes)
    element.text = text
    return element


def document(root: Element) -> str:
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def metadata_fields(parent: Element, fields: Sequence[tuple[str, str]]) -> None:
    metadata = child(parent, "qtimetadata")
    for label, entry in fields:
        field = child(metadata, "qtimetadatafield")
        child(field, "fieldlabel", label)
        child(field, "fieldentry", entry)


def html_material(parent: Element, content: str) -> None:
    child(child(parent, "material"), "mattext", content, texttype="text/html")


def item_xml(parent: Element, ident: str, question: Question, part: Part) -> None:
    item = child(parent, "item", ident=ident, title=question.title)
    metadata_fields(
        child(item, "itemmetadata"),
        [
            ("question_type", "numerical_question"),
            ("points_possible", str(POINTS)),
            ("original_answer_ids", f"{ident}_answer"),
            ("assessment_question_identifierref", f"{ident}_question"),
        ],
    )
    presentation = child(item, "presentation")
    html_material(presentation, question_html(question, part))
    response = child(presentation, "response_str", ident=RESPONSE, rcardinality="Single")
    child(child(response, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")

    processing = child(item, "resprocessing")
    child(child(processing, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    # Always show the worked solution, then grade: the exact answer, or a number within the interval.
    show = child(processing, "respcondition", **{"continue": "Yes"})
    child(child(show, "conditionvar"), "other")
    child(show, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    exact, lowest, highest = answer_interval(part.answer)
    grade = child(processing, "respcondition", **{"continue": "No"})
    either = child(child(grade, "conditionvar"), "or")
    child(either, "varequal", exact, respident=RESPONSE)
    within = child(either, "and")
    child(within, "vargte", lowest, respident=RESPONSE)
    child(within, "varlte", highest, respident=RESPONSE)
    child(grade, "setvar", "100", action="Set", varname="SCORE")

    feedback = child(item, "itemfeedback", ident="general_fb")
    html_material(child(feedback, "flow_mat"), MATHML.solution(question.solution))


def assessment_xml(quiz: Quiz, ident: str) -> str:
    root = Element("questestinterop", {"xmlns": QTI_NAMESPACE, "xmlns:xsi": XSI_NAMESPACE})
    root.set("xsi:schemaLocation", f"{QTI_NAMESPACE} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd")
    assessment = child(root, "assessment", ident=ident, title=quiz.title)
    metadata_fields(assessment, [("cc_maxattempts", "1")])
    section = child(assessment, "section", ident="root_section")
    for number, group in enumerate(quiz.groups):
        holder = section
        if group.pick is not None:  # a Canvas question group: draws `pick` of its questions for each student
            holder = child(section, "section", ident=identifier(quiz.key, "group", number), title=group.title)
            selection = child(child(holder, "selection_ordering"), "selection")
            child(selection, "selection_number", str(group.pick))
            child(child(selection, "selection_extension"), "points_per_item", str(POINTS))
        for question in group.questions:
            for index, part in enumerate(question.parts):
                item_xml(holder, identifier(quiz.key, question.ident, index), question, part)
    return document(root)


def assessment_meta_xml(quiz: Quiz, ident: str) -> str:
    root = Element("quiz", {"identifier": ident, "xmlns": CANVAS_NAMESPACE, "xmlns:xsi": XSI_NAMESPACE})
    root.set("xsi:schemaLocation", f"{CANVAS_NAMESPACE} https://canvas.instructure.com/xsd/cccv1p0.xsd")
    points = f"{quiz.points():.1f}"
    settings = [
        ("title", quiz.title),
        ("description", quiz.description),
        ("shuffle_answers", "false"),
        ("scoring_policy", "keep_highest"),
        ("hide_results", ""),
        ("quiz_type", "assignment"),
        ("points_possible", points),
        ("show_correct_answers", "true"),
        ("allowed_attempts", "1"),
        ("one_question_at_a_time", "false"),
        ("cant_go_back", "false"),
        ("available", "false"),
    ]
    for tag, text in settings:
        child(root, tag, text)
    assignment = child(root, "assignment", identifier=identifier(quiz.key, "assignment"))
    for tag, text in [
        ("title", quiz.title),
        ("workflow_state", "unpublished"),
        ("quiz_identifierref", ident),
        ("points_possible", points),
        ("grading_type", "points"),
        ("submission_types", "online_quiz"),
    ]:
        child(assignment, tag, text)
    child(root, "assignment_group_identifierref", identifier(quiz.key, "assignment group"))
    return document(root)


def manifest_xml(entries: Sequence[tuple[str, str, str]], title: str) -> str:
    """The package's table of contents: per quiz (identifier, assessment path, settings path)."""
    root = Element("manifest", {"identifier": identifier(title, "manifest"), "xmlns": MANIFEST_NAMESPACE})
    root.set("xmlns:imsmd", METADATA_NAMESPACE)
    metadata = child(root, "metadata")
    child(metadata, "schema", "IMS Content")
    child(metadata, "schemaversion", "1.1.3")
    general = child(child(metadata, "imsmd:lom"), "imsmd:general")
    child(child(general, "imsmd:title"), "imsmd:string", title)
    child(root, "organizations")
    resources = child(root, "resources")
    for ident, assessment_path, meta_path in entries:
        dependency = f"{ident}_meta"
        resource = child(resources, "resource", identifier=ident, type="imsqti_xmlv1p2")
        child(resource, "file", href=assessment_path)
        child(resource, "dependency", identifierref=dependency)
        settings = child(
            resources,
            "resource",
            identifier=dependency,
            type="associatedcontent/imscc_xmlv1p1/learning-application-resource",
            href=meta_path,
        )
        child(settings, "file", href=meta_path)
    return document(root)


def package_files(quizzes: Sequence[Quiz], title: str) -> dict[str, str]:
    """Every file of the package by its path in the zip."""
    files, entries = {}, []
    for quiz in quizzes:
        ident = identifier(quiz.key, "quiz")
        assessment_path, meta_path = f"{ident}/{ident}.xml", f"{ident}/assessment_meta.xml"
        files[assessment_path] = assessment_xml(quiz, ident)
        files[meta_path] = assessment_meta_xml(quiz, ident)
        entries.append((ident, assessment_path, meta_path))
    files["imsmanifest.xml"] = manifest_xml(entries, title)
    return files


def render_package(quizzes: Sequence[Quiz], title: str) -> bytes:
    """The zip Canvas imports ("QTI .zip file"): entries in name order, each dated ``ZIP_DATE``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in sorted(package_files(quizzes, title).items()):
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # Unix, whatever system writes the zip
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, text.encode("utf-8"))
    return buffer.getvalue()
