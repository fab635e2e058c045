"""Stray lines in a script foreign to the article (the lone ``بب`` in an English text).

A line is stray when it is short, all its letters belong to scripts that make up
only a small share of the article's letters, and it is not alone. A real
sentence in another language is longer than the limits and stays.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import accumulate

from .document import Change

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


def stray_script_changes(text: str, max_letters: int = 12, max_words: int = 2,
                         max_share: float = 0.05) -> list[Change]:
    if text.isascii():
        return []
    candidates = []
    max_len = max_letters * 4 + 16  # letters plus marks, digits, spaces: a cheap upper bound
    lines = text.split("\n")
    starts = [0, *accumulate(len(line) + 1 for line in lines)]
    for i, line in enumerate(lines):
        if len(line) > max_len or line.isascii() or len(line.split()) > max_words:
            continue
        letters = [c for c in line if c.isalpha()]
        if letters and len(letters) <= max_letters:
            candidates.append((starts[i], starts[i] + len(line), letters))
    if not candidates:
        return []
    counts = Counter(text)  # counted in C; scripts are then looked up per distinct character
    totals: Counter[str] = Counter()
    for ch, n in counts.items():
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
