"""Walk the raw root, read and decode files into Documents, record rejects.

Two steps so the flow can plan cheaply in one process and read in parallel:

* :func:`scan` walks ``raw`` in sorted order and stats every entry (no reads);
* :func:`read_units` reads, hashes and decodes a batch of files (in a worker).

Nothing is dropped silently: every input that cannot become an article is a
:class:`Reject` with a stable ``reason``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .decode import DecodeError, decode_bytes
from .document import Document

SUFFIXES = (".txt", ".jsonl", ".jsonl.gz")
# JSONL fields carried into the output as they are (articles columns).
CARRIED_FIELDS = ("id", "url", "title", "site", "published")

# Stable reasons of the rejects table (documented in the README).
REASONS = {
    "empty": "the file (or JSONL text) holds no text",
    "binary": "the bytes are not text (NUL or control bytes)",
    "undecodable": "no encoding decodes the bytes",
    "too_large": "the file is over the size limit (max_file_bytes)",
    "unreadable": "the file could not be read (permissions, I/O error)",
    "broken_link": "a symbolic link whose target does not exist",
    "unsupported_type": "not .txt, .jsonl or .jsonl.gz",
    "bad_gzip": "a .gz file that does not decompress",
    "malformed_jsonl": "a JSONL line that is not a JSON object with a string `text`",
    "stage_error": "a text stage failed on this article (a bug: please report the detail)",
}


@dataclass(frozen=True, slots=True)
class Reject:
    source_path: str
    source_sha256: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file found by :func:`scan`: relative POSIX path and its stat."""

    path: str
    size: int
    mtime_ns: int
    problem: str | None = None  # a reject reason known before reading (broken link, type)


@dataclass(slots=True)
class ReadResult:
    docs: list[Document] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # (path, sha256) of every file read, rejected or not: the incremental state.
    files: list[tuple[str, str, int, int, int]] = field(default_factory=list)


def _supported(name: str) -> bool:
    return name.endswith(SUFFIXES)


def scan(raw: Path) -> list[SourceFile]:
    """Every non-hidden entry under ``raw``, recursively, in sorted path order."""
    found: list[SourceFile] = []
    seen_dirs: set[str] = set()
    # Linked folders are followed (raw/ may gather folders from elsewhere); a
    # folder already walked (a link loop) is not walked again.
    for dirpath, dirnames, filenames in os.walk(raw, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen_dirs:
            dirnames[:] = []
            continue
        seen_dirs.add(real)
        # Hidden folders (.git, .cache) are tooling, not input.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(dirpath)
        for name in filenames:
            if name.startswith("."):
                continue
            full = base / name
            rel = full.relative_to(raw).as_posix()
            try:
                st = full.stat()
            except FileNotFoundError:
                found.append(SourceFile(rel, 0, 0, "broken_link"))
                continue
            except OSError:
                found.append(SourceFile(rel, 0, 0, "unreadable"))
                continue
            if not stat.S_ISREG(st.st_mode):
                # A FIFO or device would block or never end a read.
                found.append(SourceFile(rel, 0, st.st_mtime_ns, "not_regular"))
                continue
            problem = None if _supported(name) else "unsupported_type"
            found.append(SourceFile(rel, st.st_size, st.st_mtime_ns, problem))
    found.sort(key=lambda f: f.path)
    return found


def doc_id_for(source_path: str, sha256: str) -> str:
    """Stable id: the same bytes at the same path give the same id in every run."""
    return hashlib.blake2b(f"{source_path}\x00{sha256}".encode(), digest_size=16).hexdigest()


def read_units(raw: Path, units: list[SourceFile], max_file_bytes: int) -> ReadResult:
    """Read, hash and decode ``units``; one Document per article."""
    result = ReadResult()
    for unit in units:
        _read_one(raw, unit, max_file_bytes, result)
    return result


def _read_one(raw: Path, unit: SourceFile, max_file_bytes: int, out: ReadResult) -> None:
    def reject(reason: str, detail: str, sha: str = "") -> None:
        out.rejects.append(Reject(unit.path, sha, reason, detail))
        out.files.append((unit.path, sha, unit.size, unit.mtime_ns, 0))

    if unit.problem == "broken_link":
        target = os.readlink(raw / unit.path) if (raw / unit.path).is_symlink() else "?"
        return reject("broken_link", f"link target {target!r} does not exist")
    if unit.problem == "unreadable":
        return reject("unreadable", "could not stat the file")
    if unit.problem == "not_regular":
        return reject("unreadable", "not a regular file (a FIFO, socket or device)")
    if unit.size > max_file_bytes:
        return reject("too_large", f"{unit.size} bytes > limit {max_file_bytes}")
    try:
        data = (raw / unit.path).read_bytes()
    except OSError as exc:
        return reject("unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
    sha = hashlib.sha256(data).hexdigest()
    if unit.problem == "unsupported_type":
        return reject("unsupported_type", f"{len(data)} bytes; ketl reads .txt, .jsonl, .jsonl.gz", sha)
    if unit.path.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            return reject("bad_gzip", str(exc), sha)
        if len(data) > max_file_bytes:
            return reject("too_large", f"{len(data)} bytes decompressed > limit {max_file_bytes}", sha)
    if not data.strip():
        return reject("empty", f"{len(data)} bytes, no text", sha)
    try:
        decoded = decode_bytes(data)
    except DecodeError as exc:
        return reject(exc.reason, exc.detail, sha)
    if unit.path.endswith(".txt"):
        if not decoded.text.strip():
            return reject("empty", "only whitespace after decoding", sha)
        out.docs.append(Document.from_source(
            doc_id=doc_id_for(unit.path, sha), source_path=unit.path, source_sha256=sha,
            source_encoding=decoded.encoding, source=decoded.text))
        out.files.append((unit.path, sha, unit.size, unit.mtime_ns, 1))
        return
    n = 0
    for lineno, line in _jsonl_lines(decoded.text):
        path = f"{unit.path}#{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            out.rejects.append(Reject(path, sha, "malformed_jsonl", f"invalid JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            kind = type(record).__name__ if not isinstance(record, dict) else "object without a string `text`"
            out.rejects.append(Reject(path, sha, "malformed_jsonl", f"expected an object with a string `text`, got {kind}"))
            continue
        if not record["text"].strip():
            out.rejects.append(Reject(path, sha, "empty", "the `text` field is empty"))
            continue
        carried = {k: _as_str(record.get(k)) for k in CARRIED_FIELDS}
        out.docs.append(Document.from_source(
            doc_id=doc_id_for(path, sha), source_path=path, source_sha256=sha,
            source_encoding=decoded.encoding, source=record["text"], **carried))
        n += 1
    out.files.append((unit.path, sha, unit.size, unit.mtime_ns, n))


def _jsonl_lines(text: str) -> Iterator[tuple[int, str]]:
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield lineno, line


def _as_str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
