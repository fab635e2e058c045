"""parenthetical_changes tests one character before normalising a bracket's
words: it must find exactly what the full test alone found (kept here as the
reference), on real pages and on duplicated names in many scripts."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from ketl.document import Change
from ketl.stages.repair.punctuation import parenthetical_changes

from conftest import SEEDS, shared_path

_PAREN = re.compile(r"\(([^()\n]{2,80})\)")
_NORM_SPACE = re.compile(r"\s+")


def _reference(text: str) -> list[Change]:
    """The rule before the character test."""
    if "(" not in text:
        return []
    changes = []
    for m in _PAREN.finditer(text):
        inner = _NORM_SPACE.sub(" ", m.group(1).strip())
        if not inner or not any(c.isalpha() for c in inner):
            continue
        if " " not in inner and not (inner.isascii() and inner[:1].isupper() and len(inner) >= 4):
            continue
        n = len(inner)
        start = m.start()
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        before = _NORM_SPACE.sub(" ", text[max(0, start - n - 8):start])
        if not before.endswith(inner):
            continue
        head = before[:-n]
        if head and (head[-1].isalnum() or head[-1] == "_"):
            continue
        if start == 0 or text[start - 1] == "\n":
            continue
        changes.append(Change(start, m.end(), "", "paren.duplicate"))
    return changes


NAMES = ["Vladimir Putin", "Ursula von der Leyen", "Владимир Путин", "Ολάφ Σολτς", "محمد بن سلمان",
         "習近平", "김정은 위원장", "Recep Tayyip Erdoğan", "NATO", "Reuters", "a b", "São Paulo"]
GLUE = [" ", "  ", "\t", "\u00a0", "\n", "", " \t "]


def _built(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 6)):
        name, other = rng.choice(NAMES), rng.choice(NAMES)
        inside = rng.choice([name, name.upper(), name.replace(" ", "  "), f" {name} ", other, name + "\u00a0"])
        lead, end = rng.choice(["said", "x", "", "(", "1"]), rng.choice([".", " said", "", "\n"])
        parts.append(f"{lead}{rng.choice(GLUE)}{name}{rng.choice(GLUE)}({inside}){end}")
    return rng.choice(["", "\n", "Text "]) + " ".join(parts)


def test_the_character_test_changes_nothing_the_full_test_finds():
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8")
              for p in sorted((Path(__file__).parent / "data" / "multilingual").rglob("*.txt"))]
    pages = json.loads(shared_path("bench", "aeb", "html-text.json").read_text(encoding="utf-8"))["output"]
    texts += [v["articleBody"] for _, v in sorted(pages.items())]
    rng = random.Random(15)
    texts += [_built(rng) for _ in range(3000)]
    found = 0
    for text in texts:
        expected = _reference(text)
        assert parenthetical_changes(text) == expected, text[:200]
        found += len(expected)
    assert found > 500  # duplicates found in several scripts, not a rule that never fires
