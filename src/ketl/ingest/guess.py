"""Which legacy code page wrote these bytes: the candidate whose text reads least oddly.

charset-normalizer's guess is weak on short text (a 50-byte latin-1 sentence
came out as cp775, ``Cafķ owners in Gj°vik``) and not always right on long
text (2 KB of French as cp1257, ``mardi ą Genčve``). Here every usual code
page decodes the bytes and :func:`ketl.ingest.plausible.implausibility` says
how oddly each reading reads.

Candidates read the first 64 bytes from the first non-ASCII byte, then the
close ones 512, then 2,048, best first, so a wrong one stops counting early.
Every candidate also carries a small prior, so that a tie (``Café`` reads the
same in cp1252, cp1250 and latin-1) goes to the most common code page.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from ..text.language import detect_language
from .plausible import Context, implausibility, latin_alphabet, rarity_key

__all__ = ["CANDIDATES", "SAMPLE_BYTES", "Guess", "context_language", "guess_legacy", "ranked"]

# (codec, prior): the most common code page of each region first; a rival
# must read better by more than the difference of priors to win.
CANDIDATES: tuple[tuple[str, float], ...] = (
    ("cp1252", 0.0), ("latin_1", 0.2), ("iso8859_15", 0.4), ("cp1254", 0.6),
    ("cp1250", 0.5), ("iso8859_2", 0.5),
    ("cp1251", 0.5), ("koi8_r", 0.8), ("koi8_u", 1.0), ("cp866", 1.5), ("iso8859_5", 1.5),
    ("mac_cyrillic", 2.0),
    ("cp850", 1.5), ("cp437", 1.5), ("mac_roman", 1.5),
    ("cp1253", 1.0), ("iso8859_7", 1.0), ("cp1257", 1.0), ("iso8859_13", 1.5), ("iso8859_4", 2.0),
    ("cp1255", 1.5), ("cp1256", 1.5), ("cp874", 1.5),
    ("gb18030", 0.5), ("big5", 1.0), ("shift_jis", 0.5), ("cp932", 0.6), ("euc_jp", 0.8),
    ("euc_kr", 0.5), ("cp949", 0.6),
)

# Bytes read per candidate: a few words, then more for those still in the
# running, best first; the last round decides (margin 0).
_ROUNDS = ((64, 6.0), (512, 4.0), (2048, 0.0))
SAMPLE_BYTES = _ROUNDS[-1][0]

_HIGH_BYTES = bytes(range(0x80, 0x100))
_MIN_CONTEXT_CONFIDENCE = 0.3


def context_language(sample: bytes) -> Context | None:
    """What the ASCII letters around the non-ASCII bytes say: every single-byte
    code page reads them alike, and the identifier knows ``wiksz`` is Polish,
    so ``ę`` fits there and ``ê`` does not. None for a language without a
    Latin alphabet in ``alphabets.toml`` (English, Russian, Chinese...)."""
    skeleton = sample.translate(None, _HIGH_BYTES).decode("ascii")
    lang, prob = detect_language(skeleton)
    alphabet = latin_alphabet(lang)
    if alphabet is None or prob < _MIN_CONTEXT_CONFIDENCE:
        return None
    return Context(alphabet, prob)


@dataclass(frozen=True, slots=True)
class Guess:
    codec: str
    cost: float  # exact for candidates near the best; a lower bound for the others


_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def _sample(data: bytes, size: int) -> tuple[bytes, bool]:
    """Up to ``size`` bytes from just before the first non-ASCII byte, and
    whether they reach the end of ``data``.

    The bytes before the first non-ASCII byte are whole characters in every
    candidate, and a space or newline is never part of a multibyte character
    in any of them, so cutting there splits no character.
    """
    m = _HIGH_BYTE.search(data)
    start = max(0, m.start() - 64) if m else 0
    end = start + size
    if end >= len(data):
        return data[start:], True
    cut = max(data.rfind(b" ", start, end), data.rfind(b"\n", start, end))
    return data[start:cut if cut > start + size // 2 else end], False


def _sample_text(sample: bytes, codec: str, final: bool) -> str | None:
    try:
        # not final: a character cut at the end of the sample is left out
        return codecs.getincrementaldecoder(codec)("strict").decode(sample, final=final)
    except UnicodeDecodeError:
        return None


def _score(candidates, sample: bytes, final: bool, margin: float, context: Context | None) -> list[Guess]:
    """Candidates that decode ``sample``, least odd first; counting stops
    ``margin`` above the best so far (ties keep the candidates' order)."""
    out: list[Guess] = []
    best = float("inf")
    exact: dict[tuple[str, object], float] = {}  # code pages often agree on a sample
    for codec, prior in candidates:
        text = _sample_text(sample, codec, final)
        if text is None:
            continue
        key = (text, rarity_key(codec))
        odd = exact.get(key)
        if odd is None:
            limit = best + margin - prior
            odd = implausibility(text, codec, limit, context)
            if odd <= limit:  # counted to the end, not cut short
                exact[key] = odd
        cost = prior + odd
        best = min(best, cost)
        out.append(Guess(codec, cost))
    out.sort(key=lambda g: g.cost)
    return out


def ranked(data: bytes, extra: tuple[tuple[str, float], ...] = (),
           exclude: frozenset[str] = frozenset()) -> list[Guess]:
    """Candidates that decode a sample of ``data``, least odd first.

    Every candidate reads the first bytes; those that read about as well as the
    best go on to read more, best first, so the others stop counting early.
    """
    seen = set(exclude)
    candidates = []
    for codec, prior in (*CANDIDATES, *extra):
        name = codecs.lookup(codec).name
        if name not in seen:
            seen.add(name)
            candidates.append((codec, prior))
    priors = dict(candidates)
    guesses: list[Guess] = []
    context = context_language(_sample(data, SAMPLE_BYTES)[0])
    for size, margin in _ROUNDS:
        sample, final = _sample(data, size)
        # the whole text read: only the best matters, the others may stop early
        guesses = _score(candidates, sample, final, 0.0 if final else margin, context)
        if final or not guesses:
            break
        candidates = [(g.codec, priors[g.codec]) for g in guesses if g.cost <= guesses[0].cost + margin]
        if len(candidates) < 2:  # a clear winner
            break
    return guesses


def guess_legacy(data: bytes, extra: tuple[tuple[str, float], ...] = ()) -> tuple[str, str, float] | None:
    """(text, codec, cost) of the most plausible candidate that decodes all of ``data``."""
    failed: set[str] = set()
    while True:
        guesses = ranked(data, extra, frozenset(failed))
        if not guesses:
            return None
        g = guesses[0]
        try:
            return data.decode(g.codec), g.codec, g.cost
        except UnicodeDecodeError:  # the sample decoded, the rest does not
            failed.add(codecs.lookup(g.codec).name)
