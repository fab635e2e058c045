"""The register step numbers the run's ids by a sort, not a hash table of every id
(whose size grew the step's peak with the run): same numbers as ``dictionary_encode``."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from conftest import texts_in_many_scripts
from test_dedup import _table
from test_dedup_distributed import _distributed_run, _rows

from ketl.dedup.index import QuoteIndex, _first_appearance


def _encoded(ids: pa.Array) -> tuple[list[int], list[int]]:
    """What the register step did before: dictionary indices, each new code's first row."""
    code = pc.dictionary_encode(ids).indices.to_numpy(zero_copy_only=False)
    first = np.flatnonzero(np.diff(np.maximum.accumulate(code), prepend=-1) > 0)
    return code.tolist(), first.tolist()


def _words() -> list[str]:
    words = sorted({w for t in texts_in_many_scripts(aeb_limit=20) for w in t.split()[:200]})
    assert len(words) > 500 and any(ord(c) > 0x3000 for w in words for c in w)  # CJK among them
    return words + ["", "a\x00b", "a"]  # empty, an embedded NUL and a prefix of it


@pytest.mark.parametrize("repeats", [0.0, 0.3, 0.9])
def test_first_appearance_equals_dictionary_encode_on_words_of_many_scripts(repeats):
    rng = random.Random(int(repeats * 10))
    pool = _words()
    ids = []
    for _ in range(3000):
        ids.append(rng.choice(ids) if ids and rng.random() < repeats else rng.choice(pool))
    arr = pa.array(ids, pa.string())
    code, first = _first_appearance(arr)
    assert (code.tolist(), first.tolist()) == _encoded(arr)
    assert len(first) < len(ids)  # repeats were there to be found
    distinct = pa.array(list(dict.fromkeys(pool[:1000])), pa.string())
    code, first = _first_appearance(distinct)  # every id new: row k is item k
    assert code.tolist() == first.tolist() == list(range(len(distinct)))
    code, first = _first_appearance(pa.array([], pa.string()))
    assert len(code) == len(first) == 0


def test_ids_repeated_within_a_run_and_across_runs_keep_one_item(tmp_path):
    rows = _rows()
    # Run 1 repeats ids inside itself; run 2 repeats run 1's ids and its own.
    runs = [rows[:40] + rows[5:12], rows[40:75] + rows[:7] + rows[50:53]]
    memory_dir = tmp_path / "memory"
    old = None
    for k, run in enumerate(runs):
        index = QuoteIndex.load(memory_dir)
        expected = index.add(_table(run))
        index.save(memory_dir)
        new = tmp_path / f"state-{k}"
        plan, (_, got) = _distributed_run(tmp_path, QuoteIndex, run, old, new, 3, size=11)
        assert got.equals(expected), f"run {k}"
        seen = {r[0] for kk in range(k) for r in runs[kk]}
        assert plan.n - plan.n_old == len({r[0] for r in run} - seen) < len(run) - len({r[0] for r in run} & seen)
        old = new
    assert QuoteIndex.load(old).to_table().equals(QuoteIndex.load(memory_dir).to_table())


def test_the_link_step_reads_the_new_ids_an_older_step_1_left_as_parquet(tmp_path):
    import pyarrow.parquet as pq

    from ketl.dedup import distributed

    ids = pa.array(["q1", "日本-2", "ü3"], pa.string())
    arrow = tmp_path / "quote_index.new-ids.arrow"
    distributed._write_ids(ids, arrow)
    assert distributed._read_ids(arrow).equals(ids)
    arrow.unlink()
    pq.write_table(pa.table({"id": ids}), arrow.with_suffix(".parquet"))
    assert distributed._read_ids(arrow).equals(ids)
