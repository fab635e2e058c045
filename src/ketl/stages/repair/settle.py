"""Where a repair round rewrote the text, and the text around it worth a second look.

The repair passes repeat until a round changes nothing. That last, idle round
costs as much as the first one, yet a round's changes can only enable new
changes near where they were made: every rule but the stray-script one (which
counts letters over the whole text) decides from the line it acts on, the
duplicated-parenthetical rule from at most 88 characters before a bracket, and
the spacing rule from a run of blank lines. So the idle round is replaced by a
round over the rewritten spans with their context (:func:`window_text`); the
stage falls back to a full round whenever that look finds anything.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Iterable

from ...document import _SPAN, Change
from .scan import TextFacts
from .spacing import BLANK_LINES

__all__ = ["DirtySpans", "window_text", "CONTEXT"]

# Characters of context kept on each side of a rewritten span: more than the
# parenthetical rule looks back (80 inside the brackets, 8 around).
CONTEXT = 100


class DirtySpans:
    """Spans of the current text rewritten since creation, kept through later changes."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []
        # What the round that filled the spans saw of the resulting text (its
        # non-ASCII characters): the stray-script check of the whole text reads it.
        self.facts: TextFacts | None = None
        # The encoding rule's prefilter proved it had nothing to do on the round's text.
        self.encoding_idle = False
        # Every change recorded cut whole blank lines: a run of them in the text
        # (starting at its newline) or at the text's start (stage._only_blank_lines_cut).
        self.only_blank_lines = True

    def update(self, text: str, changes: Iterable[Change]) -> None:
        """Record ``changes`` (offsets in ``text``) about to be applied to ``text``."""
        ordered = sorted((c for c in changes if text[c.start:c.end] != c.replacement), key=_SPAN)
        if not ordered:
            return
        if self.only_blank_lines:
            self.only_blank_lines = all(c.rule == BLANK_LINES and (c.start == 0 or text.startswith("\n", c.start))
                                        for c in ordered)
        starts = [c.start for c in ordered]
        ends = [c.end for c in ordered]
        new_starts, new_ends = [], []
        shift = 0
        for c in ordered:
            new_starts.append(c.start + shift)
            shift += len(c.replacement) - (c.end - c.start)
            new_ends.append(c.end + shift)

        def moved(p: int, left: bool) -> int:
            i = bisect_right(starts, p) - 1
            if i < 0:
                return p
            if p > ends[i] or (p == ends[i] and ends[i] > starts[i]):
                return p + new_ends[i] - ends[i]
            return new_starts[i] if left else new_ends[i]  # inside a rewritten span: widen

        if self.spans:  # the round's first change has none to move (most calls)
            self.spans = [(moved(a, True), moved(b, False)) for a, b in self.spans]
        self.spans.extend(zip(new_starts, new_ends))


def _blank(text: str, start: int, end: int) -> bool:
    return not text[start:end].strip()


def window_text(text: str, spans: list[tuple[int, int]]) -> str:
    """The lines around ``spans``, windows joined by a newline.

    Each window is whole lines: from a non-blank line at least ``CONTEXT``
    characters before the first line of the span, to a non-blank line after the
    span's last line, at least ``CONTEXT`` characters past it (or the text's
    ends). Bounded by non-blank lines, a window holds every run of blank lines
    that touches the span; the line ending a window is never one of the span's,
    so the newline the join gives it is the one it has in the text.
    """
    n = len(text)
    windows: list[list[int]] = []
    for p, q in sorted(spans):
        a = text.rfind("\n", 0, p) + 1
        target = a - CONTEXT
        while a > 0 and (a > target or _blank(text, a, (text.find("\n", a) + 1 or n + 1) - 1)):
            a = text.rfind("\n", 0, a - 1) + 1
        b = text.find("\n", q)
        b = n if b < 0 else b
        first = True
        while b < n and (first or b < q + CONTEXT or _blank(text, text.rfind("\n", 0, b) + 1, b)):
            first = False
            b = text.find("\n", b + 1)
            b = n if b < 0 else b
        if windows and a <= windows[-1][1] + 1:
            windows[-1][1] = max(windows[-1][1], b)
        else:
            windows.append([a, b])
    return "\n".join(text[a:b] for a, b in windows)
