"""Exercise variants: parameter domains and constraints, seeded reproducible sampling, answer keys, stress.

A variant is a pure function of (seed, student, pinned parameters, exercise, index): it is drawn with
its own ``random.Random`` seeded from a SHA-256 of those, never from the global generator or Python's
salted ``hash()``, so the same command gives the same variants on any machine. Drawing uses only
``Random.random()``, the one method whose sequence Python guarantees across versions. Within a set,
a variant whose key repeats an earlier one is drawn again from its own stream, so variant i also
depends on the variants before it, never on those after it or on the size of the set.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable, Iterator, Mapping, Sequence

from symconv.core.errors import SymconvError, invalid
from symconv.core.limits import MAX_ROSTER_LINE, MAX_STUDENTS, MAX_VARIANTS
from symconv.core.solution import Solution
from symconv.core.values import exact, is_integer
from symconv.render.scripts import undrawable
from symconv.teaching.domains import Constraint, MainAnswer, domain_size, is_number
from symconv.teaching.exercises import Exercise

GENERATOR = "symconv-variants/1"  # bump when the sampling changes, so old keys are not misread
MAX_DRAWS = 1000  # draws per variant before its exercise's domain is declared too tight
PREFERENCE_DRAWS = 50  # draws spent on an interest constraint before any valid variant will do
ENUMERATION_LIMIT = 50_000  # up to this many combinations, distinct valid variants are counted exactly
DUPLICATE = "repeats an earlier variant"
STEERED = "steered to "  # a valid draw set aside while looking for the side of an interest rule a variant wants


# --- variants ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    line: int = field(default=0, compare=False)  # in the roster, to say where a failing name came from

    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name else self.id


@dataclass(frozen=True)
class Variant:
    """One drawn variant: its stable id, where it came from, and its full parameters."""

    id: str
    exercise: Exercise
    index: int
    params: Mapping[str, Any]
    student: Student | None = None

    def solution(self) -> Solution:
        return self.exercise.solution(**self.params)


@dataclass
class Tally:
    """What happened to the draws of a run: how many, how many accepted, why the others were not."""

    draws: int = 0
    accepted: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return self.draws - self.accepted

    def rate(self) -> float:
        return self.rejected / self.draws if self.draws else 0.0


def without_variants(exercise: Exercise) -> str:
    """Why the exercise has no variants ("" when it has them)."""
    if exercise.prose_only:
        return f"prose only: {exercise.prose_only}, so it has no variants"
    if not exercise.parametrised:
        return "not parametrised: it declares no parameter domains, so it has no variants"
    return ""


def require_parametrised(exercise: Exercise) -> None:
    reason = without_variants(exercise)
    if reason:
        raise invalid("exercise", exercise.number, reason)


def variant_key(exercise: Exercise, params: Mapping[str, Any]) -> Hashable:
    return exercise.key(params) if exercise.key is not None else tuple(params[name] for name in exercise.domains)


def shown_parameters(exercise: Exercise) -> set[str]:
    """The parameters the question states: only these may be pinned, or its text would not match its answer."""
    return set(re.findall(r"\{(\w+)\}", exercise.question)) & set(exercise.defaults)


def pins_for(exercise: Exercise, pins: Mapping[str, Any]) -> dict[str, Any]:
    """The pinned parameters that this exercise states in its question."""
    return {name: value for name, value in sorted(pins.items()) if name in shown_parameters(exercise)}


def variant_digest(seed: int, student: Student | None, exercise: Exercise, pins: Mapping[str, Any], index: int) -> bytes:
    # JSON keeps the parts unambiguous whatever characters a student id holds.
    material = json.dumps([GENERATOR, seed, student.id if student else None, exercise.number, pins, index])
    return hashlib.sha256(material.encode("utf-8")).digest()


def variant_random(digest: bytes) -> random.Random:
    return random.Random(int.from_bytes(digest, "big"))


def draw_params(
    exercise: Exercise, rng: random.Random, pins: Mapping[str, Any], taken: set | None, tally: Tally
) -> dict[str, Any]:
    validity = [rule for rule in exercise.constraints if rule.share is None]
    # Each interest rule should hold in its share of variants: this variant's stream decides which side it is on.
    wanted = [(rule, rng.random() < rule.share) for rule in exercise.constraints if rule.share is not None]
    free = [(name, domain) for name, domain in exercise.domains.items() if name not in pins]
    for attempt in range(MAX_DRAWS):
        params = {**exercise.defaults, **{name: domain.draw(rng) for name, domain in free}, **pins}
        tally.draws += 1
        broken = next((rule.description for rule in validity if not rule.holds(params)), None)
        if broken is None and taken is not None and variant_key(exercise, params) in taken:
            broken = DUPLICATE
        if broken is None and attempt < PREFERENCE_DRAWS:
            broken = next((_steering(rule, side) for rule, side in wanted if bool(rule.holds(params)) != side), None)
        if broken is None:
            tally.accepted += 1
            return params
        tally.reasons[broken] += 1
    raise _too_tight(exercise, tally, pins)


def _steering(rule: Constraint, side: bool) -> str:
    return f"{STEERED}{'meet' if side else 'avoid'}: {rule.description}"


def _too_tight(exercise: Exercise, tally: Tally, pins: Mapping[str, Any]) -> SymconvError:
    reason, times = tally.reasons.most_common(1)[0]
    if pins and tally.accepted == 0:  # nothing at all was accepted: the pinned values are the likely cause
        pinned = ",".join(f"{name}={value}" for name, value in pins.items())
        return invalid(
            "--param",
            pinned,
            f"exercise {exercise.number} has no acceptable variant with it; {tally.rejected} of {tally.draws} draws "
            f"rejected, most often ({times}) because: {reason}",
        )
    return invalid(
        "exercise",
        exercise.number,
        f"domain too tight: no acceptable variant in {MAX_DRAWS} draws; {tally.rejected} of {tally.draws} draws "
        f"rejected ({tally.rate():.1%}), most often ({times}) because: {reason}",
    )


def combinations(exercise: Exercise, pins: Mapping[str, Any]) -> int:
    """How many parameter combinations the domains allow (before constraints and keys)."""
    return math.prod(domain_size(domain) for name, domain in exercise.domains.items() if name not in pins)


def distinct_valid(exercise: Exercise, pins: Mapping[str, Any]) -> int:
    """The number of distinct keys among the combinations that meet every validity constraint."""
    validity = [rule for rule in exercise.constraints if rule.share is None]
    free = [(name, domain.values) for name, domain in exercise.domains.items() if name not in pins]
    keys = set()
    for values in itertools.product(*(values for _, values in free)):
        params = {**exercise.defaults, **dict(zip((name for name, _ in free), values)), **pins}
        if all(rule.holds(params) for rule in validity):
            keys.add(variant_key(exercise, params))
    return len(keys)


def check_count(exercise: Exercise, count: int, pins: Mapping[str, Any]) -> None:
    """Refuse a set larger than the exercise's distinct variants (counted exactly when that is cheap)."""
    if count < 1:
        raise invalid("-n", count, "must be at least 1")
    if count > MAX_VARIANTS:
        raise invalid("-n", count, f"must be at most {MAX_VARIANTS}")
    pinned = " with the pinned parameters" if pins else ""
    total = combinations(exercise, pins)
    if count > total:
        raise invalid("-n", count, f"exercise {exercise.number} has only {total} distinct variants{pinned}")
    # Only near the limit can constraints and keys make a set impossible; counting costs a pass over all.
    if 4 * count > total and total <= ENUMERATION_LIMIT:
        distinct = distinct_valid(exercise, pins)
        if count > distinct:
            raise invalid("-n", count, f"exercise {exercise.number} has only {distinct} distinct valid variants{pinned}")


