"""Where the article goes on past an interruption: an ad marker, a caption's
credit, a box of other stories dropped between two of its paragraphs, or a
box above its first one.

A line that interrupts the article (weak evidence) or heads a box (a list
header) bounds it only when nothing of the article follows before the next
evidence. These functions read past such a line for what says the article
goes on: a sentence, the list it cut going on (led alike, announced with a
colon, repeating its own labels), a paragraph of an article's length after a
box, its lead above one. ``edges._extend_to_evidence`` asks them; the
classifier's teaser-tail test asks ``_own_lines_resume`` too. Pure functions
over stripped lines and per-line flags (``hard``: condemned on its own;
``weak``: an interruption).
"""

from __future__ import annotations

import re
from typing import Sequence

from .embeds import tweet_signature
from .prose import _COUNT, _LETTER, _cut_short, _shape, _shapes, is_prose, list_lead

_BARE_LINK = re.compile(r"\s*(?:https?://|www\.)\S+\s*$")


# How far above a list item its announcing line ("Dare to Play 3:") may be.
_ANNOUNCED_MAX = 30


def _announced(lines: Sequence[str], hard: Sequence[bool], k: int) -> bool:
    """Is line ``k`` an item of a list that a line of the article announces
    with a colon ("What you get:"), only items and condemned lines between?"""
    for r in range(k, max(-1, k - _ANNOUNCED_MAX), -1):
        line = lines[r]
        if not hard[r] and line[-1] in ":：" and r < k:
            return True
        if not hard[r] and is_prose(line):
            return False
    return False


def _announced_items(lines: Sequence[str], hard: Sequence[bool], edge: int, reach: int) -> bool:
    """Are the lines after ``edge`` up to ``reach`` more items of the announced
    list ``edge`` belongs to (or begins)? Then they are the article's."""
    if reach <= edge or any(is_prose(lines[r]) for r in range(edge + 1, reach + 1)):
        return False
    return lines[edge][-1] in ":：" or _announced(lines, hard, edge)


def _resume(lines: Sequence[str], hard: Sequence[bool], weak: Sequence[bool], edge: int, q: int, step: int,
            end: int, max_gap: int, first: int = -1) -> tuple[int, int] | None:
    """Where the article goes on past the interruption at ``q`` (an ad marker,
    a caption's credit, a "Trending now" box): ``(first, last)`` lines to take,
    or None. A weak line is passed when a sentence follows before the next
    evidence (everything up to that sentence is taken); any interruption is
    passed when, within ``max_gap`` lines, the list it cut goes on (a line led
    like the one before it: a number, a bullet, the same first word), the box
    between left out."""
    nxt = _next_hard(hard, q + step, step, end)
    if weak[q]:
        prose = next((r for r in range(nxt - step, q, -step) if is_prose(lines[r]) or tweet_signature(lines[r])),
                     None)
        if prose is None and step == 1:
            prose = _tweet_past_weak(lines, hard, weak, q, end, max_gap)
        if prose is not None:
            return prose, prose
        if step == -1:
            found = _items_up_to_prose(lines, hard, weak, q, end)
            if found is not None:
                return found, found
        elif first >= 0:  # a list-and-label article goes on past an ad marker: its labels repeat
            found = _own_lines_resume(lines, hard, q, end, max_gap, (first, q - 1), exact=True)
            if found is not None:
                return found, found
    prev = q - step
    # An item's own link line ("http://amzn.to/.."): the list's lead is its item's.
    item = prev - step if step == 1 and _BARE_LINK.match(lines[prev]) and prev - step >= 0 else prev
    # Items of an announced list ("What you get:") go on past an ad marker, and
    # so does the list a sentence announces right above one ("... su Amazon:").
    nxt_line = q + step
    if (step == 1 and weak[q] and nxt_line != end and not hard[nxt_line] and not hard[prev]
            and not is_prose(lines[nxt_line])
            and (lines[prev][-1] in ":：" and is_prose(lines[prev]) or _announced(lines, hard, prev))):
        return prev, nxt_line
    lead = "" if hard[prev] or hard[item] else list_lead(lines[item])
    if not lead and step == 1 and weak[q] and not hard[prev] and (
            not is_prose(lines[prev]) and _own_list_after(lines, hard, q + 1, end)
            or _count_rows_after(lines, hard, q + 1, end)):
        return prev, q + 1  # a list's heading, an ad marker, the list ("Qualified teams"; a poll's results)
    if not lead or lead == "W:":  # (a word and a colon: how headlines open, too)
        return None
    leads = _list_leads(lines, hard, item, -step, lead)
    r = q + step
    for _ in range(max_gap):
        if r == end:
            return None
        if not hard[r] and list_lead(lines[r]) in leads:
            return prev, r
        r += step
    return None


# Items of the list before an interruption whose leads it may go on with.
_LIST_LEADS = 3


