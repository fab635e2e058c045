"""apply_changes against the version before its fast paths (kept here as the
reference): one pass over the changes, Edits built as drafts, the identity map's
own remap and the inlined offsets. Real text in many scripts, sources with and
without ``\\r\\n``, no-ops, insertions, and changes in any order; the Edits
must be the frozen dataclass they were."""

from __future__ import annotations

import dataclasses
import pickle
import random
from bisect import bisect_right

import pytest
from conftest import texts_in_many_scripts

from ketl.document import Change, Document, Edit, apply_changes


def _reference(doc: Document, changes: list[Change], stage: str) -> tuple[str, list[tuple], list[int]]:
    """Text, edits (as tuples) and source offset of every position after ``changes``,
    computed as apply_changes did before its fast paths (e97fd3b), position by position."""
    text = doc.text
    ordered = [c for c in sorted(changes, key=lambda c: (c.start, c.end)) if text[c.start:c.end] != c.replacement]
    offsets = [doc.source_offset(p) for p in range(len(text) + 1)]
    starts = [0] + [i + 1 for i, c in enumerate(doc.source) if c == "\n" or
                    (c == "\r" and doc.source[i + 1:i + 2] != "\n")]
    pieces, new_offsets, edits, prev = [], [], [], 0
    for k, ch in enumerate(ordered):
        pieces += [text[prev:ch.start], ch.replacement]
        new_offsets += offsets[prev:ch.start] + [offsets[ch.start]] * len(ch.replacement)
        s0 = offsets[ch.start]
        edits.append((stage, ch.rule, text[ch.start:ch.end], ch.replacement, bisect_right(starts, s0), s0,
                      offsets[ch.end], len(doc.edits) + k))
        prev = ch.end
    pieces.append(text[prev:])
    new_offsets += offsets[prev:]
    return "".join(pieces), edits, new_offsets


def _changes(rng: random.Random, text: str) -> list[Change]:
    """Random non-overlapping changes, shuffled, with no-ops among them."""
    cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, 2 * rng.randint(1, 12))))
    out = []
    for a, b in zip(cuts[0::2], cuts[1::2]):
        kind = rng.random()
        if kind < 0.2:
            b = a  # an insertion
        if kind > 0.9:
            out.append(Change(a, b, text[a:b], "noop"))
            continue
        out.append(Change(a, b, rng.choice(["", "", " ", "xy", "\n", "é日", text[a:b][::-1] + "!"]), "test"))
    rng.shuffle(out)
    return out


def _doc(source: str) -> Document:
    return Document.from_source(doc_id="d", source_path="d", source_sha256="", source_encoding="utf-8",
                                source=source)


@pytest.mark.parametrize("crlf", [False, True])
def test_changes_to_real_text_in_many_scripts_give_what_the_former_apply_changes_gave(crlf):
    rng = random.Random(15)
    texts = texts_in_many_scripts(aeb_limit=40)
    assert len({t[:200] for t in texts}) > 20
    for text in texts:
        text = text[:3000]
        doc = _doc(text.replace("\n", "\r\n") if crlf else text)
        for step in range(3):  # the identity map first, then the maps the edits left
            changes = _changes(rng, doc.text)
            want_text, want_edits, want_offsets = _reference(doc, changes, f"stage{step}")
            before = len(doc.edits)
            apply_changes(doc, changes, f"stage{step}")
            assert doc.text == want_text
            assert [dataclasses.astuple(e) for e in doc.edits[before:]] == want_edits
            assert [doc.source_offset(p) for p in range(len(doc.text) + 1)] == want_offsets


def test_edits_are_frozen_dataclass_edits_equal_to_those_built_directly():
    doc = _doc("Le café ouvre à 8 h.\n日本語の文。\n")
    apply_changes(doc, [Change(3, 7, "bar", "r1"), Change(21, 21, "x", "r2")], "s")
    built = [Edit("s", "r1", "café", "bar", 1, 3, 7, 0), Edit("s", "r2", "", "x", 2, 21, 21, 1)]
    assert [type(e) for e in doc.edits] == [Edit, Edit]
    assert doc.edits == built
    assert [hash(e) for e in doc.edits] == [hash(e) for e in built]
    assert pickle.loads(pickle.dumps(doc.edits)) == built
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.edits[0].rule = "other"
    assert doc.text == "Le bar ouvre à 8 h.\nx日本語の文。\n"


def test_a_bad_change_raises_naming_the_first_and_leaves_the_document_as_it_was():
    doc = _doc("abcdef\r\nghij")
    text, segments = doc.text, doc._segments
    bad = [Change(4, 6, "", "b"), Change(1, 2, "X", "a"), Change(5, 7, "Y", "c"), Change(8, 20, "Z", "d")]
    with pytest.raises(ValueError, match=r"Change\(start=5, end=7, replacement='Y'"):
        apply_changes(doc, bad, "s")
    with pytest.raises(ValueError, match="start=-1"):
        apply_changes(doc, [Change(-1, 0, "x", "neg")], "s")
    with pytest.raises(ValueError, match="end=20"):
        apply_changes(doc, [Change(2, 3, "x", "a"), Change(8, 20, "Z", "d")], "s")
    assert (doc.text, doc._segments, doc.edits) == (text, segments, [])
    # A no-op is dropped before the checks, wherever it is (as before).
    apply_changes(doc, [Change(8, 30, "hij", "noop"), Change(0, 1, "A", "a")], "s")
    assert doc.text == "Abcdef\nghij" and [e.rule for e in doc.edits] == ["a"]


@pytest.mark.parametrize("crlf", [False, True])
def test_a_single_change_gives_what_the_former_apply_changes_gave(crlf):
    """A list of one change takes its own path (document._apply_one): the final
    newline cut, a trimmed line, one mojibake fix, an insertion, a no-op."""
    rng = random.Random(16)
    for text in texts_in_many_scripts(aeb_limit=30):
        text = text[:2000]
        doc = _doc(text.replace("\n", "\r\n") if crlf else text)
        for step in range(4):  # the identity map first, then the maps the edits left
            n = len(doc.text)
            a = rng.randrange(n + 1)
            b = min(n, a + rng.choice([0, 1, 3, 12]))
            change = rng.choice([Change(a, b, rng.choice(["", " ", "é日", "\n"]), "one"),
                                 Change(n - 1, n, "", "tail"), Change(a, b, doc.text[a:b], "noop")])
            want_text, want_edits, want_offsets = _reference(doc, [change], f"stage{step}")
            before = len(doc.edits)
            assert apply_changes(doc, [change], f"stage{step}") is doc
            assert doc.text == want_text
            assert [dataclasses.astuple(e) for e in doc.edits[before:]] == want_edits
            assert all(type(e) is Edit for e in doc.edits)
            assert [doc.source_offset(p) for p in range(len(doc.text) + 1)] == want_offsets
    with pytest.raises(ValueError, match="end=9"):
        apply_changes(_doc("abc"), [Change(2, 9, "x", "past the end")], "s")
