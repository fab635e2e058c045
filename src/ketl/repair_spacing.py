"""Spacing: no runs of spaces or tabs, trimmed lines, at most one blank line."""

from __future__ import annotations

import re

from .document import Change
from .repair_scan import SPACING_MARKS, TextFacts, scan_text

__all__ = ["spacing_changes"]

# One pass, leftmost match wins; blank-line runs come first so that lines made
# only of spaces are swallowed whole rather than trimmed into new blank runs.
_SPACING = re.compile(
    r"(?P<edge_start>\A(?:[ \t]*\n)+)"
    r"|(?P<edge_end>(?:[ \t]*\n)*[ \t]*\n[ \t]*\Z|[ \t]+\Z)"
    r"|(?P<blank>\n(?:[ \t]*\n){2,}|\n[ \t]+\n(?:[ \t]*\n)*)"
    r"|(?P<trailing>[ \t]+(?=\n))"
    r"|(?P<leading>(?:(?<=\n)|\A)[ \t]+)"
    r"|(?P<runs>[ \t]{2,}|\t)"
)

_RULES = {"edge_start": "space.blank_lines", "edge_end": "space.blank_lines",
          "blank": "space.blank_lines", "trailing": "space.trim", "leading": "space.trim",
          "runs": "space.runs"}


def spacing_changes(text: str, facts: TextFacts | None = None) -> list[Change]:
    # Every match holds one of SPACING_MARKS or sits at an end of the text.
    if not text or not (text[0] in " \t\n" or text[-1] in " \t\n"
                        or not (facts or scan_text(text)).marks.isdisjoint(SPACING_MARKS)):
        return []
    changes = []
    for m in _SPACING.finditer(text):
        kind = m.lastgroup
        if kind in ("edge_start", "edge_end", "trailing", "leading"):
            replacement = ""
        elif kind == "blank":
            replacement = "\n\n"
        else:
            replacement = " "
        changes.append(Change(m.start(), m.end(), replacement, _RULES[kind]))
    return changes
