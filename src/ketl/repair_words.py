"""Glued words (``wasagreed`` -> ``was agreed``) with wordninja's English word model.

Only lowercase ASCII tokens unknown to the model are candidates: capitalised
tokens are names, tokens with digits, accents, hyphens, apostrophes, dots or
slashes are names, handles, URLs or other languages. A candidate is split only
when every part is a common word, one part is a function word (the typical
damage glues a function word to its neighbour; two content words glued are
more often a real compound such as "hashtag"), and no part is a bare fragment
("co", "un"). The caller decides whether the text is English at all.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Callable

from .document import Change
from .repair_rules import repair_rules

__all__ = ["glued_word_changes", "split_glued"]

# A whitespace-delimited chunk, with the punctuation allowed around a word.
_CHUNK = re.compile(r"(?<!\S)[\"“‘(\[]*([a-z]+)[\"”’)\],.;:!?]*(?!\S)")


@lru_cache(maxsize=1)
def _model():
    import wordninja  # loads its gzipped word list once per process

    model = wordninja.DEFAULT_LANGUAGE_MODEL
    cfg = repair_rules()["words"]
    n = len(model._wordcost)
    # wordninja's cost is log((rank + 1) * log(n)), Zipf's law: invert it for the rank limit.
    max_cost = math.log((cfg["max_part_rank"] + 1) * math.log(n))
    function_words = frozenset(cfg["function_words"])
    short_words = frozenset(cfg["short_words"])
    # The words a part may be, with their cost: common enough, and no bare
    # fragment ("co", "un") nor a short content word.
    parts = {w: c for w, c in model._wordcost.items()
             if c <= max_cost and w.isalpha()
             and (len(w) > 2 or w in short_words)
             and (w in function_words or len(w) >= cfg["min_content_length"])}
    return model._wordcost, parts, function_words, cfg


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    return frozenset(_model()[0])


@lru_cache(maxsize=8192)
def split_glued(token: str) -> tuple[str, ...] | None:
    """The parts of a glued lowercase token, or None when it should stay whole.

    The cheapest split (wordninja's cost model) into at most ``max_parts``
    allowed parts, one of them a function word.
    """
    wordcost, parts, function_words, cfg = _model()
    n = len(token)
    if n < cfg["min_token_length"] or n > 40 or token in wordcost:
        return None
    best: tuple[float, tuple[str, ...]] | None = None
    for i in range(1, n):
        a = token[:i]
        ca = parts.get(a)
        if ca is None:
            continue
        rest = token[i:]
        cb = parts.get(rest)
        if cb is not None and (a in function_words or rest in function_words):
            if best is None or ca + cb < best[0]:
                best = (ca + cb, (a, rest))
        if cfg["max_parts"] < 3:
            continue
        for j in range(1, len(rest)):
            b, c = rest[:j], rest[j:]
            cb, cc = parts.get(b), parts.get(c)
            if cb is None or cc is None:
                continue
            if a in function_words or b in function_words or c in function_words:
                cost = ca + cb + cc
                if best is None or cost < best[0]:
                    best = (cost, (a, b, c))
    return None if best is None else best[1]


def glued_word_changes(text: str, protected: Callable[[str], bool] | None = None,
                       is_english: Callable[[], bool] | None = None) -> list[Change]:
    """Changes splitting glued words; ``is_english`` is asked lazily, once, if a candidate exists."""
    min_len = repair_rules()["words"]["min_token_length"]
    # Set difference in C: only the few tokens unknown to the model are looked at.
    unknown = set(_token_re(min_len).findall(text)) - _vocabulary()
    if not unknown:
        return []
    splits = {}
    for token in unknown:
        if protected is not None and protected(token):
            continue
        parts = split_glued(token)
        if parts is not None:
            splits[token] = parts
    if not splits:
        return []
    changes: list[Change] = []
    for m in _CHUNK.finditer(text):
        parts = splits.get(m.group(1))
        if parts is not None:
            changes.append(Change(m.start(1), m.end(1), " ".join(parts), "words.glued"))
    if changes and is_english is not None and not is_english():
        return []
    return changes


@lru_cache(maxsize=4)
def _token_re(min_len: int) -> re.Pattern[str]:
    return re.compile(r"\b[a-z]{%d,}\b" % min_len)
