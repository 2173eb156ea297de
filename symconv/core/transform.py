"""Transformers on a formula's expression tree: expand, substitute, reduce one level, evaluate.

The tree is Python's ``ast``: the formula's own source order, which is the order a person writes.
Values enter as ``ast.Constant`` nodes whatever they are (int, Fraction, sympy expression), so the
same tree carries the general formula, the substituted line and every evaluation level.
"""

from __future__ import annotations

import ast
import operator
from typing import Any, Callable, Mapping, TypeGuard

from symconv.core.errors import SymconvError
from symconv.core.formula import Formula
from symconv.core.values import divide, exact

BINARY_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: divide,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY_OPERATORS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
# Operators whose left-leaning chains read as one n-ary operation: a + b - c is evaluated in one step.
CHAINS: tuple[frozenset[type[ast.operator]], ...] = (frozenset({ast.Add, ast.Sub}), frozenset({ast.Mult}))


def constant(value: Any) -> ast.Constant:
    return ast.Constant(value=value)


def is_value(node: ast.AST) -> TypeGuard[ast.Constant]:
    return isinstance(node, ast.Constant)


def rebuild(node: ast.AST, visit: Callable[[ast.AST], ast.AST]) -> ast.AST:
    """A new node of the same type with ``visit`` applied to its children; trees are never mutated."""
    fields = {}
    for name, value in ast.iter_fields(node):
        if isinstance(value, ast.AST):
            value = visit(value)
        elif isinstance(value, list):
            value = [visit(item) if isinstance(item, ast.AST) else item for item in value]
        fields[name] = value
    return type(node)(**fields)


def expand_calls(node: ast.expr, namespace: Mapping[str, Any]) -> ast.expr:
    """Inline every call of another Formula with its own expression, arguments put in place."""

    def visit(current: ast.AST) -> ast.AST:
        current = rebuild(current, visit)
        callee = namespace.get(current.func.id) if isinstance(current, ast.Call) and isinstance(current.func, ast.Name) else None
        if not isinstance(callee, Formula):
            return current
        assert isinstance(current, ast.Call)
        parameters = list(callee.signature.parameters.values())
        arguments = {parameter.name: argument for parameter, argument in zip(parameters, current.args)}
        arguments.update({keyword.arg: keyword.value for keyword in current.keywords if keyword.arg is not None})
        for parameter in parameters:
            arguments.setdefault(parameter.name, constant(parameter.default))
        return substitute(expand_calls(callee.expression, callee.namespace), arguments)

    result = visit(node)
    assert isinstance(result, ast.expr)
    return result


def substitute(node: ast.expr, replacements: Mapping[str, Any]) -> ast.expr:
    """Replace names by values (or by trees), then settle conditionals whose test is now known.

    Division by 1, and a conditional term that settles to 0, are not written, as nobody writes them by hand.
    """

    def visit(current: ast.AST) -> ast.AST:
        if isinstance(current, ast.Name) and current.id in replacements:
            replacement = replacements[current.id]
            return replacement if isinstance(replacement, ast.AST) else constant(replacement)
        conditional = isinstance(current, ast.BinOp) and isinstance(current.right, ast.IfExp)
        current = rebuild(current, visit)
        if isinstance(current, ast.IfExp) and is_value(current.test):
            return current.body if current.test.value else current.orelse
        if isinstance(current, ast.BinOp) and is_value(current.right):
            divides = isinstance(current.op, (ast.Div, ast.FloorDiv))
            if divides and _is_one(current.right.value):
                return current.left
            # (C_out if bias else 0) without a bias adds nothing worth a line.
            if conditional and isinstance(current.op, (ast.Add, ast.Sub)) and _is_zero(current.right.value):
                return current.left
        return current

    result = visit(node)
    assert isinstance(result, ast.expr)
    return result


def _is_one(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == 1


def _is_zero(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == 0


def _chain(node: ast.expr) -> frozenset[type[ast.operator]] | None:
    if isinstance(node, ast.BinOp):
        for chain in CHAINS:
            if type(node.op) in chain:
                return chain
    return None


def operands(node: ast.expr) -> list[ast.expr]:
    """The operands one evaluation step acts on; a + b - c has three."""
    chain = _chain(node)
    if isinstance(node, ast.BinOp) and chain is not None:
        left = node.left
        head = operands(left) if _chain(left) is chain else [left]
        return [*head, node.right]
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    if isinstance(node, ast.Compare):
        return [node.left, *node.comparators]
    if isinstance(node, ast.IfExp):
        return [node.test]
    if isinstance(node, (ast.Tuple, ast.List)):
        return list(node.elts)
    return []


def _map_operands(node: ast.expr, function: Callable[[ast.expr], ast.expr]) -> ast.expr:
    chain = _chain(node)
    if isinstance(node, ast.BinOp) and chain is not None:
        left = _map_operands(node.left, function) if _chain(node.left) is chain else function(node.left)
        return ast.BinOp(left=left, op=node.op, right=function(node.right))
    if isinstance(node, ast.BinOp):
        return ast.BinOp(left=function(node.left), op=node.op, right=function(node.right))
    if isinstance(node, ast.UnaryOp):
        return ast.UnaryOp(op=node.op, operand=function(node.operand))
    if isinstance(node, ast.Call):
        return ast.Call(func=node.func, args=[function(a) for a in node.args], keywords=[])
    if isinstance(node, ast.Compare):
        return ast.Compare(left=function(node.left), ops=node.ops, comparators=[function(c) for c in node.comparators])
    if isinstance(node, ast.IfExp):
        return ast.IfExp(test=function(node.test), body=node.body, orelse=node.orelse)
    if isinstance(node, (ast.Tuple, ast.List)):
        return type(node)(elts=[function(e) for e in node.elts], ctx=ast.Load())
    raise SymconvError(f"expression: cannot evaluate a {type(node).__name__} node")


def reduce_once(node: ast.expr, namespace: Mapping[str, Any]) -> ast.expr:
    """One evaluation level: every operation whose operands are all values becomes its value."""
    if is_value(node):
        return node
    if all(is_value(operand) for operand in operands(node)):
        return constant(evaluate(node, namespace))
    return _map_operands(node, lambda operand: reduce_once(operand, namespace))


def evaluate(node: ast.expr, namespace: Mapping[str, Any]) -> Any:
    """The exact value of a tree whose leaves are values (integer division stays rational)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp):
        result = BINARY_OPERATORS[type(node.op)](evaluate(node.left, namespace), evaluate(node.right, namespace))
    elif isinstance(node, ast.UnaryOp):
        result = UNARY_OPERATORS[type(node.op)](evaluate(node.operand, namespace))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in namespace:
        result = namespace[node.func.id](*(evaluate(argument, namespace) for argument in node.args))
    elif isinstance(node, ast.Compare):
        left = evaluate(node.left, namespace)
        result = True
        for comparison, right_node in zip(node.ops, node.comparators):
            right = evaluate(right_node, namespace)
            result = result and COMPARISONS[type(comparison)](left, right)
            left = right
    elif isinstance(node, ast.IfExp):
        chosen = node.body if evaluate(node.test, namespace) else node.orelse
        result = evaluate(chosen, namespace)
    elif isinstance(node, (ast.Tuple, ast.List)):
        result = tuple(evaluate(element, namespace) for element in node.elts)
    else:
        raise SymconvError(f"expression: cannot evaluate a {type(node).__name__} node")
    return exact(result)
