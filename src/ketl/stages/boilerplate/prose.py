"""What a line reads as by its own text, whatever its neighbours: a sentence of
an article (``is_prose``), an item of a list and how it is led (``list_lead``,
its telling ``_shape``), a navigation entry (``_menu_item``), its length in
Latin characters (``effective_length``), its words (``_words``, the one splitter
the boilerplate steps share).

The classifier, the evidence of where the article's edges lie (``edges``,
``resume``), the related-box and metadata steps all ask these questions of the
same lines; they live here, below all of them, so that each of those modules
imports them without importing the others. Pure functions over stripped,
non-empty lines.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import regex

from .embeds import tweet_signature
from .features import non_ascii

_WORD = re.compile(r"\w+")


# Splitting at spaces instead of matching ``\w+`` (a regex step per character):
# ``\w`` is exactly ``str.isalnum() or "_"``, so once every other character is
# a space, ``str.split()`` gives the same words. ASCII ones become spaces by one
# byte translation (UTF-8 uses no byte below 0x80 inside a longer character);
# the few others (curly quotes, dashes) by a replace each.
_NON_WORD_ASCII = bytes(b for b in range(0x80) if not (chr(b).isalnum() or b == ord("_")))
_NON_WORD_TO_SPACE = bytes.maketrans(_NON_WORD_ASCII, b" " * len(_NON_WORD_ASCII))


def _words(low: str) -> list[str]:
    """``_WORD.findall(low)``: the runs of word characters of ``low``."""
    if not low.isascii():
        others = non_ascii(low)
        if not others.isalnum():
            for ch in set(others):
                if not ch.isalnum():
                    low = low.replace(ch, " ")
        if not low.isascii():
            return low.encode("utf-8").translate(_NON_WORD_TO_SPACE).decode("utf-8").split()
    return low.encode("ascii").translate(_NON_WORD_TO_SPACE).decode("ascii").split()



_LETTER = re.compile(r"[^\W\d_]")


# Sentence ends; "]" covers footnote marks ("...end.[3]") too. Other scripts'
# full stops: Burmese ။, Devanagari । ॥, Arabic ؟ and Urdu ۔, Ethiopic ። ፧,
# Armenian ։, Tibetan །, full-width and half-width forms.
_TERMINAL_CHARS = frozenset(".!?。！？…:;\"”»’)]\u104b\u0964\u0965\u061f\u06d4\u1362\u1367\u0589\u0f0d\uff0e\uff61」』）")
# Scripts written without spaces: count characters, not tokens.
_NO_SPACE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\u0e00-\u0e7f]")
_NOT_LETTER_OR_MARK = regex.compile(r"[^\p{L}\p{M}]")
_UNPUNCTUATED = re.compile(r"[\u0e00-\u0eff\u1780-\u17ff]")
# Scripts whose sentences run long between spaces (Thai, Lao, Burmese, Khmer, Tibetan).
_SPACELESS = re.compile(r"[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff]")


_WIDE = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def effective_length(line: str) -> int:
    """Length in "Latin characters": a CJK or Hangul character carries about as
    much text as 2.5 Latin ones, so thresholds tuned on Latin prose fit them too."""
    n = len(line)
    if n and not line.isascii():
        n += (3 * len(_WIDE.findall(line))) // 2
    return n


def effective_lengths(lines: Sequence[str]) -> list[int]:
    """``[effective_length(line) for line in lines]``: on a page without a CJK
    or Hangul character (most pages, told by one scan of its characters
    outside ASCII) each line's length is its ``len``."""
    text = "".join(lines)
    if text.isascii():  # (a flag of the string: no scan)
        return list(map(len, lines))
    others = non_ascii(text)
    if not _WIDE.search(others):
        return list(map(len, lines))
    return [effective_length(line) for line in lines]


_ITEM_NUMBER = re.compile(r"\s*(\d{1,3})[.)]\s+\w")


_MENU_MAX_WORDS = 3
_COUNT = re.compile(r"[%#№$€£+]?\d[\d.,]*\s*%?\s+[^\W\d_]+$")
_MENU_MAX_CHARS = 32


