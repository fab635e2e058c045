"""The Document's map from current-text positions back to the decoded source.

The map is kept as segments (a few per edit) rather than one integer per
character. These tests replay random edits, on sources with and without
``\\r\\n``, against the plain per-character map the segments replaced (kept
here as the reference), and check the map of real repaired articles.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from ketl.document import Change, Document, apply_changes, normalize_newlines

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _reference_source_map(source: str) -> np.ndarray:
    """Per character, where it came from: the former implementation of normalize_newlines."""
    removed = [i for i in range(len(source) - 1) if source[i] == "\r" and source[i + 1] == "\n"]
    pos = [i for i in range(len(source) + 1) if i not in set(removed)]
    return np.asarray(pos, dtype=np.int64)


def _reference_apply(text: str, positions: np.ndarray, changes: list[Change]) -> tuple[str, np.ndarray]:
    """The former apply_changes' text and map: a copy of the map per change."""
    pieces, pos_pieces, prev = [], [], 0
    for ch in sorted(changes, key=lambda c: (c.start, c.end)):
        if text[ch.start:ch.end] == ch.replacement:
            continue
        pieces += [text[prev:ch.start], ch.replacement]
        pos_pieces += [positions[prev:ch.start], np.full(len(ch.replacement), positions[ch.start], dtype=np.int64)]
        prev = ch.end
    pieces.append(text[prev:])
    pos_pieces.append(positions[prev:])
    return "".join(pieces), np.concatenate(pos_pieces)


def _full_map(doc: Document) -> np.ndarray:
    return doc.positions if doc.positions is not None else np.arange(len(doc.text) + 1)


def _random_changes(rng: random.Random, text: str) -> list[Change]:
    cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, 2 * rng.randint(1, 6))))
    changes = []
    for a, b in zip(cuts[0::2], cuts[1::2]):
        if rng.random() < 0.3:
            b = a  # an insertion
        replacement = rng.choice(["", "", " ", "xy", "\n", "longer text"])
        changes.append(Change(a, b, replacement, "test"))
    return changes


def _random_source(rng: random.Random) -> str:
    parts = ["word", " ", "\n", "\r\n", "\r", "é", "日本", "\t", "x"]
    return "".join(rng.choice(parts) for _ in range(rng.randint(0, 40)))


@pytest.mark.parametrize("seed", range(300))
def test_positions_follow_random_edits_as_the_per_character_map_did(seed):
    rng = random.Random(seed)
    source = _random_source(rng)
    doc = Document.from_source(doc_id="d", source_path="d", source_sha256="", source_encoding="utf-8",
                               source=source)
    text, ref = normalize_newlines(source)
    assert doc.text == text
    ref = _reference_source_map(source)
    assert np.array_equal(_full_map(doc), ref)
    for _ in range(rng.randint(1, 5)):
        if not doc.text:
            break
        changes = _random_changes(rng, doc.text)
        text, ref = _reference_apply(doc.text, ref, changes)
        apply_changes(doc, changes, stage="test")
        assert doc.text == text
        assert np.array_equal(_full_map(doc), ref), (source, changes)
        for pos in (0, len(text) // 2, len(text)):
            assert doc.source_offset(pos) == int(ref[pos])
    for e in doc.edits:  # every edit is located in the source by the map as it was then
        assert 0 <= e.source_start <= e.source_end <= len(source)


def test_edits_of_a_repaired_seed_with_crlf_line_ends_point_where_the_lf_ones_do():
    from ketl.repair import repair

    for path in sorted(SEEDS.glob("*.txt")):
        source = path.read_text(encoding="utf-8")
        crlf = source.replace("\n", "\r\n")
        lf_edits, crlf_edits = repair(source).edits, repair(crlf).edits
        assert lf_edits, path.name
        where = _reference_source_map(crlf)  # LF offset -> CRLF offset
        assert [(e.rule, e.before, e.after, e.source_line, int(where[e.source_start]), int(where[e.source_end]))
                for e in lf_edits] == \
            [(e.rule, e.before, e.after, e.source_line, e.source_start, e.source_end) for e in crlf_edits]


def test_a_source_offset_outside_the_text_is_an_error():
    doc = Document.from_source(doc_id="d", source_path="d", source_sha256="", source_encoding="utf-8",
                               source="a\r\nb")
    assert doc.source_offset(2) == 3
    assert doc.source_offset(-1) == 4  # the end, as indexing the full map gave
    with pytest.raises(IndexError):
        doc.source_offset(4)
