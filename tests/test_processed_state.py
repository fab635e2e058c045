"""The processed-files state, merged in columns, says what the row-by-row dict said.

``save_processed`` used to fold this run's file rows into a dict of the stored
rows, one Python tuple per file (the flow's process grew 50 MB from 20,000 to
100,000 files at the commit). It now sorts and compares in Arrow and numpy and
writes a slice at a time. The dict version is kept here as the reference and
both are run on rows built to hit every rule: later rows win, a re-stat keeps
who processed the file (this run's read, else the stored row), a re-stat of
an unknown path keeps its own count, stored rows no run touched stay.
"""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ketl.run.processed import (FILE_ROWS_SCHEMA, PROCESSED_FILE, PROCESSED_SCHEMA, Seen, file_rows_table,
                                  load_processed, merge_processed, save_processed)


def _reference(previous: dict[str, Seen], run_id: str, files) -> list[tuple]:
    """The dict fold save_processed did before it worked in columns (66e92d7)."""
    rows = {p: (s.sha256, s.size, s.mtime_ns, s.n_articles, s.run_id) for p, s in previous.items()}
    for path, sha, size, mtime, n in files:
        if n < 0 and path in rows:
            rows[path] = (sha, size, mtime, rows[path][3], rows[path][4])
        else:
            rows[path] = (sha, size, mtime, n, run_id)
    return [(p, *rows[p]) for p in sorted(rows)]


def _rows(table: pa.Table) -> list[tuple]:
    return list(zip(*(table.column(c).to_pylist() for c in PROCESSED_SCHEMA.names)))


# Paths in several scripts, a non-BMP character and an escaped undecodable byte:
# the order must be Python's code-point order, which Arrow's byte order matches in UTF-8.
NAMES = ["a.txt", "b/ü.txt", "b/z.txt", "Ω/статья.txt", "中文/新闻.txt", "emoji/😀.txt", "bad\\xff.txt",
         "A.txt", "a.txt#2", "ﬁ.txt", "z", "aa", "ä"]


def _case(rng: random.Random) -> tuple[dict[str, Seen], list[tuple]]:
    names = rng.sample(NAMES, rng.randint(1, len(NAMES)))
    previous = {p: Seen(f"{rng.getrandbits(64):016x}", rng.randint(0, 9), rng.randint(0, 9),
                        rng.choice([0, 1, 3]), rng.choice(["r1", "r2"]))
                for p in names if rng.random() < 0.5}
    files = [(rng.choice(names), rng.choice(["", f"{rng.getrandbits(64):016x}"]), rng.randint(0, 9),
              rng.randint(0, 9), rng.choice([-1, -1, 0, 1, 4])) for _ in range(rng.randint(0, 12))]
    return previous, files


@pytest.mark.parametrize("seed", range(300))
def test_merge_matches_the_row_by_row_fold(seed):
    previous, files = _case(random.Random(seed))
    assert _rows(merge_processed(previous, "run-9", files)) == _reference(previous, "run-9", files)


def test_the_rules_spelled_out():
    previous = {"kept.txt": Seen("k", 1, 1, 5, "r0"), "restat.txt": Seen("s", 2, 2, 7, "r0"),
                "reread.txt": Seen("x", 3, 3, 2, "r0")}
    files = [("restat.txt", "s", 2, 99, -1),  # same bytes, new mtime: still r0's 7 articles
             ("reread.txt", "y", 4, 4, 3),  # read again: this run's
             ("new.txt", "n", 5, 5, 1),
             ("twice.txt", "t", 6, 6, 2), ("twice.txt", "t", 6, 7, -1),  # read, then re-stat: the read's count
             ("lone.txt", "l", 8, 8, -1)]  # a re-stat of a path known nowhere keeps its own count
    got = {r[0]: r[1:] for r in _rows(merge_processed(previous, "run-2", files))}
    assert got == {"kept.txt": ("k", 1, 1, 5, "r0"), "restat.txt": ("s", 2, 99, 7, "r0"),
                   "reread.txt": ("y", 4, 4, 3, "run-2"), "new.txt": ("n", 5, 5, 1, "run-2"),
                   "twice.txt": ("t", 6, 7, 2, "run-2"), "lone.txt": ("l", 8, 8, -1, "run-2")}


def test_saved_in_slices_reads_back_whole_and_sorted(tmp_path, monkeypatch):
    import ketl.run.processed as processed_module

    monkeypatch.setattr(processed_module, "_SLICE_ROWS", 7)  # many slices, one parquet row group each
    rng = random.Random(3)
    previous = {f"old/{k:03d}.txt": Seen(f"{k:064x}", k, k, k % 4, f"r{k % 3}") for k in range(50)}
    files = [(f"old/{k:03d}.txt" if k % 3 else f"new/{k:03d}.txt", f"{k:064x}", k, k + 1, rng.choice([-1, 0, 2]))
             for k in range(80)]
    save_processed(tmp_path, previous, "run-3", file_rows_table(files))
    table = pq.read_table(tmp_path / PROCESSED_FILE)
    assert table.schema == PROCESSED_SCHEMA
    assert pq.ParquetFile(tmp_path / PROCESSED_FILE).num_row_groups > 1
    assert _rows(table) == _reference(previous, "run-3", files)
    again = load_processed(tmp_path)
    assert list(again) == sorted(again) and len(again) == table.num_rows


