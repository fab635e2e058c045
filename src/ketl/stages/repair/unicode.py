"""Unicode hygiene: odd spaces to a space; invisible and control characters out; NFC.

U+FFFD stays unless asked: it marks bytes lost before ketl saw the text, and
deleting it glues its neighbours into a wrong word (``SlovenÄ�ina`` fixed by
ftfy is ``Sloven�ina``, not ``Slovenina``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ...document import Change
from .encoding import line_changes, non_nfc_lines
from .rules import repair_rules
from .scan import TextFacts, scan_text

__all__ = ["REPLACEMENT_CHAR", "unicode_changes"]

REPLACEMENT_CHAR = "\ufffd"

# C0 controls except tab and newline, DEL, C1 controls (ftfy has turned the
# meaningful ones into Windows-1252 characters already).
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"


@lru_cache(maxsize=1)
def _rules() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    cfg = repair_rules()["unicode"]
    spaces = frozenset(cfg["odd_spaces"])
    joiners = frozenset(cfg["joiners"])
    c1 = frozenset(chr(c) for c in range(0x80, 0xA0))
    return spaces | frozenset(cfg["invisible"]) | joiners | c1, spaces, joiners


@lru_cache(maxsize=256)
def _pattern(present: frozenset[str], controls: bool) -> re.Pattern[str]:
    # Only the characters the text holds: a one-character class compiles to a
    # literal, which the regex engine finds at memory speed.
    body = "".join(re.escape(c) for c in sorted(present)) + (_CONTROLS if controls else "")
    return re.compile(f"[{body}]+")


def _rule(ch: str, spaces: frozenset[str], joiners: frozenset[str]) -> str:
    if ch in spaces:
        return "unicode.nbsp"
    if ch == REPLACEMENT_CHAR:
        return "unicode.replacement"
    if ch in joiners or ch == "\ufeff" or ch == "\u00ad" or ch > "\u2000":
        return "unicode.invisible"
    return "unicode.control"


def unicode_changes(text: str, facts: TextFacts | None = None,
                    drop_replacement_chars: bool = False) -> list[Change]:
    facts = facts or scan_text(text)
    targets, spaces, joiners = _rules()
    present = facts.chars & targets
    if not drop_replacement_chars and REPLACEMENT_CHAR in present:
        present = present - {REPLACEMENT_CHAR}
    changes = []
    if present or facts.controls:
        n = len(text)
        for m in _pattern(present, facts.controls).finditer(text):
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
    if facts.chars and not facts.nfc:
        taken = {c.start for c in changes}
        for start in non_nfc_lines(text):
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            # Lines touched by a character rule above wait for the next round.
            if any(start <= t < end for t in taken):
                continue
            line = text[start:end]
            changes.extend(line_changes(line, unicodedata.normalize("NFC", line), start, "unicode.nfc"))
    return changes
