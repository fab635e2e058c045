"""Scheduling against a real `prefect server start` on loopback, bounded in time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import REPO

KETL = [sys.executable, "-m", "ketl.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real Prefect server on 127.0.0.1 for this module; stopped at the end."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.fail("prefect server start exited early")
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("prefect server did not start within 120 s")
    yield api, {**env, "PREFECT_API_URL": api}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


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
