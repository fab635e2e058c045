"""Issue 12, the run side: hostile or unlucky input and damaged state never crash a run,
never block later runs and never corrupt the dataset silently."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from ketl.cli import app
from conftest import SEEDS

runner = CliRunner()
SEED = sorted(SEEDS.glob("*.txt"))


def ketl(*args: str):
    return runner.invoke(app, list(args))


def table(out: Path, name: str):
    return ds.dataset(out / name, format="parquet", partitioning="hive").to_table()


def _no_quote_article() -> str:
    # a real seed with every quotation mark taken out: nothing for the quote stage to find
    text = SEED[0].read_text(encoding="utf-8")
    for mark in "\"“”„«»‘’‚‹›「」『』":
        text = text.replace(mark, "")
    return text


@pytest.mark.usefixtures("prefect_api")
def test_batches_without_quotes_or_articles_do_not_crash_the_run(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SEED[1], raw / "a-quoted.txt")
    (raw / "b-unquoted.txt").write_text(_no_quote_article(), encoding="utf-8")
    (raw / "c-large.txt").write_text("Слишком большой файл. " * 2000, encoding="utf-8")
    cfg = tmp_path / "ketl.toml"
    cfg.write_text("[ketl]\nmax_file_bytes = 40000\n")  # c-large.txt is over it: a batch of one reject
    out = tmp_path / "curated"
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--batch-size", "1", "--workers", "1",
               "--config", str(cfg))
    assert res.exit_code == 1, res.output  # 1: the run finished, one input rejected
    arts = {a["source_path"]: a for a in table(out, "articles").to_pylist()}
    assert sorted(arts) == ["a-quoted.txt", "b-unquoted.txt"]
    assert {r["source_path"]: r["reason"] for r in table(out, "rejects").to_pylist()} == {"c-large.txt": "too_large"}
    quotes = table(out, "quotes").to_pylist()
    assert quotes and {q["source_path"] for q in quotes} == {"a-quoted.txt"}
    # an hourly run whose only new article holds no quote
    (raw / "d-unquoted.txt").write_text(_no_quote_article().replace("Baku", "Ganja"), encoding="utf-8")
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--batch-size", "1", "--workers", "1",
               "--config", str(cfg))
    assert res.exit_code in (0, 1), res.output
    assert "d-unquoted.txt" in table(out, "articles").column("source_path").to_pylist()
    assert len(table(out, "quotes").to_pylist()) == len(quotes)


def _ketl_cmd(raw: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ketl.cli", "run", "--raw", str(raw), "--out", str(out), "--workers", "1", *extra]


def test_second_run_is_refused_at_once_while_the_first_starts_prefect(raw_copy, tmp_path):
    out = tmp_path / "curated"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # the first starts its own server
    first = subprocess.Popen(_ketl_cmd(raw_copy, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        lock = out / ".ketl" / "lock"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (lock.is_file() and lock.read_text().startswith("pid")):
            time.sleep(0.05)
        t0 = time.monotonic()
        second = subprocess.run(_ketl_cmd(raw_copy, out), env=env, capture_output=True, text=True, timeout=120)
        took = time.monotonic() - t0
        assert second.returncode == 2, second.stderr
        assert "another ketl run" in second.stderr and "Traceback" not in second.stderr
        assert took < 8, took  # refused before any Prefect start-up (which takes 10-25 s here)
    finally:
        stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert table(out, "articles").num_rows == 5
