"""GramIndex.add_code_rows builds the containment rows a piece at a time: the pieces,
concatenated, are add_codes' rows in the same order, and the index ends the same."""

import random

import numpy as np
import pytest

from conftest import texts_in_many_scripts
from ketl.dedup import lsh
from ketl.dedup.index import QuoteIndex, sketch_table
from ketl.dedup.lsh import GramIndex, new_codes


def _sets(texts):
    grams = sketch_table(texts, QuoteIndex.default_settings)["grams"].combine_chunks()
    return grams.values.to_numpy(), grams.offsets.to_numpy()


def _runs():
    """Two runs of sentences in many scripts with repeats and extended copies (containment)."""
    rng = random.Random(4)
    texts = []
    for text in texts_in_many_scripts(aeb_limit=15):
        words = text.split()
        for k in range(0, min(len(words), 120) - 12, 12):
            texts.append(" ".join(words[k:k + 12]))
    more = [t + " " + rng.choice(texts) for t in rng.sample(texts, len(texts) // 3)] + rng.sample(texts, len(texts) // 4)
    rng.shuffle(more)
    return texts, more


@pytest.mark.parametrize("rows", [1, 50, 1 << 16])
def test_rows_in_pieces_equal_add_codes(monkeypatch, rows):
    first, second = _runs()
    s = QuoteIndex.default_settings
    whole, pieces = GramIndex(), GramIndex()
    n_old = 0
    for texts in (first, second):
        values, offsets = _sets(texts)
        codes, anc = new_codes(values, offsets, n_old, s.anchors, s.containment_min_grams, None)
        want = whole.add_codes(codes, anc, s.max_anchor_group)
        monkeypatch.setattr(lsh, "_ROWS", rows)
        got = list(pieces.add_code_rows(codes, anc, s.max_anchor_group))
        monkeypatch.setattr(lsh, "_ROWS", 1 << 16)
        a = np.concatenate([p[0] for p in got]) if got else np.empty(0, np.int64)
        b = np.concatenate([p[1] for p in got]) if got else np.empty(0, np.int64)
        assert np.array_equal(a, want[0]) and np.array_equal(b, want[1])
        assert np.array_equal(pieces.codes, whole.codes) and np.array_equal(pieces.anchor, whole.anchor)
        if rows == 1:
            assert len(got) > 10  # really in pieces
        n_old += len(texts)
    assert len(want[0]) > 100 and (want[0] < len(first)).any()  # rows found, some reaching the first run


def test_cuts_cover_every_entry_in_order(monkeypatch):
    monkeypatch.setattr(lsh, "_ROWS", 10)
    counts = np.array([3, 4, 0, 12, 1, 9, 2, 2, 2, 0])
    cuts = list(lsh._cuts(counts))
    assert [i for i, _ in cuts] == [0] + [j for _, j in cuts[:-1]] and cuts[-1][1] == len(counts)
    assert all(counts[i:j].sum() <= 10 or j == i + 1 for i, j in cuts)
    assert list(lsh._cuts(np.empty(0, np.int64))) == []
