"""How far the article reaches from the run the classifier chose: removal
needs evidence (issue #11).

The article reaches out, both ways, up to the nearest line condemned on its
own (a rule, repetition, the title, a link menu) or a comment thread; what
lies between is the article's. Past an interruption it goes on where
``resume`` finds it does. Beyond its last sentence, the short lines before
such evidence are the page's header or footer run (their position is the
evidence), unless nothing but rule lines bounds them from the page's edge (an
unjudged zone), they restate the article (an info box), or a box dropped among
them is the only furniture there. Split from the classifier, which chooses
the run, so that each module has one job. Pure functions over stripped lines
and per-line flags.
"""

from __future__ import annotations

import re
from itertools import compress
from typing import Sequence

from .embeds import tweet_signature
from .prose import (_BULLETS, _LETTER, _TERMINAL_CHARS, _menu_item, _repeated_shapes, _shape, _shapes, _words,
                    is_prose, list_lead)
from .resume import _BARE_LINK, _announced_items, _lead_above_box, _next_hard, _past_box, _prose_below_box, _resume

def _extend_to_evidence(lines: Sequence[str], inside: list[bool], hard: list[bool],
                        weak: Sequence[bool], headers: Sequence[bool], stop: int, max_run: int = 6,
                        max_gap: int = 6, ruled: tuple[int, int] = (0, 0)) -> None:
    """Removal needs evidence: the article reaches out from its chosen run up to
    the nearest line condemned on its own (a rule, repetition, the title, a
    link menu) or a comment thread (``stop``). What lies between is the
    article's: headings, list items, short paragraphs, a recipe's ingredients.
    Beyond the last line of prose before such a line, the short lines are the
    page's header or footer run (their position is the evidence); with no such
    line up to the page's edge nothing says they are furniture, and they stay.
    A weak line (an ad marker, a share button) goes itself but bounds nothing
    when prose follows it before the next evidence. What follows a list header
    ("Related", "More from UK") up to the article is that list, not the article."""
    m = len(inside)
    if True not in inside:
        return
    first = inside.index(True)  # (C scans, not generators over every line)
    last = m - 1 - inside[::-1].index(True)
    # A gap the bridge crossed is the article's where nothing condemns it, but
    # for what follows a list header in it (the box's links).
    if False not in inside[first + 1:last]:
        # (The usual case: the run is whole, no list header can open a gap, and
        # only condemned lines inside it are looked at, for a signature.)
        for q in compress(range(first + 1, last), hard[first + 1:last]):
            if "www." in lines[q] and _SIGNATURE.fullmatch(lines[q]):  # (a signature names a www. address)
                hard[q] = False  # the site's address signing off the article above
        return _extend_edges(lines, inside, hard, weak, headers, stop, max_run, max_gap, ruled, first, last)
    listed = False
    for q in range(first + 1, last):
        if inside[q] or is_prose(lines[q]):
            listed = False
        elif headers[q]:
            listed = True
        if hard[q] and not listed and _SIGNATURE.fullmatch(lines[q]):
            hard[q] = False  # the site's address signing off the article above
        if not hard[q] and not listed:
            inside[q] = True
    _extend_edges(lines, inside, hard, weak, headers, stop, max_run, max_gap, ruled, first, last)


