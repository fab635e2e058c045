"""The one atomic writer: write beside the target under a temporary name, then rename.

Every file ketl writes for others to read (dataset parts, state, caches, the
report, exports, the user's gazetteer) goes through here, for two reasons:

* a reader (another process, a browser, DuckDB) sees the old file or the whole
  new one, never half of it;
* the target is *replaced*, never written in place: the snapshots share their
  files by hard link, and writing into one would change the previous snapshot
  too.

It lives in its own module, not in :mod:`ketl.store` (which re-exports it),
because the stages and text caches use it as well and must not depend on the
dataset layer; it imports nothing of ketl.

Nothing here fsyncs: no call site did before (a crash loses at most the file
being written, and the dataset's own commit is guarded by its manifest).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["Pending", "atomic_path", "atomic_write", "temp_name"]


def temp_name(path: Path) -> Path:
    """``.<name>.tmp<pid>`` beside ``path``: hidden (dataset readers skip dot files)
    and unique per process (two processes may write the same cache entry)."""
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


class Pending:
    """A file (or folder) being written under a temporary name until :meth:`commit`.

    For writers that stay open across calls (a streaming Arrow writer); the
    others use :func:`atomic_path` or :func:`atomic_write`.
    """

    def __init__(self, path: Path | str, tmp: Path | str | None = None) -> None:
        self.path = Path(path)
        self.tmp = Path(tmp) if tmp is not None else temp_name(self.path)

    def commit(self) -> None:
        """Put the written file in place of ``path`` in one step."""
        try:
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Remove what was written (a failed write leaves no temporary file behind)."""
        if self.tmp.is_dir() and not self.tmp.is_symlink():
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            try:
                self.tmp.unlink()
            except OSError:
                pass


@contextmanager
def atomic_path(path: Path | str, tmp: Path | str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write (a file, a folder or a symlink); on leaving
    the block without an error it replaces ``path``, on an error it is removed.

    ``tmp`` names the temporary path where a caller must find leftovers by name
    (e.g. an export cleaning its folder); by default :func:`temp_name`.
    """
    pending = Pending(path, tmp)
    try:
        yield pending.tmp
    except BaseException:
        pending.discard()
        raise
    pending.commit()


def atomic_write(path: Path | str, data: bytes, tmp: Path | str | None = None) -> None:
    """Replace ``path`` with ``data`` atomically."""
    with atomic_path(path, tmp) as t, open(t, "wb") as fh:
        fh.write(data)
