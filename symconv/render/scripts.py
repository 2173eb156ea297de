"""Names in any script: which font draws each character, the LaTeX that switches to it, and what no font draws.

The documents compile with LuaLaTeX: Latin Modern sets Latin, DejaVu Serif Greek, Cyrillic and the
rarer Latin letters, DejaVu Sans Arabic (right to left, shaped by HarfBuzz), WenQuanYi Micro Hei
Chinese, Japanese and Korean. These fonts come from Debian's fonts-lmodern, fonts-dejavu-core and
fonts-wqy-microhei.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# (LaTeX that sets a run of the script, code point ranges); Latin Modern draws what no entry claims.
SCRIPT_FONTS: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    (r"{\widefont %s}", ((0x0250, 0x02AF), (0x0370, 0x03FF), (0x0400, 0x052F), (0x1E00, 0x1FFF))),
    (r"\textarabic{%s}", ((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),
    (
        r"{\cjkfont %s}",
        (
            (0x2E80, 0x2FDF),
            (0x3000, 0x31FF),
            (0x3400, 0x4DBF),
            (0x4E00, 0x9FFF),
            (0xAC00, 0xD7AF),
            (0xF900, 0xFAFF),
            (0xFF00, 0xFFEF),
        ),
    ),
)
# What Latin Modern draws: ASCII, Latin-1, Latin Extended-A and -B, the common punctuation.
LATIN_RANGES = ((0x0020, 0x007E), (0x00A0, 0x024F), (0x2010, 0x2027), (0x2030, 0x205E))

# The commands above, as they appear in a document that needs LuaLaTeX's fonts.
OTHER_SCRIPTS = re.compile(r"\\(?:widefont|cjkfont|textarabic)(?![A-Za-z])")

LUATEX_FONTS = r"""\usepackage{fontspec}
\newfontfamily\widefont{DejaVu Serif}
\newfontfamily\cjkfont{WenQuanYi Micro Hei}
\newfontfamily\arabicfont{DejaVu Sans}[Script=Arabic, Renderer=HarfBuzz]
\newcommand{\textarabic}[1]{{\arabicfont\textdir TRT #1}}"""
# pdfLaTeX has none of these fonts: the commands keep a Latin-only document compiling.
PDFTEX_FONTS = r"""\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\newcommand{\widefont}{}\newcommand{\cjkfont}{}\newcommand{\textarabic}[1]{#1}"""


@lru_cache(maxsize=4096)  # prose repeats a few hundred characters
def _font(character: str) -> str | None:
    """The LaTeX pattern of the font that draws ``character``; "" for Latin Modern, None for no font."""
    point = ord(character)
    if any(low <= point <= high for low, high in LATIN_RANGES):
        return ""
    for pattern, ranges in SCRIPT_FONTS:
        if any(low <= point <= high for low, high in ranges):
            return pattern
    return None


def undrawable(text: str) -> str | None:
    """The first character of ``text`` (NFC) that no font of the documents draws, as U+XXXX and its name."""
    for character in unicodedata.normalize("NFC", text):
        if _font(character) is None:
            return f"U+{ord(character):04X} ({unicodedata.name(character, 'unnamed')})"
    return None


def script_runs(text: str) -> list[tuple[str, str]]:
    """``text`` (NFC) cut into runs of one font: [(pattern, run), …].

    A space inside a name stays in its run; one at a run's end is set in the Latin font, so a
    right-to-left name does not carry it to its far side.
    """
    if text.isascii():  # the common case: all of it is Latin Modern's, already normalised
        return [("", text)] if text else []
    runs: list[tuple[str, str]] = []
    for character in unicodedata.normalize("NFC", text):
        pattern = _font(character) or ""
        if runs and (pattern == runs[-1][0] or character == " "):
            runs[-1] = (runs[-1][0], runs[-1][1] + character)
        else:
            runs.append((pattern, character))
    cut = []
    for pattern, run in runs:
        content = run.rstrip(" ") if pattern else run
        cut += [(pattern, content)] + ([("", run[len(content) :])] if len(content) < len(run) else [])
    return cut
