"""Stray lines in a script foreign to the article (the lone ``بب`` in an English text).

A line is stray when it is short, all its letters belong to scripts that make up
only a small share of the article's letters, and it is not alone. A real
sentence in another language is longer than the limits and stays.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Iterable

import numpy as np

from ...document import Change
from .scan import TextFacts, scan_text

__all__ = ["stray_script_changes", "script_of"]

# Names of scripts whose letters' Unicode names do not start with the script.
_MERGE = {"CJK": "HAN", "HIRAGANA": "JAPANESE", "KATAKANA": "JAPANESE", "HANGUL": "HANGUL"}


@lru_cache(maxsize=8192)
def script_of(ch: str) -> str:
    if ch.isascii():
        return "LATIN"
    name = unicodedata.name(ch, "")
    head = name.split(" ", 1)[0]
    return _MERGE.get(head, head) or "UNKNOWN"


_NOT_ASCII_LETTER = bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalpha())


@lru_cache(maxsize=8192)
def _foreign_letter(ch: str) -> bool:
    return ch.isalpha() and script_of(ch) != "LATIN"


def _char_counts(chars: str) -> Iterable[tuple[str, int]]:
    """(character, count) for each distinct character of ``chars``."""
    if len(chars) < 2000:
        return Counter(chars).items()
    # A long non-Latin article: counting code points with numpy is ten times
    # faster than a Counter. Outside the BMP the bins would be too many.
    cp = np.frombuffer(chars.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if int(cp.max()) > 0xFFFF:
        return Counter(chars).items()
    counts = np.bincount(cp)
    found = np.flatnonzero(counts)
    return zip(map(chr, found.tolist()), counts[found].tolist())


def stray_script_changes(text: str, max_letters: int = 12, max_words: int = 2,
                         max_share: float = 0.05, facts: TextFacts | None = None) -> list[Change]:
    if text.isascii():
        return []
    # Only letters outside Latin can be foreign to a Latin-script article, and a
    # text with no other letters is all Latin: its Latin lines are never foreign.
    # Without the facts at hand, the short lines are looked for first: scanning
    # the text costs more, and most texts have none.
    if facts is not None and max_share < 1 and not any(map(_foreign_letter, facts.chars)):
        return []
    candidates = []
    max_len = max_letters * 4 + 16  # letters plus marks, digits, spaces: a cheap upper bound
    start = 0
    for line in text.split("\n"):
        n = len(line)
        if n <= max_len and not line.isascii() and len(line.split()) <= max_words:
            letters = [c for c in line if c.isalpha()]
            if letters and len(letters) <= max_letters:
                candidates.append((start, start + n, letters))
        start += n + 1
    if not candidates:
        return []
    if facts is None:
        facts = scan_text(text)
        if max_share < 1 and not any(map(_foreign_letter, facts.chars)):
            return []
    # Letters per script: ASCII letters counted from bytes in C, the others per
    # distinct character.
    totals: Counter[str] = Counter()
    totals["LATIN"] = len(text.encode("ascii", "ignore").translate(None, _NOT_ASCII_LETTER))
    for ch, n in _char_counts(facts.nonascii):
        if ch.isalpha():
            totals[script_of(ch)] += n
    all_letters = sum(totals.values())
    in_short_lines: Counter[str] = Counter()
    for _, _, letters in candidates:
        in_short_lines.update(script_of(c) for c in letters)
    changes = []
    for start, end, letters in candidates:
        scripts = {script_of(c) for c in letters}
        if all_letters - len(letters) < 40:
            continue  # too little text around the line to call it foreign
        # A script that also writes a longer line (a real sentence) is not foreign.
        if any(totals[s] > in_short_lines[s] for s in scripts):
            continue
        share = sum(totals[s] for s in scripts) / all_letters
        if share > max_share:
            continue
        # Remove the line with its newline so no empty line is left behind.
        cut_end = end + 1 if end < len(text) else end
        cut_start = start if cut_end > end or start == 0 else start - 1
        changes.append(Change(cut_start, cut_end, "", "script.stray_line"))
    return changes
