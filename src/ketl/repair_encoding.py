"""ftfy, run only on the lines that could need it.

``ftfy.fix_text`` spends most of its time in its badness regex, scanning every
non-ASCII line. Every alternative of that regex needs either two adjacent
"mojibake characters" (ftfy's own categories) or one of a handful of single
markers (C1 controls, ``Œœ``, ``Ã``/``Â`` before a space, ``Ђ``), and the other
fixers only act on characters we can list (entities, ligatures, width forms,
controls, surrogates, odd line breaks) or on text that is not NFC. One compiled
trigger regex over the whole document finds the few lines that need ftfy; the
others are provably left alone by it, so skipping them keeps ftfy's result.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import accumulate
from typing import Iterator

import ftfy
from ftfy import chardata
from ftfy.badness import MOJIBAKE_CATEGORIES

from .document import Change

__all__ = ["encoding_changes", "fix_encoding_text", "needs_ftfy"]

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
def _trigger_re(uncurl_quotes: bool) -> re.Pattern[str]:
    suspicious: set[str] = set()
    letters: set[str] = set()
    for name, spec in MOJIBAKE_CATEGORIES.items():
        chars = _expand(spec)
        suspicious |= chars
        if name in _LETTER_CATEGORIES:
            letters |= chars
    # Literal characters of ftfy's patterns outside its categories.
    suspicious |= set("ŒœÃÂÎÐØÙà√≈‚вЂВГРСβ€ΒΓΞΟā×²³°µ")
    not_letters = suspicious - letters
    singles: set[str] = set("Œœ\u0402\x1b\r\x0c\u2028\u2029")  # Ђ: the 'вЂ' patterns
    singles |= {chr(c) for c in range(0x80, 0xA0)}
    singles |= {chr(c) for c in chardata.CONTROL_CHARS}
    singles |= {chr(c) for c in chardata.LIGATURES}
    singles |= {chr(c) for c in chardata.WIDTH_MAP}
    if uncurl_quotes:
        singles |= set("‘’‚‛“”„‟′″")
    alternatives = [
        _klass(singles),
        "[\ud800-\udfff]",
        chardata.HTML_ENTITY_RE.pattern,  # what ftfy's unescape_html decodes
        "[ÃÂ] ",
        _klass(not_letters) + _klass(suspicious),
        _klass(suspicious) + _klass(not_letters),
    ]
    # Every alternative starts with one of these characters: testing them first
    # lets the scan skip ordinary text at C speed.
    first = singles | suspicious | {"&"}
    return re.compile(f"(?=[\ud800-\udfff]|{_klass(first)})(?:" + "|".join(alternatives) + ")")


def needs_ftfy(text: str, uncurl_quotes: bool = False) -> bool:
    """Could ftfy change ``text``? False is certain; True means "look closer"."""
    if _trigger_re(uncurl_quotes).search(text):
        return True
    return not text.isascii() and not unicodedata.is_normalized("NFC", text)


def _segments(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line *with* its newline, as ftfy.fix_text cuts them."""
    pos = 0
    n = len(text)
    while pos < n:
        brk = text.find("\n", pos) + 1
        if brk == 0:
            brk = n
        yield pos, brk
        pos = brk


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


_TOKENS = re.compile(r"\s+|[^\s]+")


def _line_changes(old: str, new: str, offset: int, rule: str) -> list[Change]:
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
    elif len(a) * len(b) <= 250_000:
        spans = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2
                 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if tag != "equal"]
    else:  # huge and reshaped: one change, still exact
        return [Change(base, base + len(old_mid), new_mid, rule)]
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


def encoding_changes(text: str, uncurl_quotes: bool = False) -> list[Change]:
    """Changes equal to ``ftfy.fix_text(text, uncurl_quotes=...)``, one rule per line.

    The rule is ``ftfy.fix_encoding`` when ftfy re-decoded the line, otherwise
    ``ftfy.<fixer>`` of its first fix (``unicode.nfc`` for NFC alone).
    """
    if not needs_ftfy(text, uncurl_quotes):
        return []
    trigger = _trigger_re(uncurl_quotes)
    # Lines to fix: those holding a trigger match, and those not in NFC.
    line_starts: set[int] = set()
    for m in trigger.finditer(text):
        line_starts.add(text.rfind("\n", 0, m.start()) + 1)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        for start, end in _segments(text):
            if start not in line_starts and not unicodedata.is_normalized("NFC", text[start:end]):
                line_starts.add(start)
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
        try:
            fixed, explanation = ftfy.fix_and_explain(seg, seg_config)
        except Exception:  # noqa: BLE001 - an ftfy bug on odd input: leave the line as is
            continue
        if fixed == seg:
            continue
        rule = _rule_for(explanation)
        changes.extend(_line_changes(seg, fixed, start, rule))
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