def _extend_edges(lines: Sequence[str], inside: list[bool], hard: list[bool], weak: Sequence[bool],
                  headers: Sequence[bool], stop: int, max_run: int, max_gap: int, ruled: tuple[int, int],
                  first: int, last: int) -> None:
    """:func:`_extend_to_evidence` past the run ``first..last``, both ways."""
    m = len(inside)
    for step, edge, end in ((-1, first, -1), (1, last, stop)):
        if step == 1 and last >= stop and True not in hard[last + 1:]:
            # The run already reaches past the comment thread's start and no
            # evidence follows it: the walk below would run off the page.
            continue
        q = _next_hard(hard, edge + step, step, end)
        while q != end and (weak[q] or headers[q]):
            resumed = _resume(lines, hard, weak, edge, q, step, end, max_gap, first)
            if resumed is None and headers[q]:
                resumed = _past_box(lines, hard, weak, q, end, max_gap, (first, q - 1)) if step == 1 else \
                    _lead_above_box(lines, hard, weak, edge, q, end, max_gap) or _prose_below_box(lines, hard, q, edge)
            if resumed is None:
                break
            take_to, resume_at = resumed
            for r in range(edge + step, take_to + step, step):
                inside[r] = inside[r] or not hard[r]
            inside[resume_at] = True
            edge = resume_at
            q = _next_hard(hard, edge + step, step, end)
        if step == 1 and q != end and _sign_off(lines, inside, hard, edge, q, end, max_run):
            continue
        reach = q - step  # the farthest line the article may take
        zone = (edge + 1, ruled[1]) if step == 1 else \
            (_past_printed_headline(lines, hard, ruled[0], edge), edge) if 0 < ruled[0] < edge else (0, 0)
        box, listed = None, step == -1 and q != end and headers[q]  # (the zone may hold a box, not start in one)
        if q != end and 0 < zone[0] < zone[1] <= m and (step == -1 or zone[1] <= stop) \
                and (not listed and _unjudged_zone(lines, hard, weak, *zone, max_run, step == 1)
                     or step == 1 and _echo_zone(lines, inside, hard, weak, *zone, max_run, first)
                     or step == -1 and (box := _zone_around_box(lines, hard, weak, headers, *zone, max_run))) \
                and not (step == -1 and _menu_goes_on(lines, zone[0])):
            # The page's header (footer) run is all evidence: what lies between is the article's.
            reach = zone[0] if step == -1 else zone[1] - 1
        elif listed:
            continue  # what follows a list header up to the article is its list
        elif q != end:  # evidence there: stop at the last sentence (or list item) before it ...
            lead = list_lead(lines[edge])
            anchor = next((r for r in range(reach, edge, -step) if _anchor(lines[r], lead)
                           or step == 1 and _BARE_LINK.match(lines[r]) and _anchor(lines[r - 1], lead)), edge)
            # ... unless what lies between is too long to be a page's footer or
            # header run (a list of tour dates, a recipe, a table), or is the
            # list the article's last line announces ("Dare to Play 3:").
            if abs(reach - anchor) <= max_run and not (step == 1 and _announced_items(lines, hard, edge, reach)):
                # A line shaped like the article's own ("GIRLS SOCCER", "Viera
                # d. Rockledge 3-1") is the article's, and so is what lies after it.
                # (Only a line with a telling shape can be: the article's shapes
                # are read only when one of these lines has one.)
                if any(_shape(lines[r]) for r in range(reach, anchor, -step)):
                    own = _shapes(lines, first, _next_hard(hard, last + 1, 1, stop)
                                  if last < stop or True in hard[last + 1:] else stop)
                    own |= _repeated_shapes(lines, reach, anchor)
                    reach = next((r for r in range(reach, anchor, -step) if _shape(lines[r]) in own), anchor)
                else:
                    reach = anchor
        for r in range(edge + step, reach + step, step):
            inside[r] = True
        for r in box or ():
            inside[r] = False


def _ruled_edges(penalties: Sequence[int], title_at: int) -> tuple[int, int]:
    """``(top, bottom)``: the page's first ``top`` lines and its lines from
    ``bottom`` on are all condemned by rules or repetition (0 and len: none).
    No ruled top above the headline printed in the body: what precedes it is
    the page's header, whatever the rules say."""
    m = len(penalties)
    top = next((q for q, p in enumerate(penalties) if p <= 0), m)
    bottom = next((q + 1 for q in range(m - 1, -1, -1) if penalties[q] <= 0), 0)
    return (0 if title_at >= top else top), bottom


# Weak rule lines between the header (footer) run and the article: an ad marker
# or a credit interrupts its edge lines; more are the page's own furniture.
_ZONE_WEAK_MAX = 2


_HEADLINE_REACH = 6  # lines below a printed headline where the sentence it was cut from may start


