"""How a run's files are cut into batches (ketl.flows.flow.make_batches)."""

from __future__ import annotations

import pytest

from ketl.flows.flow import TAIL_BATCH, make_batches
from ketl.ingest.scan import SourceFile


def _files(sizes: list[int]) -> list[SourceFile]:
    return [SourceFile(path=f"site/{i:06d}.txt", size=s, mtime_ns=0) for i, s in enumerate(sizes)]


@pytest.mark.parametrize("n,workers", [(20_000, 2), (20_000, 4), (181, 2), (5, 2), (2_345, 3), (1, 2)])
def test_batches_keep_every_file_once_and_in_order(n, workers):
    files = _files([4_500] * n)
    batches = make_batches(files, 1_000, workers=workers)
    assert [f for b in batches for f in b] == files  # the items are numbered in this order
    assert all(0 < len(b) <= 1_000 for b in batches)


def test_one_worker_gets_full_batches_as_before():
    sizes = [len(b) for b in make_batches(_files([4_500] * 20_000), 1_000, workers=1)]
    assert sizes == [1_000] * 20


def test_the_tail_shrinks_so_the_workers_end_together():
    sizes = [len(b) for b in make_batches(_files([4_500] * 20_000), 1_000, workers=2)]
    assert sizes[:19] == [1_000] * 19
    # each tail batch at most the files left over the workers, never under TAIL_BATCH but the last
    assert sizes[19:] == [500, 250, 125, 100, 25]
    left = 20_000
    for s in sizes:
        assert s <= max(TAIL_BATCH, -(-left // 2))
        left -= s


def test_a_run_of_one_batch_stays_one_batch():
    # each batch stamps first_seen with its own clock, and the propagation tables order
    # undated articles by it: splitting the 181 AEB pages changed 9 quote clusters
    assert [len(b) for b in make_batches(_files([4_500] * 181), 1_000, workers=2)] == [181]
    assert [len(b) for b in make_batches(_files([4_500] * 1_000), 1_000, workers=2)] == [1_000]
    assert [len(b) for b in make_batches(_files([4_500] * 1_001), 1_000, workers=2)] == [501, 250, 125, 100, 25]


def test_batch_size_and_byte_cap_still_bound_the_tail():
    assert [len(b) for b in make_batches(_files([10] * 5), 2, workers=2)] == [2, 2, 1]
    # 30 MB files: the 64 MiB cap allows two per batch, whatever the tail would allow
    big = make_batches(_files([30 << 20] * 7), 1_000, workers=2)
    assert [len(b) for b in big] == [2, 2, 2, 1]


def test_new_articles_are_first_seen_at_the_run_start_whatever_their_batch():
    """quote_clusters and article_clusters order undated articles by first_seen: with
    each batch's own clock that order followed the cut into batches (which follows the
    worker count) and which worker finished first."""
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    from ketl.document import Document
    from ketl.run.batch import articles_table

    started = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    ctx = SimpleNamespace(run_id="r", pipeline_version="0", config_hash="c", started_at=started)
    docs = [Document.from_source(doc_id=str(i), source_path=f"{i}.txt", source_sha256="0" * 64,
                                 source_encoding="utf-8", source="A line about the truce.") for i in range(2)]
    first = articles_table(docs[:1], ctx, started + timedelta(seconds=5))  # two batches, two clocks
    second = articles_table(docs[1:], ctx, started + timedelta(seconds=9))
    seen = first.column("first_seen").to_pylist() + second.column("first_seen").to_pylist()
    assert seen == [started, started]
    # processed_at stays the batch's own time
    assert second.column("processed_at")[0].as_py() == started + timedelta(seconds=9)
