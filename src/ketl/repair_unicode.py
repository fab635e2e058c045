"""Unicode hygiene: odd spaces to a space; invisible and control characters out; NFC."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .document import Change, changes_from_diff, iter_lines
from .repair_rules import repair_rules

__all__ = ["unicode_changes"]

# C0 controls except tab and newline, DEL, C1 controls (ftfy has turned the
# meaningful ones into Windows-1252 characters already).
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_CONTROL_RE = re.compile(f"[{_CONTROLS}]")


@lru_cache(maxsize=1)
def _rules() -> tuple[re.Pattern[str], frozenset[str], frozenset[str]]:
    cfg = repair_rules()["unicode"]
    spaces = frozenset(cfg["odd_spaces"])
    joiners = frozenset(cfg["joiners"])
    chars = re.escape(cfg["odd_spaces"] + cfg["invisible"] + cfg["joiners"])
    # One character class: rare characters, so the scan runs at C speed.
    return re.compile(f"[{chars}{_CONTROLS}]+"), spaces, joiners


def _rule(ch: str, spaces: frozenset[str], joiners: frozenset[str]) -> str:
    if ch in spaces:
        return "unicode.nbsp"
    if ch in joiners or ch == "\ufeff" or ch == "\u00ad" or ch == "\ufffd" or ch > "\u2000":
        return "unicode.invisible"
    return "unicode.control"


def unicode_changes(text: str) -> list[Change]:
    if text.isascii() and not _CONTROL_RE.search(text):
        return []
    pattern, spaces, joiners = _rules()
    changes = []
    n = len(text)
    for m in pattern.finditer(text):
        start, end = m.span()
        for i in range(start, end):
            ch = text[i]
            if ch in joiners:
                # A joiner between two non-ASCII characters may be meaningful
                # (Persian, Indic, emoji sequences); next to ASCII it joins nothing.
                before = text[start - 1] if start > 0 else "\n"
                after = text[end] if end < n else "\n"
                if not before.isascii() and not after.isascii():
                    continue
            changes.append(Change(i, i + 1, " " if ch in spaces else "", _rule(ch, spaces, joiners)))
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        taken = {c.start for c in changes}
        for start, end, line in iter_lines(text):
            if unicodedata.is_normalized("NFC", line):
                continue
            # Lines touched by a character rule above wait for the next round.
            if any(start <= t < end for t in taken):
                continue
            for ch in changes_from_diff(line, unicodedata.normalize("NFC", line), "unicode.nfc"):
                changes.append(Change(ch.start + start, ch.end + start, ch.replacement, ch.rule))
    return changes
