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


_HEAD = re.compile(r"(?:[ \t]*\n)+")
_TAIL = re.compile(r"(?:[ \t]*\n)*[ \t]*\n[ \t]*\Z|[ \t]+\Z")
_TAIL_WINDOW = 64


def _only_edges(text: str) -> bool:
    """Nothing inside the text can match: only a blank head or tail may need trimming.

    Most articles end with a newline and hold no other spacing damage; scanning
    the whole text with the six-way pattern for that one newline was a third of
    the repair stage's time.
    """
    return (len(text) > 2 * _TAIL_WINDOW and text[0] not in " \t"
            and "  " not in text and "\t" not in text and " \n" not in text
            and "\n " not in text and "\n\n\n" not in text)


def spacing_changes(text: str, facts: TextFacts | None = None) -> list[Change]:
    # Every match holds one of SPACING_MARKS or sits at an end of the text.
    if not text or not (text[0] in " \t\n" or text[-1] in " \t\n"
                        or not (facts or scan_text(text)).marks.isdisjoint(SPACING_MARKS)):
        return []
    if _only_edges(text):
        changes = []
        if (head := _HEAD.match(text)) is not None:
            changes.append(Change(0, head.end(), "", _RULES["edge_start"]))
        base = len(text) - _TAIL_WINDOW
        if (tail := _TAIL.search(text, base)) is not None:
            changes.append(Change(tail.start(), tail.end(), "", _RULES["edge_end"]))
        return changes
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
