"""tools/behaviour_diff.py's comparison on small hand-built datasets (no venvs, no runs)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("behaviour_diff", REPO / "tools" / "behaviour_diff.py")
bd = importlib.util.module_from_spec(_spec)
sys.modules["behaviour_diff"] = bd  # dataclasses look their module up by name
_spec.loader.exec_module(bd)

# Curated texts in several scripts, as ketl writes them.
TEXTS = ["Baku, 3 March. The talks resumed on Tuesday.",
         "Ереван, 4 марта. Переговоры возобновились во вторник.",
         "باكو، ٣ مارس. استؤنفت المحادثات يوم الثلاثاء.",
         "東京 — 会談は火曜日に再開された。"]


def _articles(run_id: str, at: dt.datetime, texts=TEXTS, out: str = "/tmp/x/out") -> pa.Table:
    n = len(texts)
    return pa.table({
        "doc_id": [f"d{i}" for i in range(n)],
        "text": texts,
        "n_chars": pa.array([len(t) for t in texts], pa.int32()),
        "user_files": [[f"{out}/gazetteer.user.toml"]] * n,
        "run_id": [run_id] * n,
        "pipeline_version": ["0.2.0"] * n,
        "processed_at": pa.array([at] * n, pa.timestamp("us", tz="UTC")),
    })


def _edits(run_id: str) -> pa.Table:
    return pa.table({"doc_id": ["d0", "d0", "d1"], "seq": pa.array([0, 1, 0], pa.int32()),
                     "rule": ["ftfy.fix_encoding", "ad.slot", "space.nbsp"], "run_id": [run_id] * 3})


def _write(root: Path, tables: dict[str, pa.Table], state: dict[str, pa.Table] = {}) -> Path:
    for name, table in tables.items():
        part = root / name / "run_date=2026-11-26"
        part.mkdir(parents=True)
        pq.write_table(table, part / "part-0.parquet")
    (root / ".ketl" / "current" / "_state").mkdir(parents=True)
    for name, table in state.items():
        pq.write_table(table, root / ".ketl" / "current" / "_state" / name)
    return root


T1 = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.timezone.utc)
T2 = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.timezone.utc)


def _problems(diffs) -> dict[str, list[str]]:
    return {d.name: d.problems for d in diffs if d.problems}


def test_identical_datasets_give_an_empty_diff(tmp_path):
    a = _write(tmp_path / "a", {"articles": _articles("r1", T1), "edits": _edits("r1")})
    b = _write(tmp_path / "b", {"articles": _articles("r1", T1), "edits": _edits("r1")})
    diffs = bd.compare_datasets(a, b)
    assert [d.name for d in diffs] == ["articles", "edits"]
    assert [(d.rows_base, d.rows_head) for d in diffs] == [(4, 4), (3, 3)]
    assert _problems(diffs) == {}


def test_run_ids_timestamps_versions_and_temp_paths_are_ignored(tmp_path):
    a = _write(tmp_path / "a", {"articles": _articles("r1", T1, out=str(tmp_path / "a"))})
    other = _articles("r2", T2, out=str(tmp_path / "b")).set_column(
        5, "pipeline_version", pa.array(["0.3.0"] * 4))
    # The same rows in another order, written on another day by another run.
    b = _write(tmp_path / "b", {"articles": other.take([3, 1, 0, 2])})
    (b / "articles" / "run_date=2026-11-26").rename(b / "articles" / "run_date=2026-11-27")
    assert _problems(bd.compare_datasets(a, b)) != {}  # the paths differ until replaced
    repl = ((str(a), "<OUT>"), (str(b), "<OUT>"))
    assert _problems(bd.compare_datasets(a, b, repl)) == {}


def test_a_changed_cell_is_reported_with_its_row(tmp_path):
    changed = TEXTS[:1] + ["Ереван, 4 марта. Переговоры возобновились."] + TEXTS[2:]
    a = _write(tmp_path / "a", {"articles": _articles("r1", T1)})
    b = _write(tmp_path / "b", {"articles": _articles("r1", T1, texts=changed)})
    problems = _problems(bd.compare_datasets(a, b))
    assert list(problems) == ["articles"]
    text = "\n".join(problems["articles"])
    assert "column 'text' differs in 1 rows" in text and "'doc_id': 'd1'" in text
    assert "во вторник" in text and "column 'n_chars' differs in 1 rows" in text
    assert "doc_id" not in text.split("column 'text'")[0]  # no row reported missing


def test_a_missing_or_renamed_column_is_reported(tmp_path):
    a = _write(tmp_path / "a", {"edits": _edits("r1")})
    b = _write(tmp_path / "b", {"edits": _edits("r1").rename_columns(["doc_id", "seq", "rule_id", "run_id"])})
    problems = _problems(bd.compare_datasets(a, b))["edits"]
    assert "column 'rule' only in base (string)" in problems
    assert "column 'rule_id' only in head (string)" in problems
    # An ignored column is still part of the schema: renaming run_id is a diff.
    c = _write(tmp_path / "c", {"edits": _edits("r1").rename_columns(["doc_id", "seq", "rule", "run"])})
    assert "column 'run_id' only in base (string)" in _problems(bd.compare_datasets(a, c))["edits"]


def test_a_changed_type_is_reported(tmp_path):
    a = _write(tmp_path / "a", {"edits": _edits("r1")})
    b = _write(tmp_path / "b", {"edits": _edits("r1").set_column(1, "seq", pa.array([0, 1, 0], pa.int64()))})
    assert _problems(bd.compare_datasets(a, b)) == {"edits": ["column 'seq' type int32 in base, int64 in head"]}


def test_missing_rows_missing_tables_and_state_changes_are_reported(tmp_path):
    state = {"processed.parquet": pa.table({"path": ["a.txt", "b.txt"], "sha": ["1", "2"]})}
    a = _write(tmp_path / "a", {"articles": _articles("r1", T1), "edits": _edits("r1")}, state)
    fewer = {"processed.parquet": state["processed.parquet"].slice(0, 1)}
    b = _write(tmp_path / "b", {"articles": _articles("r1", T1).slice(0, 3)}, fewer)
    problems = _problems(bd.compare_datasets(a, b))
    assert problems["edits"] == ["table only in base"]
    assert problems["articles"] == ["1 rows only in base, e.g. {'doc_id': 'd3'}"]
    assert problems["_state/processed.parquet"][0].startswith("1 rows only in base, e.g. {'path': 'b.txt'")


def test_rows_without_a_unique_key_are_compared_as_a_multiset():
    rows = [{"site": "a", "n": 1}, {"site": "a", "n": 1}, {"site": "b", "n": 2}]
    assert bd.row_problems(rows, list(reversed(rows)), ()) == []
    problems = bd.row_problems(rows, rows[:2] + [{"site": "b", "n": 3}], ())
    assert len(problems) == 2 and "only in base" in problems[0] and "only in head" in problems[1]
    assert bd.row_problems(rows, rows[:2], ())  # a duplicate row lost is a diff


def test_nan_equals_nan_but_not_a_number():
    nan = float("nan")
    assert bd.row_problems([{"k": "x", "s": nan}], [{"k": "x", "s": nan}], ("k",)) == []
    assert bd.row_problems([{"k": "x", "s": nan}], [{"k": "x", "s": 0.5}], ("k",))


@pytest.mark.parametrize("argv, message", [
    (["--base", "no-such-commit-xyz"], "not a commit: no-such-commit-xyz"),
    (["--seeds", "/nonexistent/seeds"], "no seed folder: /nonexistent/seeds"),
])
def test_bad_arguments_are_one_line_and_exit_2(argv, message, capsys):
    assert bd.main(argv) == 2
    assert capsys.readouterr().err.strip() == f"behaviour_diff: {message}"


def test_a_side_is_installed_in_its_own_venv_from_the_commit(tmp_path):
    """The install the script runs ketl from: the commit's own code, nothing downloaded."""
    side = bd.Side("base", "HEAD", tmp_path / "base")
    bd.install(side)  # raises if the venv imported some other checkout's ketl
    version = subprocess.run([str(side.python.parent / "ketl"), "--version"], cwd=side.root / "cwd",
                             env=bd._clean_env(), capture_output=True, text=True, timeout=120)
    assert version.returncode == 0, version.stderr[-2000:]
    assert "0.2" in version.stdout
    committed = subprocess.run(["git", "-C", str(REPO), "show", "HEAD:src/ketl/document.py"],
                               capture_output=True, text=True, check=True).stdout
    installed = next((side.root / "venv" / "lib").glob("python3*/site-packages/ketl/document.py"))
    assert installed.read_text(encoding="utf-8") == committed


