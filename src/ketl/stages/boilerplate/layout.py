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
from itertools import accumulate, compress
from operator import add, and_, not_

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
                 text_len: int) -> list[Change]:
    """The removals of one document as changes, blank-line layout included.
    Blank lines that go ride along with a neighbouring removal (one edit, not
    two), or leave as ``layout.blank_lines``; with ``merge_runs`` consecutive
    lines removed for the same reason are one edit (one block of furniture: a
    menu, a comment thread). Changes come in text order."""
    n = len(texts)
    # where each line starts: the lengths before it, plus one newline per line;
    # a removed last line takes the text's final newline too (the kept line
    # before it keeps its own)
    starts = [0, *map(add, accumulate(map(len, texts[:-1])), range(1, n))]
    stops = starts[1:] + [text_len]
    gap = _Gap(blank, reason, starts, stops, merge_runs)
    changes: list[Change] = []
    prev = -1
    # (the kept lines picked out in C)
    for k in compress(range(n), map(and_, map(not_, blank), map(not_, reason))):
        # Between two kept lines: one blank line is the layout (nothing to do);
        # at the top every line before the first kept one goes.
        if k - prev != 2 or prev < 0 or not blank[k - 1]:
            if k - prev > 1:
                gap.changes(changes, prev + 1, k, prev >= 0)
        t = texts[k]
        # The stray word sits in the last few characters: search only there
        # (the look-behind still sees the full stop before them), and only
        # where one could: the stop ending the sentence before it sits
        # between the 17th and the 5th character from the end.
        if (t.endswith(".") or t[-1:].isspace()) and ("." in (tail := t[-17:-4]) or "!" in tail or "?" in tail):
            m = STRAY_WORD.search(t, max(0, len(t) - 16))
            if m and (w := m.group("w").lower()) not in _STRAY_OK and w in stop_en():
                changes.append(Change(starts[k] + m.start(1), starts[k] + len(t), "", "fragment.stray_word"))
        prev = k
    if prev < n - 1:
        gap.changes(changes, prev + 1, n, False)  # the bottom: every line after the last kept one goes
    return changes


class _Gap:
    """The changes of the lines between two kept lines (or before the first,
    after the last)."""

    __slots__ = ("blank", "reason", "starts", "stops", "merge_runs")

    def __init__(self, blank: list[bool], reason: list[str], starts: list[int], stops: list[int],
                 merge_runs: bool) -> None:
        self.blank, self.reason, self.starts, self.stops, self.merge_runs = blank, reason, starts, stops, merge_runs

    def changes(self, out: list[Change], lo: int, hi: int, inner: bool) -> None:
        """Lines ``lo`` to ``hi - 1``, none of them kept, into ``out``;
        ``inner``: kept lines on both sides (the first blank line stays)."""
        blank, reason, starts, stops = self.blank, self.reason, self.starts, self.stops
        run_start = run_stop = -1
        run_rule = ""
        blank_kept = not inner
        for i in range(lo, hi):
            if blank[i]:
                if not blank_kept:
                    blank_kept = True  # the one blank line of this gap stays
                    if run_start >= 0:
                        out.append(Change(run_start, run_stop, "", run_rule))
                        run_start = -1
                elif run_start >= 0:
                    run_stop = stops[i]
                else:
                    run_start, run_stop, run_rule = starts[i], stops[i], LAYOUT
                continue
            rule = reason[i]
            if run_start >= 0 and run_rule == LAYOUT:
                run_stop, run_rule = stops[i], rule  # the blank lines before it go with it
            elif run_start >= 0 and self.merge_runs and run_rule == rule:
                run_stop = stops[i]
            else:
                if run_start >= 0:
                    out.append(Change(run_start, run_stop, "", run_rule))
                run_start, run_stop, run_rule = starts[i], stops[i], rule
        if run_start >= 0:
            out.append(Change(run_start, run_stop, "", run_rule))
