"""Glued words (``wasagreed`` -> ``was agreed``, ``heavyshelling`` -> ``heavy shelling``).

The evidence is wordfreq's English word list (``large``: 321,000 words with
their frequency in books, news, subtitles and the web; it ships inside the
package). A glued pair is two words written without the space. A token is cut
in two at its likeliest cut, the one whose parts have the largest product of
frequencies (a unigram model of the pair: "thepeacekeeping" is "the
peacekeeping", not "the peace keeping"; "a"/"an" must agree with the next
sound), and only when

* both parts are words: a listed one- or two-letter word, or 3+ letters with
  Zipf >= ``min_part_zipf`` ("co", "un", "est" are fragments);
* a token wordfreq knows is far less frequent than the pair: Zipf(a) +
  Zipf(b) - Zipf(token) >= ``known_margin`` ("ofthe", a web typo, 11.8; the
  real words "onto" 9.6, "theme" 9.6, "within" 8.7 stay);
* the kind of words allows it. A function word glued to anything is damage,
  except the ones that also build real words ("inaction", "upwind",
  "checkup"), which count only next to another function word ("inthe") or,
  as a last part, after a word that heads few compounds ("grewup"). Two
  content words are split only when neither is a productive compound head or
  tail ("back", "ear", "ness" build dozens of listed words; English closes
  compounds freely, and "backglass" or "eartips" in clean text must stay);
* the token is not likelier a word of another language ("mein", "todo");
* it stands as a word on a line of running text (not a user name or label).

If the likeliest cut fails these tests the token stays whole: a less likely
cut is no better evidence ("smallarms" is never "small a rms"). Three parts
are not tried: two missing spaces in one token are rare, and the cuts of a
foreign or unknown word into three short English words are many.

Only lowercase ASCII tokens are candidates: capitalised tokens are names or
sentence starts, tokens with digits, accents, hyphens, apostrophes, dots,
slashes, ``@`` or ``#`` are names, handles, URLs, code or other languages. The
caller decides whether the text is English; the gazetteer's ``protected``
check keeps names whole. Speed: the listed words no cut can reach are one
frozenset built with the list, so an article costs a regex scan and a set
difference, and only its few other tokens reach Python.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from operator import attrgetter
from typing import Callable

from ...document import Change
from ...text.cache import read_pickle, write_pickle
from .rules import repair_rules

__all__ = ["glued_word_changes", "split_glued", "warm_word_lists"]

# More unknown tokens than this: ask whether the text is English before splitting.
_ASK_LANGUAGE_FIRST = 8

# The punctuation allowed around a word in a whitespace-delimited chunk.
_OPENING = frozenset("\"“‘([")
_CLOSING = frozenset("\"”’)],.;:!?")

# What counts as a compound built on a part (productivity): a listed word of
# Zipf >= 1.5 made of the part and another word of 3+ letters and Zipf >= 2.
_COMPOUND_MIN_FREQ = 10 ** (1.5 - 9)
_COMPOUND_REST_FREQ = 10 ** (2.0 - 9)
# "a" before a vowel, "an" before a consonant: rare in English (an "a union" or
# "an hour" still wins when nothing else fits).
_ARTICLE_MISMATCH = 0.05


@dataclass(frozen=True)
class _Lexicon:
    freq: dict[str, float]  # wordfreq's frequencies (uses per word)
    safe: frozenset[str]  # listed words no cut can reach: never looked at again
    common: frozenset[str]  # the commonest of them (see _COMMON)
    short: frozenset[str]
    function: frozenset[str]
    heads: frozenset[str]  # function words that also start real words
    tails: frozenset[str]  # ... and end them
    closed: frozenset[str]  # all three
    long_function: frozenset[str]  # function words of 3+ letters
    rare_part_freq: float
    never: frozenset[str]
    min_part_freq: float
    known_ratio: float  # known_margin as a frequency ratio
    cfg: dict


def _zipf_freq(z: float) -> float:
    return 10 ** (z - 9)


_LISTS_FORMAT = 1  # bump when what the glued-word caches store changes meaning
_FROM_CACHE: dict[str, list[str]] = {}  # the sorted word list, when the disk cache gave it


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    cfg = repair_rules()["words"]
    key = _lists_key(cfg)
    cached = read_pickle("glued", key) if key else None
    if cached is not None:
        # One pickle for the three: the word list and the safe set share the dict's strings.
        freq, words, safe = cached
        _FROM_CACHE["words"] = words
        return _build_lexicon(cfg, freq, frozenset(safe))
    from wordfreq import get_frequency_dict  # cached by wordfreq; loads in ~0.2 s

    freq = get_frequency_dict("en", "large")
    lex = _build_lexicon(cfg, freq, frozenset())
    words = _sorted_words()
    suspects = _suspects(lex, words)
    safe = frozenset(w for w in words if w not in suspects)  # the list's own strings: no copies
    if key:
        write_pickle("glued", key, (freq, words, list(safe)))
    return _Lexicon(**{**lex.__dict__, "safe": safe, "common": _common(freq, safe)})


def _lists_key(cfg: dict) -> tuple | None:
    """What the word lists come from: wordfreq's version and the rules' [words] table."""
    try:
        from importlib.metadata import version

        return ("wordfreq", version("wordfreq"), repr(sorted(cfg.items())), _LISTS_FORMAT)
    except Exception:  # noqa: BLE001 - no cache rather than no repair
        return None


# Most tokens of a page are among the commonest words, and the safe set holds
# 286,000: looked up in the stage (between the other steps' work), each member
# costs a read of the stored string, far from cache. The commonest safe words
# are taken out first, then the tokens that cannot be candidates (capitalised,
# digits, short), and only the few left reach the big set: three times less
# time than one difference with it, the same set (common is a subset of safe).
_COMMON = 20_000


def _common(freq: dict[str, float], safe: frozenset[str]) -> frozenset[str]:
    # wordfreq's dict lists words most frequent first; any order would be correct, only slower.
    return frozenset(islice((w for w in freq if w in safe), _COMMON))


def _build_lexicon(cfg: dict, freq: dict[str, float], safe: frozenset[str]) -> _Lexicon:
    return _Lexicon(
        freq=freq, safe=safe, common=_common(freq, safe) if safe else frozenset(), short=frozenset(cfg["short_words"]),
        function=frozenset(cfg["function_words"]), heads=frozenset(cfg["head_words"]),
        tails=frozenset(cfg["tail_words"]),
        closed=frozenset(cfg["function_words"] + cfg["head_words"] + cfg["tail_words"]),
        long_function=frozenset(w for w in cfg["function_words"] if len(w) >= 3),
        rare_part_freq=_zipf_freq(cfg["min_rare_part_zipf"]),
        never=frozenset(cfg["never_split"]), min_part_freq=_zipf_freq(cfg["min_part_zipf"]),
        known_ratio=10 ** cfg["known_margin"] / 1e9, cfg=cfg)


@lru_cache(maxsize=1)
def _sorted_words() -> list[str]:
    if "words" in _FROM_CACHE:
        return _FROM_CACHE["words"]
    from wordfreq import get_frequency_dict

    return sorted(w for w in get_frequency_dict("en", "large")
                  if w.isascii() and w.isalpha() and w.islower())


@lru_cache(maxsize=1)
def _sorted_reversed() -> list[str]:
    key = _lists_key(repair_rules()["words"])
    if key and (cached := read_pickle("glued-reversed", key)) is not None:
        return cached
    rev = sorted(w[::-1] for w in _sorted_words())
    if key:
        write_pickle("glued-reversed", key, rev)
    return rev


def warm_word_lists() -> None:
    """Load every list the splitter reads lazily (from the disk cache when it is there)."""
    _lexicon()
    _sorted_words()
    _sorted_reversed()
    _foreign_zipf()


def _starting_with(words: list[str], prefix: str):
    i = bisect_left(words, prefix)
    while i < len(words) and words[i].startswith(prefix):
        yield words[i]
        i += 1


def _suspects(lex: _Lexicon, words: list[str]) -> set[str]:
    """Listed words some cut may split: a superset, each decided by split_glued.

    A listed word is split only when f(a) * f(b) >= known_ratio * f(word), and
    every listed word has f >= the list's floor, so one part is at least the
    square root of known_ratio times the floor: only the few hundred most
    frequent words can be that part, found by prefix in the sorted list (and
    in the reversed one for the last part).
    """
    freq, ratio = lex.freq, lex.known_ratio
    need = math.sqrt(ratio * min(freq.values()))
    big = {w: f for w, f in freq.items()
           if f >= need and w.isascii() and w.isalpha() and w.islower() and _part_freq(lex, w)}
    found: set[str] = set()
    rev = _sorted_reversed()
    for part, f in big.items():
        k, limit = len(part), f / ratio
        lo = bisect_left(words, part)
        hi = bisect_left(words, part + "{", lo)  # "{" sorts right after "z"
        found.update(w for w in words[lo:hi]
                     if freq.get(w[k:], 0.0) * limit >= freq[w] and _part_freq(lex, w[k:]))
        rpart = part[::-1]
        lo = bisect_left(rev, rpart)
        hi = bisect_left(rev, rpart + "{", lo)
        found.update(w for w in (rw[::-1] for rw in rev[lo:hi])
                     if freq.get(w[:-k], 0.0) * limit >= freq[w] and _part_freq(lex, w[:-k]))
    return found


@lru_cache(maxsize=1)
def _foreign_zipf() -> dict[str, float]:
    """The Zipf frequency of common words of other languages, in the likeliest one.

    Read from wordfreq's small lists (ordered by frequency, in buckets of a
    centibel) without its cache, and only once a split is about to be made.
    Kept on disk (:mod:`ketl.text.cache`): importing wordfreq and reading
    the lists cost a fresh worker 0.5 s.
    """
    cfg = repair_rules()["words"]
    key = _lists_key(cfg)
    if key and (cached := read_pickle("glued-foreign", key)) is not None:
        return cached
    found = _read_foreign_zipf(cfg)
    if key:
        write_pickle("glued-foreign", key, found)
    return found


def _read_foreign_zipf(cfg: dict) -> dict[str, float]:
    from wordfreq import DATA_PATH, read_cBpack

    buckets = round((9 - cfg["foreign_min_zipf"]) * 100)
    lists = [read_cBpack(str(DATA_PATH / f"small_{lang}.msgpack.gz"))[:buckets]
             for lang in cfg["foreign_languages"]]
    found: dict[str, float] = {}
    # Rarest bucket first, every language in turn: a word ends with its Zipf in
    # the language where it is most frequent.
    for bucket in range(buckets - 1, -1, -1):
        z = 9 - bucket / 100
        for listed in lists:
            if bucket < len(listed):
                found.update(dict.fromkeys(filter(str.isascii, listed[bucket]), z))
    return found


def _foreign(lex: _Lexicon, token: str, pair: float) -> bool:
    """Is the token likelier a word of another language than two glued English words?

    English text quotes foreign words ("todo", "mein", "problema", "alla"), and
    wordfreq's English list knows many of them as rare words, so that their
    cuts look like glued English ("to do", "me in", "problem a"). The foreign
    reading wins when its Zipf there is at least the pair's (Zipf(a) +
    Zipf(b)) minus ``foreign_margin``: "mein" (German 5.9 against 13.8 for "me
    in") stays, "isto" (Portuguese 5.4 against 14.5 for "is to") is split.
    """
    z = _foreign_zipf().get(token)
    return z is not None and z >= math.log10(pair) + 18 - lex.cfg["foreign_margin"]


def _part_freq(lex: _Lexicon, part: str) -> float:
    """The part's frequency when it may be a part, else 0."""
    if len(part) <= 2:
        return lex.freq.get(part, 0.0) if part in lex.short else 0.0
    f = lex.freq.get(part, 0.0)
    return f if f >= lex.min_part_freq else 0.0


def _rare_part_freq(lex: _Lexicon, part: str) -> float:
    f = lex.freq.get(part, 0.0) if len(part) >= 3 else 0.0
    return f if f >= lex.rare_part_freq else 0.0


def _function_glue(lex: _Lexicon, a: str, b: str) -> bool:
    """A function word glued to a word, where that cannot be a real word's start or end."""
    fn = lex.function
    if a in lex.heads and b not in fn:
        return False
    if b in lex.tails and a not in fn:
        return False
    closed = lex.closed
    return a in closed or b in closed


def _tail_glue(lex: _Lexicon, a: str, b: str, fa: float) -> bool:
    """A content word glued to a function word that ends compounds ("grewup", "dictatedby"):
    only after a common word that heads few compounds ("make" heads "makeup", "makeover"...)."""
    cfg = lex.cfg["content_pairs"]
    return (b in lex.tails and a not in lex.function and a not in lex.heads
            and len(a) >= cfg["min_part_length"] and fa >= _zipf_freq(cfg["min_part_zipf"])
            and _compounds(a, True) < cfg["max_head_compounds"])


@lru_cache(maxsize=4096)
def _compounds(part: str, as_head: bool) -> int:
    """Listed words built on ``part`` as their head (or tail) and another word."""
    freq = _lexicon().freq
    if as_head:
        built = ((w, w[len(part):]) for w in _starting_with(_sorted_words(), part))
    else:
        built = ((rw[::-1], rw[:len(rw) - len(part)][::-1])
                 for rw in _starting_with(_sorted_reversed(), part[::-1]))
    return sum(1 for w, rest in built
               if len(rest) >= 3 and freq[w] >= _COMPOUND_MIN_FREQ
               and freq.get(rest, 0.0) >= _COMPOUND_REST_FREQ)


def _content_pair(lex: _Lexicon, a: str, b: str, fa: float, fb: float) -> bool:
    cfg = lex.cfg["content_pairs"]
    if not cfg["enabled"]:
        return False
    k, need = cfg["min_part_length"], _zipf_freq(cfg["min_part_zipf"])
    closed = lex.closed
    return (len(a) >= k and len(b) >= k and fa >= need and fb >= need
            and a not in closed and b not in closed
            and _compounds(a, True) < cfg["max_head_compounds"]
            and _compounds(b, False) < cfg["max_tail_compounds"])


def _best_cut(lex: _Lexicon, token: str) -> tuple[float, str, str] | None:
    """The likeliest two words the token can be cut into (largest product of frequencies)."""
    best = None
    for i in range(1, len(token)):
        a, b = token[:i], token[i:]
        if a == b:  # "toto": a word repeated is rarer than a word
            continue
        fa, fb = _part_freq(lex, a), _part_freq(lex, b)
        # Next to a function word of 3+ letters ("theoutgassing", "haswafted"),
        # a rarer word is still a word: such a function word is no foreign ending.
        if not fa and fb and b in lex.long_function:
            fa = _rare_part_freq(lex, a)
        elif fa and not fb and a in lex.long_function:
            fb = _rare_part_freq(lex, b)
        if not (fa and fb):
            continue
        p = fa * fb
        # "a nearly" / "an early": the article agrees with the sound that follows.
        if (a == "a") == (b[0] in "aeiou") and a in ("a", "an"):
            p *= _ARTICLE_MISMATCH
        if best is None or p > best[0]:
            best = (p, a, b)
    return best


@lru_cache(maxsize=8192)
def split_glued(token: str) -> tuple[str, ...] | None:
    """The parts of a glued lowercase token, or None when it should stay whole.

    The likeliest cut is kept or nothing: when it is not a glue the rules
    accept ("smallarms" as "small arms"), a less likely cut ("small a rms")
    is no better evidence.
    """
    lex = _lexicon()
    n = len(token)
    cfg = lex.cfg
    if n < cfg["min_token_length"] or n > cfg["max_token_length"] or token in lex.never:
        return None
    best = _best_cut(lex, token)
    if best is None:
        return None
    p, a, b = best
    if (a == "an" and b[0] not in "aeiouh") or (a == "a" and b[0] in "ai"):
        return None  # "anfallen" (German) is not "an fallen"
    known = lex.freq.get(token)
    if known is not None and p < lex.known_ratio * known:
        return None
    fa, fb = _part_freq(lex, a), _part_freq(lex, b)
    if not (_function_glue(lex, a, b) or _tail_glue(lex, a, b, fa)
            or _content_pair(lex, a, b, fa, fb)):
        return None
    return None if _foreign(lex, token, p) else (a, b)


def glued_word_changes(text: str, protected: Callable[[str], bool] | None = None,
                       is_english: Callable[[], bool] | None = None,
                       unknown: set[str] | None = None) -> list[Change]:
    """Changes splitting glued words; ``is_english`` is asked only when it matters (see below).

    ``unknown``: the text's candidate tokens when the caller has them (the stage
    finds a batch's at once: :mod:`ketl.stages.repair.tokens`)."""
    lex = _lexicon()
    # Tokens found in C and a set difference: only the few tokens no cut is
    # ruled out for are looked at. Like an ASCII regex, a letter such as 'é'
    # is a word boundary, so "xxxxxxé" yields a candidate that _prose_chunks rejects.
    if unknown is None:
        unknown = candidate_tokens(text, lex.cfg["min_token_length"], lex.safe, lex.common)
    if not unknown:
        return []
    # Many unknown lowercase tokens mean another language (dozens a page on the
    # non-English AEB pages, a few on the English ones), where no split is kept:
    # ask the language before trying to split them all. Either order gives the
    # same changes; the stage reuses the answer when the text stays as it is.
    if len(unknown) > _ASK_LANGUAGE_FIRST and is_english is not None and not is_english():
        return []
    changes = []
    for token in unknown:
        # split_glued is cached and says no to almost every token; of the few it
        # would split, most stand in no running text (a site's name in its
        # furniture, "valleyherald.com"): the gazetteer (a hash and a numpy
        # search per call) is asked only about tokens that do.
        parts = split_glued(token)
        if parts is None:
            continue
        starts = list(_prose_chunks(text, token))
        if starts and not (protected is not None and protected(token)):
            joined = " ".join(parts)
            changes += [Change(start, start + len(token), joined, "words.glued") for start in starts]
    changes.sort(key=_START)
    if changes and is_english is not None and not is_english():
        return []
    return changes


_START = attrgetter("start")


def _prose_chunks(text: str, token: str):
    """Starts of ``token`` standing as a word (with only quotes and punctuation
    around it) on a line of running text.

    A line of fewer than ``min_line_words`` words is a label, a user name
    ("joetoronto says:"), an icon name ("icon nomuted") or a heading, where a
    lowercase run of letters is rarely a damaged sentence.
    """
    min_words = repair_rules()["words"]["min_line_words"]
    n = len(token)
    start = text.find(token)
    while start >= 0:
        end = start + n
        left = start
        while left > 0 and text[left - 1] in _OPENING:
            left -= 1
        right = end
        while right < len(text) and text[right] in _CLOSING:
            right += 1
        if (left == 0 or text[left - 1].isspace()) and (right == len(text) or text[right].isspace()):
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", end)
            line = text[line_start:line_end if line_end >= 0 else len(text)]
            if len(line.split(None, min_words - 1)) >= min_words:
                yield start
        start = text.find(token, end)


# Lowercase ASCII letters kept, the other ASCII word characters ([A-Z0-9_]) to
# NUL, every other byte (ASCII non-word, and each byte of a non-ASCII
# character) to a space: the words of the result are the text's runs of ASCII
# word characters, and those without a NUL its runs of lowercase letters only.
_TOKEN_BYTES = bytes(b if 0x61 <= b <= 0x7A else 0 if chr(b).isascii() and (chr(b).isalnum() or b == 0x5F)
                     else 0x20 for b in range(256))


def candidate_tokens(text: str, min_len: int, known: frozenset[str] | set[str] = frozenset(),
                     common: frozenset[str] = frozenset()) -> set[str]:
    """The distinct tokens ``\\b[a-z]{min_len,}\\b`` (ASCII word boundaries) finds
    in ``text``, minus those in ``known``.

    The same set with a third fewer instructions than the regex, whose leading
    ``\\b`` is tried at every character: a byte translation, a split and the
    set difference run in C; only the few tokens left are filtered in Python.
    ``common``, a subset of ``known``, is taken out first (see _COMMON).
    """
    words = set(text.encode("utf-8", "surrogatepass").translate(_TOKEN_BYTES).decode("ascii").split()) - common
    return {w for w in words if len(w) >= min_len and "\0" not in w} - known
