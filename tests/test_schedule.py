"""Scheduling against a real Prefect server on loopback, bounded in time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ketl.cli import app

from conftest import REPO, session_environ, session_server_url, start_before, take_started

KETL = [sys.executable, "-m", "ketl.cli"]


@pytest.fixture(scope="module")
def prefect_server(prefect_api):
    """(API URL, an environment pointing at it): the session's Prefect server, which is
    the API ``prefect server start`` serves (the same app under uvicorn, on loopback);
    starting a second one for this module cost 10 s."""
    return prefect_api, {**os.environ, "PREFECT_API_URL": prefect_api}


def _start_deploy(api: str) -> tuple[threading.Thread, list]:
    """The work pool prefect.yaml names, then ``prefect deploy --all`` in the repository, in
    a thread: (the thread, the list it puts the CompletedProcess or the error in)."""
    env = {**session_environ(), "PREFECT_API_URL": api}
    done: list[subprocess.CompletedProcess | BaseException] = []

    def deploy() -> None:
        try:
            _create_process_pool(api, "ketl-process")
        except BaseException as exc:  # re-raised where the test waits
            done.append(exc)
            return
        done.append(subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"], env=env,
                                   capture_output=True, text=True, timeout=180, cwd=REPO))
    worker = threading.Thread(target=deploy, daemon=True)
    worker.start()
    return worker, done


@pytest.fixture(scope="module")
def deployed(prefect_server):
    """``_start_deploy``'s deploy, started some tests before this module's (``start_early``)
    or as the module starts (seconds of Prefect's CLI while other tests run): a function
    that waits for the deploy and returns it."""
    worker, done = take_started(_DEPLOY, lambda: _start_deploy(prefect_server[0]))

    def result() -> subprocess.CompletedProcess:
        worker.join(320)
        assert done, "prefect deploy did not finish"
        if isinstance(done[0], BaseException):
            raise done[0]
        return done[0]
    yield result
    worker.join(320)


def _create_process_pool(api: str, name: str) -> None:
    """What ``prefect work-pool create NAME --type process`` sends: a pool with the process
    worker's default job template. Sent from here: the CLI was a process of its own (1.5 CPU
    s of imports) for one request, and the pool is only what the deploy under test needs."""
    from prefect.workers.process import ProcessWorker

    body = {"name": name, "type": "process", "base_job_template": ProcessWorker.get_default_base_job_template()}
    httpx.post(f"{api}/work_pools/", json=body, timeout=60).raise_for_status()


def _start_serving(api: str) -> tuple[subprocess.Popen, Path]:
    """``ketl serve --cron`` on the session's server: (its process, the dataset folder it was given)."""
    out = Path(tempfile.mkdtemp(prefix="ketl-serve-")) / "curated"
    proc = subprocess.Popen([*KETL, "serve", "--cron", "*/5 * * * *", "--raw", str(REPO / "raw"),
                             "--out", str(out), "--name", "ketl-test"],
                            env={**session_environ(), "PREFECT_API_URL": api}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc, out


def _end_serving(started: tuple[subprocess.Popen, Path]) -> None:
    proc, out = started
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.communicate()
    shutil.rmtree(out.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def serving(prefect_server):
    """(``ketl serve --cron`` started some tests before this module's, or as it starts,
    the dataset folder it was given)."""
    started = take_started(_SERVE, lambda: _start_serving(prefect_server[0]))
    yield started
    _end_serving(started)


_DEPLOY, _SERVE = "test_schedule: prefect deploy", "test_schedule: ketl serve"


def start_early(items) -> None:
    """conftest calls this after collection: the deploy and ``ketl serve`` (each seconds of a
    process importing Prefect, which its test only waits for) start some tests before
    this module's, once the session's server answers (conftest.start_before)."""
    def on_server(start):
        return lambda: start(session_server_url())

    # ketl serve only 20 tests ahead: serving longer, it would more often meet a five-minute
    # mark of its cron and start a real run no test wants
    for name, key, start, stop, lead in (("test_prefect_deploy_reads_prefect_yaml", _DEPLOY, _start_deploy,
                                          lambda started: started[0].join(320), 60),
                                         ("test_serve_registers_a_cron_deployment", _SERVE, _start_serving,
                                          _end_serving, 20)):
        users = [item for item in items if item.name == name]
        if users and "prefect_api" in users[0].fixturenames:
            start_before(users, key, on_server(start), stop, lead)


# Each of these is seconds of a process importing Prefect that its test only waits for.
_STARTED_WITH_THE_MODULE = {"test_prefect_deploy_reads_prefect_yaml": "deployed",
                            "test_serve_registers_a_cron_deployment": "serving"}


@pytest.fixture(autouse=True)
def _start_with_the_module(request):
    # the processes of the selected tests start with the module's first test, side by side
    selected = {item.name for item in request.session.items if item.module is request.module}
    for name, fixture in _STARTED_WITH_THE_MODULE.items():
        if name in selected:
            request.getfixturevalue(fixture)


def _deployments(api: str) -> list[dict]:
    return httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()


def _schedules(api: str, deployment: dict) -> list[str]:
    got = httpx.get(f"{api}/deployments/{deployment['id']}/schedules", timeout=10).json()
    return [s["schedule"].get("cron") for s in got]


def test_serve_without_a_server_says_what_to_do(tmp_path, monkeypatch):
    # in this process (a usage error before anything reaches Prefect): a process of its
    # own cost a second of imports
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["serve"])
    assert res.exit_code == 2, res.output
    assert "prefect server start" in res.output and "PREFECT_API_URL" in res.output
    assert "Traceback" not in res.output


def test_serve_registers_a_cron_deployment(prefect_server, serving):
    api, _ = prefect_server
    proc, out = serving
    deadline = time.monotonic() + 90
    found = None
    while time.monotonic() < deadline and found is None:
        found = next((d for d in _deployments(api) if d["name"] == "ketl-test"), None)
        if proc.poll() is not None:
            pytest.fail(f"ketl serve exited: {proc.stderr.read()}")
        time.sleep(0.2)
    assert found is not None, "ketl serve did not register its deployment within 90 s"
    assert _schedules(api, found) == ["*/5 * * * *"]
    assert found["parameters"]["out"] == str(out.resolve())


def test_invalid_cron_is_a_usage_error(prefect_server, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", prefect_server[0])  # a server: the cron is what is wrong
    res = CliRunner().invoke(app, ["serve", "--cron", "every hour"])
    assert res.exit_code == 2 and "invalid cron" in res.output, res.output
    assert "Traceback" not in res.output and "serving deployment" not in res.output


def test_prefect_deploy_reads_prefect_yaml(prefect_server, deployed):
    api, _ = prefect_server
    proc = deployed()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dep = next(d for d in _deployments(api) if d["name"] == "ketl-hourly")
    assert _schedules(api, dep) == ["0 * * * *"]
    assert dep["work_pool_name"] == "ketl-process"
    assert dep["entrypoint"] == "flows/curate_flow.py:curate"
