"""What the boilerplate steps ask of each line of a page, computed once per page.

The metadata scan, the rules, the site statistics and the line steps all ask
about the same lines: their stripped and lower-cased text, whether they are
blank, the rule they match, their site-statistics key and whether the site
repeats them. :class:`PageLines` computes each of these once for the whole
page, held in lists indexed by line number (the page's ``text.split("\\n")``),
so no step looks a line up by its text, strips or lower-cases it again, or
asks the site's counts twice.

Metadata removes whole lines; :meth:`PageLines.without` gives the same facts
for the text left afterwards (taken from the old ones by the metadata
changes' offsets, not computed again).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from itertools import accumulate
from operator import attrgetter, not_
from typing import TYPE_CHECKING, Sequence

import numpy as np
import xxhash

from ..repair.script import script_of
from .site_stats import line_key_lower

if TYPE_CHECKING:
    from ...document import Change
    from .rules import CompiledRules
    from .site_stats import SiteLineStats

__all__ = ["PageLines", "line_keys", "has_non_latin_letter", "script_counts"]

_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d+")
_OFFSET = 1 << 63
_ASCII_DIGITS = b"0123456789"
_TO_ZERO = bytes.maketrans(_ASCII_DIGITS, b"0" * 10)
_ZERO_RUN = re.compile(rb"00+")
# Every byte but ASCII whitespace other than the space, control characters
# and DEL (UTF-8 sequences of other characters use bytes from 0x80 up only).
_NOT_ASCII_CONTROL = b"\n" + bytes(range(0x20, 0x7f)) + bytes(range(0x80, 0x100))


def line_keys(low: Sequence[str]) -> list[int]:
    """``line_key_lower`` of each stripped, lower-cased line (0 for a blank one),
    with the per-line work cut to what each line needs. line_key_lower's
    split/join changes a stripped line only where it holds two spaces in a row
    or whitespace other than a space (control and separator characters: none
    of them printable); such lines take its own path. The others are hashed as
    UTF-8 bytes, their ASCII digit runs turned into "0" by byte translation
    (a digit run becomes a run of "0", halved until one is left), without a
    regex over every character; a line with a digit of another script (Nd) is
    left to the regex."""
    fast = _page_keys(low)
    if fast is not None:
        return fast
    return _keys_by_line(low)


def _page_keys(low: Sequence[str]) -> list[int] | None:
    """:func:`line_keys` for a page none of whose lines needs line_key_lower's
    own path (two spaces in a row, whitespace other than a space, a character
    that is not printable, a digit outside ASCII): a few byte-level passes over
    the whole page in C, lines joined by "\n" (no line holds one, and a run of
    digits never crosses it), then one hash per line. None for a page that has
    such a line (rare: repair collapses spaces)."""
    body = [s for s in low if s]
    if not body:
        return [0] * len(low)
    b = "\n".join(body).encode("utf-8", "surrogatepass")
    # (ASCII whitespace and control bytes but the space and the joining newlines)
    if b"  " in b or b.translate(None, _NOT_ASCII_CONTROL):
        return None
    if not b.isascii():
        other = b.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")
        if not other.isprintable() or _DIGIT.search(other):
            return None
    if len(b.translate(None, _ASCII_DIGITS)) != len(b):
        b = b.translate(_TO_ZERO)
        if b"00" in b:
            b = _ZERO_RUN.sub(b"0", b)
    keys = map(xxhash.xxh64_intdigest, b.split(b"\n"))
    if len(body) == len(low):
        return [k - _OFFSET for k in keys]
    return [next(keys) - _OFFSET if s else 0 for s in low]


def _keys_by_line(low: Sequence[str]) -> list[int]:
    """:func:`line_keys` a line at a time (a page with a line that needs it)."""
    search, sub, h = _DIGIT.search, _DIGITS.sub, xxhash.xxh64_intdigest
    out = []
    for s in low:
        if not s:
            out.append(0)
            continue
        b = None
        if "  " not in s and s.isprintable():
            b = s.encode("utf-8", "surrogatepass")
            if not s.isascii() and search(b.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")):
                b = None  # a digit outside ASCII
            elif len(b.translate(None, _ASCII_DIGITS)) != len(b):
                b = b.translate(_TO_ZERO)
                while b"00" in b:
                    b = b.replace(b"00", b"0")
        if b is None:
            if search(s):
                s = sub("0", s)
            if "  " in s or not s.isprintable():
                s = " ".join(s.split())
            b = s.encode("utf-8", "surrogatepass")
        out.append(h(b) - _OFFSET)
    return out


class PageLines:
    """One page's lines and what the steps ask of each (lists indexed by line):
    the facts every step shares, each computed once for the page.

    * ``texts``: ``text.split("\\n")`` (a final newline gives a last ``""``);
    * ``stripped``, ``low``: each line stripped, and stripped and lower-cased;
    * ``blank``: ``not stripped[i]``;
    * ``rule``: index into ``rules.rules`` of the rule the line matches (-1: none);
    * :meth:`keys`: site-statistics keys (0 for a blank line), on first request,
      unless the caller has them (``keys``: phase A's, carried.py);
    * ``repeated``: the site's repeated-line flags of the lines
      (:meth:`SiteLineStats.repeated_flags`), once a step has asked
      :meth:`repeated_flags` for them (None before, or for a page without a
      counted site);
    * ``latin_only``: no letter of another script than Latin on the page
      (:func:`has_non_latin_letter` of the text is False; so it stays for
      what is left of the text when lines leave it).

    The lists are read, never changed in place (``stripped`` may be ``texts``
    itself: a page whose lines have no surrounding whitespace, most of them).
    """

    __slots__ = ("texts", "stripped", "low", "blank", "rule", "_keys", "repeated", "latin_only", "_low_text")

    def __init__(self, text: str, rules: CompiledRules, keys: list[int] | None = None) -> None:
        self.texts = texts = text.split("\n")
        self.stripped = stripped = list(map(str.strip, texts))
        # One lower() for the page: case mapping never makes or takes a
        # newline, and a final sigma is settled within its line either way
        # (whitespace and newlines are not case-ignorable).
        low, others = _lower_page(text)
        if stripped == texts:  # (str.strip gave each line back itself: compared by identity, in C)
            # No line had whitespace to strip: nor has its lower-cased form
            # (case mapping makes no whitespace), so the lines need no second strip.
            self.stripped = texts
            self.low = low.split("\n")
            # (kept for low_text when its offsets are the text's: lower() made no character two)
            self._low_text = low if len(low) == len(text) else None
        else:
            self.low = list(map(str.strip, low.split("\n")))
            self._low_text = None
        self.blank = list(map(not_, stripped))
        self.latin_only = not others or _NON_LATIN_LETTER.search(others) is None
        self.rule = rules.match_lines(self.low)
        self._keys = keys if keys is not None and len(keys) == len(texts) else None
        self.repeated: list[bool] | None = None

    def keys(self) -> list[int]:
        if self._keys is None:
            self._keys = line_keys(self.low)
        return self._keys

    def low_text(self) -> str:
        """``"\\n".join(self.low)``: the page's stripped, lower-cased lines as
        one text (to find a word's lines with str.find in C)."""
        if self._low_text is None:
            self._low_text = "\n".join(self.low)
        return self._low_text

    def repeated_flags(self, stats: SiteLineStats, site: str) -> list[bool]:
        """``stats.repeated_flags(site, self.keys(), self.blank)``, kept as
        :attr:`repeated` for the steps after the first to ask (the metadata
        scan and the site-lines step ask the same of the same lines)."""
        if self.repeated is None:
            self.repeated = stats.repeated_flags(site, self.keys(), self.blank, zero_blank=True)
        return self.repeated

    def without(self, text: str, removed: set[int], rules: CompiledRules,
                changes: Sequence[Change] | None = None) -> PageLines:
        """The facts of ``text``: this page's text minus its lines ``removed``
        (whole lines, as metadata takes them). Lines that are not this page's
        (a removed last line leaves its newline behind) are computed anew.
        ``changes``: the removals that made ``text`` of this page's text; when
        they cut out exactly the ``removed`` lines with their newlines, the
        lines left are known without splitting ``text`` again."""
        out = PageLines.__new__(PageLines)
        out.latin_only = self.latin_only  # (fewer characters, none new)
        # (the kept lines as slices between the few removed ones: no step per line in Python)
        cuts = sorted(k for k in removed if 0 <= k < len(self.texts))
        spans = None if changes is None else _whole_line_spans(self.texts, cuts, changes)
        out._low_text = None
        if spans is not None:
            texts = _kept(self.texts, cuts)
            if self._low_text is not None:  # (its offsets are the text's: the same cuts)
                out._low_text = _cut(self._low_text, spans)
        else:
            texts = text.split("\n")
            if _kept(self.texts, cuts) != texts:
                return self._found_by_text(out, texts, rules)
        out.texts = texts
        out.stripped = texts if self.stripped is self.texts else _kept(self.stripped, cuts)
        out.low = _kept(self.low, cuts)
        out.blank = _kept(self.blank, cuts)
        out.rule = _kept(self.rule, cuts)
        out._keys = None if self._keys is None else _kept(self._keys, cuts)
        out.repeated = None if self.repeated is None else _kept(self.repeated, cuts)
        return out

    def _found_by_text(self, out: PageLines, texts: list[str], rules: CompiledRules) -> PageLines:
        """:meth:`without` for a text whose lines are found by their text
        (rare: the two texts differ at the end)."""
        out.texts = texts
        out._low_text = None
        known = {t: k for k, t in enumerate(self.texts)}
        at = [known.get(t, -1) for t in texts]
        out.stripped = [t.strip() for t in texts]
        out.blank = list(map(not_, out.stripped))
        out.low = low = [t.lower() for t in out.stripped]
        fresh = rules.match_lines([s if k < 0 else "" for s, k in zip(low, at)])
        out.rule = [f if k < 0 else self.rule[k] for f, k in zip(fresh, at)]
        old = self.keys()
        out._keys = [old[k] if k >= 0 else (line_key_lower(s) if s else 0) for s, k in zip(low, at)]
        out.repeated = None
        return out


_SPAN = attrgetter("start", "end")


def _whole_line_spans(texts: list[str], cuts: list[int], changes: Sequence[Change]) -> list[list[int]] | None:
    """The spans ``changes`` (removals) cut out of ``"\\n".join(texts)`` (in
    order, adjacent ones joined) if they take out exactly the lines ``cuts``
    (sorted), each with the newline after it; else None. The title leaves as
    one change or two (its site suffix apart), a notice as one."""
    spans: list[list[int]] = []
    for c in sorted(changes, key=_SPAN):
        if c.replacement:
            return None
        if spans and spans[-1][1] == c.start:
            spans[-1][1] = c.end
        else:
            spans.append([c.start, c.end])
    want: list[list[int]] = []
    pos = prev = 0  # where line ``prev`` starts
    for k in cuts:
        if k + 1 >= len(texts):
            return None  # a last line leaves its newline behind: not a whole line
        pos += sum(map(len, texts[prev:k])) + k - prev
        stop = pos + len(texts[k]) + 1
        if want and want[-1][1] == pos:
            want[-1][1] = stop
        else:
            want.append([pos, stop])
        pos, prev = stop, k + 1
    return spans if spans == want else None


def _cut(text: str, spans: list[list[int]]) -> str:
    """``text`` without the ``spans`` (in order, not overlapping)."""
    pieces = []
    prev = 0
    for a, b in spans:
        pieces.append(text[prev:a])
        prev = b
    pieces.append(text[prev:])
    return "".join(pieces)


def _lower_page(text: str) -> tuple[str, str]:
    """``(text.lower(), non_ascii(text))``. ``str.lower``
    maps a text with a character outside ASCII (a curly quote is enough: most
    texts) a character at a time through the Unicode tables, ~3 ns each; when
    none of those characters changes case (quotes, dashes, lower-case accented
    letters, scripts without case), lower-casing the ASCII bytes of its UTF-8
    form in C gives the same text in a third of the time (UTF-8 never uses a
    byte below 0x80 inside a longer sequence)."""
    if text.isascii():
        return text.lower(), ""
    b = text.encode("utf-8", "surrogatepass")
    others = b.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")
    if others.lower() != others:  # (a capital outside ASCII, or a final sigma)
        return text.lower(), others
    return b.lower().decode("utf-8", "surrogatepass"), others


def _kept(items: list, cuts: list[int]) -> list:
    """``items`` without the items at ``cuts`` (sorted, distinct indices into it)."""
    out = []
    prev = 0
    for k in cuts:
        out += items[prev:k]
        prev = k + 1
    out += items[prev:]
    return out


# Scripts of a page. A regex walks the text a character at a time (~10-20 ns
# each with Unicode classes), a numpy comparison over its code points costs
# ~20 us however short the text: numpy for long texts, else the characters
# outside ASCII alone, cut out by C-level byte translation.

_ASCII_BYTES = bytes(range(0x80))


def non_ascii(text: str) -> str:
    """The characters of ``text`` outside ASCII, in order: UTF-8 never uses a
    byte below 0x80 inside a longer sequence, so deleting those bytes leaves
    the other characters whole."""
    return text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _latin(cp: np.ndarray) -> np.ndarray:
    """``[A-Za-z\\u00c0-\\u024f]`` per code point (unsigned subtraction wraps
    below a range's start: one comparison per range; ``| 0x20`` folds A-Z onto a-z)."""
    return ((cp | 0x20) - 0x61 < 26) | (cp - 0xc0 < 0x190)


_NON_LATIN_LETTER = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff]")


def has_non_latin_letter(text: str) -> bool:
    """``_NON_LATIN_LETTER.search(text)``: a letter of another script than
    Latin (never an ASCII character), looked for among the text's characters
    outside ASCII (a few quotes and dashes in most texts)."""
    return not text.isascii() and _NON_LATIN_LETTER.search(non_ascii(text)) is not None


_NUMPY_CHARS = 2000  # from this many characters on, script_counts counts with numpy


def script_counts(lines: Sequence[str]) -> dict[str, float]:
    """Letters per script over ``lines``, a CJK or
    Hangul letter counting 2.5: the Latin ones (``[A-Za-z\\u00c0-\\u024f]``) as
    LATIN, every other letter outside ASCII by :func:`script_of` unless that
    is LATIN. The scripts enter the dict as a line by line count enters them:
    in the order of their first letter, LATIN ahead of the others of the line
    that holds its first letter."""
    counts: dict[str, float] = {}
    if sum(map(len, lines)) < _NUMPY_CHARS:
        for line in lines:
            _count_line(line, counts)
        return counts
    cp = _code_points("".join(lines))  # (2,000 characters or more)
    ends = list(accumulate(map(len, lines)))
    order: list[tuple[int, int, str]] = []
    latin = _latin(cp)
    first_latin = int(latin.argmax())
    if latin[first_latin]:
        order.append((bisect_right(ends, first_latin), -1, "LATIN"))
        counts["LATIN"] = int(np.count_nonzero(latin))
    where = np.flatnonzero(cp > 0x7f)
    if where.size:
        other = cp[where]
        found = _counted_scripts(other, where) if int(other.max()) <= 0xFFFF else _counted_chars(other, where)
        order += [(bisect_right(ends, at), at, sc) for sc, (_, at) in found.items()]
        counts.update((sc, total) for sc, (total, _) in found.items())
    order.sort()
    return {sc: counts[sc] for _, _, sc in order}


_WIDE_SCRIPTS = frozenset({"HAN", "JAPANESE", "HANGUL"})

# The script of each letter of the Basic Multilingual Plane outside ASCII that
# script_counts counts (0: not counted, a non-letter or a Latin one; else an
# index into _SCRIPT_NAMES), filled a block of 256 code points at a time as
# pages reach it: one table lookup per character instead of a sort of the
# page's characters and a call per distinct one.
_SCRIPT_NAMES: list[str] = [""]
_SCRIPT_IDS = np.zeros(0x10000, dtype=np.uint16)
_FILLED = np.zeros(0x100, dtype=bool)


def _fill_block(block: int) -> None:
    from ..repair.script import script_of as uncached  # (its cache kept for the stage's own calls)

    uncached = getattr(uncached, "__wrapped__", uncached)
    for c in range(max(block << 8, 0x80), (block + 1) << 8):
        ch = chr(c)
        if ch.isalpha() and (sc := uncached(ch)) != "LATIN":
            if sc not in _SCRIPT_NAMES:
                _SCRIPT_NAMES.append(sc)
            _SCRIPT_IDS[c] = _SCRIPT_NAMES.index(sc)
    _FILLED[block] = True


def _counted_chars(cp: np.ndarray, where: np.ndarray) -> dict[str, tuple[float, int]]:
    """:func:`_counted_scripts` a distinct character at a time (a page with
    characters outside the BMP)."""
    found: dict[str, tuple[float, int]] = {}
    chars, first, n = np.unique(cp, return_index=True, return_counts=True)
    for c, at, k in zip(chars.tolist(), where[first].tolist(), n.tolist()):
        ch = chr(c)
        if ch.isalpha():
            sc = script_of(ch)
            if sc != "LATIN":
                total, seen = found.get(sc, (0, at))
                found[sc] = (total + (2.5 if sc in _WIDE_SCRIPTS else 1) * k, min(at, seen))
    return found


def _counted_scripts(cp: np.ndarray, where: np.ndarray) -> dict[str, tuple[float, int]]:
    """``{script: (weighted letters, position of the first)}`` of the code
    points ``cp`` (outside ASCII, inside the BMP) found at ``where``."""
    for block in np.flatnonzero(np.bincount(cp >> 8, minlength=0x100).astype(bool) & ~_FILLED).tolist():
        _fill_block(block)
    ids = _SCRIPT_IDS[cp]
    per = np.bincount(ids, minlength=len(_SCRIPT_NAMES))
    found: dict[str, tuple[float, int]] = {}
    for sid in np.flatnonzero(per[1:]).tolist():
        sc = _SCRIPT_NAMES[sid + 1]
        found[sc] = ((2.5 if sc in _WIDE_SCRIPTS else 1) * int(per[sid + 1]),
                     int(where[int(np.argmax(ids == sid + 1))]))
    return found


_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def _count_line(line: str, counts: dict[str, float]) -> None:
    """:func:`script_counts` of one more line, into ``counts``."""
    latin = len(_LATIN.findall(line))
    if latin:
        counts["LATIN"] = counts.get("LATIN", 0) + latin
    if not line.isascii():
        # Each distinct character once (a line of Chinese repeats many): the
        # sums are exact (halves), and scripts enter ``counts`` in the order of
        # their first letter, as one character at a time would.
        for ch, c in Counter(non_ascii(line)).items():
            if ch.isalpha():
                sc = script_of(ch)
                if sc != "LATIN":
                    counts[sc] = counts.get(sc, 0) + (2.5 if sc in _WIDE_SCRIPTS else 1) * c