def sample(
    exercise: Exercise,
    seed: int,
    count: int,
    pins: Mapping[str, Any] | None = None,
    student: Student | None = None,
    progress: Callable[[], None] | None = None,
) -> list[Variant]:
    """``count`` distinct variants of ``exercise``: the first ``k`` are the same whatever ``count`` is."""
    require_parametrised(exercise)
    pins = pins_for(exercise, pins or {})
    check_count(exercise, count, pins)
    tally = Tally()
    taken: set = set()
    variants = []
    for index in range(count):
        digest = variant_digest(seed, student, exercise, pins, index)
        params = draw_params(exercise, variant_random(digest), pins, taken, tally)
        taken.add(variant_key(exercise, params))
        variants.append(Variant(f"{exercise.number}-{digest.hex()[:8]}", exercise, index, params, student))
        if progress is not None:
            progress()
    return variants


def parse_pins(texts: Sequence[str], chosen: Sequence[Exercise]) -> dict[str, Any]:
    """``["kernel_size=5"]`` -> {"kernel_size": 5}; the name must be stated in a chosen exercise's question."""
    known = {name: exercise.defaults[name] for exercise in chosen for name in shown_parameters(exercise)}
    hidden = {name for exercise in chosen for name in exercise.defaults} - set(known)
    pins: dict[str, Any] = {}
    for text in texts:
        name, equals, value = text.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name or not value:
            raise invalid("--param", text, "must be name=value, e.g. kernel_size=5")
        if name in hidden:
            raise invalid("--param", text, f"{name!r} is not stated in the questions, so pinning it would change answers unseen")
        if name not in known:
            raise invalid("--param", text, f"unknown parameter {name!r}; the chosen questions state {sorted(known)}")
        pins[name] = _pin_value(text, value, known[name])
    return pins


