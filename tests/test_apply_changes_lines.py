"""apply_changes locates each edit on its source line by counting newlines
(no array of line starts) when the source has only "\\n" breaks: the lines must
be those of :meth:`Document.source_line` and of a plain per-character count,
for few and many edits, after earlier edits moved the text, and with "\\r\\n"
or lone "\\r" breaks (which keep the array)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from ketl.document import Change, Document, apply_changes
from ketl.repair import repair

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _doc(source: str) -> Document:
    return Document.from_source(doc_id="d", source_path="d", source_sha256="", source_encoding="utf-8",
                                source=source)


def _reference_line(source: str, offset: int) -> int:
    """1 + the line breaks (\\r\\n, \\r, \\n) that end at or before ``offset``."""
    return 1 + sum(1 for m in re.finditer(r"\r\n|\r|\n", source) if m.end() <= offset)


def _random_changes(rng: random.Random, text: str, most: int) -> list[Change]:
    cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, 2 * rng.randint(1, most))))
    changes = []
    for a, b in zip(cuts[0::2], cuts[1::2]):
        if rng.random() < 0.3:
            b = a
        changes.append(Change(a, b, rng.choice(["", " ", "\n", "zz", "a longer insert"]), "test"))
    rng.shuffle(changes)  # apply_changes sorts them
    return changes


@pytest.mark.parametrize("breaks", [("\n",), ("\n", "\r\n"), ("\n", "\r")])
@pytest.mark.parametrize("seed", range(60))
def test_edit_lines_are_the_source_lines_of_their_start(seed, breaks):
    rng = random.Random(seed)
    parts = ["word", " ", "Ünïcödé", "日本語", "\t", "x", *breaks * 3]
    source = "".join(rng.choice(parts) for _ in range(rng.randint(1, 120)))
    doc = _doc(source)
    for _ in range(rng.randint(1, 4)):
        if not doc.text:
            break
        before = len(doc.edits)
        apply_changes(doc, _random_changes(rng, doc.text, rng.choice([2, 8, 20])), stage="test")
        for e in doc.edits[before:]:
            assert e.source_line == _reference_line(source, e.source_start), (source, e)
    fresh = _doc(source)  # the array-based answer agrees too
    for e in doc.edits:
        assert e.source_line == fresh.source_line(e.source_start)


def test_a_bad_change_list_leaves_the_document_as_it_was():
    doc = _doc("one two\nthree four\n")
    with pytest.raises(ValueError):
        apply_changes(doc, [Change(0, 3, "1", "t"), Change(2, 5, "x", "t")], stage="t")
    with pytest.raises(ValueError):
        apply_changes(doc, [Change(4, 30, "", "t")], stage="t")
    assert doc.text == "one two\nthree four\n" and doc.edits == [] and doc._segments is None


@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_repaired_seed_edits_sit_on_their_source_lines(seed):
    source = (SEEDS / seed).read_text(encoding="utf-8")
    result = repair(source)
    assert result.edits, "a seed with nothing to repair tests nothing here"
    for e in result.edits:
        assert e.source_line == _reference_line(source, e.source_start)
        assert source.count("\n", 0, e.source_start) + 1 == e.source_line