def _printed_headline(lines: Sequence[str], r: int, b: int) -> bool:
    """Does line ``r`` open one of the lines after it, up to two past ``b``,
    word for word (the headline cut from the article's first sentence; spaces
    aside, as the glued-word repair may split the cut word), or end in a
    separator (a title bar's "Headline |")?"""
    line = lines[r]
    if line[-1] in "|»›·":
        return True
    head, first = line.replace(" ", ""), line[0]
    return any(lines[k][0] == first and lines[k].replace(" ", "").startswith(head)
               for k in range(r + 1, min(len(lines), b + 3, r + _HEADLINE_REACH)))


def _past_printed_headline(lines: Sequence[str], hard: Sequence[bool], a: int, b: int) -> int:
    """Where the zone between the page's ruled header (up to ``a``) and the
    article (at ``b``) starts: past its first line when that is the headline
    printed above the article (it opens one of the article's first lines word
    for word): the title repeated, which the rules did not see as such."""
    r = a
    while r < b and hard[r]:
        r += 1
    return r + 1 if r < b and _printed_headline(lines, r, b) else a


def _unjudged_zone(lines: Sequence[str], hard: Sequence[bool], weak: Sequence[bool], a: int, b: int,
                   max_run: int, sentences: bool = False) -> bool:
    """Are lines ``a..b-1``, between a header or footer run that rules and
    repetition account for line by line and the article, only lines nothing
    condemns and a weak rule line or two (an ad marker, a credit), at most
    ``max_run`` of them with letters? Then nothing puts them in the page's
    run: they are the article's edge (a kicker, a dateline, a heading, the
    first items of a list: "Pittsburgh", "BAAR, SWITZERLAND"; a sign-off:
    "Thanks Junior!"). Not when one carries a time stamp: "Catherine Shu
    @catherineshu / 2 days" is the byline the rules missed, nor a headline
    that opens one of the article's first lines word for word. ``sentences``
    (below the article): each ends like a sentence and has no bullet; a list
    of headlines there is a related box whose header no rule knew ("DON'T MISS")."""
    n = n_weak = 0
    for r in range(a, b):
        if hard[r]:
            n_weak += 1
            if not weak[r] or n_weak > _ZONE_WEAK_MAX:
                return False
        elif _LETTER.search(lines[r]):
            n += 1
            if n > max_run or _TIME_STAMP.search(lines[r]):
                return False
            if not sentences and _printed_headline(lines, r, b):
                return False  # the headline cut from a sentence of the article's opening, printed above it
            if sentences and (lines[r][-1] not in _TERMINAL_CHARS or lines[r][0] in _BULLETS):
                return False
    return n > 0


def _zone_around_box(lines: Sequence[str], hard: Sequence[bool], weak: Sequence[bool], headers: Sequence[bool],
                     a: int, b: int, max_run: int) -> range | None:
    """Lines ``a..b-1`` between the page's ruled header run and the article,
    with one box dropped into them (a list header and the headlines below it,
    led alike, three words or more: "Trending Now", "- ..."): is each side of the box a zone no
    rule judged (:func:`_unjudged_zone`: a fact check's "Claim" and its
    sentence above it, "Rating", "Unproven" below)? The box is furniture; it
    says nothing of the lines around it. The box's items, or None."""
    h = next((r for r in range(a, b) if headers[r]), b)
    if h == b or any(headers[r] for r in range(h + 1, b)):
        return None
    j = h + 1
    lead = list_lead(lines[j]) if j < b else ""
    while j < b and not hard[j] and list_lead(lines[j]) == lead and lines[j].count(" ") >= 2 \
            and not is_prose(lines[j]):
        j += 1
    if j == h + 1 or j == b:
        return None
    above = a == h or _unjudged_zone(lines, hard, weak, a, h, max_run)
    return range(h + 1, j) if above and _unjudged_zone(lines, hard, weak, j, b, max_run) else None


