"""The Dask task runner gives the same dataset as the default runner (a real local cluster)."""

from __future__ import annotations

import shutil

import pyarrow.dataset as ds
import pytest

from conftest import SEEDS

pytest.importorskip("prefect_dask")
pytestmark = pytest.mark.usefixtures("prefect_api")

VOLATILE = {"run_id", "processed_at", "run_date", "pipeline_version", "first_seen"}


def _rows(out, table, key):
    t = ds.dataset(out / table, format="parquet", partitioning="hive").to_table()
    rows = [{k: v for k, v in r.items() if k not in VOLATILE} for r in t.to_pylist()]
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in key))


def test_dask_runner_equals_default_runner(tmp_path, dask_cluster):
    from ketl.flows import curate_with

    raw = tmp_path / "raw"
    raw.mkdir()
    for p in SEEDS.glob("*.txt"):
        shutil.copy(p, raw / p.name)
        (raw / "site-b").mkdir(exist_ok=True)
        shutil.copy(p, raw / "site-b" / p.name)  # reprints: clusters across batches
    # --dask-address: a cluster started on its own, as a user's would be (the session's:
    # a scheduler and two worker processes, conftest.py)
    local = curate_with(workers=1, raw=str(raw), out=str(tmp_path / "local"), batch_size=3)
    dask = curate_with(runner="dask", dask_address=dask_cluster[0], raw=str(raw), out=str(tmp_path / "dask"),
                       batch_size=3)
    assert local.articles == dask.articles == 10
    # The band group-by ran as tasks on both Dask workers, not in the flow's process.
    assert local.band_workers == 1 and dask.band_workers == 2
    _same_dataset(tmp_path)
    dups = [r for r in _rows(tmp_path / "dask", "articles", ["doc_id"]) if r["near_duplicate_of"]]
    assert len(dups) == 5
    # A later run grows the stored shards on a cluster as it does locally, here on the
    # cluster a run starts itself (--runner dask alone). One worker: each worker process
    # of a new cluster imports Prefect and compiles the run's resources (11 CPU s here;
    # two cost 23), and the spreading over workers is checked on the session's above.
    (raw / "site-c").mkdir()
    for p in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(p, raw / "site-c" / p.name)
    local = curate_with(workers=1, raw=str(raw), out=str(tmp_path / "local"), batch_size=3)
    dask = curate_with(workers=1, runner="dask", raw=str(raw), out=str(tmp_path / "dask"), batch_size=3)
    assert local.articles == dask.articles == 2 and dask.clusters == local.clusters > 0
    assert dask.band_workers == 1
    _same_dataset(tmp_path)
    quotes = _rows(tmp_path / "dask", "quotes", ["quote_id"])
    assert max(q["cluster_size"] for q in quotes) >= 3  # the third reprint joined the stored cluster


def _same_dataset(tmp_path):
    for table, key in (("articles", ["doc_id"]), ("edits", ["doc_id", "seq"]), ("quotes", ["quote_id"]),
                       ("entities", ["doc_id", "start"]), ("rejects", ["source_path"])):
        assert _rows(tmp_path / "local", table, key) == _rows(tmp_path / "dask", table, key), table


def test_unreachable_cluster_is_one_line_exit_2(tmp_path):
    from typer.testing import CliRunner

    from ketl.cli import app

    res = CliRunner().invoke(app, ["run", "--raw", str(SEEDS), "--out", str(tmp_path / "o"), "--runner", "dask",
                                   "--dask-address", "tcp://127.0.0.1:9"])
    assert res.exit_code == 2, res.output
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in res.output
    assert "Traceback" not in res.output


def test_remote_workers_need_a_reachable_api():
    from ketl.flows.dask import remote_workers

    local = {"10.0.0.5", "me"}
    workers = ["tcp://127.0.0.1:4000", "tcp://10.0.0.5:4001", "tcp://me:4002", "tcp://10.0.0.9:4003",
               "tls://[::1]:4004", "tcp://node7.cluster:4005"]
    assert remote_workers(workers, local) == ["tcp://10.0.0.9:4003", "tcp://node7.cluster:4005"]
