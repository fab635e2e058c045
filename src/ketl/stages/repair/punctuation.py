"""Punctuation damage left by translation and scraping, and duplicated parentheticals.

Each rule is narrow on purpose: it must leave ellipses, emoticons, decimal
numbers, French spacing and real possessives alone.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from ...document import Change
from .rules import repair_rules
from .scan import TextFacts, scan_text

_SPACE_MARKS = frozenset([" ,", " .", " ;", " !", " ?"])
_NUMBER_MARKS = frozenset([".\t", *(f". {d}" for d in "0123456789")])

__all__ = ["punctuation_changes", "parenthetical_changes", "PAREN_LOOKBACK"]

# One regex per rule, each starting with a literal character: Python's regex
# engine skips to a literal at memory speed but tests a leading character class
# at every position, ten times slower. The context each rule needs on the left
# is checked in code.
_DOUBLE_PERIOD = re.compile(r"\.\.(?!\.)(?=\s|\Z|[\"”’)\]])")  # "he said.." -> "he said."
_DOUBLE_COMMA = re.compile(r",,(?!,)")
_LONE_PERIOD = re.compile(r"[.!?]([ \t]+\.)(?!\.)(?=\s|\Z)")  # "century. ." -> "century."
# "the decade. 1990." -> "the decade 1990." (a bare number cannot be a sentence;
# only at the end of a line, so not list items "time. 2. Take")
_STRAY_PERIOD = re.compile(r"\.(?=[ \t]\d{1,4}\.(?:\n|\Z))")
# "biased’ in": judged in _is_stray_quote
_QUOTES = (re.compile(r"’(?=[\s,.;:!?]|\Z)"), re.compile(r"'(?=[\s,.;:!?]|\Z)"))
# "word , next" -> "word, next"
_SPACE_BEFORE = (re.compile(r" [,.;!?](?=\s|\Z)"), re.compile(r"\t[,.;!?](?=\s|\Z)"))
_LOWER_WORD = re.compile(r"(?<![A-Za-z])[a-z]{4,}\Z")

_SPACED_ELLIPSIS = re.compile(r"\.(?:[ \t]+\.){2,}")

_OPENINGS = "‘'"  # mixed styles are common: ‘like this'
_OPEN_BEFORE = set(" \t\n([{\"“-—–/")


_QUOTE_CHAR = re.compile("[‘’']")


class _QuoteDepth:
    """Open single quotations at a point of a line, counted on from the last
    point asked: the candidates of one line come in order, so a long line is
    scanned once, not once per candidate (a 5 MB one-line text took minutes)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line = self.pos = -1
        self.depth = 0
        self._seen, self._start = 0, 0  # line starts found so far (up to _seen)

    def line_start(self, pos: int) -> int:
        """Start of the line holding ``pos``; the text before the last position
        asked is not searched again."""
        if pos < self._seen:
            return self.text.rfind("\n", 0, pos) + 1
        nl = self.text.rfind("\n", self._seen, pos)
        if nl >= 0:
            self._start = nl + 1
        self._seen = pos
        return self._start

    def at(self, line_start: int, end: int) -> int:
        if line_start != self.line or end < self.pos:
            self.line, self.pos, self.depth = line_start, line_start, 0
        # The last character is judged as the end of the text (nothing after
        # it), so it is counted now but not kept: the next call sees what follows.
        self.depth = self._count(line_start, self.pos, end - 1, end, self.depth)
        self.pos = max(self.pos, end - 1)
        return self._count(line_start, self.pos, end, end, self.depth)

    def _count(self, line_start: int, lo: int, hi: int, end: int, depth: int) -> int:
        text = self.text
        for m in _QUOTE_CHAR.finditer(text, lo, hi):
            i = m.start()
            ch = text[i]
            prev = text[i - 1] if i > line_start else " "
            nxt = text[i + 1] if i + 1 < end else " "
            if prev.isalnum() and nxt.isalnum():
                continue  # apostrophe inside a word: we're, didn’t
            if ch in _OPENINGS and (prev in _OPEN_BEFORE) and (nxt.isalnum() or nxt in "‘\"“"):
                depth += 1
            elif prev.isalnum() or prev in ".,!?;:)]”\"":
                depth = max(0, depth - 1)
        return depth


@lru_cache(maxsize=1)
def _quote_data() -> tuple[str, tuple[str, ...]]:
    cfg = repair_rules()["punctuation"]
    return cfg["possessive_endings"], tuple(cfg["elision_endings"])


def _is_stray_quote(text: str, pos: int, depth: _QuoteDepth | None = None) -> bool:
    """Is the quote at ``pos`` glued damage rather than a possessive or a closing quote?"""
    possessive, elisions = _quote_data()
    depth = depth or _QuoteDepth(text)
    line_start = depth.line_start(pos)
    word_start = pos
    while word_start > line_start and text[word_start - 1].isalpha():
        word_start -= 1
    word = text[word_start:pos]
    if len(word) < 3 or not word.isascii() or word[-1].lower() in possessive:
        return False
    if word.lower().endswith(elisions):
        return False
    if word_start > line_start and text[word_start - 1] in "‘'’-_/@#.":
        return False  # quoted single word ('so’), or part of a bigger token
    if depth.at(line_start, word_start) > 0:
        return False  # it closes a quotation opened earlier on the line
    return True


