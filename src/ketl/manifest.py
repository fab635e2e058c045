"""What a committed snapshot holds, recorded at commit and checked before the next run.

Every file under ``_state`` is recorded with its size and xxh3-64 hash, every
table file with its size; the snapshot it replaced is its ``parent`` (so
clean-up can tell the last committed snapshot from one a crash left behind).
A run checks the current snapshot against its manifest before it reads
anything, so a truncated or overwritten state file stops the run with one line
instead of a traceback, or worse, being hard-linked into the next snapshot.

Hashing costs one read of the state (xxh3 runs at several GB/s); the hashes of
files a run carries over unchanged (hard links: same inode, size and mtime)
are taken from the check instead of read again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import xxhash

from .atomic import atomic_write

MANIFEST = "_manifest.json"
FORMAT = 1
STATE = "_state"
REBUILD = "rebuild it with `ketl run --full`"
_CHUNK = 1 << 20


class DamagedState(RuntimeError):
    """A committed snapshot's files differ from what its commit recorded (exit code 3)."""


@dataclass
class HashCache:
    """Hashes computed by a check, by file identity, so the commit need not read them again."""

    by_identity: dict[tuple[int, int, int, int], str] = field(default_factory=dict)

    def hash(self, path: Path) -> tuple[int, str]:
        st = path.stat()
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        digest = self.by_identity.get(key)
        if digest is None:
            digest = self.by_identity[key] = file_hash(path)
        return st.st_size, digest


def file_hash(path: Path) -> str:
    h = xxhash.xxh3_64()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def write(snapshot: Path, tables: list[str], parent: str | None, cache: HashCache) -> None:
    """Record ``snapshot``'s files in its manifest (written last, atomically)."""
    state = {str(p.relative_to(snapshot)): list(cache.hash(p)) for p in _files(snapshot / STATE)}
    sizes = {str(p.relative_to(snapshot)): p.stat().st_size
             for t in tables for p in _files(snapshot / t)}
    body = {"format": FORMAT, "parent": parent, "state": state, "tables": sizes}
    atomic_write(snapshot / MANIFEST, json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8"))


def read(snapshot: Path) -> dict | None:
    """The manifest of ``snapshot``; None for snapshots committed before manifests."""
    path = snapshot / MANIFEST
    if not path.exists():
        return None
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise ValueError(f"unknown format {body.get('format') if isinstance(body, dict) else body!r}")
        return body
    except (OSError, ValueError) as exc:
        raise DamagedState(f"{path} cannot be read ({exc}); {REBUILD}") from None


def committed_before(snapshot: Path) -> list[str] | None:
    """The snapshot committed before ``snapshot`` (empty for the first one);
    None when ``snapshot`` has no readable manifest to tell."""
    try:
        body = read(snapshot)
    except DamagedState:
        return None
    if body is None:
        return None
    return [body["parent"]] if body.get("parent") else []


# One per process: the CLI's check before Prefect starts and the flow's check share it.
CACHE = HashCache()


def verify(snapshot: Path, cache: HashCache = CACHE) -> None:
    """Raise DamagedState, naming the first bad file, unless ``snapshot`` is as committed."""
    body = read(snapshot)
    if body is None:
        _verify_legacy(snapshot)
        return
    recorded = body["state"]
    present = {str(p.relative_to(snapshot)) for p in _files(snapshot / STATE)}
    extra = sorted(present - set(recorded))
    if extra:
        raise DamagedState(f"{snapshot / extra[0]} was not written by the commit; {REBUILD}")
    for rel, (size, digest) in sorted(recorded.items()):
        _check(snapshot / rel, size, lambda p: cache.hash(p)[1] == digest)
    for rel, size in sorted(body["tables"].items()):
        _check(snapshot / rel, size, lambda p: True)


def _check(path: Path, size: int, same_content) -> None:
    try:
        got = path.stat().st_size
    except FileNotFoundError:
        raise DamagedState(f"{path} is missing; {REBUILD}") from None
    if got != size:
        raise DamagedState(f"{path} has {got} bytes, its commit recorded {size}; {REBUILD}")
    if not same_content(path):
        raise DamagedState(f"{path} changed since its commit (checksum differs); {REBUILD}")


def _verify_legacy(snapshot: Path) -> None:
    """Snapshots from before manifests: every state Parquet file must at least have its footer."""
    for p in _files(snapshot / STATE):
        if p.suffix == ".parquet":
            try:
                pq.read_metadata(p)
            except Exception as exc:  # noqa: BLE001 - any read error means damage here
                raise DamagedState(f"{p} cannot be read ({type(exc).__name__}); {REBUILD}") from None