def _pin_value(text: str, value: str, default: Any) -> Any:
    if isinstance(default, bool):
        if value.lower() not in ("true", "false"):
            raise invalid("--param", text, "must be true or false")
        return value.lower() == "true"
    if is_integer(default):
        try:
            return int(value)
        except ValueError:
            raise invalid("--param", text, "must be an integer") from None
    raise invalid("--param", text, f"a parameter holding {type(default).__name__} values cannot be pinned from the command line")


def _roster_lines(stream: Any, path: Path) -> Iterator[str]:
    """The lines of a roster, each at most MAX_ROSTER_LINE characters, and not more lines than a full roster has."""
    for number in itertools.count(1):
        line = stream.readline(MAX_ROSTER_LINE + 2)
        if not line:
            return
        if len(line.rstrip("\r\n")) > MAX_ROSTER_LINE:
            raise invalid("--students", str(path), f"line {number} is longer than {MAX_ROSTER_LINE} characters")
        # Beyond the control characters (refused per row), XML 1.0 forbids only these two in a name.
        forbidden = re.search("[\ufffe\uffff]", line)
        if forbidden:
            raise invalid(
                "--students", str(path), f"line {number} contains U+{ord(forbidden.group()):04X}, a character XML forbids"
            )
        if number > 4 * MAX_STUDENTS:  # blank lines and quoted line breaks included
            raise invalid("--students", str(path), f"a roster holds at most {MAX_STUDENTS} students")
        yield line


# --- answer keys -------------------------------------------------------------------------------------


def main_answer(exercise: Exercise, answers: Mapping[str, Any]) -> MainAnswer:
    """The declared main answer, else the first answer that is a single number."""
    if exercise.main_answer is not None:
        return exercise.main_answer
    for name, value in answers.items():
        if is_number(exact(value)):
            return MainAnswer(name, name.replace("_", " "))
    raise invalid("exercise", exercise.number, "has no single-number answer for a numerical quiz question; declare main_answer")


def key_entry(variant: Variant, answers: Mapping[str, Any]) -> dict[str, Any]:
    """One variant in key.json: enough to regenerate it and to grade it."""
    from symconv.render.json import answer_value

    entry: dict[str, Any] = {"id": variant.id}
    if variant.student is not None:
        entry["student"] = {"id": variant.student.id, "name": variant.student.name}
    entry.update(
        exercise=variant.exercise.number,
        index=variant.index,
        params={name: answer_value(value) for name, value in variant.params.items()},
        answers={name: answer_value(value) for name, value in answers.items()},
    )
    return entry


# --- rosters -------------------------------------------------------------------------------------------


def _check_characters(path: Path, line: int, row: Sequence[str]) -> None:
    """Reject, before anything is written, a control character or one no font of the documents draws."""
    for character in (character for cell in row for character in cell):
        point = ord(character)
        if (point < 32 and character != "\t") or 0x7F <= point <= 0x9F:
            raise invalid("--students", str(path), f"line {line} contains a control character (U+{point:04X})")
    missing = undrawable(" ".join(row))
    if missing:
        raise invalid("--students", str(path), f"line {line} contains {missing}, which no font of the documents draws")


def read_roster(path: Path) -> list[Student]:
    """Students from a CSV file with a header row holding an ``id`` column (``name`` optional).

    The file is read as a stream, a line at a time with a bounded length, so a huge or endless file
    (``/dev/zero``) is refused after a few kilobytes instead of filling the memory.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            reader = csv.reader(_roster_lines(stream, path))
            # (line number, fields) of every row that is not blank
            rows = []
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append((reader.line_num, row))
                    if len(rows) > MAX_STUDENTS + 1:
                        raise invalid("--students", str(path), f"a roster holds at most {MAX_STUDENTS} students")
    except (OSError, UnicodeDecodeError) as error:
        raise invalid("--students", str(path), f"cannot be read: {error}") from None
    except csv.Error as error:
        raise invalid("--students", str(path), f"malformed CSV: {error}") from None
    if len(rows) < 2:
        raise invalid(
            "--students", str(path), "the roster is empty: it needs a header row with an 'id' column and one row per student"
        )
    header = [cell.strip().lower() for cell in rows[0][1]]
    if "id" not in header:
        raise invalid("--students", str(path), f"the header row {rows[0][1]} has no 'id' column")
    id_column, name_column = header.index("id"), header.index("name") if "name" in header else None
    students: list[Student] = []
    first_line: dict[str, int] = {}
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise invalid("--students", str(path), f"line {line} has {len(row)} fields where the header has {len(header)}")
        _check_characters(path, line, row)
        name = unicodedata.normalize("NFC", row[name_column].strip()) if name_column is not None else ""
        student = Student(unicodedata.normalize("NFC", row[id_column].strip()), name, line)
        if not student.id:
            raise invalid("--students", str(path), f"line {line} has an empty id")
        if student.id in first_line:
            raise invalid(
                "--students", str(path), f"student id {student.id!r} appears twice (lines {first_line[student.id]} and {line})"
            )
        first_line[student.id] = line
        students.append(student)
    return students
