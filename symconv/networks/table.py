"""A network report as a text table of at most 100 columns: one row per layer, then the totals."""

from __future__ import annotations

from typing import Any

from symconv.core.values import is_sympy
from symconv.render.text import value_text

TABLE_HEADER = ("layer", "kind", "output", "params", "MACs", "r", "j")
LEFT_ALIGNED = 2  # the first columns are names, the rest numbers
TABLE_WIDTH = 100  # columns of a terminal the table must fit
WIDE_COLUMNS = (2, 4)  # output and MACs: closed forms in H and W move under their row when they do not fit
OPENING, CLOSING = "(⌊⌈[", ")⌋⌉]"
PRODUCTS = ("·", "×")  # where a term too long for its line may break


def format_table(report: Any) -> str:
    """The layers of an ``analyze`` report as a text table, then the totals with their convention, within ``TABLE_WIDTH`` columns.

    When the one-line rows would be wider (symbolic sizes), each row keeps its short cells and its
    output shape and MACs follow on indented lines, broken before a top-level + or ·.
    """

    def cell(value: Any) -> str:
        return "" if value is None else value_text(value, grouped=True)

    rows = [
        (
            row.path or row.kind,
            row.kind,
            shape_cell(row.output_shape),
            cell(row.params),
            cell(row.macs),
            cell(row.receptive_field),
            cell(row.jump),
        )
        for row in report.layers
    ]
    lines = _aligned([TABLE_HEADER, *rows])
    if max(len(line) for line in lines) > TABLE_WIDTH:
        narrow = [column for column in range(len(TABLE_HEADER)) if column not in WIDE_COLUMNS]
        head, *body = _aligned([tuple(row[column] for column in narrow) for row in [TABLE_HEADER, *rows]])
        lines = head.splitlines()
        for line, row in zip(body[1:], rows):
            lines.append(line)
            for column in WIDE_COLUMNS:
                if row[column] and row[column] != "0":
                    lines += _wrapped(f"{TABLE_HEADER[column]:<6}  ", row[column], "    ")
        lines.insert(1, body[0])
    by_op = [(f"  {kind}", cell(value)) for kind, value in report.macs_by_op.items()]
    inline = "; ".join(f"{kind.strip()} {value}" for kind, value in by_op)
    macs = (f"MACs ({report.convention})", cell(report.macs) + (f"   ({inline})" if inline else ""))
    summary = [
        ("input", f"{shape_cell(report.input_shape)} → output {shape_cell(report.output_shape)}"),
        ("parameters", cell(report.params)),
        macs,
        ("receptive field", f"{cell(report.receptive_field) or '-'} (r), effective stride {cell(report.jump) or '-'} (j)"),
    ]
    summary += [("", note) for note in report.field_notes]
    if report.valid_when:
        summary.append(("valid when", ", ".join(map(condition_text, report.valid_when))))
    if report.not_counted:
        summary.append(("not counted", ", ".join(f"{name} ×{count}" for name, count in report.not_counted)))
    label = max(len(name) for name, _ in summary)
    if label + 2 + len(macs[1]) > TABLE_WIDTH:  # symbolic totals: one operator type per line
        summary[2:3] = [(macs[0], cell(report.macs)), *by_op]
    totals = [line for name, value in summary for line in _wrapped(f"{name.ljust(label)}  ", value, "")]
    return "\n".join([*lines, "", *totals])


def _aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as lines of columns (names left, numbers right), with a rule under the header."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    rows = [rows[0], tuple("-" * width for width in widths), *rows[1:]]
    return [
        "  ".join(
            text.ljust(width) if column < LEFT_ALIGNED else text.rjust(width)
            for column, (text, width) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]


def _wrapped(label: str, text: str, indent: str) -> list[str]:
    """``indent + label + text`` in lines of at most ``TABLE_WIDTH`` columns, continued under the text.

    Breaks fall before a + or − outside brackets, or before a · or × when a term alone is too long; a
    piece with no break point is left whole.
    """
    hanging = " " * (len(indent) + len(label))
    room = max(TABLE_WIDTH - len(hanging), 20)
    pieces = _split_at(text, (" + ", " − "), room)
    lines, current = [], ""
    for piece in pieces:
        if current and len(current) + len(piece) > room:
            lines.append(current.rstrip())
            current = piece.lstrip()
        else:
            current += piece
    lines.append(current.rstrip())
    return [(indent + label if number == 0 else hanging) + line for number, line in enumerate(lines)]


def _split_at(text: str, separators: tuple[str, ...], room: int) -> list[str]:
    """``text`` cut before each top-level separator; a piece longer than ``room`` is cut again before a ·."""
    pieces, depth, start, position = [], 0, 0, 0
    while position < len(text):
        character = text[position]
        depth += (character in OPENING) - (character in CLOSING)
        if depth == 0 and position > start and any(text.startswith(separator, position) for separator in separators):
            pieces.append(text[start:position])
            start = position
        position += 1
    pieces.append(text[start:])
    if separators != PRODUCTS:
        pieces = [part for piece in pieces for part in (_split_at(piece, PRODUCTS, room) if len(piece) > room else [piece])]
    return pieces


def shape_cell(shape: tuple[Any, ...]) -> str:
    """A shape as C×H×W, each closed form in brackets."""
    return "×".join(f"({value_text(entry)})" if is_sympy(entry) and not entry.is_Atom else value_text(entry) for entry in shape)


def condition_text(condition: Any) -> str:
    """A condition as text: H ≥ 32, H mod 2 = 0."""
    relations = {
        "Equality": "=",
        "Unequality": "≠",
        "GreaterThan": "≥",
        "StrictGreaterThan": ">",
        "LessThan": "≤",
        "StrictLessThan": "<",
    }
    relation = relations.get(type(condition).__name__)
    if relation is None:
        return str(condition)
    left, right = condition.lhs, condition.rhs
    if type(left).__name__ == "Mod":
        return f"{value_text(left.args[0])} mod {value_text(left.args[1])} {relation} {value_text(right)}"
    return f"{value_text(left)} {relation} {value_text(right)}"
