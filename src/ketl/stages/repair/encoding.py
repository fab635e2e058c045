"""ftfy, run only on the lines that could need it.

``ftfy.fix_text`` spends most of its time in its badness regex, scanning every
non-ASCII line. Every alternative of that regex needs either two adjacent
"mojibake characters" (ftfy's own categories) or one of a handful of single
markers (C1 controls, ``Œœ``, ``Ã``/``Â`` before a space, ``Ђ``), and the other
fixers only act on characters we can list (entities, ligatures, width forms,
controls, surrogates, odd line breaks) or on text that is not NFC. So:

* a cheap gate on the text's non-ASCII characters (:mod:`ketl.stages.repair.scan`)
  skips most articles outright;
* otherwise a lookup table per code point (numpy) finds the lines holding a
  single marker or an entity (ftfy runs on them) and the lines holding only
  suspicious pairs, where ftfy's own badness regex, run in a few characters
  around each pair, decides whether ftfy would re-decode the line;
* the other lines are provably left alone by ftfy, so skipping them keeps
  ftfy's result (tested against ``ftfy.fix_text`` on real and damaged pages
  and on generated mojibake).

Each fixed line becomes located changes through a linear alignment of the old
and new line (:func:`line_changes`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import accumulate

import ftfy
import numpy as np
from ftfy import chardata
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES

from ...document import Change
from .scan import TextFacts, nonascii_runs, scan_text

__all__ = ["encoding_changes", "fix_encoding_text", "line_changes", "may_trigger"]

# Cyrillic and Greek letters: pairs of them are ordinary words, never a
# badness match on their own (ftfy's patterns always pair them with another
# category), so they do not trigger.
_LETTER_CATEGORIES = ("lower_common", "upper_common")


def _expand(spec: str) -> set[str]:
    """Characters of a character-class body such as ``"a-cx"``."""
    out: set[str] = set()
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.update(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            out.add(spec[i])
            i += 1
    return out


def _klass(chars: set[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


@lru_cache(maxsize=2)
def _char_sets(uncurl_quotes: bool) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(singles, suspicious, letters): the characters behind the trigger regex."""
    suspicious: set[str] = set()
    letters: set[str] = set()
    for name, spec in MOJIBAKE_CATEGORIES.items():
        chars = _expand(spec)
        suspicious |= chars
        if name in _LETTER_CATEGORIES:
            letters |= chars
    # Literal characters of ftfy's patterns outside its categories.
    suspicious |= set("ŒœÃÂÎÐØÙà√≈‚вЂВГРСβ€ΒΓΞΟā×²³°µ")
    singles: set[str] = set("Œœ\u0402\x1b\r\x0c\u2028\u2029")  # Ђ: the 'вЂ' patterns
    singles |= {chr(c) for c in range(0x80, 0xA0)}
    singles |= {chr(c) for c in chardata.CONTROL_CHARS}
    singles |= {chr(c) for c in chardata.LIGATURES}
    singles |= {chr(c) for c in chardata.WIDTH_MAP}
    if uncurl_quotes:
        singles |= set("‘’‚‛“”„‟′″")
    return frozenset(singles), frozenset(suspicious), frozenset(letters)


@lru_cache(maxsize=2)
def _trigger_re(uncurl_quotes: bool) -> re.Pattern[str]:
    singles, suspicious, letters = _char_sets(uncurl_quotes)
    not_letters = suspicious - letters
    # "strong" matches call for ftfy's fixers; a "pair" may be mojibake, which
    # ftfy only fixes when its badness regex agrees (see _pairs_look_bad).
    strong = "|".join([_klass(singles), "[\ud800-\udfff]",
                       chardata.HTML_ENTITY_RE.pattern,  # what ftfy's unescape_html decodes
                       "[ÃÂ] "])
    pair = "|".join([_klass(not_letters) + _klass(suspicious),
                     _klass(suspicious) + _klass(not_letters)])
    # Every alternative starts with one of these characters: testing them first
    # lets the scan skip ordinary text at C speed.
    first = singles | suspicious | {"&"}
    # may_trigger relies on this: every ASCII character a match can start with
    # is '&' or a control character that TextFacts.controls reports.
    if not all(c == "&" or c == "\x7f" or (c < " " and c not in "\t\n") for c in first if c.isascii()):
        raise RuntimeError("ftfy's trigger characters changed: update may_trigger")
    return re.compile(f"(?=[\ud800-\udfff]|{_klass(first)})(?:(?P<strong>{strong})|(?P<pair>{pair}))")