def _echo_zone(lines: Sequence[str], inside: Sequence[bool], hard: Sequence[bool], weak: Sequence[bool],
               a: int, b: int, max_run: int, first: int) -> bool:
    """Are lines ``a..b-1``, between the article and the page's ruled footer
    run, the article's info box: at most ``max_run`` short lines, half of them
    or more naming what the article tells of in its own words ("Flos
    Showroom", "7th Amsterdam Light Festival"), the others its dates or hours,
    and weak rule lines (an ad marker, a newsletter call) no more than the
    lines that echo? (The article's words: those of its lines from ``first``,
    not of a box left out between them.) A footer's lines (bylines, menus, related headlines) do
    not restate the article; the box need not end like a sentence."""
    n = n_weak = 0
    for r in range(a, b):
        if hard[r]:
            n_weak += 1
            if not weak[r]:
                return False
        elif _LETTER.search(lines[r]):
            n += 1
            if n > max_run or _TIME_STAMP.search(lines[r]) or lines[r][0] in _BULLETS:
                return False
    # Lines that could echo (two telling words or more), before reading the
    # article's words: most zones have too few, and the article is long.
    telling = [own for r in range(a, b) if not hard[r] and len(own := _telling_words(lines[r])) >= 2]
    if n == 0 or 2 * len(telling) < n or n_weak > len(telling):
        return False
    # (Every word, split in C: a telling word is in it exactly when it is among the telling ones.)
    words = set(_words("\n".join(lines[r] for r in range(first, a) if inside[r] and not hard[r]).lower()))
    echoes = sum(sum(w in words for w in own) >= _ECHO_SHARE * len(own) for own in telling)
    return 2 * echoes >= n and n_weak <= echoes


_ECHO_SHARE = 2 / 3  # of a line's telling words the article must use


def _telling_words(line: str) -> list[str]:
    """A line's words that name something: four letters or more, or a number."""
    return [w for w in _words(line.lower()) if len(w) >= 4 or any(c.isdigit() for c in w)]


def _menu_goes_on(lines: Sequence[str], k: int) -> bool:
    """Is line ``k`` a navigation entry right below two others, each a word or
    two ("Home", "News", then "Standings" no rule knew)? The menu goes on: its
    last entry is no heading of the article. (An ad marker and a share button
    above a dateline are no menu: "Share on WhatsApp", "Advertisement", "Pittsburgh".)"""
    return k >= 2 and all(lines[r].count(" ") <= 1 and _menu_item(lines[r]) for r in (k - 2, k - 1, k))


_TIME_STAMP = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d+\s*(?:sec|secs|min|mins|minutes?|hours?|hrs?|days?|weeks?)\b",
                         re.IGNORECASE)


# A site's bare address signing off an article ("www.autoracing.com.br", "AS -
# www.autoracing.com.br"): the AEB annotators keep it, and what lies between the
# article and it (footnotes), as the article's (4 of 4 pages); what follows it
# is the page's. A link with a path, or a list of links, is another matter.
_SIGNATURE = re.compile(r"(?:[^\W\d_]{1,4}\s{0,3}[-–—:]\s{0,3})?(?:https?://)?www\.[\w-]+(?:\.[\w-]+)+/?")


def _sign_off(lines: Sequence[str], inside: list[bool], hard: list[bool], edge: int, q: int, end: int,
              max_run: int) -> bool:
    """Is the evidence at ``q``, below the article's last line ``edge``, the
    site's address signing the article off (at most ``max_run`` lines below)?
    Then the article takes the lines up to it, it, and the signatures right
    after it (one condemned line may sit between two); what follows is the page's."""
    if q - edge > max_run + 1 or not _SIGNATURE.fullmatch(lines[q]):
        return False
    r = q
    while True:
        for k in range(edge + 1, r):
            inside[k] = inside[k] or not hard[k]
        inside[r], hard[r] = True, False  # the address is the article's; it still ends it
        edge = r
        r += 1
        if r < end and hard[r] and not _SIGNATURE.fullmatch(lines[r]):
            r += 1  # a share row between two signatures
        if r >= end or not _SIGNATURE.fullmatch(lines[r]):
            return True


def _anchor(line: str, lead: str) -> bool:
    """A line the article reaches for: a sentence, an embedded tweet's
    signature, or its list going on."""
    return is_prose(line) or bool(lead) and list_lead(line) == lead or tweet_signature(line)
