"""A batch's sketches (run.batch._sketches): a text repeated in the batch is sketched once
and its row copied, which must give the table sketching every text gives."""

from __future__ import annotations

from ketl.dedup.index import ARTICLE_SETTINGS, QUOTE_SETTINGS, sketch_table
from ketl.run.batch import _sketches

from conftest import texts_in_many_scripts


def test_repeated_texts_get_the_rows_of_sketching_each_one():
    texts = texts_in_many_scripts(40)
    quotes = [s for t in texts[:30] for s in t.split("\n") if s.strip()][:300]
    for settings, sample in ((ARTICLE_SETTINGS, texts), (QUOTE_SETTINGS, quotes)):
        batch = [*sample, *sample[5:25], "", "", sample[3], "x", "x"]
        got = _sketches(batch, settings, True)
        want = sketch_table(batch, settings)
        assert got.schema == want.schema and got.num_rows == len(batch)
        assert got.equals(want)
        assert len({tuple(r) for r in got.column("signature").to_pylist()}) > len(sample) // 2
        assert got.column("grams").to_pylist() == want.column("grams").to_pylist()
        distinct = _sketches(sample, settings, True)  # no repeats: the plain call
        assert distinct.equals(sketch_table(sample, settings))


def test_a_batch_without_texts_or_without_dedup_keeps_its_schema():
    empty = _sketches([], QUOTE_SETTINGS, True)
    assert empty.num_rows == 0 and empty.schema == sketch_table(["a b c"], QUOTE_SETTINGS).schema
    off = _sketches(["a", "a"], QUOTE_SETTINGS, False)
    assert off.num_rows == 2 and off.column("signature").null_count == 2
    twice = _sketches(["the same words here", "the same words here"], QUOTE_SETTINGS, True)
    once = sketch_table(["the same words here"], QUOTE_SETTINGS)
    for row in range(2):
        assert twice.column("signature")[row] == once.column("signature")[0]
        assert twice.column("grams")[row] == once.column("grams")[0]