_SINGLE, _SUSPICIOUS, _NOT_LETTER, _A_HAT = 1, 2, 4, 8


@lru_cache(maxsize=2)
def _class_table(uncurl_quotes: bool) -> np.ndarray:
    """The trigger regex's character classes as bit flags per BMP code point."""
    singles, suspicious, letters = _char_sets(uncurl_quotes)
    if max(map(ord, singles | suspicious)) >= 0xFFFF:
        raise RuntimeError("a trigger character outside the BMP: widen the table")
    table = np.zeros(0x10000, dtype=np.uint8)  # code points above the BMP map to U+FFFF: no class
    for flag, chars in ((_SINGLE, singles), (_SUSPICIOUS, suspicious),
                        (_NOT_LETTER, suspicious - letters), (_A_HAT, "ÃÂ")):
        table[[ord(c) for c in chars]] |= flag
    table[0xD800:0xE000] |= _SINGLE  # lone surrogates
    return table


def _trigger_positions(text: str, uncurl_quotes: bool) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets of strong and of pair matches of the trigger regex, found
    with array operations: a fixed cost per character instead of the regex
    trying six alternatives at each of the many letters of a Cyrillic text."""
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cls = _class_table(uncurl_quotes)[np.minimum(cp, 0xFFFF)]
    strong = cls & _SINGLE != 0
    strong[:-1] |= (cls[:-1] & _A_HAT != 0) & (cp[1:] == 0x20)  # "[ÃÂ] "
    left, right = cls[:-1], cls[1:]
    pair = ((left & _NOT_LETTER != 0) & (right & _SUSPICIOUS != 0)) | \
        ((left & _SUSPICIOUS != 0) & (right & _NOT_LETTER != 0))
    strong_pos = np.flatnonzero(strong)
    if "&" in text:
        entities = [m.start() for m in _ENTITY_RE.finditer(text)]
        if entities:
            strong_pos = np.union1d(strong_pos, entities)
    return strong_pos, np.flatnonzero(pair)


# Every match of ftfy's badness regex overlaps a pair match of the trigger,
# and is at most this long: a window this wide around the pairs sees it.
_BADNESS_WIDTH = 8


def _pairs_look_bad(text: str, pairs: list[int], line_start: int, line_end: int) -> bool:
    """ftfy's is_bad on a line, looked for only around its pair matches."""
    if len(pairs) * (2 * _BADNESS_WIDTH + 2) >= line_end - line_start:
        return BADNESS_RE.search(text, line_start, line_end) is not None
    for t in pairs:
        if BADNESS_RE.search(text, max(line_start, t - _BADNESS_WIDTH),
                             min(line_end, t + 2 + _BADNESS_WIDTH)):
            return True
    return False