def test_the_runs_row_is_paired_and_its_changed_counts_named(tmp_path):
    def runs(articles: int, run_id: str, seconds: float) -> pa.Table:
        return pa.table({"run_id": [run_id], "raw_root": ["/data/raw"], "articles": [articles],
                         "status": ["ok"], "seconds": [seconds]})
    a = _write(tmp_path / "a", {"runs": runs(181, "r1", 4.2)})
    assert _problems(bd.compare_datasets(a, _write(tmp_path / "b", {"runs": runs(181, "r2", 3.9)}))) == {}
    problems = _problems(bd.compare_datasets(a, _write(tmp_path / "c", {"runs": runs(180, "r1", 4.2)})))
    assert problems == {"runs": ["column 'articles' differs in 1 rows, e.g. {'raw_root': '/data/raw'}: base 181 / head 180"]}


def test_stage_renames_map_the_base_edits_only_when_asked():
    import pyarrow as pa

    base = pa.table({"doc_id": ["a", "a"], "seq": [0, 1], "stage": ["encoding", "entity"], "rule": ["x", "y"]})
    head = pa.table({"doc_id": ["a", "a"], "seq": [0, 1], "stage": ["repair.encoding", "entities"],
                     "rule": ["x", "y"]})
    assert bd.compare_tables("edits", base, head).problems
    assert not bd.compare_tables("edits", base, head, stage_renames={"encoding": "repair.encoding",
                                                                     "entity": "entities"}).problems
    assert bd.compare_tables("edits", base, head, stage_renames={"encoding": "repair.encoding"}).problems
