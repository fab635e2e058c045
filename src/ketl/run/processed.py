"""The processed-files state: which files earlier runs read, with what bytes and stat.

One row per file (``processed.parquet`` in the snapshot's ``_state``): path,
sha256 (empty for a file rejected unread), size, mtime_ns, how many articles it
gave and the run that read it. A run looks its files up here (the plan), then
writes the state back with its own rows folded in.

Kept in columns from end to end. A dict of :class:`Seen` objects, as before,
took about 860 B a file in the flow's process (143 MiB at 100,000 stored files);
:class:`Processed` holds the table and a few numpy columns, and builds a
``Seen`` only for a path asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_path

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


_LOOKUP_ROWS = 16_384


class Processed(Mapping[str, Seen]):
    """The stored state, looked up in columns. A read-only mapping path -> :class:`Seen`
    (tests and small callers use it so); the run's lookups go through :meth:`rows_of`,
    one hash pass for a whole list of paths."""

    def __init__(self, table: pa.Table) -> None:
        import pyarrow.compute as pc

        # The paths in one chunk (the lookups' value set) and the run ids as a dictionary
        # (a few runs): the table as read is let go, not kept beside them.
        self._paths = table.column("source_path").combine_chunks()
        self._runs = pc.dictionary_encode(table.column("run_id").combine_chunks())
        self._sha = table.column("source_sha256")
        self.size = table.column("size").to_numpy()
        self.mtime_ns = table.column("mtime_ns").to_numpy()
        self.n_articles = table.column("n_articles").to_numpy()
        # Rejected unread: no bytes were hashed, nothing to compare a file's bytes with.
        # (A null, which ketl never writes, counts as a sha256 that matches no file, as it did.)
        self.unread = pc.fill_null(pc.equal(self._sha, ""), False).to_numpy(zero_copy_only=False)
        self._by_path: dict[str, int] | None = None

    @property
    def table(self) -> pa.Table:
        """The state as :data:`PROCESSED_SCHEMA` rows (what :func:`save_processed` merges into)."""
        return pa.table([self._paths, self._sha, self.size, self.mtime_ns, self.n_articles,
                         self._runs.cast(pa.string())], schema=PROCESSED_SCHEMA)

    def rows_of(self, paths: Sequence[str]) -> np.ndarray:
        """Each path's row in the state, -1 for a path it does not hold."""
        import pyarrow.compute as pc

        out = np.full(len(paths), -1, dtype=np.int64)
        if not len(self):
            return out
        # A slice of paths at a time: the query's strings are copied into Arrow, 100,000 at once 5 MB more.
        for lo in range(0, len(paths), _LOOKUP_ROWS):
            found = pc.index_in(pa.array(paths[lo:lo + _LOOKUP_ROWS], pa.string()), value_set=self._paths)
            out[lo:lo + len(found)] = pc.fill_null(found, -1).to_numpy()
        return out

    def from_runs(self, run_ids: Sequence[str]) -> np.ndarray:
        """Mask of the rows written by one of ``run_ids``."""
        import pyarrow.compute as pc

        if not len(self):
            return np.zeros(0, bool)
        named = pc.is_in(self._runs.dictionary, value_set=pa.array(run_ids, pa.string())).to_numpy(zero_copy_only=False)
        named = np.append(named, False)  # the last: a row without a run id (never written) is no run's
        return named[pc.fill_null(self._runs.indices, len(named) - 1).to_numpy(zero_copy_only=False)]

    def path_at(self, rows: np.ndarray) -> list[str]:
        return self._paths.take(pa.array(rows, pa.int64())).to_pylist()

    def seen_at(self, row: int) -> Seen:
        return Seen(self._sha[row].as_py(), int(self.size[row]), int(self.mtime_ns[row]),
                    int(self.n_articles[row]), self._runs[row].as_py())

    def run_ids(self, rows: np.ndarray) -> list[str]:
        return self._runs.take(pa.array(rows, pa.int64())).cast(pa.string()).to_pylist()

    def __len__(self) -> int:
        return len(self._paths)

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths.to_pylist())

    def __getitem__(self, path: str) -> Seen:
        if self._by_path is None:  # single lookups only (tests, a few paths): a dict once
            self._by_path = {p: i for i, p in enumerate(self._paths.to_pylist())}
        return self.seen_at(self._by_path[path])

    def __repr__(self) -> str:
        return f"Processed({len(self)} files)"


def as_processed(processed: Mapping[str, Seen] | pa.Table | None) -> Processed:
    """``processed`` as a :class:`Processed` (a dict of Seen, a table, or None for nothing stored)."""
    if isinstance(processed, Processed):
        return processed
    return Processed(processed_table(processed if processed is not None else {}))


def load_processed(state_dir: Path | None) -> Processed:
    """The stored state of ``state_dir`` (empty: a first run, or none stored)."""
    return Processed(read_processed(state_dir))


def read_processed(state_dir: Path | None) -> pa.Table:
    """The stored processed-files state as a table (empty: first run, or none stored)."""
    if state_dir is None or not (state_dir / PROCESSED_FILE).is_file():
        return PROCESSED_SCHEMA.empty_table()
    # A row group at a time, in this thread: reading the whole file at once kept about
    # twice the table's size in freed decompression buffers (100,000 files: +54 MiB for 16).
    with pq.ParquetFile(state_dir / PROCESSED_FILE) as f:
        return pa.concat_tables([f.read_row_group(i, use_threads=False) for i in range(f.num_row_groups)]
                                or [f.schema_arrow.empty_table()])


# Rows of the files a run dealt with: read (n_articles >= 0) or re-stat only (n_articles < 0).
FILE_ROWS_SCHEMA = pa.schema([f for f in PROCESSED_SCHEMA if f.name != "run_id"])
FileRow = tuple[str, str, int, int, int]


def file_rows_table(rows: Iterable[FileRow] | pa.Table) -> pa.Table:
    """File rows as columns (a batch's, written to the work folder; 100,000 take 17 MB
    against about 50 MB as tuples). A table is returned as it is."""
    if isinstance(rows, pa.Table):
        return rows
    rows = list(rows)
    return pa.table([list(c) for c in zip(*rows)] if rows else [[] for _ in FILE_ROWS_SCHEMA],
                    schema=FILE_ROWS_SCHEMA)


def processed_table(processed: Mapping[str, Seen] | pa.Table) -> pa.Table:
    if isinstance(processed, Processed):
        return processed.table
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
    previous = processed_table(previous)
    return pa.concat_tables([previous.slice(0, 0), *_merged(previous, run_id, file_rows_table(files))])


_SLICE_ROWS = 16_384


def _merged(previous: pa.Table, run_id: str, files: pa.Table) -> Iterator[pa.Table]:
    """The merged state in slices of rows, sorted by path.

    The rules, as if each file row were applied in turn to the stored rows: a
    later row wins; a re-stat row (n_articles < 0: same bytes, new stat) keeps
    who processed the file, the n_articles and run_id of the row before it
    (this run's last read of the path, else the stored row), and a re-stat of
    a path known nowhere keeps its own n_articles.

    One stable sort by path, then neighbours compared in numpy: no hashing
    kernel (its tables cost 40 MB at 100,000 files, Arrow's pool keeping the
    pages) and no row as a Python object.
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