def non_nfc_lines(text: str, start: int = 0, end: int | None = None) -> list[int]:
    """Start offsets of the lines of ``text[start:end]`` that are not in NFC.

    A newline composes with nothing, so a text is NFC exactly when each of its
    lines is: halving the text finds the few bad lines in a few checks.
    """
    end = len(text) if end is None else end
    if text.isascii() or unicodedata.is_normalized("NFC", text[start:end]):
        return []
    # a newline to split at, not the one ending the span
    mid = text.rfind("\n", start, min((start + end) // 2 + 1, end - 1))
    if mid < 0:
        mid = text.find("\n", (start + end) // 2, end - 1)
    if mid < 0:  # a single line
        return [start]
    return non_nfc_lines(text, start, mid + 1) + non_nfc_lines(text, mid + 1, end)


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo] and a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


_ENTITY_RE = re.compile(chardata.HTML_ENTITY_RE.pattern)
_TOKENS = re.compile(r"\s+|[^\s]+")


_ANCHOR = 6  # characters that must agree again after a change
_REACH = 48  # how far a change may reach on either side before we give up aligning


def _resync_spans(old: str, new: str) -> list[tuple[int, int, int, int]]:
    """(i1, i2, j1, j2): ``old[i1:i2]`` becomes ``new[j1:j2]``; together they turn
    ``old`` into ``new``.

    Linear, unlike difflib (quadratic, and minutes on a long line of mojibake):
    equal runs are skipped in chunks, and after a difference the two strings
    agree again where the next few characters of ``old`` reappear in ``new``
    (ftfy's fixes are local: one mojibake sequence becomes one character).
    """
    n, m = len(old), len(new)
    i = j = 0
    out = []
    while i < n or j < m:
        # skip what is equal, 64 characters at a time, then one by one
        while i + 64 <= n and old[i:i + 64] == new[j:j + 64]:
            i += 64
            j += 64
        while i < n and j < m and old[i] == new[j]:
            i += 1
            j += 1
        if i >= n and j >= m:
            break
        best = None  # (di + dj, di, dj)
        for di in range(0, min(_REACH, n - i) + 1):
            if best is not None and di >= best[0]:
                break
            # A plain space is anchor enough: changes then stay within words.
            chunk = " " if old[i + di:i + di + 1] == " " else old[i + di:i + di + _ANCHOR]
            if len(chunk) < _ANCHOR and chunk != " ":  # the end of old: new must end the same way
                pos = m - len(chunk)
                if pos < j or not new.endswith(chunk):
                    continue
            else:
                pos = new.find(chunk, j, j + _REACH + _ANCHOR)
                if pos < 0:
                    continue
            if best is None or di + pos - j < best[0]:
                best = (di + pos - j, di, pos - j)
        if best is None:  # nothing agrees nearby: the rest is one change
            out.append((i, n, j, m))
            break
        _, di, dj = best
        if di or dj:
            out.append((i, i + di, j, j + dj))
        i += di
        j += dj
        if not di and not dj:  # equal again (at an end): guards the loop
            break
    return out


def line_changes(old: str, new: str, offset: int, rule: str) -> list[Change]:
    """Changes turning line ``old`` into ``new``: a diff over words, then tightened.

    difflib over characters is quadratic and crawls on a long line full of
    mojibake; over words it is fast, and each changed run of words is then
    trimmed to the characters that differ.
    """
    head = _common_prefix(old, new)
    tail = _common_prefix(old[head:][::-1], new[head:][::-1])
    old_mid, new_mid = old[head:len(old) - tail], new[head:len(new) - tail]
    base = offset + head
    a, b = _TOKENS.findall(old_mid), _TOKENS.findall(new_mid)
    if len(a) <= 1 or len(b) <= 1:
        return [Change(base, base + len(old_mid), new_mid, rule)]
    a_pos = [0, *accumulate(map(len, a))]
    b_pos = [0, *accumulate(map(len, b))]
    if len(a) == len(b):
        # The usual case: ftfy rewrote characters inside words, the words line up.
        runs = []
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                if runs and runs[-1][1] == i:
                    runs[-1][1] = i + 1
                else:
                    runs.append([i, i + 1])
        spans = [(i1, i2, i1, i2) for i1, i2 in runs]
    else:
        # Words split or merged (a no-break space inside mojibake): align on characters.
        return [Change(base + i1, base + i2, new_mid[j1:j2], rule)
                for i1, i2, j1, j2 in _resync_spans(old_mid, new_mid)]
    out = []
    for i1, i2, j1, j2 in spans:
        o, n = old_mid[a_pos[i1]:a_pos[i2]], new_mid[b_pos[j1]:b_pos[j2]]
        h = _common_prefix(o, n)
        t = _common_prefix(o[h:][::-1], n[h:][::-1])
        out.append(Change(base + a_pos[i1] + h, base + a_pos[i2] - t, n[h:len(n) - t], rule))
    return out


def _rule_for(explanation: list | None) -> str:
    for action, name in explanation or ():
        if action in ("encode", "decode", "transcode"):
            return "ftfy.fix_encoding"
    for action, name in explanation or ():
        if action == "apply":
            return f"ftfy.{name}"
    return "unicode.nfc"


@lru_cache(maxsize=2)
def _gate_chars(uncurl_quotes: bool) -> frozenset[str]:
    """Characters one of which every trigger match holds, '&' aside: a strong
    match holds a single or a surrogate, a pair holds a non-letter."""
    singles, suspicious, letters = _char_sets(uncurl_quotes)
    return singles | (suspicious - letters) | {chr(c) for c in range(0xD800, 0xE000)}


# Up to this many characters of non-ASCII runs, the trigger regex decides faster
# than the array scan; beyond (a Cyrillic or Greek page) the array scan is cheaper.
_RUNS_REGEX_LIMIT = 1500


def may_trigger(text: str, uncurl_quotes: bool, facts: TextFacts) -> bool:
    """False when no trigger match can occur: the cheap tests, most specific first.

    ``facts.nonascii`` would put side by side characters that ASCII separates
    in the text (the closing quote of one word and the dash of the next), so
    the test runs on the runs of adjacent non-ASCII characters instead.
    """
    chars = facts.chars
    if facts.controls or "Ã" in chars or "Â" in chars:
        return True
    if "&" in text and _ENTITY_RE.search(text):  # starts with a literal: a fast scan
        return True
    if chars.isdisjoint(_gate_chars(uncurl_quotes)):
        return False
    runs = nonascii_runs(text)
    return len(runs) > _RUNS_REGEX_LIMIT or _trigger_re(uncurl_quotes).search(runs) is not None


_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def encoding_changes(text: str, uncurl_quotes: bool = False,
                     facts: TextFacts | None = None, screened: bool = False) -> list[Change]:
    """Changes equal to ``ftfy.fix_text(text, uncurl_quotes=...)``, one rule per line.

    The rule is ``ftfy.fix_encoding`` when ftfy re-decoded the line, otherwise
    ``ftfy.<fixer>`` of its first fix (``unicode.nfc`` for NFC alone).
    ``screened``: the caller found the text not in NFC or :func:`may_trigger`
    true already (the repair stage asks first), so it is not asked again.
    """
    facts = facts or scan_text(text)
    if not screened and not may_trigger(text, uncurl_quotes, facts):
        if facts.nfc:
            return []
    # Lines to fix: those holding a strong trigger match or not in NFC, and
    # those whose pair matches ftfy's badness regex confirms.
    strong_pos, pair_pos = _trigger_positions(text, uncurl_quotes)
    line_starts: set[int] = {text.rfind("\n", 0, int(p)) + 1 for p in strong_pos}
    pairs: dict[int, list[int]] = {}
    for p in pair_pos.tolist():
        start = text.rfind("\n", 0, p) + 1
        if start not in line_starts:
            pairs.setdefault(start, []).append(p)
    for start, found in pairs.items():
        end = text.find("\n", start) + 1 or len(text)  # the segment ftfy sees
        if _pairs_look_bad(text, found, start, end):
            line_starts.add(start)
    if not facts.nfc:
        line_starts.update(non_nfc_lines(text))
    config = ftfy.TextFixerConfig(uncurl_quotes=uncurl_quotes, explain=True)
    # ftfy.fix_text stops unescaping entities for good once a segment holds
    # '<' (it treats the rest as HTML); mimic it to give the same result.
    first_lt = text.find("<")
    changes: list[Change] = []
    for start in sorted(line_starts):
        end = text.find("\n", start) + 1 or len(text)
        seg = text[start:end]
        seg_config = config
        if 0 <= first_lt < end:
            seg_config = config._replace(unescape_html=False)
        if _CJK.search(seg):
            # Full-width punctuation is how Chinese, Japanese and Korean are
            # written (，。：！？): ftfy's width fix would rewrite every comma.
            seg_config = seg_config._replace(fix_character_width=False)
        try:
            fixed, explanation = ftfy.fix_and_explain(seg, seg_config)
            if seg.endswith("\n") and not fixed.endswith("\n"):
                # ftfy re-decoded the line ending with the bytes before it and lost
                # both ("Ã©À\n" -> "é"): fix the line without its newline instead.
                fixed, explanation = ftfy.fix_and_explain(seg[:-1], seg_config)
                fixed += "\n"
        except Exception:  # noqa: BLE001 - an ftfy bug on odd input: leave the line as is
            continue
        if fixed == seg:
            continue
        rule = _rule_for(explanation)
        changes.extend(line_changes(seg, fixed, start, rule))
    return changes


def fix_encoding_text(text: str, uncurl_quotes: bool = False) -> str:
    """The text after :func:`encoding_changes` (for benchmarks and comparisons)."""
    changes = encoding_changes(text, uncurl_quotes)
    if not changes:
        return text
    out: list[str] = []
    prev = 0
    for ch in changes:
        out.append(text[prev:ch.start])
        out.append(ch.replacement)
        prev = ch.end
    out.append(text[prev:])
    return "".join(out)
