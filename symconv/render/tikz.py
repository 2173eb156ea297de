"""TikZ figures drawn from the same data as the answers: grids of cells, bar charts, U-shaped levels."""

from __future__ import annotations

from typing import Any, Callable

from symconv.core.solution import Bars, Grids, Levels
from symconv.core.values import is_array
from symconv.render.latex import label_latex, prose_latex, value_latex

CELL = 0.8  # cm per grid cell: three 4×4 panels fit the text width
FRACTION_CELL = 1.15  # cm per cell of a figure that shows a fraction: a display-size fraction fits inside
BAR_HEIGHT = 3.0  # cm for the tallest bar
LEVEL_STEP = (1.25, 1.0)  # cm between neighbouring boxes, and per depth level


def _rows(values: Any) -> list[list[Any]]:
    return values.tolist() if is_array(values) else [list(row) for row in values]


def _figure(body: str, caption: str) -> str:
    caption_line = f"\\\\[0.5ex]\n{{\\small {prose_latex(caption)}}}" if caption else ""
    return f"\\begin{{center}}\n{body}{caption_line}\n\\end{{center}}"


def render_grids(figure: Grids) -> str:
    pictures = []
    cell = (
        FRACTION_CELL
        if any(r"\frac" in value_latex(value) for panel in figure.panels for row in _rows(panel.values) for value in row)
        else CELL
    )
    for panel in figure.panels:
        rows = _rows(panel.values)
        height, width = len(rows), len(rows[0])
        cells = [f"\\fill[yellow!45] ({column},{-row}) rectangle ++(1,-1);" for row, column in sorted(panel.highlight)]
        numbers = [
            f"\\node[font=\\small] at ({column + 0.5},{-row - 0.5}) {{$\\displaystyle {value_latex(value)}$}};"
            for row, line in enumerate(rows)
            for column, value in enumerate(line)
        ]
        pictures.append(
            f"\\begin{{tikzpicture}}[x={cell}cm,y={cell}cm,baseline=(current bounding box.center)]\n"
            + "\n".join(cells)
            + f"\n\\foreach \\x in {{0,...,{width}}} \\draw (\\x,0) -- (\\x,{-height});"
            + f"\n\\foreach \\y in {{0,...,{height}}} \\draw (0,-\\y) -- ({width},-\\y);\n"
            + "\n".join(numbers)
            + f"\n\\node[above] at ({width / 2},0) {{${label_latex(panel.label)}$}};\n\\end{{tikzpicture}}"
        )
    return _figure("\n\\quad\n".join(pictures), figure.caption)


def render_bars(figure: Bars) -> str:
    tallest = max(float(value) for value in figure.values) or 1.0
    bars = []
    for index, (label, value) in enumerate(zip(figure.labels, figure.values)):
        top = BAR_HEIGHT * float(value) / tallest
        bars.append(
            f"\\draw[fill=blue!25] ({index * 1.6},0) rectangle ++(1.0,{top:.3f});\n"
            f"\\node[above] at ({index * 1.6 + 0.5},{top:.3f}) {{${value_latex(value)}$}};\n"
            f"\\node[below,align=center,font=\\footnotesize] at ({index * 1.6 + 0.5},0) {{{prose_latex(label)}}};"
        )
    return _figure("\\begin{tikzpicture}\n" + "\n".join(bars) + "\n\\end{tikzpicture}", figure.caption)


def render_levels(figure: Levels) -> str:
    dx, dy = LEVEL_STEP
    nodes = [
        f"\\node[draw,fill=green!10,font=\\footnotesize,minimum width=1cm] (n{index}) at ({index * dx},{-depth * dy}) {{{prose_latex(label)}}};"
        for index, (label, depth) in enumerate(figure.nodes)
    ]
    path = [f"\\draw[->] (n{index}) -- (n{index + 1});" for index in range(len(figure.nodes) - 1)]
    links = [f"\\draw[->,dashed,gray] (n{start}) -- (n{end});" for start, end in figure.links]
    body = "\\begin{tikzpicture}\n" + "\n".join(nodes + path + links) + "\n\\end{tikzpicture}"
    return _figure(f"\\resizebox{{\\linewidth}}{{!}}{{%\n{body}}}", figure.caption)


FIGURE_RENDERERS: dict[type, Callable[[Any], str]] = {Grids: render_grids, Bars: render_bars, Levels: render_levels}
