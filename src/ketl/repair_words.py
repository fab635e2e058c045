"""Glued words (``wasagreed`` -> ``was agreed``) with wordninja's English word model.

Only lowercase ASCII tokens unknown to the model are candidates: capitalised
tokens are names, tokens with digits, accents, hyphens, apostrophes, dots or
slashes are names, handles, URLs or other languages. A candidate is split only
when every part is a common word, one part is a function word (the typical
damage glues a function word to its neighbour; two content words glued are
more often a real compound such as "hashtag"), and no part is a bare fragment
("co", "un"). Two content words are split only under the narrow rule of
:func:`_content_pair`. The caller decides whether the text is English at all.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Callable

from .document import Change
from .repair_rules import repair_rules

__all__ = ["glued_word_changes", "split_glued"]

# More unknown tokens than this: ask whether the text is English before splitting.
_ASK_LANGUAGE_FIRST = 8

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
def _vocabulary() -> frozenset[bytes]:
    return frozenset(w.encode("utf-8") for w in _model()[0])


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
    # Where an allowed part can start the token and where one can end it: the
    # few cut points worth trying, instead of every pair of positions.
    heads = [i for i in range(1, n) if token[:i] in parts]
    if not heads:
        return None
    tails = [j for j in range(2, n) if token[j:] in parts] if cfg["max_parts"] >= 3 else []
    best: tuple[float, tuple[str, ...]] | None = None
    for i in heads:  # same order and ties as trying every split, cheapest first found
        a = token[:i]
        ca = parts[a]
        rest = token[i:]
        cb = parts.get(rest)
        if cb is not None and (a in function_words or rest in function_words):
            if best is None or ca + cb < best[0]:
                best = (ca + cb, (a, rest))
        for j in tails:
            if j <= i:
                continue
            b, c = token[i:j], token[j:]
            cb = parts.get(b)
            if cb is None:
                continue
            if a in function_words or b in function_words or c in function_words:
                cost = ca + cb + parts[c]
                if best is None or cost < best[0]:
                    best = (cost, (a, b, c))
    if best is None:
        return _content_pair(token, parts)
    return best[1]


def _content_pair(token: str, parts: dict[str, float]) -> tuple[str, str] | None:
    """Two long, common content words glued ("militaryoperation"), or None.

    See ``[words.content_pairs]`` in repair_rules.toml for why it is narrow.
    wordfreq (its word lists ship inside the package) is loaded only when a
    token gets this far.
    """
    cfg = repair_rules()["words"]["content_pairs"]
    k = cfg["min_part_length"]
    if not cfg["enabled"] or len(token) < 2 * k:
        return None
    best: tuple[float, str, str] | None = None
    for i in range(k, len(token) - k + 1):
        a, b = token[:i], token[i:]
        ca, cb = parts.get(a), parts.get(b)
        if ca is not None and cb is not None and a not in cfg["not_first"]:
            if best is None or ca + cb < best[0]:
                best = (ca + cb, a, b)
    if best is None:
        return None
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # without its word list the rule cannot tell a compound: no split
        return None

    _, a, b = best
    if zipf_frequency(token, "en") > 0:
        return None  # a word wordfreq knows: a real compound
    if min(zipf_frequency(a, "en"), zipf_frequency(b, "en")) < cfg["min_part_zipf"]:
        return None
    return a, b


def glued_word_changes(text: str, protected: Callable[[str], bool] | None = None,
                       is_english: Callable[[], bool] | None = None) -> list[Change]:
    """Changes splitting glued words; ``is_english`` is asked only when it matters (see below)."""
    min_len = repair_rules()["words"]["min_token_length"]
    # Tokens found in the UTF-8 bytes (the regex runs faster there than on a
    # two-byte-per-character str) and a set difference in C: only the few
    # tokens unknown to the model are looked at. In bytes, a letter such as 'é'
    # is a word boundary, so "xxxxxxé" yields a candidate that _CHUNK rejects.
    unknown = set(_token_re(min_len).findall(text.encode("utf-8", "surrogatepass"))) - _vocabulary()
    if not unknown:
        return []
    # Many unknown lowercase tokens mean another language (67 a page on the
    # non-English AEB pages, 3 on the English ones), where no split is kept:
    # ask the language before trying to split them all. Either order gives the
    # same changes; the stage reuses the answer when the text stays as it is.
    if len(unknown) > _ASK_LANGUAGE_FIRST and is_english is not None and not is_english():
        return []
    splits = {}
    for token in map(bytes.decode, unknown):
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
def _token_re(min_len: int) -> re.Pattern[bytes]:
    return re.compile(rb"\b[a-z]{%d,}\b" % min_len)