@lru_cache(maxsize=32768)
def _menu_item(line: str) -> bool:
    """A navigation entry: a few words, no sentence punctuation; not a count
    of something ("%165 голосов", "12 votes": a poll's results are data), not
    a filler (classifier._filler). (Cached, as ``is_prose``: the same short
    lines, a site's menu entries, come back on every page of the site.)"""
    return (len(line) <= _MENU_MAX_CHARS and line[-1] not in _TERMINAL_CHARS and line[0] not in "<&{["
            and line.count(" ") < _MENU_MAX_WORDS and "," not in line and not (len(line) < 2 and line.isalpha())
            and not _COUNT.match(line))  # (the filler test inline: this runs for every short line)


def _shape(line: str) -> str:
    """A line's shape when it has a telling one: its list lead with marks
    ("W-" for "Viera d. Rockledge 3-1"), or "CAPS" for a heading in capitals
    of two words or more; else ""."""
    if line.isupper() and " " in line and not is_prose(line):
        return "CAPS"
    lead = list_lead(line)
    return lead if len(lead) >= 2 and lead != "W:" else ""


def _shapes(lines: Sequence[str], first: int, stop: int) -> set[str]:
    """The telling shapes of the article's lines from ``first`` up to the
    evidence below it (``stop``, excluded)."""
    out = {_shape(lines[q]) for q in range(first, stop)}
    out.discard("")
    return out


def _repeated_shapes(lines: Sequence[str], a: int, b: int, min_items: int = 3) -> set[str]:
    """Telling shapes that lead ``min_items`` lines in a row between ``a`` and
    ``b`` (either order): a list of its own ("player.setav speedmult *",
    "player.setav health *", ...), which a page's header or footer run is not
    (its menus are evidence already; its bullets have no telling shape)."""
    out: set[str] = set()
    run_shape, run = "", 0
    for q in range(min(a, b), max(a, b) + 1):
        shape = _shape(lines[q])
        run = run + 1 if shape and shape == run_shape else (1 if shape else 0)
        run_shape = shape
        if run >= min_items:
            out.add(shape)
    return out


def _cut_short(line: str) -> bool:
    return line.endswith(("…", "..."))


_BULLETS = frozenset("-–—•*·●▪►◦")


@lru_cache(maxsize=32768)
def list_lead(line: str) -> str:
    """How a list item looks: led by a number or a bullet, or a word followed by
    the same marks ("June 9 – City, ST @ Venue": "W–,@"); "" for a sentence,
    a line too long to be an item, or a plain run of words. (Cached, as
    ``is_prose``: the classifier's passes and the edges ask it of the same
    lines again and again.)"""
    if not line or len(line) > 150:
        return ""
    if _ITEM_NUMBER.match(line):  # "12) Roger Waters – The Wall (DVD)" reads as a sentence too
        return "#"
    if is_prose(line):
        return ""
    c = line[0]
    if c.isdigit():
        return "#"
    if c in _BULLETS:
        # (An embedded tweet's signature, "— Name (@handle) date", leads no list.)
        return "" if tweet_signature(line) else "-"
    marks = _MARKS.findall(line)
    return "W" + "".join(marks) if marks else ""


_MARKS = re.compile(r"[^\w\s'’.]")


@lru_cache(maxsize=32768)
def is_prose(line: str) -> bool:
    """Reads as a sentence of an article: ends like one (in its script), has
    enough words (or characters, in scripts without spaces), letters dominate.
    (Cached: the stage asks it of the same lines at several steps.)"""
    if line[-1] not in _TERMINAL_CHARS:
        # Thai, Lao and Khmer end a sentence with a space, not a mark: there a
        # long enough line of letters reads as a sentence.
        if len(line) < 30 or line.isascii() or not _UNPUNCTUATED.search(line):
            return False
    elif line.count(" ") < 3 or len(line) < 40 and len(_words(line.lower())) < 4:
        n = effective_length(line)
        if n < 24 or not _NO_SPACE_SCRIPT.search(line) and not _SPACELESS.search(line):
            return False
    # ASCII letters counted in bytes; the regex (letters with their marks: Burmese,
    # Devanagari and Thai vowels are marks) sees only the rest, often a few quotes.
    ascii_part = line.encode("ascii", "ignore")
    letters = len(ascii_part) - len(ascii_part.translate(None, _ASCII_LETTERS))
    if len(ascii_part) < len(line):
        # The others cut out in C; counted by what is no letter (a few
        # quotes and dashes), not by a match object per letter.
        others = non_ascii(line)
        letters += len(others) - len(_NOT_LETTER_OR_MARK.findall(others))
    return letters * 2 >= len(line) - line.count(" ")


_ASCII_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
