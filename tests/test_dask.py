"""The Dask task runner gives the same dataset as the default runner (a real local cluster)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from conftest import SEEDS, start_once_in_lane

pytest.importorskip("prefect_dask")
pytestmark = pytest.mark.usefixtures("prefect_api")

VOLATILE = {"run_id", "processed_at", "run_date", "pipeline_version", "first_seen"}


def _rows(out, table, key):
    t = ds.dataset(out / table, format="parquet", partitioning="hive").to_table()
    rows = [{k: v for k, v in r.items() if k not in VOLATILE} for r in t.to_pylist()]
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in key))


def test_dask_runner_equals_default_runner(tmp_path, dask_cluster):
    from ketl.flows import curate_with

    raw = _reprints(tmp_path / "raw")
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


def _reprints(raw: Path) -> Path:
    """The seeds, and each again under site-b: reprints, clustered across batches of 3."""
    raw.mkdir()
    for p in SEEDS.glob("*.txt"):
        shutil.copy(p, raw / p.name)
        (raw / "site-b").mkdir(exist_ok=True)
        shutil.copy(p, raw / "site-b" / p.name)
    return raw


# A later run grows the stored shards on a cluster as it does locally, here on the cluster a
# run starts itself (--runner dask alone), from the same stored dataset (one local run of the
# reprints: the test above shows the Dask runner makes the same). In a process of its own, in
# the background lane from the moment the session's server is up: the run-started cluster's
# worker imports Prefect and compiles the run's resources (11 CPU s here), which pytest only
# waited for. One worker (two cost 23 CPU s): the spreading over workers is checked above.
_GROW = """
import json, shutil, sys
from pathlib import Path
from ketl.flows import curate_with
raw, root = Path(sys.argv[1]), Path(sys.argv[2])
curate_with(workers=1, raw=str(raw), out=str(root / "local"), batch_size=3)
shutil.copytree(root / "local", root / "dask", symlinks=True)
(raw / "site-c").mkdir()
for name in sys.argv[3:]:
    shutil.copy(name, raw / "site-c" / Path(name).name)
local = curate_with(workers=1, raw=str(raw), out=str(root / "local"), batch_size=3)
dask = curate_with(workers=1, runner="dask", raw=str(raw), out=str(root / "dask"), batch_size=3)
print(json.dumps({side: [s.articles, s.clusters, s.band_workers] for side, s in (("local", local), ("dask", dask))}))
"""


def _grow(root: Path, api: str, env: dict) -> tuple[dict, str]:
    raw = _reprints(root / "raw")
    done = subprocess.run([sys.executable, "-c", _GROW, str(raw), str(root),
                           *(str(p) for p in sorted(SEEDS.glob("*.txt"))[:2])],
                          env={**env, "PREFECT_API_URL": api}, cwd=root, capture_output=True, text=True, timeout=600)
    found = json.loads(done.stdout.splitlines()[-1]) if done.returncode == 0 and done.stdout.strip() else None
    return found, done.stderr[-3000:]


_GROWN: list = []  # the Future and folder of _grow, once started
_GROW_TEST = "test_a_cluster_the_run_starts_grows_the_stored_shards_as_locally"


def start_with_server(items, server: tuple[str, Path]) -> None:
    """Called by conftest.py once the session's server is up: _grow, in the background lane."""
    start_once_in_lane(_GROWN, items, _GROW_TEST, _grow, "ketl-dask-grow-", server[0])


@pytest.fixture
def grown(request, _prefect_server):
    start_with_server([request.node], _prefect_server)
    future, root = _GROWN[0]
    try:
        yield future.result(timeout=900), root
    finally:
        shutil.rmtree(root, ignore_errors=True)
        _GROWN.clear()


def test_a_cluster_the_run_starts_grows_the_stored_shards_as_locally(grown):
    (found, stderr), root = grown
    assert found is not None, stderr
    (local_articles, local_clusters, _), (dask_articles, dask_clusters, dask_band_workers) = found["local"], found["dask"]
    assert local_articles == dask_articles == 2 and dask_clusters == local_clusters > 0
    assert dask_band_workers == 1
    _same_dataset(root)
    quotes = _rows(root / "dask", "quotes", ["quote_id"])
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
