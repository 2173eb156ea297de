"""Exercises as content: the Exercise type, and loading a folder of exercise modules into a registry.

The engine knows no exercise numbers. Each module in a derivations folder defines ``EXERCISE``; the
default folder is the one shipped with the package (``symconv/_derivations`` in a wheel, the
repository's ``derivations/`` in a checkout).
"""

from __future__ import annotations

import importlib.util
import sys
import types
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Hashable, Mapping

from symconv.core.errors import SymconvError, guarded, invalid
from symconv.core.solution import Solution, Text, Worked, fill_prose, math_value, prose_value


@dataclass(frozen=True)
class Exercise:
    """A question template, the chapter's parameters, and ``solve(params) -> Worked``.

    In ``question``, ``{name}`` naming a parameter is filled in (see :func:`symconv.core.solution.fill`).
    """

    number: int
    title: str
    question: str
    solve: Callable[[Mapping[str, Any]], Worked]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    topics: tuple[str, ...] = ()
    # Variants (types in symconv.teaching.variants). An exercise without domains is not parametrised.
    # domains: the parameters that vary, each with its IntRange or Choice; the others keep their default.
    domains: Mapping[str, Any] = field(default_factory=dict)
    # constraints: rules every variant meets (validity) or a share of them should meet (interest).
    constraints: tuple[Any, ...] = ()
    # key: what makes two variants the same question (default: the values of the varied parameters).
    key: Callable[[Mapping[str, Any]], Hashable] | None = None
    # main_answer: the one number a single-answer quiz question asks for (a MainAnswer).
    main_answer: Any = None
    # array_answers: answers computed on numpy arrays of parameters, for bulk answer keys.
    array_answers: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    # prose_only: why the answer is an explanation with nothing to recompute, so the exercise has no variants.
    prose_only: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.domains) - set(self.defaults))
        if unknown:
            raise invalid("domains", unknown[0], f"exercise {self.number} has parameters {sorted(self.defaults)}")
        if self.prose_only and self.domains:
            raise invalid("prose_only", self.prose_only, f"exercise {self.number} declares domains, so it has variants")

    @property
    def where(self) -> str:
        """The exercise and the file its content comes from, to say whose code failed."""
        return f"exercise {self.number} ({_source(self.solve)})"

    @property
    def parametrised(self) -> bool:
        """True when the exercise declares parameter domains, so variants can be drawn."""
        return bool(self.domains)

    def question_text(self, params: Mapping[str, Any]) -> str:
        """The question with its parameters: sequences as words in prose, as vectors in mathematics."""
        return fill_prose(self.question, params, math_value, prose_value)

    def solution(self, **overrides: Any) -> Solution:
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise invalid("param", unknown[0], f"exercise {self.number} has parameters {sorted(self.defaults)}")
        params = {**self.defaults, **overrides}
        where = f"{self.where}: solve"
        worked = guarded(where, lambda: self.solve(params))
        if not isinstance(worked, Worked):
            raise SymconvError(f"{where}: returned {type(worked).__name__}, not Worked(blocks, answers, conclusion)")
        return Solution(
            number=self.number,
            title=self.title,
            question=self.question_text(params),
            params=params,
            blocks=tuple(worked.blocks),
            answers=dict(worked.answers),
            conclusion=worked.conclusion if isinstance(worked.conclusion, Text) else Text(worked.conclusion),
            topics=self.topics,
        )


def default_folder() -> Path:
    package = Path(__file__).resolve().parent.parent
    shipped = package / "_derivations"
    return shipped if shipped.is_dir() else package.parent / "derivations"


@lru_cache(maxsize=None)
def load(folder: Path | None = None) -> dict[int, Exercise]:
    """Every ``EXERCISE`` defined by the modules of ``folder``, by number."""
    folder = Path(folder) if folder is not None else default_folder()
    if not folder.is_dir():
        raise invalid("derivations", str(folder), "must be a folder of exercise modules")
    try:
        paths = sorted(path for path in folder.iterdir() if path.suffix == ".py" and not path.name.startswith("_"))
    except OSError as error:
        raise invalid("derivations", str(folder), f"cannot be read: {error.strerror or error}") from None
    if not paths:
        raise invalid("derivations", str(folder), "holds no exercise modules (files such as ex01_name.py defining EXERCISE)")
    registry: dict[int, Exercise] = {}
    for path in paths:
        exercise = getattr(_import(path), "EXERCISE", None)
        if not isinstance(exercise, Exercise):
            raise invalid("derivations", str(path), "an exercise module must define EXERCISE = Exercise(...)")
        if exercise.number in registry:
            raise invalid("derivations", str(path), f"exercise {exercise.number} is defined twice")
        registry[exercise.number] = exercise
    return dict(sorted(registry.items()))


def get(number: int, folder: Path | None = None) -> Exercise:
    if isinstance(number, bool) or not isinstance(number, int):
        raise invalid("exercise", number, "must be a whole number such as 1")
    registry = load(folder)
    if number not in registry:
        raise invalid("exercise", number, f"no such exercise; available: {_ranges(registry)}")
    return registry[number]


def _import(path: Path) -> Any:
    package = _package(path.parent)
    name = f"{package}.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    loader = spec.loader if spec is not None else None
    if spec is None or loader is None:
        raise invalid("derivations", str(path), "cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and inspect.getsource look modules up by name
    # A broken exercise file is bad input, not a crash.
    guarded(f"derivations={str(path)!r}: failed to load", lambda: loader.exec_module(module))
    return module


def _source(function: Callable[..., Any]) -> str:
    """The file a function was written in, to say whose code failed."""
    code = getattr(function, "__code__", None)
    return Path(code.co_filename).name if code is not None else getattr(function, "__module__", "?")


def _package(folder: Path) -> str:
    """A package for the folder, so exercise modules can share helpers by relative import."""
    name = f"symconv_derivations_{abs(hash(str(folder))):x}"
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [str(folder)]
        sys.modules[name] = package
    return name


def _ranges(registry: Mapping[int, Exercise]) -> str:
    numbers = sorted(registry)
    spans, start = [], None
    for index, number in enumerate(numbers):
        if start is None:
            start = number
        if index + 1 == len(numbers) or numbers[index + 1] != number + 1:
            spans.append(str(start) if start == number else f"{start}-{number}")
            start = None
    return ", ".join(spans) or "none"
