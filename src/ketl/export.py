"""``ketl export``: the current snapshot as plain table folders, for any copy tool.

The dataset's table folders are symlinks through ``.ketl/current``, which
object-store copy tools (``rclone copy``, ``rsync -r``) drop, and every run's
snapshot has a new path, so ``rsync -a`` sends the whole dataset again. An
export writes ``DIR/<table>/run_date=.../*.parquet`` as plain files and a
manifest, ``DIR/.ketl-export.json``.

Runs hard-link unchanged parts from one snapshot into the next, so a source
file with the inode, size and mtime the manifest recorded holds the bytes
already exported: it is not read or written again. Only new and changed files
are copied (each to a temporary name, then renamed into place), and files the
snapshot no longer holds are deleted; files the manifest does not list are
never deleted.

No lock is taken, so an export never delays or blocks a run: it reads one
committed snapshot, which runs never modify. A run committing meanwhile leaves
it in place (the previous snapshot is kept); should two commits remove it
mid-export, the export starts over on the new current snapshot, reusing what
it already wrote.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from .schemas import TABLES
from .atomic import atomic_path, atomic_write
from .store import INTERNAL, StoreError

MANIFEST = ".ketl-export.json"
FORMAT = 1
_TMP_SUFFIX = ".ketl-tmp"
_ATTEMPTS = 3


class ExportError(StoreError):
    """A problem with the dataset or the destination the user must fix (exit code 2)."""


@dataclass
class ExportSummary:
    dest: Path
    snapshot: str = ""
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    bytes_written: int = 0
    files: int = 0
    paths_written: list[str] = field(default_factory=list)


def export_dataset(out: Path, dest: Path) -> ExportSummary:
    """Make ``dest`` hold exactly the table files of ``out``'s current snapshot."""
    out, dest = Path(out), Path(dest)
    _current_snapshot(out)  # a clear error before anything is created
    _check_destination(out, dest)
    lock = _lock_destination(dest)
    try:
        return _export_locked(out, dest)
    finally:
        os.close(lock)


def _export_locked(out: Path, dest: Path) -> ExportSummary:
    _clear_temporaries(dest)
    known = _read_manifest(dest)  # rel -> entry of a file in dest; this export's added as written
    summary = ExportSummary(dest=dest)
    for _ in range(_ATTEMPTS):
        snapshot = _current_snapshot(out)
        summary.snapshot, summary.unchanged = snapshot.name, 0
        try:
            wanted = _sync(snapshot, dest, out, known, summary)
            break
        except FileNotFoundError:
            continue  # the snapshot was removed under us: start over on the new one
        except OSError as exc:
            raise ExportError(f"could not read the dataset at {out}: {exc}") from None
    else:
        raise ExportError(f"the dataset at {out} changed faster than it could be exported; try again")
    summary.removed = _remove_stale(dest, set(known) - wanted)
    _write_manifest(dest, out, snapshot.name, {rel: known[rel] for rel in sorted(wanted)})
    summary.files = len(wanted)
    return summary


def _current_snapshot(out: Path) -> Path:
    current = out / INTERNAL / "current"
    try:
        snapshot = current.resolve(strict=True)
    except (FileNotFoundError, RuntimeError, OSError):
        snapshot = None
    if snapshot is None or not snapshot.is_dir():
        raise ExportError(f"no ketl dataset at {out} (no {current}); "
                          f"write one with `ketl run --out {out}` or pass --out")
    return snapshot


def _check_destination(out: Path, dest: Path) -> None:
    data, target = out.resolve(), dest.resolve()
    if target == data or data in target.parents:
        raise ExportError(f"{dest} is inside the dataset {out}; export to a folder outside it")
    if target.exists() and not target.is_dir():
        raise ExportError(f"{dest} exists and is not a folder")
    if target.is_dir() and not (target / MANIFEST).is_file() and any(target.iterdir()):
        raise ExportError(f"{dest} is not empty and holds no ketl export (no {MANIFEST}); "
                          "export into a new or empty folder")
    try:
        target.mkdir(parents=True, exist_ok=True)
        probe = target / f".write-probe{_TMP_SUFFIX}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ExportError(f"{dest} is not writable: {exc.strerror or exc}") from None


