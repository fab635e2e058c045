"""Which files a run must read: the plan, from the processed-files state (``processed.py``).

A file is skipped when its path and sha256 were processed before. Hashing
every file on every run would read the whole raw folder, so the stored size
and mtime act as a cache: an unchanged stat means unchanged bytes (as in git);
a changed stat is settled by hashing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..ingest.scan import SCAN_PROBLEMS, SourceFile
from .processed import Processed, Seen, as_processed


@dataclass
class Plan:
    to_read: list[SourceFile]
    skipped: int
    # Files skipped after hashing: their stat changed, not their bytes.
    restat: list[tuple[str, str, int, int, int]]


def plan(raw: Path, files: list[SourceFile], processed: Mapping[str, Seen] | Processed) -> Plan:
    """What to read: new files, and files whose bytes (or readability) changed.

    Rejected files are remembered like processed ones (path, sha256, stat), so
    an unchanged rejected file is skipped, not rejected again on every run.
    """
    processed = as_processed(processed)
    to_read: list[SourceFile] = []
    restat: list[tuple[str, str, int, int, int]] = []
    skipped = 0
    size, mtime_ns, unread = processed.size, processed.mtime_ns, processed.unread
    for f, row in zip(files, processed.rows_of([f.path for f in files]).tolist()):
        if row < 0:
            to_read.append(f)
        elif f.problem in SCAN_PROBLEMS or unread[row]:
            if _still_rejected(raw, f, processed.seen_at(row)):
                skipped += 1
            else:
                to_read.append(f)
        elif size[row] == f.size and mtime_ns[row] == f.mtime_ns:
            skipped += 1
        elif size[row] == f.size and (sha := _sha256_or_none(raw / f.location)) == processed.seen_at(row).sha256:
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


def stale_files(processed: Mapping[str, Seen] | Processed, run_hashes: dict[str, str], config_hash: str,
                present: set[str]) -> Stale:
    """Which processed files hold articles written under another ``config_hash``.

    ``run_hashes`` maps a run id to the config_hash its rows carry (the runs
    table): the processed state records the run that wrote each file's rows,
    so no article needs reading. A file whose run is unknown is not judged.
    """
    processed = as_processed(processed)
    paths: set[str] = set()
    gone = articles = 0
    other = [r for r, h in run_hashes.items() if h is not None and h != config_hash]
    if not other or not len(processed):
        return Stale(paths, gone, articles)
    rows = np.flatnonzero((processed.n_articles > 0) & ~processed.unread & processed.from_runs(other))
    for path, n in zip(processed.path_at(rows), processed.n_articles[rows].tolist()):
        if path in present:
            paths.add(path)
            articles += n
        else:
            gone += n
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
