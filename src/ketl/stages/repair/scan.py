"""One cheap look at a text that tells the repair rules whether they can fire at all.

Most articles need no repair. Python's regex engine scans about ten times
slower for a pattern that starts with a character class than for one that
starts with a literal, so instead of letting every rule scan the whole text,
the stage first collects, at memory speed (UTF-8 encode and ``bytes.translate``
run in C), the non-ASCII characters of the text and whether it holds control
characters. Rules keyed on rare characters (mojibake, odd spaces, foreign
scripts) then skip the text, or scan it only for the characters it really holds.
One Aho-Corasick pass (in C) finds which of the short marks the spacing and
punctuation rules start from occur at all; on a clean article, none.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

import ahocorasick
import numpy as np

from ...document import _quick_init

__all__ = ["TextFacts", "scan_text", "scan_texts", "nonascii_runs", "MARKS"]

# Every match of a spacing or punctuation rule contains one of these.
SPACING_MARKS = ("  ", "\t", " \n", "\n ", "\n\n\n")
PUNCT_MARKS = ("..", ",,", " .", " ,", " ;", " !", " ?", ". .", ".\t",
               *(f". {d}" for d in "0123456789"))
MARKS = SPACING_MARKS + PUNCT_MARKS


@lru_cache(maxsize=1)
def _marks_automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for mark in MARKS:
        automaton.add_word(mark, mark)
    automaton.make_automaton()
    return automaton

_ASCII = bytes(range(128))
# Every byte except C0 controls (tab and newline aside) and DEL: deleting these
# leaves only the controls. UTF-8 continuation bytes are >= 0x80, so no clash.
_NOT_CONTROL = bytes(b for b in range(256) if not ((b < 0x20 and b not in (0x09, 0x0A)) or b == 0x7F))


@dataclass(frozen=True, slots=True)
class TextFacts:
    nonascii: str  # the text's non-ASCII characters in order, ASCII removed
    chars: frozenset[str]  # the distinct non-ASCII characters
    controls: bool  # an ASCII control character other than tab and newline
    marks: frozenset[str]  # which of MARKS occur in the text
    nfc: bool = True  # the text is in NFC (several rules ask; the answer costs a pass)


_quick_init(TextFacts)  # built once per text and per changed text: stored through the slots (document._quick_init)


def _distinct(chars: str) -> frozenset[str]:
    """``frozenset(chars)``; for a long non-Latin text, counted with numpy (several times faster)."""
    if len(chars) < 2000:
        return frozenset(chars)
    cp = np.frombuffer(chars.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if int(cp.max()) > 0xFFFF:  # too many bins outside the BMP
        return frozenset(chars)
    return frozenset(map(chr, np.flatnonzero(np.bincount(cp)).tolist()))


def scan_text(text: str) -> TextFacts:
    # map/itemgetter keep the loop over matches in C
    return _facts(text, text.encode("utf-8", "surrogatepass"),
                  frozenset(map(itemgetter(1), _marks_automaton().iter(text))))


def scan_texts(texts: list[str], datas: list[bytes] | None = None) -> list[TextFacts]:
    """``[scan_text(t) for t in texts]``, the marks found for all the texts at once
    (see :func:`_batch_marks`): the automaton walks a text at ~6 ns a character,
    a third of its scan. ``datas``: the texts in UTF-8 (surrogatepass), when the
    caller has them."""
    if datas is None:
        datas = [t.encode("utf-8", "surrogatepass") for t in texts]
    # A few dozen texts at a time: the arrays (a few bytes a character) stay small.
    marks = [m for i in range(0, len(datas), _PIECE) for m in _batch_marks(datas[i:i + _PIECE])]
    return [_facts(t, d, m) for t, d, m in zip(texts, datas, marks)]


_PIECE = 64


def _facts(text: str, data: bytes, marks: frozenset[str]) -> TextFacts:
    controls = bool(data.translate(None, _NOT_CONTROL))
    if len(data) == len(text):  # ASCII only
        return TextFacts("", frozenset(), controls, marks, True)
    # Removing ASCII bytes never splits a multi-byte sequence.
    nonascii = data.translate(None, _ASCII).decode("utf-8", "surrogatepass")
    return TextFacts(nonascii, _distinct(nonascii), controls, marks,
                     unicodedata.is_normalized("NFC", text))


# The bytes the marks are made of, as 4-bit classes (0: any other byte, UTF-8
# continuation and lead bytes included: every mark is ASCII).
_CLASS_OF = {" ": 1, "\n": 2, ".": 3, ",": 4, ";": 5, "!": 6, "?": 7, "\t": 8,
             **{d: 9 for d in "0123456789"}}
_CLASSES = bytes(_CLASS_OF.get(chr(b), 0) for b in range(256))
_TAB = _CLASS_OF["\t"]
# Two classes side by side (first << 4 | second) -> the mark they make: a mark of
# two characters, or the first two of a three-character one (checked on the third).
_PAIRS = {m[:2]: m for m in MARKS if len(m) >= 2}
_PAIR_CODES = sorted({_CLASS_OF[p[0]] << 4 | _CLASS_OF[p[1]] for p in _PAIRS}
                     | {_TAB << 4 | c for c in range(16)})
_IS_PAIR = np.zeros(256, dtype=bool)
_IS_PAIR[_PAIR_CODES] = True
# Pairs that are only the start of a mark -> a bit; the third classes that complete them.
_LEAD = np.zeros(256, dtype=np.uint8)
_THIRD = np.zeros(16, dtype=np.uint8)
for _bit, _mark in enumerate(sorted({p for p, m in _PAIRS.items() if p not in MARKS})):
    _LEAD[_CLASS_OF[_mark[0]] << 4 | _CLASS_OF[_mark[1]]] = 1 << _bit
for _mark in MARKS:
    if len(_mark) == 3 and _mark[:2] not in MARKS:
        _THIRD[_CLASS_OF[_mark[2]]] |= _LEAD[_CLASS_OF[_mark[0]] << 4 | _CLASS_OF[_mark[1]]]
_SEPARATOR = b"\x00"  # class 0, in no mark: no mark spans two texts


def _batch_marks(datas: list[bytes]) -> list[frozenset[str]]:
    """For each UTF-8 text, the MARKS it holds, as the automaton finds them: each
    position where two mark characters meet is looked at (a tab, or a pair that
    starts a mark), then the third character of the three-character marks."""
    joined = _SEPARATOR.join(datas) + _SEPARATOR * 2
    cls = np.frombuffer(joined.translate(_CLASSES), dtype=np.uint8)
    codes = (cls[:-1] << 4) | cls[1:]
    at = np.flatnonzero(_IS_PAIR.take(codes))
    # ". " ends every other sentence: keep only the pairs a third character
    # makes a mark of (". .", ". 1", "\n\n\n"), in numpy.
    lead = _LEAD.take(codes[at])
    at = at[(lead == 0) | (_THIRD.take(cls[at + 2]) & lead != 0)]
    out = [_NO_MARKS] * len(datas)
    if not len(at):
        return out
    starts = np.cumsum([0] + [len(d) + 1 for d in datas[:-1]])
    found: dict[int, set[str]] = {}
    for i, pos, code in zip(np.searchsorted(starts, at, "right").tolist(), at.tolist(), codes[at].tolist()):
        marks = found.setdefault(i - 1, set())
        if code >> 4 == _TAB:
            marks.add("\t")
        pair = joined[pos:pos + 2].decode("latin-1")  # a tab may come before any byte
        if pair in MARKS:
            marks.add(pair)
        three = pair + chr(joined[pos + 2])
        if three in _THREE:
            marks.add(three)
    for i, marks in found.items():
        out[i] = frozenset(marks)
    return out


_NO_MARKS: frozenset[str] = frozenset()
_THREE = frozenset(m for m in MARKS if len(m) == 3)


# ASCII bytes to a space: what is left between the spaces is a run of adjacent
# non-ASCII characters (ASCII never occurs inside a multi-byte sequence).
_ASCII_TO_SPACE = bytes(0x20 if b < 0x80 else b for b in range(256))


def nonascii_runs(text: str) -> str:
    """The runs of adjacent non-ASCII characters of ``text``, joined by a space.

    Unlike ``TextFacts.nonascii``, two characters are adjacent here only when
    they are adjacent in the text. ``bytes.split`` splits on ASCII whitespace
    only, so a no-break space stays inside its run.
    """
    return b" ".join(text.encode("utf-8", "surrogatepass").translate(_ASCII_TO_SPACE).split()) \
        .decode("utf-8", "surrogatepass")
