"""`ketl export`: the current snapshot as plain table folders, written incrementally."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from conftest import SEEDS
from ketl import export as export_module
from ketl.cli import app
from ketl.export import MANIFEST, ExportError, export_dataset
from ketl.schemas import TABLES
from ketl.store import Store, read_table, write_part

# Real text in several scripts: the export must carry every byte of it.
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + [
    "Հայաստանի կառավարությունը երկուշաբթի հայտարարեց, որ սահմանային անցակետը կվերաբացվի։",
    "政府周一表示，边境口岸将于下周重新开放。「我们欢迎这一决定」，一位商人说。",
    "قال المسؤولون يوم الاثنين إن المعبر الحدودي سيعاد فتحه الأسبوع المقبل.",
    "Официальные лица заявили в понедельник, что пограничный переход откроется на следующей неделе.",
    "अधिकारियों ने सोमवार को कहा कि सीमा चौकी अगले सप्ताह फिर से खुलेगी।",
    "[bold]Not markup[/bold] and a tab\there, kept as written.",
]


def _value(field: pa.Field, i: int, run: str):
    t = field.type
    if pa.types.is_string(t):
        return TEXTS[i % len(TEXTS)] if field.name == "text" else f"{field.name}-{run}-{i}"
    if pa.types.is_integer(t):
        return i
    if pa.types.is_floating(t):
        return i / 4
    if pa.types.is_boolean(t):
        return i % 2 == 0
    if pa.types.is_timestamp(t):
        return datetime(2024, 5, 1, 12, i % 60, tzinfo=timezone.utc)
    if pa.types.is_list(t):
        return [_value(pa.field(field.name, t.value_type), i + k, run) for k in range(i % 3)]
    raise AssertionError(f"no test value for {field}")


def _rows(table: str, n: int, run: str, first: int = 0) -> pa.Table:
    schema = TABLES[table]
    rows = [{f.name: _value(f, first + i, run) for f in schema} for i in range(n)]
    return pa.Table.from_pylist(rows, schema=schema)


def _commit(out: Path, run: str, counts: dict[str, int], run_date: str, first: int = 0) -> Path:
    """One run's parts committed through the real store (hard links to the earlier parts)."""
    with Store(out) as store:
        staging = store.begin(run, full=False)
        for table, n in counts.items():
            write_part(staging, table, _rows(table, n, run, first), f"part-{run}", run_date)
        return store.commit(staging)


def _files(root: Path) -> dict[str, str]:
    """sha256 of every table file under ``root`` (through links), by relative path."""
    got = {}
    for table in TABLES:
        for p in sorted((root / table).rglob("*.parquet")):
            got[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return got


def _folders(root: Path) -> set[Path]:
    return {p.relative_to(root) for t in TABLES for p in (root / t).rglob("*") if p.is_dir()}


def _stats(root: Path) -> dict[str, tuple[int, int]]:
    return {rel: (os.stat(root / rel).st_ino, os.stat(root / rel).st_mtime_ns) for rel in _files(root)}


@pytest.fixture
def dataset(tmp_path) -> Path:
    out = tmp_path / "curated"
    _commit(out, "run-one", {"articles": 12, "edits": 30, "quotes": 8, "runs": 1}, "2024-05-01")
    return out


def test_export_writes_plain_files_with_the_datasets_rows(dataset, tmp_path):
    dest = tmp_path / "published"
    s = export_dataset(dataset, dest)
    current = dataset / ".ketl" / "current"
    assert _files(dest) == _files(current)  # byte for byte, every table (placeholders included)
    assert s.written == s.files == len(_files(current)) and s.unchanged == s.removed == 0
    assert s.bytes_written == sum((dest / rel).stat().st_size for rel in _files(dest))
    for dirpath, dirs, files in os.walk(dest):
        for name in dirs + files:
            assert not os.path.islink(os.path.join(dirpath, name)), name  # copy tools keep all of it
    assert sorted(p.name for p in dest.iterdir()) == sorted([*TABLES, MANIFEST])
    for table in TABLES:
        exported = ds.dataset(dest / table, format="parquet", partitioning="hive").to_table()
        assert sorted(exported.drop_columns("run_date").to_pylist(), key=repr) == \
            sorted(read_table(current, table).drop_columns("run_date").to_pylist(), key=repr)
    duckdb = pytest.importorskip("duckdb")
    texts = duckdb.sql(f"SELECT text FROM read_parquet('{dest}/articles/**/*.parquet', hive_partitioning=true)")
    assert sorted(r[0] for r in texts.fetchall()) == sorted(TEXTS[i % len(TEXTS)] for i in range(12))


def test_second_export_writes_only_what_changed(dataset, tmp_path):
    dest = tmp_path / "published"
    export_dataset(dataset, dest)
    before = _stats(dest)
    # An hourly-style run: new articles, edits and rejects; the quotes table is rewritten whole.
    _commit(dataset, "run-two", {"articles": 3, "edits": 4, "quotes": 9, "rejects": 2, "runs": 1},
            "2024-05-02", first=12)
    current = dataset / ".ketl" / "current"
    new = set(_files(current)) - set(before)
    gone = set(before) - set(_files(current))
    assert new and gone  # the run added parts and dropped the old quotes part and a placeholder
    s = export_dataset(dataset, dest)
    assert sorted(s.paths_written) == sorted(new)
    assert (s.written, s.removed, s.unchanged) == (len(new), len(gone), len(before) - len(gone))
    assert _files(dest) == _files(current)
    after = _stats(dest)
    for rel in set(before) - gone:
        assert after[rel] == before[rel], rel  # not rewritten: same inode, same mtime
    assert _folders(dest) == _folders(current.resolve())  # folders left empty are removed
    manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["files"]) == set(_files(current)) and manifest["snapshot"] == current.resolve().name
    s = export_dataset(dataset, dest)
    assert (s.written, s.removed, s.bytes_written) == (0, 0, 0) and _stats(dest) == after


