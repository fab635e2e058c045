"""A band task streams its pairs and containment rows into its .npz file as it finds them,
opens the run's sketch files once, and gives back freed memory between its phases:
the file holds what the in-memory result holds, array for array."""

import random

import numpy as np
import pytest

from test_dedup import _variants
from test_dedup_distributed import _parts, _rows

from conftest import texts_in_many_scripts
from ketl.dedup import distributed
from ketl.dedup.index import QuoteIndex
from ketl.dedup.lsh import GRAM_PARTS
from ketl.dedup.sketches import SketchStore


def _many_script_rows():
    """Sentences of real text in many scripts, with reworded and extended copies (pairs and
    containment), besides the seeds' quotes and their variants."""
    rng = random.Random(9)
    rows = _rows()
    for k, text in enumerate(texts_in_many_scripts(aeb_limit=12)):
        words = text.split()[:40]
        if len(words) >= 10:
            rows.append((f"m{k}", "m", " ".join(words)))
            rows += [(f"m{k}-{name}", "mv", v) for name, v in _variants(" ".join(words), rng).items()]
            rows.append((f"m{k}-long", "mv", " ".join(words + text.split()[40:60])))
    rng.shuffle(rows)
    return rows


def _arrays(found):
    return {k: getattr(found, k) for k in ("pairs", "weights", "anchor_rows")}


def _run(tmp, rows, old, k, block, monkeypatch):
    monkeypatch.setattr(distributed, "_BLOCK", block)
    new, work = tmp / f"state-{k}", tmp / f"work-{k}"
    plan = distributed.register(QuoteIndex, "q", old, new, work, _parts(work, QuoteIndex, rows, "part", 17))
    return plan, work