def _lock_destination(dest: Path) -> int:
    """flock the destination folder itself (no lock file to publish): one export at a time."""
    try:
        fd = os.open(dest, os.O_RDONLY)
    except OSError as exc:
        raise ExportError(f"{dest} is not readable: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ExportError(f"another ketl export is writing to {dest}; wait for it to finish") from None
    return fd


def _clear_temporaries(dest: Path) -> None:
    """Remove the partial copies an interrupted export left."""
    (dest / f"{MANIFEST}{_TMP_SUFFIX}").unlink(missing_ok=True)
    for table in TABLES:
        for tmp in (dest / table).rglob(f".*{_TMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)


def _read_manifest(dest: Path) -> dict[str, dict]:
    path = dest / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if data.get("format") != FORMAT or not isinstance(files, dict):
            raise ValueError("unknown format")
        return {str(k): dict(v) for k, v in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ExportError(f"{path} is damaged ({exc}); delete {dest} and export again") from None


def _source_files(snapshot: Path) -> list[str]:
    """Relative paths of the table files, sorted (hidden and temporary files left out)."""
    rels = []
    for table in TABLES:
        root = snapshot / table
        if not root.is_dir():
            if not snapshot.is_dir():
                raise FileNotFoundError(snapshot)  # removed under us: the caller starts over
            continue
        for dirpath, dirs, files in os.walk(root, onerror=_raise):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            base = Path(dirpath).relative_to(snapshot)
            rels += [(base / name).as_posix() for name in files if not name.startswith(".")]
    return sorted(rels)


def _raise(exc: OSError) -> None:
    # os.walk skips a folder it cannot read; a folder missing from the listing would
    # delete its exported files, so a vanished or unreadable folder stops the export.
    raise exc


def _sync(snapshot: Path, dest: Path, out: Path, known: dict[str, dict], summary: ExportSummary) -> set[str]:
    """Copy the snapshot's new and changed files; the names of all its files."""
    wanted, todo = set(), []
    for rel in _source_files(snapshot):
        st = os.stat(snapshot / rel)
        source_id = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
        wanted.add(rel)
        if _unchanged(known.get(rel), source_id, dest / rel):
            summary.unchanged += 1
        else:
            todo.append((rel, st, source_id))
    if todo:
        # Listed before they are written: an interrupted export leaves no file the
        # next one does not know about (a pending entry never counts as unchanged).
        known.update({rel: {"pending": True} for rel, _, _ in todo})
        _write_manifest(dest, out, snapshot.name, known, complete=False)
    for rel, st, source_id in todo:
        _copy(snapshot / rel, dest / rel, st)
        known[rel] = {"source": source_id, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        summary.written += 1
        summary.bytes_written += st.st_size
        summary.paths_written.append(rel)
    return wanted


def _unchanged(entry: dict | None, source_id: list[int], dst: Path) -> bool:
    """The manifest's file is the source's (same inode, size, mtime) and still in dest as written."""
    if not entry or entry.get("source") != source_id:
        return False
    try:
        st = os.stat(dst, follow_symlinks=False)
    except OSError:
        return False
    return st.st_size == entry.get("size") and st.st_mtime_ns == entry.get("mtime_ns")


def _copy(src: Path, dst: Path, st: os.stat_result) -> None:
    """Copy atomically: a reader of ``dst`` sees the old file or the whole new one."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(dst, tmp=dst.with_name(f".{dst.name}{_TMP_SUFFIX}")) as tmp:
            shutil.copyfile(src, tmp)
            # The source's mtime, so tools comparing size and mtime (rsync, rclone) see a stable file.
            os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    except FileNotFoundError:
        if not src.exists():
            raise  # the snapshot is gone: the caller starts over
        raise ExportError(f"could not copy {src} to {dst}") from None
    except OSError as exc:
        raise ExportError(f"could not copy {src} to {dst}: {exc.strerror or exc}") from None


def _remove_stale(dest: Path, stale: set[str]) -> int:
    """Delete exported files the snapshot no longer holds, and the folders they leave empty."""
    removed = 0
    for rel in sorted(stale):
        path = dest / rel
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ExportError(f"could not remove {path}: {exc.strerror or exc}") from None
        parent = path.parent
        while parent != dest and parent.is_dir() and not any(parent.iterdir()):
            try:
                parent.rmdir()
            except OSError:
                break  # something appeared in it meanwhile: keep it
            parent = parent.parent
    return removed


def _write_manifest(dest: Path, out: Path, snapshot: str, files: dict[str, dict], complete: bool = True) -> None:
    data = {"format": FORMAT, "dataset": str(out.resolve()), "snapshot": snapshot, "complete": complete,
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "files": files}
    try:
        atomic_write(dest / MANIFEST, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8"),
                     tmp=dest / f"{MANIFEST}{_TMP_SUFFIX}")  # the name the next export cleans up
    except OSError as exc:
        raise ExportError(f"could not write {dest / MANIFEST}: {exc.strerror or exc}") from None