def test_nothing_at_all_writes_an_empty_state(tmp_path):
    save_processed(tmp_path, {}, "run-1", [])
    table = pq.read_table(tmp_path / PROCESSED_FILE)
    assert table.num_rows == 0 and table.schema == PROCESSED_SCHEMA
    assert load_processed(tmp_path) == {}


def test_stored_state_alone_is_written_back_as_it_was(tmp_path):
    previous = {"b.txt": Seen("b", 1, 2, 3, "r1"), "a.txt": Seen("a", 4, 5, 6, "r2")}
    save_processed(tmp_path, previous, "run-4", file_rows_table([]))
    assert load_processed(tmp_path) == previous


def test_file_rows_table_keeps_the_columns_and_refuses_a_short_row():
    table = file_rows_table([("a.txt", "h", 1, 2, 3), ("b.txt", "", 0, 0, -1)])
    assert table.schema == FILE_ROWS_SCHEMA and table.column("n_articles").to_pylist() == [3, -1]
    assert file_rows_table(table) is table
    with pytest.raises((ValueError, pa.ArrowInvalid)):
        file_rows_table([("a.txt", "h", 1, 2)])


# -- lookups: the stored state in columns answers as the dict of Seen did -------------------------------

def _stale_reference(processed: dict[str, Seen], run_hashes, config_hash, present):
    """stale_files's loop over a dict of Seen (66e92d7)."""
    paths, gone, articles = set(), 0, 0
    for path, seen in processed.items():
        if seen.n_articles <= 0 or seen.sha256 == "":
            continue
        h = run_hashes.get(seen.run_id)
        if h is None or h == config_hash:
            continue
        if path in present:
            paths.add(path)
            articles += seen.n_articles
        else:
            gone += seen.n_articles
    return paths, gone, articles


@pytest.mark.parametrize("seed", range(40))
def test_lookups_in_columns_match_the_dict(tmp_path, monkeypatch, seed):
    import ketl.run.processed as processed_module
    from ketl.run.incremental import stale_files
    from ketl.run.processed import Processed

    monkeypatch.setattr(processed_module, "_SLICE_ROWS", 3)  # the state read back in several chunks
    rng = random.Random(seed)
    stored = {p: Seen(rng.choice(["", f"{rng.getrandbits(64):016x}"]), rng.randint(0, 9), rng.randint(0, 9),
                      rng.choice([-1, 0, 1, 5]), rng.choice(["r1", "r2", "r3"]))
              for p in rng.sample(NAMES, rng.randint(0, len(NAMES)))}
    save_processed(tmp_path, stored, "unused", [])
    state = load_processed(tmp_path)
    assert isinstance(state, Processed) and state == stored and len(state) == len(stored)
    asked = rng.sample(NAMES, rng.randint(0, len(NAMES))) + ["never.txt"]
    rows = state.rows_of(asked)
    for path, row in zip(asked, rows.tolist()):
        assert (row >= 0) == (path in stored)
        if row >= 0:
            assert state.seen_at(row) == stored[path]
            assert bool(state.unread[row]) == (stored[path].sha256 == "")
    hashes = {"r1": "h-now", "r2": "h-old", "r3": None}
    present = set(rng.sample(NAMES, rng.randint(0, len(NAMES))))
    got = stale_files(state, hashes, "h-now", present)
    assert (got.paths, got.gone, got.articles) == _stale_reference(stored, hashes, "h-now", present)


def test_an_empty_state_answers_every_lookup_with_nothing(tmp_path):
    state = load_processed(tmp_path)  # nothing stored here
    assert len(state) == 0 and not state and state == {}
    assert state.rows_of(["a.txt", "b.txt"]).tolist() == [-1, -1] and state.rows_of([]).tolist() == []
    assert state.get("a.txt") is None


def test_nulls_in_a_stored_state_are_no_traceback(tmp_path):
    """ketl never writes a null there; a hand-made state with one still plans and judges:
    a null sha256 matches no file's bytes (the file is read again), a null run id is no run's."""
    from ketl.ingest.scan import scan
    from ketl.run.incremental import plan, stale_files
    from ketl.run.processed import Processed

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("Ереван\n", encoding="utf-8")
    (raw / "b.txt").write_text("埃里温\n", encoding="utf-8")
    files = scan(raw)
    table = pa.table([[f.path for f in files], [None, "x" * 64], [f.size for f in files],
                      [f.mtime_ns + 1 for f in files], [1, 2], ["r1", None]], schema=PROCESSED_SCHEMA)
    state = Processed(table)
    assert state.unread.tolist() == [False, False] and state.from_runs(["r1"]).tolist() == [True, False]
    assert sorted(f.path for f in plan(raw, files, state).to_read) == ["a.txt", "b.txt"]
    stale = stale_files(state, {"r1": "old"}, "now", {"a.txt", "b.txt"})
    assert stale.paths == {"a.txt"} and stale.articles == 1
