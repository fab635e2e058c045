"""A real Dask cluster (a scheduler and two worker processes in another working
folder, reached by its address) and relative --raw/--out (issue 13, point 2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from conftest import SEEDS

pytest.importorskip("prefect_dask")
pytestmark = pytest.mark.usefixtures("prefect_api")
SRC = Path(__file__).resolve().parents[1] / "src"


def _env(prefect_api: str) -> dict:
    env = dict(os.environ, PREFECT_API_URL=prefect_api, PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture
def cluster(dask_cluster):
    """(address, the workers' working folder): the session's cluster (conftest.py)."""
    return dask_cluster


def test_relative_paths_on_a_real_cluster(cluster, tmp_path, prefect_api):
    address, workers_home = cluster
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in sorted(SEEDS.glob("*.txt"))[:3]:
        shutil.copy(p, raw / p.name)
    res = subprocess.run([sys.executable, "-m", "ketl.cli", "run", "--runner", "dask", "--dask-address", address,
                          "--raw", "raw",
                          "--out", "out_dask", "--batch-size", "2"],
                         cwd=tmp_path, env=_env(prefect_api), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    articles = ds.dataset(tmp_path / "out_dask" / "articles", format="parquet", partitioning="hive").to_table()
    assert articles.num_rows == 3
    assert not (workers_home / "out_dask").exists()  # nothing written beside the workers


def test_a_folder_the_workers_do_not_see_is_refused(cluster, tmp_path):
    from ketl.flows.dask import ClusterError, check_cluster

    address, _ = cluster
    gone = tmp_path / "only-on-my-laptop"
    with pytest.raises(ClusterError, match=r"2 of the 2 Dask workers do not see .*only-on-my-laptop"):
        check_cluster(address, api_configured=True, folders=(str(tmp_path), str(gone)))
    assert check_cluster(address, api_configured=True, folders=(str(tmp_path),)) == 2


def test_dask_address_with_the_local_runner_is_refused(tmp_path):
    from typer.testing import CliRunner

    from ketl.cli import app

    res = CliRunner().invoke(app, ["run", "--raw", str(SEEDS), "--out", str(tmp_path / "o"), "--runner", "local",
                                   "--dask-address", "tcp://127.0.0.1:9"])
    assert res.exit_code == 2 and "--dask-address needs --runner dask" in res.output


def test_dask_address_alone_means_that_cluster(tmp_path):
    """It was silently ignored (the run went to the local pool): now it is used, here unreachable."""
    from typer.testing import CliRunner

    from ketl.cli import app

    res = CliRunner().invoke(app, ["run", "--raw", str(SEEDS), "--out", str(tmp_path / "o"),
                                   "--dask-address", "tcp://127.0.0.1:9"])
    assert res.exit_code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in res.output
