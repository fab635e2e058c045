"""One canonical name per speaker (pure): ``Aliyev`` and ``Azerbaijani President Ilham
Aliyev`` in one article are one person, and ``Pashinian`` is ``Nikol Pashinyan``
in every article where the gazetteer says so.

The extractor already strips titles and expands a surname to a full name used
elsewhere in the same article. What is left to join: a name the entity stage
resolved (its mentions carry the gazetteer's canonical name, decided in
context), and a surname or variant matching a person the article names. The
id is a hash of the canonical name, so the same person has the same id in
every article and every run.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Iterable

from ...document import EntityMention

__all__ = ["speaker_id", "SpeakerResolver"]


@lru_cache(maxsize=65536)  # names recur across quotes and articles
def speaker_id(name: str) -> str:
    """Stable id of a canonical speaker name (case and spacing do not matter)."""
    key = " ".join(name.split()).casefold()
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


class SpeakerResolver:
    """Canonical names for the speakers of one article, from its entity mentions."""

    __slots__ = ("by_surface", "by_last", "_memo")

    def __init__(self, entities: Iterable[EntityMention]):
        self.by_surface: dict[str, str] = {}
        self.by_last: dict[str, set[str]] = {}
        self._memo: dict[str, str] = {}
        for e in entities:
            self.by_surface.setdefault(e.surface.casefold(), e.canonical)
            if e.type == "person":
                for name in (e.surface, e.canonical):
                    self.by_last.setdefault(name.split()[-1].casefold(), set()).add(e.canonical)

    def canonical(self, speaker: str | None) -> str | None:
        if not speaker:
            return None
        hit = self._memo.get(speaker)
        if hit is None:
            hit = self._memo[speaker] = self._canonical(speaker)
        return hit

    def _canonical(self, speaker: str) -> str:
        key = speaker.casefold()
        hit = self.by_surface.get(key)
        if hit:
            return hit
        # "Sarkissian" or "President Armen Sarkisyan" when the article names one
        # person of that surname: that person (two with one surname stay apart).
        people = self.by_last.get(key.split()[-1])
        if people and len(people) == 1:
            return next(iter(people))
        return " ".join(speaker.split())
