"""The headlines a related-stories box lists under its header.

A rule removes the header ("Related Stories", "MOST READ", "You may also
like", "Читайте также"); the links below it are headlines of other articles,
one per line, right below the header. They leave with it when every one of
them reads as a headline, not as a sentence: no final full stop, few words,
and the box ends at the first blank line, sentence or differently led line
(the article going on: "June 9 – City @ Venue" after "- Headline"). Only
bare headers open a box: "READ MORE: <headline>" names its one link itself,
and the line after it is the article's.
"""

from __future__ import annotations

import re
from typing import Sequence

from .prose import _TERMINAL_CHARS, is_prose, list_lead

__all__ = ["RULE", "related_items"]

RULE = "related.list_item"
# Rules whose line is the header of a list of links.
_HEADER_RULES = frozenset({"cta.read_more", "related.header"})
_WORD = re.compile(r"\w+")
_MAX_HEADER_WORDS = 5  # "More from the Daily Ledger": more words are a link's own headline
_MAX_ITEM_CHARS = 160
_MAX_ITEM_WORDS = 24
_MAX_QUESTION_WORDS = 12
_MAX_ITEMS = 12


def related_items(stripped: Sequence[str], reason: Sequence[str]) -> list[int]:
    """Indices of the kept lines (``reason`` empty) that are the items of a
    related-stories box whose bare header a rule removed."""
    out: list[int] = []
    for i in range(len(stripped)):
        if reason[i] in _HEADER_RULES and _bare(stripped[i]):
            out.extend(_box(stripped, reason, i))
    return out


def _box(stripped: Sequence[str], reason: Sequence[str], i: int) -> list[int]:
    """The kept items below header ``i``: headlines all led alike (bullets,
    numbers or none; one the classifier took already still shows how), up to
    a blank line, a sentence or a line led otherwise. A box inside a list led
    as its items are is left alone: where the box ends and the article's list
    goes on cannot be told."""
    n = len(stripped)
    items: list[int] = []
    lead = None
    j = i + 1
    while j < n and stripped[j] and j - i <= _MAX_ITEMS and _headline(stripped[j]):
        here = _lead(stripped[j])
        if lead is None:
            lead = here
            prev = next((stripped[k] for k in range(i - 1, -1, -1) if stripped[k]), "")
            if lead and prev and _lead(prev) == lead:
                return []
        elif here != lead:
            break
        if not reason[j]:
            items.append(j)
        j += 1
    return items


def _lead(line: str) -> str:
    """How an item is led (prose.list_lead), a question read as the headline it is."""
    return list_lead(line[:-1] if line[-1:] in ("?", "？") else line)


def _bare(header: str) -> bool:
    """A header alone ("Related Stories »"), not a label with its link ("Read more: ...")."""
    if ":" in header.rstrip(": ").rstrip():
        return False
    return len(_WORD.findall(header)) <= _MAX_HEADER_WORDS


def _headline(line: str) -> bool:
    """A link's headline: short, no sentence end, not prose; or a short question
    ("Why the port lost its biggest client?": prose to is_prose, a headline here)."""
    if len(line) > _MAX_ITEM_CHARS:
        return False
    words = _WORD.findall(line)
    if line[-1] in "?？":
        return 2 <= len(words) <= _MAX_QUESTION_WORDS
    return line[-1] not in _TERMINAL_CHARS and 2 <= len(words) <= _MAX_ITEM_WORDS and not is_prose(line)
