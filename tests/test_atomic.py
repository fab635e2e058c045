"""The one atomic writer (ketl.atomic): all or nothing, never into a shared hard link, and used everywhere."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ketl.atomic import Pending, atomic_path, atomic_write, temp_name

SRC = Path(__file__).resolve().parents[1] / "src" / "ketl"


def test_atomic_write_replaces_and_leaves_a_hard_linked_copy_alone(tmp_path):
    old = tmp_path / "snap1" / "f.bin"
    old.parent.mkdir()
    old.write_bytes("ancienne version — старая".encode())
    new = tmp_path / "snap2" / "f.bin"
    new.parent.mkdir()
    os.link(old, new)  # how a new snapshot shares an unchanged file with the previous one
    atomic_write(new, "nouvelle version — новая — 新版".encode())
    assert new.read_bytes().decode() == "nouvelle version — новая — 新版"
    assert old.read_bytes().decode() == "ancienne version — старая"
    assert sorted(p.name for p in new.parent.iterdir()) == ["f.bin"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "part.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), target)
    with pytest.raises(ZeroDivisionError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half a parquet f")
            1 / 0
    assert pq.read_table(target).column("x").to_pylist() == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["part.parquet"]


def test_the_temporary_name_is_hidden_and_per_process(tmp_path):
    tmp = temp_name(tmp_path / "articles.parquet")
    assert tmp.parent == tmp_path and tmp.name.startswith(".") and str(os.getpid()) in tmp.name
    # dataset readers skip dot files: a part being written is never read half-way
    import pyarrow.dataset as ds

    pq.write_table(pa.table({"x": [1]}), tmp_path / "a.parquet")
    tmp.write_bytes(b"not parquet yet")
    assert ds.dataset(tmp_path, format="parquet").to_table().num_rows == 1


def test_a_folder_and_an_explicit_temporary_name(tmp_path):
    folder = tmp_path / "cache"
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        (tmp / "table.npy").write_bytes(b"\x93NUMPY")
        assert not folder.exists()
    assert (folder / "table.npy").read_bytes() == b"\x93NUMPY"
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "other", tmp=tmp_path / "other.ketl-tmp") as tmp:
            tmp.mkdir()
            (tmp / "x").write_bytes(b"x")
            raise RuntimeError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_pending_commit_and_discard(tmp_path):
    kept, dropped = Pending(tmp_path / "kept.arrow"), Pending(tmp_path / "dropped.arrow")
    for p in (kept, dropped):
        p.tmp.write_bytes(b"rows")
    kept.commit()
    dropped.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.arrow"]


def test_no_other_module_renames_a_temporary_file_into_place():
    """Every tmp + os.replace goes through ketl.atomic; the only other rename is the
    commit's (a whole staging snapshot folder renamed into snapshots/)."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if re.search(r"\bos\.(replace|rename)\(|\.rename\(|\.replace\(tmp", code):
                found.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    allowed = {"atomic.py", "store.py"}
    assert [f for f in found if f.split(":")[0] not in allowed] == []
    assert [f for f in found if f.startswith("store.py")] == [
        next(f for f in found if f.startswith("store.py") and "os.replace(staging, final)" in f)]
