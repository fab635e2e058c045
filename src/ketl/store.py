"""The curated dataset on disk: snapshots, staging, atomic commit, lock.

Layout of ``--out``::

    out/
      articles -> .ketl/current/articles      (one symlink per table, made once)
      edits, quotes, rejects, runs, entities, suggestions  (likewise)
      .ketl/
        lock                                  flock: one writer at a time
        current -> snapshots/<run>            the committed snapshot
        snapshots/<run>/<table>/run_date=YYYY-MM-DD/part-*.parquet
        snapshots/<run>/_state/               incremental state (processed files, ...)
        staging/<run>/                        the snapshot being built

A run builds a complete new snapshot in ``staging/`` (hard links to the files of
the current snapshot plus its own new parts), renames it into ``snapshots/``
and swaps the ``current`` symlink with ``os.replace``: one atomic step, so
readers see the old dataset or the new one and a crash (even ``kill -9``)
at any point leaves the old one intact. The next run removes what a crash left.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import manifest
from .atomic import Pending, atomic_path, atomic_write  # noqa: F401 - the dataset's one writer, re-exported
from .schemas import TABLES

INTERNAL = ".ketl"
STATE = "_state"
# State files of earlier layouts, replaced by the run that converts them: never carried over.
RETIRED_STATE = frozenset({"quote_index.bands.parquet", "article_index.bands.parquet",
                           "quote_index.grams.parquet", "article_index.grams.parquet"})
# Tables rewritten whole by every run (their rows change); the others are append-only.
REWRITTEN = frozenset({"quotes"})
PLACEHOLDER = "empty.parquet"


class StoreError(RuntimeError):
    """A problem with the output folder the user must fix (exit code 2 in the CLI)."""


class LockedError(StoreError):
    pass


# Locks taken by ``Store.hold`` before Prefect starts, by the internal folder's path:
# the run in this process then uses the held lock instead of taking its own (flock
# locks are per open file, so a second flock in the same process would be refused).
_HELD: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Crash here (SIGKILL, like ``kill -9``) when KETL_FAULT names this point: for crash tests."""
    if os.environ.get("KETL_FAULT") == name:
        os.kill(os.getpid(), 9)


