"""Walk the raw root: every entry becomes a :class:`SourceFile`, none is lost.

The walk stats entries but reads nothing, so the flow can plan cheaply in one
process. What can go wrong with a name or a link is found here and carried as
a ``problem`` (a rejects reason) for the reader to record:

* a symbolic link leading outside the raw root is not followed unless
  ``follow_external_links`` is set (a ``raw/links/passwd.txt -> /etc/passwd``
  must not become an article);
* a folder that cannot be listed (permissions, a path over PATH_MAX) is a
  reject, not a silent gap: ``os.walk`` swallows such errors unless given
  ``onerror``;
* a file name that is not valid UTF-8 cannot be written to Parquet as it is:
  its undecodable bytes are written as ``\\xNN`` escapes (``path``), and the
  real name is kept for reading (``fs_path``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".txt", ".jsonl", ".jsonl.gz")
# Problems the walk finds: such an entry is rejected without being read.
SCAN_PROBLEMS = ("broken_link", "unreadable", "not_regular", "external_link")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file found by :func:`scan`: relative POSIX path and its stat."""

    path: str  # as written in the output: valid Unicode, undecodable bytes as \xNN
    size: int
    mtime_ns: int
    problem: str | None = None  # a reject reason known before reading (broken link, type)
    fs_path: str | None = None  # the name on disk (surrogate-escaped) when it differs from path
    detail: str = ""  # why, for a problem found by the walk
    link: bool = False  # a symbolic link (allowed) at the walk: a plain file is opened without following one

    @property
    def location(self) -> str:
        """The path relative to the raw root to open."""
        return self.fs_path if self.fs_path is not None else self.path


def display_path(rel: str) -> str:
    """``rel`` as valid Unicode: bytes that are not UTF-8 become ``\\xNN`` escapes."""
    try:
        rel.encode("utf-8")
        return rel
    except UnicodeEncodeError:
        pass
    try:
        return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte: not from a file name
        return rel.encode("utf-8", "backslashreplace").decode("utf-8")


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


class _Walk:
    """State of one walk: the entries found and the folders already walked."""

    def __init__(self, raw: Path, follow_external_links: bool) -> None:
        self.raw = raw
        self.prefix = os.path.join(os.fspath(raw), "")  # os.walk's paths begin with it
        self.root = os.path.realpath(raw)
        self.follow_external = follow_external_links
        self.found: list[SourceFile] = []
        self.seen_dirs: set[str] = set()

    def add(self, full: str, size: int, mtime_ns: int, problem: str | None, detail: str = "",
            link: bool = False) -> None:
        # Slicing, not os.path.relpath: that costs a getcwd per call, a third of the walk.
        rel = full[len(self.prefix):] if full.startswith(self.prefix) else os.path.relpath(full, self.raw)
        shown = display_path(rel)
        self.found.append(SourceFile(shown, size, mtime_ns, problem, None if shown == rel else rel, detail, link))

    def error(self, exc: OSError) -> None:
        """``os.walk``'s onerror: a folder it could not list."""
        name = exc.filename if isinstance(exc.filename, str) else str(self.raw)
        self.add(name, 0, 0, "unreadable", f"cannot list the folder: {exc.strerror or exc}")

    def external(self, full: str) -> str | None:
        """The target of a link leading outside the raw root (and not allowed to), else None."""
        if self.follow_external:
            return None
        real = os.path.realpath(full)
        return None if _inside(real, self.root) else real

    def folders(self, dirpath: str, dirnames: list[str]) -> list[str]:
        """The sub-folders to walk: not hidden, not leading outside the root."""
        keep = []
        for d in sorted(dirnames):
            if d.startswith("."):  # .git, .cache: tooling, not input
                continue
            full = os.path.join(dirpath, d)
            target = self.external(full) if os.path.islink(full) else None
            if target is not None:
                self.add(full, 0, 0, "external_link", f"link to {target!r}, outside the raw folder")
            else:
                keep.append(d)
        return keep

    def file(self, dirpath: str, name: str) -> None:
        full = os.path.join(dirpath, name)
        try:
            st = os.lstat(full)
            link = stat.S_ISLNK(st.st_mode)
            if link:
                target = self.external(full)
                if target is not None:
                    return self.add(full, 0, 0, "external_link", f"link to {target!r}, outside the raw folder")
                st = os.stat(full)
        except FileNotFoundError:
            return self.add(full, 0, 0, "broken_link")
        except OSError as exc:
            return self.add(full, 0, 0, "unreadable", f"cannot stat: {exc.strerror or exc}")
        if not stat.S_ISREG(st.st_mode):
            # A FIFO or device would block or never end a read.
            return self.add(full, 0, st.st_mtime_ns, "not_regular")
        self.add(full, st.st_size, st.st_mtime_ns, None if name.endswith(SUFFIXES) else "unsupported_type",
                 link=link)


def scan(raw: Path, follow_external_links: bool = False) -> list[SourceFile]:
    """Every non-hidden entry under ``raw``, recursively, in sorted path order."""
    walk = _Walk(raw, follow_external_links)
    # Linked folders are followed (raw/ may gather folders from elsewhere); a
    # folder already walked (a link loop) is not walked again.
    for dirpath, dirnames, filenames in os.walk(raw, followlinks=True, onerror=walk.error):
        real = os.path.realpath(dirpath)
        if real in walk.seen_dirs:
            dirnames[:] = []
            continue
        walk.seen_dirs.add(real)
        dirnames[:] = walk.folders(dirpath, dirnames)
        for name in filenames:
            if not name.startswith("."):
                walk.file(dirpath, name)
    walk.found.sort(key=lambda f: f.path)
    return walk.found
