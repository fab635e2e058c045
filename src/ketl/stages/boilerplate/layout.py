"""A page's removals as changes: the lines condemned, and the blank lines the
layout no longer needs (between two kept lines at most one blank line stays,
none at the top or the bottom).

Most of a page is its article: kept lines one blank line apart, where nothing
changes. The lines are therefore visited a gap at a time (the lines between
two kept ones): a gap of one blank line is passed over by one test, and only
the other gaps (furniture, extra blank lines, the page's top and bottom) are
walked a line at a time.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable
from itertools import compress
from operator import and_, not_

from ...document import Change

__all__ = ["line_changes", "STRAY_WORD", "LAYOUT"]

LAYOUT = "layout.blank_lines"
# A final one-word "sentence" that is a bare function word ("... since the 1990s. Is.")
STRAY_WORD = re.compile(r"(?<=[.!?])(\s+)(?P<w>[A-Z][a-z]{1,4})\.\s*$")
_STRAY_OK = frozenset({"yes", "no", "ok", "okay", "thanks", "amen", "done", "why", "how", "what", "who"})


@lru_cache(maxsize=1)
def stop_en() -> frozenset[str]:
    from stop_words import get_stop_words

    return frozenset(get_stop_words("english"))


def line_changes(texts: list[str], blank: list[bool], reason: list[str], merge_runs: bool,
                 text_len: int, kept: Iterable[int] | None = None) -> list[Change]:
    """The removals of one document as changes, blank-line layout included.
    Blank lines that go ride along with a neighbouring removal (one edit, not
    two), or leave as ``layout.blank_lines``; with ``merge_runs`` consecutive
    lines removed for the same reason are one edit (one block of furniture: a
    menu, a comment thread). Changes come in text order. ``kept``: the
    indices of the kept lines (neither blank nor removed), when the caller has them."""
    n = len(texts)
    gap = _Gap(texts, blank, reason, merge_runs, text_len)
    changes: list[Change] = []
    prev = -1
    pos = 0  # where line prev + 1 starts: the lengths before it, plus one newline per line
    if kept is None:  # (the kept lines picked out in C)
        kept = compress(range(n), map(and_, map(not_, blank), map(not_, reason)))
    for k in kept:
        # Between two kept lines: one blank line is the layout (nothing to do);
        # at the top every line before the first kept one goes.
        if k - prev == 2 and prev >= 0 and blank[k - 1]:
            pos += len(texts[k - 1]) + 1
        elif k - prev > 1:
            pos = gap.changes(changes, prev + 1, k, prev >= 0, pos)
        t = texts[k]
        # The stray word sits in the last few characters: search only there
        # (the look-behind still sees the full stop before them), and only
        # where one could: the stop ending the sentence before it sits
        # between the 17th and the 5th character from the end.
        if (t.endswith(".") or t[-1:].isspace()) and ("." in (tail := t[-17:-4]) or "!" in tail or "?" in tail):
            m = STRAY_WORD.search(t, max(0, len(t) - 16))
            if m and (w := m.group("w").lower()) not in _STRAY_OK and w in stop_en():
                changes.append(Change(pos + m.start(1), pos + len(t), "", "fragment.stray_word"))
        pos += len(t) + 1
        prev = k
    if prev < n - 1:
        gap.changes(changes, prev + 1, n, False, pos)  # the bottom: every line after the last kept one goes
    return changes


class _Gap:
    """The changes of the lines between two kept lines (or before the first,
    after the last)."""

    __slots__ = ("texts", "blank", "reason", "merge_runs", "text_len")

    def __init__(self, texts: list[str], blank: list[bool], reason: list[str], merge_runs: bool,
                 text_len: int) -> None:
        self.texts, self.blank, self.reason, self.merge_runs, self.text_len = texts, blank, reason, merge_runs, text_len

    def changes(self, out: list[Change], lo: int, hi: int, inner: bool, start: int) -> int:
        """Lines ``lo`` to ``hi - 1``, none of them kept, into ``out``
        (``start``: where line ``lo`` starts); ``inner``: kept lines on both
        sides (the first blank line stays). Returns where line ``hi`` starts."""
        texts, blank, reason = self.texts, self.blank, self.reason
        run_start = run_stop = -1
        run_rule = ""
        blank_kept = not inner
        last = len(texts) - 1
        for i in range(lo, hi):
            # (a removed last line takes the text's final newline too: the
            # kept line before it keeps its own)
            stop = start + len(texts[i]) + 1 if i < last else self.text_len
            if blank[i]:
                if not blank_kept:
                    blank_kept = True  # the one blank line of this gap stays
                    if run_start >= 0:
                        out.append(Change(run_start, run_stop, "", run_rule))
                        run_start = -1
                elif run_start >= 0:
                    run_stop = stop
                else:
                    run_start, run_stop, run_rule = start, stop, LAYOUT
            else:
                rule = reason[i]
                if run_start >= 0 and run_rule == LAYOUT:
                    run_stop, run_rule = stop, rule  # the blank lines before it go with it
                elif run_start >= 0 and self.merge_runs and run_rule == rule:
                    run_stop = stop
                else:
                    if run_start >= 0:
                        out.append(Change(run_start, run_stop, "", run_rule))
                    run_start, run_stop, run_rule = start, stop, rule
            start = stop
        if run_start >= 0:
            out.append(Change(run_start, run_stop, "", run_rule))
        return start
