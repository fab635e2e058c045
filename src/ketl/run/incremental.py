"""Which files a run must read: the processed-files state and the plan.

A file is skipped when its path and sha256 were processed before. Hashing
every file on every run would read the whole raw folder, so the stored size
and mtime act as a cache: an unchanged stat means unchanged bytes (as in git);
a changed stat is settled by hashing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_path
from ..ingest.scan import SCAN_PROBLEMS, SourceFile

PROCESSED_FILE = "processed.parquet"
PROCESSED_SCHEMA = pa.schema([
    ("source_path", pa.string()),
    ("source_sha256", pa.string()),
    ("size", pa.int64()),
    ("mtime_ns", pa.int64()),
    ("n_articles", pa.int64()),
    ("run_id", pa.string()),
])


@dataclass(frozen=True, slots=True)
class Seen:
    sha256: str
    size: int
    mtime_ns: int
    n_articles: int = 0
    run_id: str = ""


@dataclass
class Plan:
    to_read: list[SourceFile]
    skipped: int
    # Files skipped after hashing: their stat changed, not their bytes.
    restat: list[tuple[str, str, int, int, int]]


def load_processed(state_dir: Path | None) -> dict[str, Seen]:
    t = read_processed(state_dir)
    return {p: Seen(*rest) for p, *rest in zip(*(t.column(c).to_pylist() for c in PROCESSED_SCHEMA.names))}


def read_processed(state_dir: Path | None) -> pa.Table:
    """The stored processed-files state as a table (empty: first run, or none stored)."""
    if state_dir is None or not (state_dir / PROCESSED_FILE).is_file():
        return PROCESSED_SCHEMA.empty_table()
    return pq.read_table(state_dir / PROCESSED_FILE)


def plan(raw: Path, files: list[SourceFile], processed: dict[str, Seen]) -> Plan:
    """What to read: new files, and files whose bytes (or readability) changed.

    Rejected files are remembered like processed ones (path, sha256, stat), so
    an unchanged rejected file is skipped, not rejected again on every run.
    """
    to_read: list[SourceFile] = []
    restat: list[tuple[str, str, int, int, int]] = []
    skipped = 0
    for f in files:
        seen = processed.get(f.path)
        if seen is None:
            to_read.append(f)
        elif f.problem in SCAN_PROBLEMS or seen.sha256 == "":
            if _still_rejected(raw, f, seen):
                skipped += 1
            else:
                to_read.append(f)
        elif seen.size == f.size and seen.mtime_ns == f.mtime_ns:
            skipped += 1
        elif seen.size == f.size and (sha := _sha256_or_none(raw / f.location)) == seen.sha256:
            restat.append((f.path, sha, f.size, f.mtime_ns, -1))
            skipped += 1
        else:
            to_read.append(f)
    return Plan(to_read, skipped, restat)


def _still_rejected(raw: Path, f: SourceFile, seen: Seen) -> bool:
    """Was ``f`` rejected unread last time, and would it be again?

    A file rejected without its bytes being read (a broken link, a FIFO, a
    permission error) has no sha256 to compare. A walk problem is the same
    rejection when the entry looks the same; a file that could not be opened
    is tried again once it can be (fixing permissions changes no mtime).
    """
    if seen.sha256 != "":  # processed before, a problem now: report it
        return False
    if f.problem in SCAN_PROBLEMS:
        return seen.size == f.size
    if seen.size != f.size or seen.mtime_ns != f.mtime_ns:
        return False
    try:
        os.close(os.open(raw / f.location, os.O_RDONLY | os.O_NONBLOCK))  # never block on a FIFO
    except OSError:
        return True
    return False


def _sha256_or_none(path: Path) -> str | None:
    try:
        return _sha256(path)
    except OSError:
        return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# Rows of the files a run dealt with: read (n_articles >= 0) or re-stat only (n_articles < 0).
FILE_ROWS_SCHEMA = pa.schema([f for f in PROCESSED_SCHEMA if f.name != "run_id"])
FileRow = tuple[str, str, int, int, int]


def file_rows_table(rows: Iterable[FileRow] | pa.Table) -> pa.Table:
    """This run's file rows as columns: 100,000 of them take 17 MB here against about
    50 MB as tuples, and the flow's process keeps them to the end of the run."""
    if isinstance(rows, pa.Table):
        return rows
    rows = list(rows)
    return pa.table([list(c) for c in zip(*rows)] if rows else [[] for _ in FILE_ROWS_SCHEMA],
                    schema=FILE_ROWS_SCHEMA)


def processed_table(processed: Mapping[str, Seen] | pa.Table) -> pa.Table:
    if isinstance(processed, pa.Table):
        return processed
    return pa.table([list(processed), *([getattr(s, a) for s in processed.values()] for a in Seen.__slots__)],
                    schema=PROCESSED_SCHEMA)


def save_processed(state_dir: Path, previous: Mapping[str, Seen] | pa.Table, run_id: str,
                   files: Iterable[FileRow] | pa.Table) -> None:
    """Write the processed-files state: ``previous`` updated with this run's ``files``.

    Written a slice at a time: the merged state is never whole in memory.
    """
    # Replace, never write in place: the old file is hard-linked into the previous snapshot.
    with atomic_path(state_dir / PROCESSED_FILE) as tmp:
        with pq.ParquetWriter(tmp, PROCESSED_SCHEMA, compression="zstd") as out:
            for part in _merged(processed_table(previous), run_id, file_rows_table(files)):
                out.write_table(part)


