"""quote_kind's C-level word handling (map/filter, set.isdisjoint) gives what the
per-word Python it replaced gave, on the quotes and sentences of real text in many scripts."""

from __future__ import annotations

import re

from conftest import texts_in_many_scripts

from ketl.stages.quotes import kind
from ketl.stages.quotes.stage import find_quotes


def _words_reference(text: str) -> list[str]:
    if text.isascii():
        return [w for w in (t.strip(kind._EDGE) for t in text.split()) if w]
    return kind._WORD.findall(text)


def _kind_reference(text: str) -> str:
    """quote_kind as it was written word by word (the slow path)."""
    if text.count(" ") >= kind._LONG + 2:
        return kind.STATEMENT
    words = _words_reference(text)
    n = kind._word_count(text, words)
    if n >= kind._LONG:
        return kind.STATEMENT
    clause = any(w.casefold() in kind._CLAUSE_WORDS for w in words)
    ends = kind._ends_sentence(text)
    cased = [w for w in words if w[0].isalpha() and (w[0].isupper() or w[0].islower())]
    name = (not ends and len(words) >= 2 and bool(cased) and len(cased) >= len(words) - 1
            and all(w[0].isupper() or len(w) <= 3 for w in cased) and cased[0][0].isupper()
            and not any(w.casefold() in kind._CLAUSE_WORDS for w in cased))
    if name:
        return kind.NAME
    if n <= kind._SHORT:
        return kind.STATEMENT if clause and n == 2 and ends else kind.TERM
    return kind.STATEMENT if ends or clause else kind.TERM


def test_quote_kind_matches_the_word_by_word_reference_in_many_scripts():
    texts = texts_in_many_scripts(200)
    spans = [q.text for t in texts for q in find_quotes(t)]
    # Short pieces of every sentence too: most quotes are long statements decided by their gaps.
    for t in texts:
        for sentence in re.split(r"(?<=[.!?。])\s+", t)[:40]:
            words = sentence.split(" ")
            spans += [" ".join(words[:k]) for k in (1, 2, 3, 5)]
    spans += ["“Iron Fist”", "'We' - ...", "-- --", "I agree.", "Es ist vorbei", "DOGS", "„Operation Dawn“"]
    kinds = {}
    for s in spans:
        assert kind._words(s) == _words_reference(s), s
        got = kinds[s] = kind.quote_kind(s)
        assert got == _kind_reference(s), s
    assert len(kinds) > 2000 and set(kinds.values()) == set(kind.KINDS)
