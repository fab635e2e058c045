"""Scheduling against a real Prefect server on loopback, bounded in time."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from conftest import REPO

KETL = [sys.executable, "-m", "ketl.cli"]


@pytest.fixture(scope="module")
def prefect_server(prefect_api):
    """(API URL, an environment pointing at it): the session's Prefect server, which is
    the API ``prefect server start`` serves (the same app under uvicorn, on loopback);
    starting a second one for this module cost 10 s."""
    return prefect_api, {**os.environ, "PREFECT_API_URL": prefect_api}


def _deployments(api: str) -> list[dict]:
    return httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()


def _schedules(api: str, deployment: dict) -> list[str]:
    got = httpx.get(f"{api}/deployments/{deployment['id']}/schedules", timeout=10).json()
    return [s["schedule"].get("cron") for s in got]


def test_serve_without_a_server_says_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    proc = subprocess.run([*KETL, "serve"], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert "prefect server start" in proc.stderr and "PREFECT_API_URL" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_serve_registers_a_cron_deployment(prefect_server, tmp_path):
    api, env = prefect_server
    proc = subprocess.Popen([*KETL, "serve", "--cron", "*/5 * * * *", "--raw", str(REPO / "raw"),
                             "--out", str(tmp_path / "curated"), "--name", "ketl-test"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        found = None
        while time.monotonic() < deadline and found is None:
            found = next((d for d in _deployments(api) if d["name"] == "ketl-test"), None)
            if proc.poll() is not None:
                pytest.fail(f"ketl serve exited: {proc.stderr.read()}")
            time.sleep(1)
        assert found is not None, "ketl serve did not register its deployment within 90 s"
        assert _schedules(api, found) == ["*/5 * * * *"]
        assert found["parameters"]["out"] == str((tmp_path / "curated").resolve())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_invalid_cron_is_a_usage_error(prefect_server):
    _, env = prefect_server
    proc = subprocess.run([*KETL, "serve", "--cron", "every hour"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "invalid cron" in proc.stderr


def test_prefect_deploy_reads_prefect_yaml(prefect_server):
    api, env = prefect_server
    subprocess.run([sys.executable, "-m", "prefect", "work-pool", "create", "ketl-process", "--type", "process"],
                   env=env, capture_output=True, text=True, timeout=120)
    proc = subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"], env=env,
                          capture_output=True, text=True, timeout=180, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dep = next(d for d in _deployments(api) if d["name"] == "ketl-hourly")
    assert _schedules(api, dep) == ["0 * * * *"]
    assert dep["work_pool_name"] == "ketl-process"
    assert dep["entrypoint"] == "flows/curate_flow.py:curate"