def _spaced_ellipses(text: str) -> list[tuple[int, int]]:
    if ". ." not in text:
        return []
    return [(m.start() - 1, m.end()) for m in _SPACED_ELLIPSIS.finditer(text)]


def punctuation_changes(text: str,
                        strong_space_rule: bool | Callable[[], bool] = True,
                        facts: TextFacts | None = None) -> list[Change]:
    """Changes for the punctuation rules.

    ``strong_space_rule`` (or a callable asked only when it matters) is False for
    French-like text, which spaces ``; ! ?`` on purpose. Each rule runs only if
    the marks its matches contain occur (``facts.marks``, one pass for all).
    """
    facts = facts or scan_text(text)
    marks = facts.marks
    changes: list[Change] = []
    if ".." in marks:
        for m in _DOUBLE_PERIOD.finditer(text):
            prev = text[m.start() - 1] if m.start() else ""
            # After a Latin letter or digit only: in Korean or Japanese ".." marks a cut title.
            if prev.isascii() and (prev.isalnum() or prev == ")"):
                changes.append(Change(m.start(), m.end(), ".", "punct.double_period"))
    if ",," in marks:
        for m in _DOUBLE_COMMA.finditer(text):
            if m.start() and text[m.start() - 1].isalnum():
                changes.append(Change(m.start(), m.end(), ",", "punct.double_comma"))
    has_tab = "\t" in marks
    ellipses = _spaced_ellipses(text) if ". ." in marks else []
    if " ." in marks or (has_tab and "\t." in text):
        for m in _LONE_PERIOD.finditer(text):
            changes.append(Change(m.start(1), m.end(1), "", "punct.double_period"))
    if not marks.isdisjoint(_NUMBER_MARKS):
        for m in _STRAY_PERIOD.finditer(text):
            if _LOWER_WORD.search(text, max(0, m.start() - 40), m.start()):
                changes.append(Change(m.start(), m.end(), "", "punct.stray_period"))
    for quote, pattern in zip("’'", _QUOTES):
        if quote not in facts.chars if quote == "’" else quote not in text:
            continue
        depth = _QuoteDepth(text)
        for m in pattern.finditer(text):
            if m.start() and text[m.start() - 1].isascii() and text[m.start() - 1].isalpha() \
                    and _is_stray_quote(text, m.start(), depth):
                changes.append(Change(m.start(), m.end(), "", "punct.stray_closing_quote"))
    patterns = ([_SPACE_BEFORE[0]] if not marks.isdisjoint(_SPACE_MARKS) else []) + \
        ([_SPACE_BEFORE[1]] if has_tab else [])
    for pattern in patterns:
        for m in pattern.finditer(text):
            mark = text[m.end() - 1]
            if mark in ";!?":
                if callable(strong_space_rule):
                    strong_space_rule = bool(strong_space_rule())
                if not strong_space_rule:
                    continue
            end = m.end() - 1
            start = end - 1
            while start > 0 and text[start - 1] in " \t":
                start -= 1
            prev = text[start - 1] if start else ""
            if not (prev.isalnum() or prev == "_"):
                continue  # after a symbol or at a line start: emoticons, bullets
            changes.append(Change(start, end, "", "punct.space_before"))
    if ellipses:
        changes = [c for c in changes
                   if not any(a <= c.start < b or a < c.end <= b for a, b in ellipses)]
    return changes


_PAREN_INNER = 80  # the most characters inside the brackets
_PAREN_MARGIN = 8  # read before the words repeated, for the spacing and the boundary
# The most parenthetical_changes reads before a bracket (past spaces and tabs): a
# change further back gives the rule nothing new (stage._only_blank_lines_cut).
PAREN_LOOKBACK = _PAREN_INNER + _PAREN_MARGIN
_PAREN = re.compile(rf"\(([^()\n]{{2,{_PAREN_INNER}}})\)")
_NORM_SPACE = re.compile(r"\s+")


def parenthetical_changes(text: str) -> list[Change]:
    """``Vladimir Putin (Vladimir Putin)`` -> ``Vladimir Putin``."""
    if "(" not in text:
        return []
    changes = []
    for m in _PAREN.finditer(text):
        # The words before the bracket must end as the words inside do: a
        # character test first spares the normalisations below to nearly every
        # bracket ("said (Reuters)"). What precedes "(" past spaces and tabs is
        # the last character of ``before``; a blank there (a newline) cannot end it.
        start = m.start()
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        last = m.group(1).rstrip()[-1:]
        if not last or not start or text[start - 1] != last:
            continue
        inner = _NORM_SPACE.sub(" ", m.group(1).strip())
        if not inner or not any(c.isalpha() for c in inner):
            continue
        # One word repeated is often a gloss ("Suomi (suomi)", a name in its own
        # script); a repeated multi-word name or a capitalised ASCII name is not.
        if " " not in inner and not (inner.isascii() and inner[:1].isupper() and len(inner) >= 4):
            continue
        n = len(inner)
        before = _NORM_SPACE.sub(" ", text[max(0, start - n - _PAREN_MARGIN):start])
        if not before.endswith(inner):
            continue
        head = before[:-n]
        # The repeated words must start at a word boundary ("Putin (Putin)", not "xPutin").
        if head and (head[-1].isalnum() or head[-1] == "_"):
            continue
        if start == 0 or text[start - 1] == "\n":
            continue
        changes.append(Change(start, m.end(), "", "paren.duplicate"))
    return changes