def test_a_damaged_or_deleted_exported_file_is_written_again(dataset, tmp_path):
    dest = tmp_path / "published"
    export_dataset(dataset, dest)
    files = sorted(_files(dest))
    (dest / files[0]).unlink()
    (dest / files[1]).write_bytes(b"truncated")
    (dest / files[2]).parent.joinpath(f".{Path(files[2]).name}.ketl-tmp").write_bytes(b"half a copy")
    s = export_dataset(dataset, dest)
    assert sorted(s.paths_written) == files[:2]
    assert _files(dest) == _files(dataset / ".ketl" / "current")
    assert not list(dest.rglob("*.ketl-tmp"))


def test_a_snapshot_removed_mid_export_starts_over_on_the_new_one(dataset, tmp_path, monkeypatch):
    dest = tmp_path / "published"
    real_copy, calls = export_module._copy, []

    def copy_while_two_runs_commit(src, dst, st):
        calls.append(src)
        if len(calls) == 2:  # two commits: the snapshot being exported is collected
            _commit(dataset, "run-two", {"articles": 2}, "2024-05-02", first=20)
            _commit(dataset, "run-three", {"articles": 2}, "2024-05-03", first=30)
        real_copy(src, dst, st)

    monkeypatch.setattr(export_module, "_copy", copy_while_two_runs_commit)
    s = export_dataset(dataset, dest)
    current = dataset / ".ketl" / "current"
    assert s.snapshot == current.resolve().name == "run-three"
    assert _files(dest) == _files(current)
    assert json.loads((dest / MANIFEST).read_text(encoding="utf-8"))["files"].keys() == _files(current).keys()