@pytest.mark.parametrize("block", [41])
def test_streamed_shard_file_equals_in_memory_result(tmp_path, monkeypatch, block):
    rows = _many_script_rows()
    runs = [rows[:len(rows) // 2], rows[len(rows) // 2:] + rows[:9]]
    old, seen = None, 0
    for k, run in enumerate(runs):
        plan, work = _run(tmp_path, run, old, k, block, monkeypatch)
        for s in range(3):
            bands, parts = distributed.shard_bands(32, s, 3), distributed.shard_bands(GRAM_PARTS, s, 3)
            memory = distributed.band_shard(QuoteIndex, plan, bands, gram_parts=parts)
            path = work / f"pairs-{s}.npz"
            path.write_bytes(b"a retried task's leftovers")
            released = []
            got = distributed.band_shard(QuoteIndex, plan, bands, gram_parts=parts, out=path,
                                         release=lambda: released.append(1))
            assert isinstance(got, distributed.ShardFile) and got.path == path
            assert not list(work.glob("*.part"))  # the scratch files are gone
            assert len(released) == -(-plan.new // block) + 1 + len(parts)  # each block, the bands, each partition
            for name, want in _arrays(memory).items():
                have = getattr(got, name)
                assert have.dtype == want.dtype and have.shape == want.shape, name
                assert np.array_equal(have, want), name
            seen += len(memory.pairs) + len(memory.anchor_rows)
        old = tmp_path / f"state-{k}"
    assert seen > 100  # pairs and containment rows were found: the files are not empty ones


def test_nothing_new_gives_an_empty_shard_file(tmp_path, monkeypatch):
    rows = _rows()[:30]
    first, _ = _run(tmp_path, rows, None, 0, 1 << 15, monkeypatch)
    distributed.link(QuoteIndex, first, [distributed.band_shard(QuoteIndex, first, range(32), gram_parts=range(32))])
    plan, work = _run(tmp_path, rows, tmp_path / "state-0", 1, 1 << 15, monkeypatch)
    assert plan.new == 0
    got = distributed.band_shard(QuoteIndex, plan, [0, 3], gram_parts=[1], out=work / "p.npz")
    assert got.pairs.shape == (0, 2) and got.pairs.dtype == np.int64
    assert got.weights.shape == (0,) and got.weights.dtype == np.float32
    assert got.anchor_rows.shape == (0, 2) and got.anchor_rows.dtype == np.int64


def test_a_band_task_opens_the_sketch_files_once(tmp_path, monkeypatch):
    """Opening maps every record batch of the run's files (22 ms for 100,000 articles' quotes):
    a task used to open them three times per block of new items."""
    plan, work = _run(tmp_path, _rows(), None, 0, 5, monkeypatch)
    opened = []
    real = SketchStore.open.__func__
    monkeypatch.setattr(SketchStore, "open", classmethod(lambda cls, *a, **k: opened.append(1) or real(cls, *a, **k)))
    found = distributed.band_shard(QuoteIndex, plan, [0, 1, 2, 3], gram_parts=[0, 1], out=work / "p.npz")
    assert plan.new > 5 * 10 and len(found.pairs)  # many blocks, and pairs measured in them
    assert len(opened) == 1


@pytest.mark.parametrize("chunk, span", [(7, 4096), (1 << 13, 8 << 20)])
def test_block_jaccard_equals_the_stores_jaccard(tmp_path, monkeypatch, chunk, span):
    """The band pairs' Jaccard takes the later items' signatures from the block's copy: the
    same values as measuring both ends from the files, over several sketch files."""
    rows = _many_script_rows()
    plan, _ = _run(tmp_path, rows[:150], None, 0, 1 << 15, monkeypatch)
    first = tmp_path / "state-0"
    distributed.link(QuoteIndex, plan, [distributed.band_shard(QuoteIndex, plan, range(32), gram_parts=range(32))])
    plan, _ = _run(tmp_path, rows[150:], first, 1, 1 << 15, monkeypatch)  # a second sketch file
    monkeypatch.setattr(distributed, "_BLOCK_PAIRS", chunk)
    monkeypatch.setattr(distributed, "_SPAN", span)
    store = SketchStore.open(QuoteIndex.paths(plan.new_state).sketches, 128, upto=plan.n)
    assert len(store.files()) == 2
    rng = np.random.default_rng(3)
    lo, hi = plan.n_old + 20, plan.n - 10
    later = rng.integers(lo, hi, 3000)
    earlier = (rng.random(3000) * later).astype(np.int64)
    # near-duplicates too, so that not every share is 0: each item and the one before it
    pairs = np.unique(np.concatenate((np.stack((earlier, later), 1),
                                      np.stack((np.arange(lo - 1, hi - 1), np.arange(lo, hi)), 1))), axis=0)
    # both kinds of piece: earlier items read from the files, and earlier items inside the block
    assert (pairs[:, 0] < lo).sum() > 100 and (pairs[:, 0] >= lo).sum() > 100
    got = distributed._block_jaccard(store, distributed._FilePages(store), store.signatures(np.arange(lo, hi)),
                                     lo, pairs)
    want = store.jaccard(pairs)
    assert got.dtype == np.float32 and np.array_equal(got, want.astype(np.float32))
    assert (want > 0.5).sum() > 20 and (want < 0.2).sum() > 1000


def test_a_failed_attempt_closes_and_deletes_its_scratch_files_and_its_retry_is_whole(tmp_path, monkeypatch):
    rows = _many_script_rows()
    plan, work = _run(tmp_path, rows, None, 0, 41, monkeypatch)
    bands, parts = distributed.shard_bands(32, 0, 3), distributed.shard_bands(GRAM_PARTS, 0, 3)
    memory = distributed.band_shard(QuoteIndex, plan, bands, gram_parts=parts)
    assert len(memory.pairs)  # the failure below comes after pairs were streamed to scratch files
    real_write = distributed.write_atomic

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(distributed, "write_atomic", disk_full)
    attempt = distributed._Found(work / "pairs-0.npz")
    monkeypatch.setattr(distributed, "_Found", lambda out: attempt)
    with pytest.raises(OSError, match="No space"):
        distributed.band_shard(QuoteIndex, plan, bands, gram_parts=parts, out=work / "pairs-0.npz")
    assert attempt.rows["pairs"] > 0  # pairs had been written to its scratch files
    assert all(fh.closed for fh in attempt.files.values()) and not attempt.files
    assert not list(work.glob("*.part"))
    monkeypatch.undo()
    monkeypatch.setattr(distributed, "_BLOCK", 41)
    assert distributed.write_atomic is real_write
    got = distributed.band_shard(QuoteIndex, plan, bands, gram_parts=parts, out=work / "pairs-0.npz")
    for name, want in _arrays(memory).items():
        assert np.array_equal(getattr(got, name), want), name