def _list_leads(lines: Sequence[str], hard: Sequence[bool], item: int, step: int, lead: str) -> set[str]:
    """The leads of the list that item ``item`` ends (``lead``, its own, and
    those of the items before it, in direction ``step``, condemned lines
    passed): one item's odd mark ("Oct. 3 -- Ak-Chin Pavilion") does not
    end a list of tour dates led "W--,,"."""
    leads = {lead}
    n, r = 1, item + step
    while n < _LIST_LEADS and 0 <= r < len(lines):
        if not hard[r]:
            other = list_lead(lines[r])
            if not other or other == "W:":
                break
            leads.add(other)
            n += 1
        r += step
    return leads


def _tweet_past_weak(lines: Sequence[str], hard: Sequence[bool], weak: Sequence[bool], q: int, end: int,
                     max_gap: int) -> int | None:
    """An embedded tweet's signature within ``max_gap`` lines below the weak
    line ``q``, past other weak lines (an ad slot, a share button) but no
    stronger evidence: the article goes on to it ("See tweets :", an ad, "Senate
    resolves to:", a share button, the tweet). Its index, or None."""
    for r in range(q + 1, min(end, q + 1 + max_gap)):
        if hard[r] and not weak[r]:
            return None
        if not hard[r] and "(@" in lines[r] and tweet_signature(lines[r]):
            return r
    return None


# Lines in a row led alike by words and marks that make a list of its own.
_OWN_LIST_MIN = 3


def _own_list_after(lines: Sequence[str], hard: Sequence[bool], k: int, end: int) -> bool:
    """Do ``_OWN_LIST_MIN`` lines in a row from ``k`` share a word-led shape
    of two marks or more ("England (Group A): 10th appearance": "W():")? A
    list of the article's own, as furniture's lists are not: theirs are led by
    a bullet, an arrow or a number ("› headline", "1. headline"), or are words
    and one mark ("Flights: ...", the tags "Mac," "Review,")."""
    if k + _OWN_LIST_MIN > end:
        return False
    shape = list_lead(lines[k])
    if not shape.startswith("W") or len(shape) < 3 or not lines[k][0].isalnum():
        return False
    return all(not hard[r] and list_lead(lines[r]) == shape for r in range(k + 1, k + _OWN_LIST_MIN))


# Count rows in a row that are data (a poll's results), not a share counter's few.
_COUNT_ROWS_MIN = 5


def _count_rows_after(lines: Sequence[str], hard: Sequence[bool], k: int, end: int) -> bool:
    """Are the ``_COUNT_ROWS_MIN`` lines from ``k`` counts of something
    ("%165 голосов", "12 votes"), nothing condemned between? A poll's results
    or a table's column below the sentence that introduces them."""
    if k + _COUNT_ROWS_MIN > end:
        return False
    return all(not hard[r] and _COUNT.match(lines[r]) for r in range(k, k + _COUNT_ROWS_MIN))


# Items of the article's own list (a kit, a set of codes) above it, between
# ad markers: short lines, this many at most before a sentence is reached.
_ITEM_MAX_CHARS = 80
_ITEMS_MAX = 8


def _items_up_to_prose(lines: Sequence[str], hard: Sequence[bool], weak: Sequence[bool], q: int,
                       end: int) -> int | None:
    """Reading upwards from the ad marker at ``q``: list items (short lines,
    no sentence), other ad markers between them, and then a sentence of the
    article before any line that bounds it. The sentence's index, or None.
    (Furniture above an article is menus and rule lines, which bound it; a run
    of items right below a sentence of the article is the article's list.)"""
    items = 0
    r = q - 1
    while r != end:
        if hard[r]:
            if not weak[r]:
                return None
        elif is_prose(lines[r]):
            # The sentence introduces its list: the first item right below it.
            return r if items >= 2 and not hard[r + 1] else None
        elif len(lines[r]) > _ITEM_MAX_CHARS:
            return None
        else:
            items += 1
            if items > _ITEMS_MAX:
                return None
        r -= 1
    return None


# Prose that resumes after a box must be an article's worth, not one teaser's blurb.
_RESUMED_MIN_CHARS = 200


