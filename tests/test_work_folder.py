"""Every file the batch steps pass each other is named by WorkFolder, and nothing else is.

Two runs of the Prefect-free steps on the seeds (the second re-reads a changed
file, so the recount, replaced-rows and dedup files appear too), then every
file left in each run's work folder must be one WorkFolder names, and every
part the run added to its snapshot must carry WorkFolder's part names.
"""

from __future__ import annotations

import pickle
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import SEEDS
from ketl.ingest.scan import scan
from ketl.run.batch import RunContext, drop_replaced, finish_batch, merge_site_lines, prepare_batch
from ketl.run.dedup import INDEXES, SHARDS, band_shard, finalize_run, register_run
from ketl.run.handoff import unpack
from ketl.run.work import WorkFolder, run_of_part
from ketl.settings import Settings
from ketl.store import Store


def _finalize_halves_reversed(ctx, batches, previous, plan, shards, replaced):
    """Step 3 as the pool runs it (one worker per index, side by side; the articles half
    builds article_clusters, quote_clusters follows both), the articles half first."""
    from ketl.run.dedup import finalize_half, write_quote_propagation

    for name in reversed(list(INDEXES)):
        finalize_half(ctx, name, batches, previous, plan, shards, replaced)
    write_quote_propagation(ctx)


def _run(out: Path, raw: Path, run_id: str, recount=(), keep_work: list | None = None, finalize=finalize_run):
    """One run through the plain steps, two batches, committed like the flow does."""
    with Store(out) as store:
        previous = store.current.resolve() if store.current is not None else None
        staging = store.begin(run_id, full=False)
        ctx = RunContext(run_id=run_id, raw=str(raw), staging=str(staging), settings=Settings(raw=str(raw)),
                         config_hash="h", started_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
        units = scan(raw, False)
        batches = [units[: len(units) // 2], units[len(units) // 2:]]
        for b, chunk in enumerate(batches):
            prepare_batch(ctx, b, chunk, [u.path for u in chunk if u.path in recount])
        pq.write_table(merge_site_lines(ctx, previous, [0, 1]), ctx.files.site_lines_active())
        for b in range(2):
            finish_batch(ctx, b)
        drop_replaced(ctx, sorted(recount))
        plan = register_run(ctx, [0, 1], previous)
        shards = [band_shard(ctx, plan, s) for s in range(SHARDS)]
        finalize(ctx, [0, 1], previous, plan, shards, sorted(recount))
        left = sorted(p for p in ctx.work.rglob("*") if p.is_file())
        def tables(root):
            return {p.relative_to(root) for p in root.rglob("*.parquet")
                    if not p.relative_to(root).parts[0].startswith("_")} if root else set()
        # parts rewritten in place (rows of a re-read file removed) keep their stored names
        new_parts = sorted(p.name for p in tables(staging) - tables(previous))
        records, _rejects, *_ = pickle.loads(ctx.files.prepared(0).read_bytes())
        docs = unpack(records)
        assert docs and all(d.text for d in docs)  # the finish step read what the prepare step wrote
        store.commit(staging)
        shutil.rmtree(ctx.work)
    return ctx.files, left, new_parts


def _two_runs(tmp: Path, finalize=finalize_run):
    raw = tmp / "raw"
    shutil.copytree(SEEDS, raw, ignore=shutil.ignore_patterns("*.md"))
    first = _run(tmp / "out", raw, "11111111-run", finalize=finalize)
    changed = sorted(raw.glob("*.txt"))[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nOne sentence more, added later.\n",
                       encoding="utf-8")
    second = _run(tmp / "out", raw, "22222222-run", recount={changed.name}, finalize=finalize)
    return first, second


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    return _two_runs(tmp_path_factory.mktemp("work"))


def test_the_cluster_steps_halves_in_either_order_write_what_the_whole_step_writes(two_runs, tmp_path):
    """The flow runs the articles and quotes halves of step 3 side by side in two workers:
    they must share no file, so either order gives every table and index file alike."""
    from ketl.schemas import TABLES
    from ketl.store import read_table

    _two_runs(tmp_path, finalize=_finalize_halves_reversed)
    whole, halves = (Store(root).current.resolve() for root in (two_runs[0][0].path.parents[2], tmp_path / "out"))
    def timeless(t: pa.Table) -> pa.Table:  # each run reads the clock: its times, and hours between them
        return t.select([f.name for f in t.schema if not pa.types.is_timestamp(f.type) and "hours" not in f.name])

    for table in TABLES:
        a, b = timeless(read_table(whole, table)), timeless(read_table(halves, table))
        key = [(c, "ascending") for c in a.column_names if not pa.types.is_nested(a.schema.field(c).type)]
        assert a.sort_by(key).equals(b.sort_by(key)), table
    assert read_table(whole, "quotes").num_rows and read_table(whole, "articles").num_rows
    state = sorted(p.relative_to(whole) for p in (whole / "_state").rglob("*") if p.is_file())
    assert state == sorted(p.relative_to(halves) for p in (halves / "_state").rglob("*") if p.is_file())
    for rel in state:
        if rel.suffix == ".parquet":
            assert pq.read_table(whole / rel).equals(pq.read_table(halves / rel)), rel


def test_every_file_a_run_leaves_in_its_work_folder_is_named_by_work_folder(two_runs):
    for files, left, _parts in two_runs:
        assert left, "the steps wrote nothing to the work folder"
        strays = [str(p.relative_to(files.path)) for p in left if not files.owns(p)]
        assert not strays, f"files no WorkFolder method names: {strays}"


def test_the_second_run_writes_every_kind_of_work_file(two_runs):
    files, left, _ = two_runs[1]
    expected = {files.prepared(0), files.prepared(1), files.site_lines(0), files.site_lines(1),
                files.site_lines_active(), files.articles(1), files.quotes(0), files.article_sketches(1),
                files.removed_docs(), files.merged_rows("entities", 1), files.merged_rows("suggestions", 0),
                files.shard_pairs("quotes", 0), files.shard_pairs("articles", SHARDS - 1)}
    assert expected <= set(left)
    assert any(files.site_lines_recount(b) in left for b in (0, 1))
    assert any(p.is_relative_to(files.dedup()) for p in left)


def test_the_parts_a_run_adds_carry_its_part_names(two_runs):
    for files, _left, parts in two_runs:
        assert f"{files.part_name(0)}.parquet" in parts
        names = {f"{files.part_name(b)}.parquet" for b in (0, 1)} | {f"{files.quotes_part_name()}.parquet"}
        assert set(parts) <= names, set(parts) - names
        assert {run_of_part(p) for p in parts if p.startswith("part-")} == {files.run_id[:8]}


def test_merge_small_tables_writes_one_part_holding_all_batches(tmp_path):
    from ketl.run.batch import merge_small_tables
    from ketl.schemas import TABLES

    staging = tmp_path / "staging"
    staging.mkdir()
    ctx = RunContext(run_id="abcdefgh-run", raw=str(tmp_path), staging=str(staging), settings=Settings(),
                     config_hash="h", started_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
    ctx.work.mkdir(parents=True)
    schema = TABLES["entities"]
    rows = [{"doc_id": f"d{b}", "start": b, "end": b + 4, "surface": "Baku", "canonical": "Baku",
             "type": "place", "run_id": ctx.run_id} for b in range(3)]
    for b in (0, 2):  # batch 1 found no entity: no rows, still written as an empty file
        pq.write_table(pa.Table.from_pylist([rows[b]], schema), ctx.files.merged_rows("entities", b))
    pq.write_table(schema.empty_table(), ctx.files.merged_rows("entities", 1))
    with pytest.raises(ValueError):
        ctx.files.merged_rows("articles", 0)  # large per batch: one part per batch stays
    merge_small_tables(ctx, [0, 1, 2])
    written = sorted((staging / "entities").rglob("*.parquet"))
    assert [p.name for p in written] == [f"{ctx.files.part_name(0)}.parquet"]
    assert pq.read_table(written[0]).column("doc_id").to_pylist() == ["d0", "d2"]
    assert not (staging / "suggestions").exists()  # no rows at all: no part


def test_owns_rejects_names_no_method_gives(tmp_path):
    files = WorkFolder(tmp_path, "abcdefgh-1")
    for stray in ("prepared-1.pkl", "articles-00001.parquet.tmp", "sitelines-active.arrow", "notes.txt",
                  "sub/articles-00001.parquet"):
        assert not files.owns(tmp_path / stray), stray
    assert files.owns(files.article_sketches(12)) and files.owns(files.dedup() / "anything.npy")
    assert run_of_part("part-abcdefgh-00003.parquet") == "abcdefgh" and run_of_part("empty.parquet") is None


def test_work_folder_pickles_as_tasks_send_it(tmp_path):
    files = WorkFolder(tmp_path, "r")
    assert pickle.loads(pickle.dumps(files)) == files


def test_the_work_folder_lies_in_the_staging_area_a_crashed_run_leaves(tmp_path):
    """Store.recover removes .ketl/staging whole: the work folder must be in it."""
    out = tmp_path / "out"
    with Store(out) as store:
        staging = store.begin("33333333-run", full=False)
        files = WorkFolder.beside(staging, "33333333-run")
        files.path.mkdir()
        files.prepared(0).write_bytes(b"x")
        store.recover()
        assert not files.path.exists() and not staging.exists()
