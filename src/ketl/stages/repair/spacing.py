"""Spacing: no runs of spaces or tabs, trimmed lines, at most one blank line."""

from __future__ import annotations

import re
from typing import Iterator

from ...document import Change
from .scan import SPACING_MARKS, TextFacts, scan_text

__all__ = ["spacing_changes", "BLANK_LINES", "BLANKS"]

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

BLANK_LINES = "space.blank_lines"  # the rule of the first three alternatives
_RULES = {"edge_start": BLANK_LINES, "edge_end": BLANK_LINES,
          "blank": BLANK_LINES, "trailing": "space.trim", "leading": "space.trim",
          "runs": "space.runs"}


# Every match away from the two ends of the text holds one of these (a blank-line
# run, spaces at a line edge, a tab, a run of spaces), or, for spaces that lead a
# line, follows "\n" + space/tab. Trying the six-way pattern only where one of them
# occurs (found with str.find, in C) instead of at every character was most of
# the stage's spacing cost.
_HOT = ("\n\n\n", "\n ", "\n\t", " \n", "\t", "  ")
BLANKS = _BLANKS = " \t\n"  # every alternative matches only these
_LINE_LEAD = frozenset(i for i, h in enumerate(_HOT) if h[0] == "\n" and h[1] in " \t")


def _matches(text: str, marks: frozenset[str] | None = None) -> Iterator[re.Match]:
    """Exactly ``_SPACING.finditer(text)``, searching only from where a match can start.

    Every match is made of spaces, tabs and newlines, so the leftmost match at or
    after ``pos`` starts in the blank run holding the first hot spot (or the
    text's blank head or tail): a search from that run's start finds it.
    ``marks`` (:class:`TextFacts`) says which hot spots occur at all: the others
    are not searched for.
    """
    n = len(text)
    tail = len(text.rstrip(_BLANKS))
    # next occurrence of each, refreshed when passed; -1: none
    nxt = [text.find(h) if marks is None or (h if h != "\n\t" else "\t") in marks else -1 for h in _HOT]
    pos = 0
    while pos < n:
        for i, at in enumerate(nxt):
            # A match at or after pos holds a hot spot starting there too, but for
            # "\n " and "\n\t", whose newline may end the last match (a line led by
            # spaces). A spot left behind would start the search at pos, from where
            # the pattern is tried at every character up to the next match.
            lo = pos - 1 if i in _LINE_LEAD else pos
            if 0 <= at < lo:
                nxt[i] = text.find(_HOT[i], lo)
        cands = [at for at in nxt if at >= 0]
        if pos == 0 and text[0] in _BLANKS:
            cands.append(0)
        if tail < n:
            cands.append(max(tail, pos))
        if not cands:
            return
        start = max(min(cands), pos)
        while start > pos and text[start - 1] in _BLANKS:
            start -= 1
        m = _SPACING.search(text, start)
        if m is None:
            return
        yield m
        pos = m.end()


def spacing_changes(text: str, facts: TextFacts | None = None) -> list[Change]:
    # Every match holds one of SPACING_MARKS or sits at an end of the text.
    if not text:
        return []
    marks = (facts or scan_text(text)).marks
    if not (text[0] in " \t\n" or text[-1] in " \t\n" or not marks.isdisjoint(SPACING_MARKS)):
        return []
    changes = []
    for m in _matches(text, marks):
        kind = m.lastgroup
        if kind in ("edge_start", "edge_end", "trailing", "leading"):
            replacement = ""
        elif kind == "blank":
            replacement = "\n\n"
        else:
            replacement = " "
        changes.append(Change(m.start(), m.end(), replacement, _RULES[kind]))
    return changes