def merge_processed(previous: Mapping[str, Seen] | pa.Table, run_id: str,
                    files: Iterable[FileRow] | pa.Table) -> pa.Table:
    """``previous`` updated with ``files``, sorted by path: what :func:`save_processed` writes."""
    return pa.concat_tables([processed_table(previous).slice(0, 0),
                             *_merged(processed_table(previous), run_id, file_rows_table(files))])


_SLICE_ROWS = 16_384


def _merged(previous: pa.Table, run_id: str, files: pa.Table) -> Iterator[pa.Table]:
    """The merged state in slices of rows, sorted by path.

    The rules, as if each file row were applied in turn to the stored rows: a
    later row wins; a re-stat row (n_articles < 0: same bytes, new stat) keeps
    who processed the file, the n_articles and run_id of the row before it
    (this run's last read of the path, else the stored row), and a re-stat of
    a path known nowhere keeps its own n_articles.

    One stable sort by path, then neighbours compared in numpy: no hashing
    kernel (its tables cost the flow's process 40 MB at 100,000 files, Arrow's
    pool keeping the pages) and no row as a Python object.
    """
    import pyarrow.compute as pc

    # One chunk: a take from a chunked column concatenates all of its chunks first, every call.
    parts = [previous.drop_columns(["run_id"]), files.cast(FILE_ROWS_SCHEMA)]
    both = pa.concat_tables([p for p in parts if p.num_rows] or parts).combine_chunks()
    size = both.num_rows
    if size == 0:
        return
    order = pc.sort_indices(both, [("source_path", "ascending")])  # stable: stored rows first
    paths = both.column("source_path").take(order)
    order = order.to_numpy()
    first = np.ones(size, dtype=bool)
    if size > 1:
        first[1:] = pc.not_equal(paths.slice(1), paths.slice(0, size - 1)).to_numpy(zero_copy_only=False)
    del paths
    last = np.ones(size, dtype=bool)
    last[:-1] = first[1:]
    stored = order < previous.num_rows
    n = both.column("n_articles").to_numpy()[order]
    # Who processed the path: its latest stored row or read up to its last row,
    # else (only re-stats of a path known nowhere) its first row.
    at = np.arange(size)
    anchor = np.maximum.accumulate(np.where(stored | (n >= 0), at, -1))
    start = np.maximum.accumulate(np.where(first, at, 0))
    owner = np.where(anchor >= start, anchor, start)[last]
    rows, n_articles, owner_stored, owner_row = order[last], n[owner], stored[owner], order[owner]
    del order, first, last, stored, n, at, anchor, start, owner
    stored_runs = previous.column("run_id").combine_chunks()
    for lo in range(0, len(rows), _SLICE_ROWS):
        part = both.take(rows[lo:lo + _SLICE_ROWS])
        from_stored = owner_stored[lo:lo + _SLICE_ROWS]
        runs = pa.array(np.full(len(from_stored), run_id, dtype=object), pa.string())
        if from_stored.any():
            picked = stored_runs.take(np.where(from_stored, owner_row[lo:lo + _SLICE_ROWS], 0))
            runs = pc.if_else(pa.array(from_stored), picked, runs)
        yield pa.table([*part.drop_columns(["n_articles"]).columns,
                        pa.array(n_articles[lo:lo + _SLICE_ROWS], pa.int64()), runs], schema=PROCESSED_SCHEMA)


# A JSONL article's source_path is ``<file>#<line>``: its file is the path without the suffix.
_LINE_SUFFIX = r"#[0-9]+$"


def file_key_in(source_path: pa.ChunkedArray | pa.Array, files: pa.Array) -> pa.ChunkedArray | pa.Array:
    """Mask: is the row's source_path one of ``files``, or a line of one of them?

    Vectorised (two ``is_in``), for the batched row replacement.
    """
    import pyarrow.compute as pc

    bare = pc.replace_substring_regex(source_path, _LINE_SUFFIX, "")
    return pc.or_(pc.is_in(source_path, value_set=files), pc.is_in(bare, value_set=files))


@dataclass
class Stale:
    """Stored files curated with settings other than this run's."""

    paths: set[str]  # still in raw/: to be read again
    gone: int  # articles of stale files no longer in raw/: kept as they are
    articles: int  # articles of ``paths`` as stored


def stale_files(processed: dict[str, Seen], run_hashes: dict[str, str], config_hash: str,
                present: set[str]) -> Stale:
    """Which processed files hold articles written under another ``config_hash``.

    ``run_hashes`` maps a run id to the config_hash its rows carry (the runs
    table): the processed state records the run that wrote each file's rows,
    so no article needs reading. A file whose run is unknown is not judged.
    """
    paths: set[str] = set()
    gone = articles = 0
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
    return Stale(paths, gone, articles)


def add_stale(the_plan: Plan, files: list[SourceFile], stale: set[str]) -> int:
    """Put the stale files the plan skips on its to-read list, as if changed; returns how many."""
    planned = {f.path for f in the_plan.to_read}
    extra = [f for f in files if f.path in stale and f.path not in planned and f.problem is None]
    if not extra:
        return 0
    names = {f.path for f in extra}
    # Scan order, not appended: the order of reading decides which near-duplicate is the earliest.
    the_plan.to_read = [f for f in files if f.path in planned or f.path in names]
    the_plan.skipped -= len(extra)
    the_plan.restat = [r for r in the_plan.restat if r[0] not in names]
    return len(extra)
