"""JSON renderer: answers as JSON values (exact integers stay integers), with the LaTeX working."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from symconv.core.solution import Solution
from symconv.core.values import exact, is_array, is_sympy
from symconv.render import latex_solution


def answer_value(value: Any) -> Any:
    """Integers as integers, other exact numbers as floats, symbols as sympy syntax, matrices as lists."""
    value = exact(value)
    if isinstance(value, bool) or isinstance(value, (int, str)) or value is None:
        return value
    if isinstance(value, (Fraction, float)):
        return float(value)
    if is_sympy(value):
        return str(value)
    if is_array(value):
        return answer_value(value.tolist())
    if isinstance(value, (list, tuple)):
        return [answer_value(entry) for entry in value]
    if isinstance(value, dict):
        return {str(key): answer_value(entry) for key, entry in value.items()}
    raise TypeError(f"answer of type {type(value).__name__} has no JSON form")


def solution_object(solution: Solution) -> dict[str, Any]:
    return {
        "exercise": solution.number,
        "title": solution.title,
        "answers": {name: answer_value(value) for name, value in solution.answers.items()},
        "latex": latex_solution.render_solution(solution),
    }


def render_solution(solution: Solution) -> str:
    return json.dumps(solution_object(solution), ensure_ascii=False, indent=2)