def _past_box(lines: Sequence[str], hard: Sequence[bool], weak: Sequence[bool], q: int, end: int,
              max_gap: int, article: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """A box dropped into the article ("Editor's picks" and three headlines):
    where the article's prose resumes after it, as ``(q, first line)`` (the
    box itself is not taken), or None. The box is a few lines that are no
    sentences; what follows must be prose of some length, not a teaser's blurb."""
    r = q + 1
    while r != end and r - q <= max_gap and (weak[r] or not hard[r] and not is_prose(lines[r])):
        r += 1
    if article is not None:
        resumed = _own_lines_resume(lines, hard, q, end, max_gap, article)
        if resumed is not None and (r == end or r == q + 1 or hard[r] or not is_prose(lines[r]) or resumed < r):
            return q, resumed
    if r == end or r == q + 1 or hard[r] or not is_prose(lines[r]):
        return None
    # A teaser's blurb is cut short ("... and what…"): it is no sentence of the article.
    enough = _prose_from(lines, hard, weak, r, 1, end, _RESUMED_MIN_CHARS, 1, skip_cut_short=True)
    return (q, r) if enough else None


# Lines after a box that must repeat the article's own (its labels, its
# telling shapes) for its structured text to resume past the box.
_OWN_AFTER_BOX = 3


def _own_lines_resume(lines: Sequence[str], hard: Sequence[bool], q: int, end: int, max_gap: int,
                      article: tuple[int, int], exact: bool = False) -> int | None:
    """An article of lists and labels (a meal plan, a schedule) has no prose
    to resume with after a box dropped into it: it resumes where, past the
    box, ``_OWN_AFTER_BOX`` lines within ``max_gap`` lines repeat the
    article's own lines above the box, word for word or by their telling
    shape ("Eat 60–90 minutes before your workout"). A teaser list does not
    repeat the article it follows. The first such line, or None."""
    first, last = article
    own_text = {lines[k] for k in range(first, last + 1) if not hard[k]}
    own_shapes = set() if exact else _shapes(lines, first, last + 1)
    found: list[int] = []
    r = q + 1
    while r != end and r - q <= 2 * max_gap and len(found) < _OWN_AFTER_BOX:
        if not hard[r] and (lines[r] in own_text or _shape(lines[r]) in own_shapes):
            found.append(r)
        r += 1
    if len(found) < _OWN_AFTER_BOX:
        return None
    # The box's items are led alike ("• ..."): the article resumes at the first
    # line led otherwise; items led by nothing telling end at the first repeat.
    r = q + 1
    while r < found[0] and hard[r]:
        r += 1
    lead = list_lead(lines[r])
    if not lead or lead == "W:":
        return found[0]
    while r < found[0] and (hard[r] or list_lead(lines[r]) == lead):
        r += 1
    return r


def _prose_from(lines: Sequence[str], hard: Sequence[bool], weak: Sequence[bool], k: int, step: int, end: int,
                min_chars: int, min_lines: int, skip_cut_short: bool) -> bool:
    """Are there ``min_lines`` sentences worth ``min_chars`` from line ``k`` on
    (in direction ``step``), before the next line that bounds the article? An
    ad marker between two of them bounds nothing."""
    size, n = 0, 0
    while k != end and (not hard[k] or weak[k]) and (size < min_chars or n < min_lines):
        if not hard[k] and is_prose(lines[k]) and not (skip_cut_short and _cut_short(lines[k])):
            size, n = size + len(lines[k]), n + 1
        k += step
    return size >= min_chars and n >= min_lines


# The article's lead paragraph above a box is one sentence or two.
_LEAD_MIN_CHARS = 100


def _lead_above_box(lines: Sequence[str], hard: Sequence[bool], weak: Sequence[bool], edge: int, q: int,
                    end: int, max_gap: int) -> tuple[int, int] | None:
    """A box dropped in right below the article's first paragraph ("Most read"
    and two headlines): reading upwards from the article, its lead above the
    box, as ``(edge, lead line)`` (the box is not taken), or None. The box is
    a few lines that are no sentences; the lead is prose, not a teaser's blurb."""
    box = range(q + 1, edge)
    if len(box) > max_gap or any(is_prose(lines[r]) for r in box):
        return None
    r = q - 1
    if r == end or hard[r] or not is_prose(lines[r]) or _cut_short(lines[r]):
        return None
    enough = _prose_from(lines, hard, weak, r, -1, end, _LEAD_MIN_CHARS, 1, skip_cut_short=False)
    return (edge, r) if enough else None


# A box's few items under its header above the article: one teaser or two.
_BOX_ITEMS_MAX = 2


def _prose_below_box(lines: Sequence[str], hard: Sequence[bool], q: int, edge: int) -> tuple[int, int] | None:
    """Reading upwards from the article at ``edge``: the lines above it up to
    the first sentence after the box that the list header at ``q`` heads ("More
    from X >>" and one headline). A box holds its header's few items, no
    sentence; the sentences below it and what lies between them and the
    article are the article's opening ("The refreshing autumn sky!"), not more
    of the box. ``(first sentence, first sentence)``, or None."""
    items = 0
    r = q + 1
    while r < edge and not is_prose(lines[r]):
        items += bool(_LETTER.search(lines[r]))
        r += 1
    if r >= edge or not 0 < items <= _BOX_ITEMS_MAX or _cut_short(lines[r]):
        return None
    return r, r


def _next_hard(hard: Sequence[bool], q: int, step: int, end: int) -> int:
    while q != end and not hard[q]:
        q += step
    return q
