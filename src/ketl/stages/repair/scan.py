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

__all__ = ["TextFacts", "scan_text", "nonascii_runs", "MARKS"]

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


def _distinct(chars: str) -> frozenset[str]:
    """``frozenset(chars)``; for a long non-Latin text, counted with numpy (several times faster)."""
    if len(chars) < 2000:
        return frozenset(chars)
    cp = np.frombuffer(chars.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if int(cp.max()) > 0xFFFF:  # too many bins outside the BMP
        return frozenset(chars)
    return frozenset(map(chr, np.flatnonzero(np.bincount(cp)).tolist()))


def scan_text(text: str) -> TextFacts:
    data = text.encode("utf-8", "surrogatepass")
    controls = bool(data.translate(None, _NOT_CONTROL))
    # map/itemgetter keep the loop over matches in C
    marks = frozenset(map(itemgetter(1), _marks_automaton().iter(text)))
    if len(data) == len(text):  # ASCII only
        return TextFacts("", frozenset(), controls, marks, True)
    # Removing ASCII bytes never splits a multi-byte sequence.
    nonascii = data.translate(None, _ASCII).decode("utf-8", "surrogatepass")
    return TextFacts(nonascii, _distinct(nonascii), controls, marks,
                     unicodedata.is_normalized("NFC", text))


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
