"""The run history and the summary's scopes (issue 13, points 4 and 6).

Every run is a row of ``runs`` (one that found nothing new too, status
``nothing_new``) and ``--full`` keeps the earlier rows; the summary says which
figures are of this run and which of the dataset.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from ketl.cli import app
from conftest import SEEDS

pytestmark = pytest.mark.usefixtures("prefect_api")
runner = CliRunner()


def ketl(*args: str):
    return runner.invoke(app, list(args))


def runs(out: Path) -> list[dict]:
    rows = ds.dataset(out / "runs", format="parquet", partitioning="hive").to_table().to_pylist()
    return sorted(rows, key=lambda r: r["finished_at"])


def figure(output: str, label: str) -> tuple[str, int]:
    """(section, value) of a summary row: the section is the last header above it."""
    section = None
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│|]", line) if c.strip()]
        if len(cells) == 1 and cells[0] in ("this run", "dataset"):
            section = cells[0]
        elif cells and cells[0] == label:
            return section, int(cells[1])
    raise AssertionError(f"no {label!r} row in:\n{output}")


def test_history_and_scopes_over_nothing_new_new_without_quotes_and_full(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    for site in ("site-a", "site-b"):  # every seed twice: reprints make quote clusters
        (raw / site).mkdir(parents=True)
        for p in SEEDS.glob("*.txt"):
            shutil.copy(p, raw / site / p.name)
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1")
    assert res.exit_code == 0, res.output
    scope, clusters = figure(res.output, "quote clusters (>1)")
    assert scope == "dataset" and clusters > 0
    assert figure(res.output, "quotes")[0] == "this run"

    # Nothing new: a row of its own, and the dataset's clusters, not 0.
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1")
    assert res.exit_code == 0, res.output
    assert figure(res.output, "quote clusters (>1)") == ("dataset", clusters)
    assert figure(res.output, "quotes") == ("this run", 0)
    assert [r["status"] for r in runs(out)] == ["ok", "nothing_new"]
    assert runs(out)[1]["files_new"] == 0 and runs(out)[1]["files_skipped"] == 10

    # A new article without quotes (Georgian, Thai): 0 quotes this run, the clusters stay.
    (raw / "site-c").mkdir()
    (raw / "site-c" / "ka.txt").write_text(
        "თბილისის მერიამ ახალი პარკის მშენებლობა დაიწყო.\n\nსამუშაოები ორ წელიწადს გაგრძელდება.\n"
        "โครงการนี้จะแล้วเสร็จในปีหน้า\n", encoding="utf-8")
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1")
    assert res.exit_code == 0, res.output
    assert figure(res.output, "quotes") == ("this run", 0)
    assert figure(res.output, "quote clusters (>1)") == ("dataset", clusters)

    # --full rebuilds the data and keeps the history.
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1", "--full")
    assert res.exit_code == 0, res.output
    history = runs(out)
    assert [r["status"] for r in history] == ["ok", "nothing_new", "ok", "ok"]
    assert [r["full"] for r in history] == [False, False, False, True]
    assert len({r["run_id"] for r in history}) == 4
    assert figure(res.output, "quote clusters (>1)") == ("dataset", clusters)