def test_an_interrupted_first_export_is_completed_by_the_next(dataset, tmp_path, monkeypatch):
    dest = tmp_path / "published"
    real_copy, calls = export_module._copy, []

    def copy_then_interrupt(src, dst, st):
        calls.append(src)
        if len(calls) == 7:  # article_clusters, articles, edits, entities, quote_clusters, quotes written
            raise KeyboardInterrupt
        real_copy(src, dst, st)

    monkeypatch.setattr(export_module, "_copy", copy_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        export_dataset(dataset, dest)
    monkeypatch.setattr(export_module, "_copy", real_copy)
    manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["complete"] is False and len(manifest["files"]) == len(TABLES)  # every file listed before copying
    old_quotes = [rel for rel in _files(dest) if rel.startswith("quotes/")]
    assert old_quotes
    _commit(dataset, "run-two", {"quotes": 5, "articles": 1}, "2024-05-02", first=40)  # quotes rewritten
    s = export_dataset(dataset, dest)
    current = dataset / ".ketl" / "current"
    assert _files(dest) == _files(current) and not (dest / old_quotes[0]).exists()
    assert s.removed >= 1 and json.loads((dest / MANIFEST).read_text(encoding="utf-8"))["complete"] is True


def test_files_the_export_did_not_write_are_never_deleted(dataset, tmp_path):
    dest = tmp_path / "published"
    export_dataset(dataset, dest)
    mine = dest / "articles" / "README.txt"
    mine.write_text("published by us", encoding="utf-8")
    (dest / "NOTICE").write_text("licence", encoding="utf-8")
    _commit(dataset, "run-two", {"quotes": 3}, "2024-05-02")
    export_dataset(dataset, dest)
    assert mine.read_text(encoding="utf-8") == "published by us" and (dest / "NOTICE").exists()


@pytest.mark.parametrize("case", ["no dataset", "inside", "same", "not empty", "a file", "unwritable"])
def test_usage_errors_are_one_line_exit_2(case, dataset, tmp_path):
    out, dest = dataset, tmp_path / "published"
    if case == "no dataset":
        out = tmp_path / "nothing"
        (out / "articles").mkdir(parents=True)
    elif case == "inside":
        dest = dataset / "articles" / "copy"
    elif case == "same":
        dest = dataset
    elif case == "not empty":
        dest.mkdir()
        (dest / "holiday.jpg").write_bytes(b"\xff\xd8")
    elif case == "a file":
        dest.write_text("x", encoding="utf-8")
    elif case == "unwritable":
        (tmp_path / "f").write_text("x", encoding="utf-8")
        dest = tmp_path / "f" / "sub"  # a path through a file can never be created
    expected = {"no dataset": "no ketl dataset at", "inside": "is inside the dataset", "same": "is inside the dataset",
                "not empty": "is not empty and holds no ketl export", "a file": "exists and is not a folder",
                "unwritable": "is not writable"}[case]
    with pytest.raises(ExportError, match=expected):
        export_dataset(out, dest)
    res = CliRunner().invoke(app, ["export", "--out", str(out), "--to", str(dest)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0], res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    if case == "not empty":
        assert sorted(p.name for p in dest.iterdir()) == ["holiday.jpg"]  # nothing written


def test_a_second_export_into_the_same_folder_waits_its_turn(dataset, tmp_path):
    dest = tmp_path / "published"
    dest.mkdir()
    fd = os.open(dest, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(ExportError, match="another ketl export is writing to"):
            export_dataset(dataset, dest)
    finally:
        os.close(fd)
    assert export_dataset(dataset, dest).written > 0


def test_cli_prints_the_summary_with_paths_as_written(dataset, tmp_path):
    dest = tmp_path / "pub [v1]"  # rich markup in a path is printed, not interpreted
    res = CliRunner().invoke(app, ["export", "--out", str(dataset), "--to", str(dest)])
    assert res.exit_code == 0, res.output
    n = len(_files(dataset / ".ketl" / "current"))
    assert f"to {dest}:" in res.output and f"{n} files written" in res.output
    assert "0 unchanged, 0 removed" in res.output
    res = CliRunner().invoke(app, ["export", "--out", str(dataset), "--to", str(dest)])
    assert "0 files written (0 bytes)" in res.output and f"{n} unchanged" in res.output


@pytest.mark.slow
def test_export_after_real_incremental_runs(seeded, tmp_path):
    """ketl run, export, a new file and ketl run again, export: only that run's files are written."""
    (raw_copy, out), dest = seeded, tmp_path / "published"  # the seeds after one committed run
    runner = CliRunner()
    assert runner.invoke(app, ["export", "--out", str(out), "--to", str(dest)]).exit_code == 0
    before = _stats(dest)
    (raw_copy / "sub").mkdir()
    (raw_copy / "sub" / "hy.txt").write_text(
        "Առևտրականները ողջունեցին լուրը՝ ասելով, որ փակումն այս տարի նրանց միլիոններ է արժեցել։\n\n"
        "Պաշտոնյաները երկուշաբթի հայտարարեցին, որ անցակետը կվերաբացվի հաջորդ շաբաթ։\n", encoding="utf-8")
    res = runner.invoke(app, ["run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    current = out / ".ketl" / "current"
    run_two = current.resolve().name[:8]
    new = set(_files(current)) - set(before)
    assert new and all(run_two in rel or rel.endswith("empty.parquet") for rel in new), new
    s = export_dataset(out, dest)
    assert sorted(s.paths_written) == sorted(new) and _files(dest) == _files(current)
    after = _stats(dest)
    assert all(after[rel] == before[rel] for rel in set(before) & set(after))
    texts = ds.dataset(dest / "articles", format="parquet", partitioning="hive").to_table().column("text")
    assert len(texts) == 6 and any("անցակետը կվերաբացվի" in t for t in texts.to_pylist())