@dataclass
class Store:
    out: Path

    @property
    def internal(self) -> Path:
        return self.out / INTERNAL

    @property
    def current(self) -> Path | None:
        link = self.internal / "current"
        return link if link.exists() else None

    # -- lock -----------------------------------------------------------------
    def lock(self) -> "Store":
        held = _HELD.get(self._key())
        self._lock_fd = held if held is not None else self._try_lock()
        self._owns_fd = held is None
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, f"pid {os.getpid()}".encode(), 0)
        self.recover()
        return self

    def hold(self) -> None:
        """Take the lock now, for the whole process (released by ``release``): a second
        run is refused at once instead of after its Prefect start-up."""
        if self._key() not in _HELD:
            fd = self._try_lock()
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
            _HELD[self._key()] = fd

    def release(self) -> None:
        fd = _HELD.pop(self._key(), None)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _key(self) -> str:
        return str(self.internal.resolve())

    def preflight(self) -> None:
        """Fail now, before any Prefect start-up, if the output is unwritable or locked."""
        fd = self._try_lock()
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def _try_lock(self) -> int:
        try:
            self.internal.mkdir(parents=True, exist_ok=True)
            probe = self.internal / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StoreError(f"output folder {self.out} is not writable: {exc.strerror or exc}") from None
        fd = os.open(self.internal / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = (self.internal / "lock").read_text().strip() or "another process"
            raise LockedError(f"another ketl run is writing to {self.out} ({holder}); "
                              "wait for it to finish") from None
        return fd

    def unlock(self) -> None:
        fd = getattr(self, "_lock_fd", None)
        if fd is not None and getattr(self, "_owns_fd", True):
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        self._lock_fd = None

    def __enter__(self) -> "Store":
        return self.lock()

    def __exit__(self, *exc: object) -> None:
        self.unlock()

    # -- recovery and garbage collection --------------------------------------
    def recover(self) -> None:
        """Remove what an interrupted run left: staging folders, orphan snapshots."""
        shutil.rmtree(self.internal / "staging", ignore_errors=True)
        for tmp in self.internal.glob("current.tmp*"):
            tmp.unlink(missing_ok=True)
        self._gc_snapshots(keep=1)

    def verify(self) -> None:
        """Raise manifest.DamagedState unless the current snapshot is as its commit left it."""
        if self.current is not None:
            manifest.verify(self.current.resolve())

    def _gc_snapshots(self, keep: int) -> None:
        """Keep the current snapshot and ``keep`` before it (a reader may still use it)."""
        snaps = self.internal / "snapshots"
        if not snaps.is_dir():
            return
        current = os.readlink(self.internal / "current") if (self.internal / "current").is_symlink() else None
        current_name = Path(current).name if current else None
        before = manifest.committed_before(snaps / current_name) if current_name else None
        if before is not None:
            # The last committed snapshot is the current one's parent; any other was
            # never current (a crash between rename and swap left it): remove it.
            for old in snaps.iterdir():
                if old.name != current_name and old.name not in before:
                    shutil.rmtree(old, ignore_errors=True)
            return
        others = sorted((p for p in snaps.iterdir() if p.name != current_name),
                        key=lambda p: p.stat().st_mtime_ns)
        for old in others[: max(0, len(others) - keep)] if current_name else others:
            shutil.rmtree(old, ignore_errors=True)

    # -- building a snapshot --------------------------------------------------
    def begin(self, run_id: str, full: bool) -> Path:
        """A staging snapshot holding the current one's files (unless ``full``)."""
        self._full = full
        staging = self.internal / "staging" / run_id
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for table in TABLES:
            (staging / table).mkdir()
        (staging / STATE).mkdir()
        if self.current is not None and not full:
            src = self.current.resolve()
            for table in TABLES:
                if table not in REWRITTEN:
                    _link_tree(src / table, staging / table)
        elif self.current is not None:
            _carry_history(self.current.resolve() / "runs", staging / "runs")
        # _state is not linked: every run writes its state anew (from the current
        # snapshot's), so no writer can ever truncate a file the old snapshot shares.
        return staging

    def commit(self, staging: Path) -> Path:
        """Make ``staging`` the current snapshot in one atomic step."""
        self._carry_over(staging)
        _placeholders(staging)
        parent = self.current.resolve().name if self.current is not None else None
        manifest.write(staging, list(TABLES), parent, manifest.CACHE)
        fault_point("before_commit")
        snaps = self.internal / "snapshots"
        snaps.mkdir(exist_ok=True)
        final = snaps / staging.name
        os.replace(staging, final)
        fault_point("after_rename")
        # recover() removes a crashed run's current.tmp* by that name
        with atomic_path(self.internal / "current", tmp=self.internal / f"current.tmp{os.getpid()}") as tmp:
            tmp.unlink(missing_ok=True)
            os.symlink(Path("snapshots") / staging.name, tmp)
        fault_point("after_swap")
        for table in TABLES:
            link = self.out / table
            if not link.is_symlink():
                if link.exists():
                    raise StoreError(f"{link} exists and is not ketl's link; move it away")
                os.symlink(Path(INTERNAL) / "current" / table, link)
        self._gc_snapshots(keep=1)
        return final


    def _carry_over(self, staging: Path) -> None:
        """Link in the state files and rewritten tables this run did not write itself."""
        if self.current is None or getattr(self, "_full", False):
            return
        src = self.current.resolve()
        for name in (STATE, *REWRITTEN):
            if (src / name).is_dir() and not any((staging / name).rglob("*")):
                _link_tree(src / name, staging / name, skip=RETIRED_STATE)
        if (src / STATE).is_dir():
            # State a run did not touch (e.g. the near-duplicate index when the
            # dedup stage is skipped) is kept: files and whole folders.
            for f in (src / STATE).iterdir():
                target = staging / STATE / f.name
                if f.name in RETIRED_STATE or target.exists():
                    continue
                if f.is_dir():
                    _link_tree(f, target)
                elif f.is_file():
                    os.link(f, target)


def _placeholders(staging: Path) -> None:
    """An empty Parquet file in each table that has no rows yet, and only then.

    Readers then see an empty table with its schema instead of an error
    (DuckDB's glob fails on a folder without Parquet files).
    """
    for table, schema in TABLES.items():
        files = list((staging / table).rglob("*.parquet"))
        real = [f for f in files if f.name != PLACEHOLDER]
        if real:
            for f in files:
                if f.name == PLACEHOLDER:
                    f.unlink()
                    if not any(f.parent.iterdir()):
                        f.parent.rmdir()
        elif not files:
            folder = staging / table / f"run_date={time.strftime('%Y-%m-%d', time.gmtime())}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(schema.empty_table(), folder / PLACEHOLDER, compression="zstd")


def _carry_history(src: Path, dst: Path) -> None:
    """``--full`` rebuilds every table but ``runs``: the history of earlier runs
    is kept. A part that no longer reads (a damaged dataset being rebuilt) is
    left behind rather than carried into the new snapshot."""
    if not src.is_dir():
        return
    for f in src.rglob("*.parquet"):
        if f.name == PLACEHOLDER:
            continue
        try:
            pq.read_metadata(f)
        except Exception:  # damaged: the rebuild must not fail on old history
            continue
        target = dst / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(f, target)


def _link_tree(src: Path, dst: Path, skip: frozenset[str] = frozenset()) -> None:
    """Hard-link every file of ``src`` into ``dst`` (same layout): free and atomic-safe."""
    if not src.is_dir():
        return
    for dirpath, _dirs, files in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        target = dst / rel
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            if name not in skip:
                os.link(Path(dirpath) / name, target / name)


def write_part(folder: Path, table: str, rows: pa.Table, name: str, run_date: str) -> int:
    """Write ``rows`` as one zstd Parquet part under ``folder/<table>/run_date=<d>/``."""
    if rows.num_rows == 0:
        return 0
    schema = TABLES[table]
    rows = rows.select(schema.names).cast(schema)
    part_dir = folder / table / f"run_date={run_date}"
    part_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(part_dir / f"{name}.parquet") as tmp:
        pq.write_table(rows, tmp, compression="zstd")
    return rows.num_rows


class PartWriters:
    """:func:`write_part` for rows that come in pieces: one part named ``name`` per
    run date, each written as its rows arrive (a row group per piece), so a
    table rebuilt from many pieces is never held whole. Parts appear in
    ``folder`` on :meth:`close`; an error (or leaving the ``with`` block by one)
    removes what was written."""

    def __init__(self, folder: Path, table: str, name: str) -> None:
        self.folder, self.table, self.name = Path(folder), table, name
        self.schema = TABLES[table]
        self._open: dict[str, tuple[Pending, pq.ParquetWriter]] = {}
        self.rows = 0

    def write(self, rows: pa.Table, run_date: str) -> None:
        if not rows.num_rows:
            return
        if run_date not in self._open:
            part_dir = self.folder / self.table / f"run_date={run_date}"
            part_dir.mkdir(parents=True, exist_ok=True)
            pending = Pending(part_dir / f"{self.name}.parquet")
            self._open[run_date] = (pending, pq.ParquetWriter(pending.tmp, self.schema, compression="zstd"))
        self._open[run_date][1].write_table(rows.select(self.schema.names).cast(self.schema))
        self.rows += rows.num_rows

    def close(self, commit: bool = True) -> None:
        for pending, writer in self._open.values():
            writer.close()
            pending.commit() if commit else pending.discard()
        self._open.clear()

    def __enter__(self) -> "PartWriters":
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        self.close(commit=exc_type is None)


def read_table(folder: Path, table: str) -> pa.Table:
    """All rows of ``table`` in a snapshot folder (empty table with the schema if none)."""
    import pyarrow.dataset as ds

    root = folder / table
    if not root.is_dir() or not any(root.rglob("*.parquet")):
        return TABLES[table].empty_table()
    return ds.dataset(root, format="parquet", partitioning="hive", schema=_with_run_date(TABLES[table])).to_table()


def _with_run_date(schema: pa.Schema) -> pa.Schema:
    return schema.append(pa.field("run_date", pa.string()))


def remove_rows(staging: Path, table: str, drop, columns: list[str], parts=None) -> tuple[int, pa.Array]:
    """Remove the rows ``drop(part)`` marks from every part of ``table`` in ``staging``.

    ``drop`` gets a part's ``columns`` (pyarrow table) and returns a boolean
    mask; only a part with such rows is read whole. ``parts(name)``, when
    given, says which part files can hold such rows at all (the others are
    not opened).
    A part holding such rows is written anew under its own name by the
    atomic writer (a new file replaces the hard link; the previous snapshot's
    file is never touched); a part left empty is removed. Returns the number
    of rows removed and the ``doc_id`` values of those rows (empty array when
    the table has no doc_id column).
    """
    import pyarrow.compute as pc

    root = staging / table
    removed, ids = 0, []
    for part in sorted(root.rglob("*.parquet")) if root.is_dir() else []:
        if part.name == PLACEHOLDER or (parts is not None and not parts(part.name)):
            continue
        mask = pc.fill_null(drop(pq.read_table(part, columns=columns)), False)
        n = pc.sum(mask.cast(pa.int64())).as_py() or 0
        if not n:
            continue
        removed += n
        rows = pq.read_table(part)
        if "doc_id" in rows.column_names:
            ids.append(rows.column("doc_id").filter(mask).combine_chunks())
        kept = rows.filter(pc.invert(mask))
        if kept.num_rows:
            with atomic_path(part) as tmp:
                pq.write_table(kept, tmp, compression="zstd")
        else:
            part.unlink()
    return removed, pa.concat_arrays(ids) if ids else pa.array([], pa.string())


def rewrite_rows(staging: Path, table: str, columns: list[str], fix) -> int:
    """Rewrite the parts of ``table`` in ``staging`` for which ``fix`` changes rows.

    ``fix(rows)`` gets a part's ``columns`` and returns None (nothing to do)
    or a function from the whole part to its new rows. Parts are replaced by
    the atomic writer, as in :func:`remove_rows`. Returns the parts rewritten.
    """
    root = staging / table
    done = 0
    for part in sorted(root.rglob("*.parquet")) if root.is_dir() else []:
        if part.name == PLACEHOLDER or (change := fix(pq.read_table(part, columns=columns))) is None:
            continue
        with atomic_path(part) as tmp:
            pq.write_table(change(pq.read_table(part)), tmp, compression="zstd")
        done += 1
    return done
