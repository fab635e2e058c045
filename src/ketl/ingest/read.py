"""Read and decode the files of a batch into Documents, record rejects.

Two steps so the flow can plan cheaply in one process and read in parallel:

* :func:`scan` walks ``raw`` in sorted order and stats every entry (no reads,
  :mod:`ketl.ingest.scan`);
* :func:`read_units` reads, hashes and decodes a batch of files (in a worker);
  JSONL files line by line (:mod:`ketl.ingest.jsonl`).

Nothing is dropped silently: every input that cannot become an article is a
:class:`Reject` with a stable ``reason``. No input, however hostile, may raise
out of :func:`read_units`: one bad file must not fail the batch, and so every
later run.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..document import Change, Document, apply_changes
from .decode import DecodeError, decode_bytes
from .jsonl import SURROGATE_RULE, BadLine, parse_jsonl, surrogate_changes
from .scan import SCAN_PROBLEMS, SourceFile, display_path

__all__ = ["REASONS", "ReadResult", "Reject", "doc_id_for", "read_units"]

# Stable reasons of the rejects table (documented in the README).
REASONS = {
    "empty": "the file (or JSONL text) holds no text",
    "binary": "the bytes are not text (NUL or control bytes)",
    "undecodable": "no encoding decodes the bytes",
    "too_large": "the file is over the size limit (max_file_bytes)",
    "unreadable": "the file could not be read (permissions, I/O error)",
    "broken_link": "a symbolic link whose target does not exist",
    "external_link": "a symbolic link leading outside the raw folder (follow_external_links is off)",
    "unsupported_type": "not .txt, .jsonl or .jsonl.gz",
    "bad_gzip": "a .gz file that does not decompress",
    "malformed_jsonl": "a JSONL line that is not a JSON object with a string `text`",
    "stage_error": "a text stage failed on this article (a bug: please report the detail)",
}
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Reject:
    source_path: str
    source_sha256: str
    reason: str
    detail: str


@dataclass(slots=True)
class ReadResult:
    docs: list[Document] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # (path, sha256, size, mtime_ns, n_articles) of every file read, rejected
    # or not: the incremental state remembers rejects as it does articles.
    files: list[tuple[str, str, int, int, int]] = field(default_factory=list)


def doc_id_for(source_path: str, sha256: str) -> str:
    """Stable id: the same bytes at the same path give the same id in every run."""
    return hashlib.blake2b(f"{source_path}\x00{sha256}".encode(), digest_size=16).hexdigest()


def read_units(raw: Path, units: list[SourceFile], max_file_bytes: int) -> ReadResult:
    """Read, hash and decode ``units``; one Document per article."""
    result = ReadResult()
    for unit in units:
        _File(raw, unit, result).read(max_file_bytes)
    return result


class _File:
    """Reading one file into ``out``: its documents, its rejects, its state row."""

    def __init__(self, raw: Path, unit: SourceFile, out: ReadResult) -> None:
        self.raw, self.unit, self.out = raw, unit, out
        # A string join: pathlib parses and interns every part, a fifth of reading an article.
        self.path = os.path.join(raw, unit.location)

    def reject(self, reason: str, detail: str, sha: str = "") -> None:
        self.out.rejects.append(Reject(self.unit.path, sha, reason, display_path(detail)))
        self.out.files.append((self.unit.path, sha, self.unit.size, self.unit.mtime_ns, 0))

    def read(self, max_file_bytes: int) -> None:
        unit = self.unit
        if unit.problem in SCAN_PROBLEMS:
            return self.reject(*self._scan_problem())
        if unit.size > max_file_bytes:
            return self.reject("too_large", f"{unit.size} bytes > limit {max_file_bytes}", _sha256_of(self.path))
        try:
            data = _read_capped(self.path, unit.size, max_file_bytes, follow=unit.link)
        except OSError as exc:
            return self.reject("unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
        sha = hashlib.sha256(data).hexdigest()
        if len(data) > max_file_bytes:  # it grew since the walk
            return self.reject("too_large", f"over {max_file_bytes} bytes (the limit)", _sha256_of(self.path))
        if unit.problem == "unsupported_type":
            return self.reject("unsupported_type", f"{len(data)} bytes; ketl reads .txt, .jsonl, .jsonl.gz", sha)
        if unit.path.endswith(".gz"):
            try:
                data = gunzip_capped(data, max_file_bytes)
            except _GzipError as exc:
                return self.reject(exc.reason, exc.detail, sha)
        if not data.strip():
            return self.reject("empty", f"{len(data)} bytes, no text", sha)
        if unit.path.endswith(".txt"):
            return self._txt(data, sha)
        return self._jsonl(data, sha)

    def _scan_problem(self) -> tuple[str, str]:
        unit = self.unit
        if unit.problem == "broken_link":
            try:
                target = os.readlink(self.path)
            except OSError:
                target = "?"
            return "broken_link", f"link target {target!r} does not exist"
        if unit.problem == "not_regular":
            return "unreadable", "not a regular file (a FIFO, socket or device)"
        return unit.problem or "unreadable", unit.detail or "could not stat the file"

    def _txt(self, data: bytes, sha: str) -> None:
        try:
            decoded = decode_bytes(data)
        except DecodeError as exc:
            return self.reject(exc.reason, exc.detail, sha)
        if not decoded.text.strip():
            return self.reject("empty", "only whitespace after decoding", sha)
        self.out.docs.append(Document.from_source(
            doc_id=doc_id_for(self.unit.path, sha), source_path=self.unit.path, source_sha256=sha,
            source_encoding=decoded.encoding, source=decoded.text))
        self.out.files.append((self.unit.path, sha, self.unit.size, self.unit.mtime_ns, 1))

    def _jsonl(self, data: bytes, sha: str) -> None:
        try:
            items = parse_jsonl(data)
        except DecodeError as exc:  # the file as a whole is not text
            return self.reject(exc.reason, exc.detail, sha)
        n = 0
        for item in items:
            path = f"{self.unit.path}#{item.lineno}"
            if item.__class__ is BadLine:
                self.out.rejects.append(Reject(path, sha, item.reason, display_path(item.detail)))
                continue
            doc = Document.from_source(doc_id=doc_id_for(path, sha), source_path=path, source_sha256=sha,
                                       source_encoding=item.encoding, source=item.text, **item.meta)
            self.out.docs.append(doc)
            if item.surrogates:
                # an encoding repair made while reading (the text cannot hold a lone surrogate)
                apply_changes(doc, [Change(s, e, r, SURROGATE_RULE) for s, e, r in surrogate_changes(item)],
                              "repair.encoding")
            n += 1
        if not items:
            return self.reject("empty", "no line holds text", sha)
        self.out.files.append((self.unit.path, sha, self.unit.size, self.unit.mtime_ns, n))


def _read_capped(path: str | Path, expected: int, limit: int, follow: bool = False) -> bytes:
    """The file's bytes, but at most ``limit + 1``: a file may grow after the walk.

    Asking for the size the walk saw (plus one byte to notice growth) keeps the
    common case one read with a right-sized buffer. A file that was no link at
    the walk is opened with O_NOFOLLOW: swapping it for a link to /etc/passwd
    during the run gives an error (ELOOP: unreadable), not the file. A bare
    descriptor, not a file object: half the CPU of ``open`` for an article.
    """
    fd = os.open(path, _READ_FLAGS if follow else _READ_FLAGS | os.O_NOFOLLOW)
    try:
        data = _read_upto(fd, expected + 1)
        if len(data) > expected:
            data += _read_upto(fd, limit + 1 - len(data))
    finally:
        os.close(fd)
    return data


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_upto(fd: int, n: int) -> bytes:
    """``n`` bytes, or fewer at the end of the file (a read may return less)."""
    parts = []
    while n > 0:
        part = os.read(fd, n)
        if not part:
            break
        parts.append(part)
        n -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _sha256_of(path: str | Path) -> str:
    """Streamed sha256, so a rejected file is remembered by its bytes; "" if unreadable."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()


class _GzipError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """Decompress ``data``, stopping as soon as the output passes ``limit``.

    A 1 MB gzip can inflate to 1 GB: decompressing it whole before checking
    the size would take that much memory. GzipFile.read(n) inflates in
    chunks and stops at n bytes.
    """
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
            out = gz.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise _GzipError("bad_gzip", str(exc) or type(exc).__name__) from None
    if len(out) > limit:
        raise _GzipError("too_large", f"over {limit} bytes decompressed (limit max_file_bytes)")
    return out
