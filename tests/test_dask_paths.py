"""A real Dask cluster (a scheduler and two worker processes in another working
folder, reached by its address) and relative --raw/--out (issue 13, point 2)."""

from __future__ import annotations

import shutil

import pyarrow.dataset as ds
import pytest

from conftest import SEEDS

pytest.importorskip("prefect_dask")
pytestmark = pytest.mark.usefixtures("prefect_api")


@pytest.fixture
def cluster(dask_cluster):
    """(address, the workers' working folder): the session's cluster (conftest.py)."""
    return dask_cluster


def test_relative_paths_on_a_real_cluster(cluster, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from ketl.cli import app

    address, workers_home = cluster
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in sorted(SEEDS.glob("*.txt"))[:3]:
        shutil.copy(p, raw / p.name)
    # the CLI in this process, from the folder holding raw/ (a process of its own cost
    # seconds of imports; what matters is how the paths reach the workers)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["run", "--runner", "dask", "--dask-address", address, "--raw", "raw",
                                   "--out", "out_dask", "--batch-size", "2"])
    assert res.exit_code == 0, res.output[-3000:]
    assert "Traceback" not in res.output
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
