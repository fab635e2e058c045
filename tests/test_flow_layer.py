"""The flow layer's plumbing: Prefect's settings set by the entry points (not by an
import), the run's process pool as an object the run owns, the compiled-resources
cache, and the typed run summary the CLI prints."""

from __future__ import annotations

import contextvars
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import SEEDS, pool_early, take_pool
from ketl.flows.prefect_env import DEFAULTS, STARTUP_TIMEOUT
from ketl.run.watchdog import running

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "ketl"


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """This environment without ketl's Prefect defaults (conftest sets them for the suite)."""
    env = {k: v for k, v in os.environ.items() if k not in DEFAULTS and k != "PREFECT_API_URL"}
    env.update(PYTHONPATH=str(REPO / "src"), PREFECT_HOME=str(tmp_path / "prefect-home"))
    return env


def _python(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env, capture_output=True,
                          text=True, timeout=300)


ENVIRONMENT_PROBE = """
    import json, os, sys
    before = dict(os.environ)
    import ketl.flows, ketl.flows.pool, ketl.flows.tasks, ketl.flows.flow, ketl.flows.dask
    after = dict(os.environ)
    print(json.dumps({"changed": sorted(k for k in {**before, **after} if before.get(k) != after.get(k)),
                      "prefect": "prefect" in sys.modules}))
"""

FIRST_USE_PROBE = """
    import sys
    import ketl.flows
    assert "prefect" not in sys.modules, "importing ketl.flows loaded prefect"
    curate = ketl.flows.curate  # the first use: configure(), then the flow module
    from prefect.settings import PREFECT_SERVER_ANALYTICS_ENABLED, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS
    print(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(), PREFECT_SERVER_ANALYTICS_ENABLED.value())
"""

# The CLI path, with the flow replaced by a stand-in that reads Prefect's settings
# where the real flow would start its temporary server, and returns a summary.
STAND_IN_RUN = """
    import sys, types
    stand_in = types.ModuleType("ketl.flows.flow")

    class UsageError(ValueError):
        pass

    def curate_with(**kwargs):
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as timeout
        from ketl.run.summary import RunSummary
        print("timeout", timeout.value())
        return RunSummary(run_id="feedc0de-run", out=kwargs["out"], files_seen=1, articles=1, seconds=0.5,
                          stage_seconds={"repair": 0.25}, notes=["a note with [brackets]"])

    stand_in.UsageError, stand_in.curate_with = UsageError, curate_with
    sys.modules["ketl.flows.flow"] = stand_in
    from ketl.cli.app import main
    sys.argv = ["ketl", "run", "--raw", sys.argv[1], "--out", sys.argv[2], "--workers", "1"]
    main()
"""


def _stand_in_run(tmp: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    raw, out = tmp / "raw", tmp / "out"
    raw.mkdir()
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], raw / "a.txt")
    return {**_clean_env(tmp), "COLUMNS": "200"}, (str(raw), str(out))


# test -> (script, its environment and arguments in a fresh folder)
PROBES = {
    "test_importing_the_flow_layer_leaves_the_environment_alone": (ENVIRONMENT_PROBE, lambda t: (_clean_env(t), ())),
    "test_ketl_flows_loads_prefect_only_when_the_flow_is_used_and_configures_it_first":
        (FIRST_USE_PROBE, lambda t: (_clean_env(t), ())),
    "test_ketl_run_gets_the_120_second_start_up_timeout": (STAND_IN_RUN, _stand_in_run),
}


_STARTED: dict[str, subprocess.Popen] = {}  # the probes start_early started, by test


def _start_probes(names: set[str], folder: Path) -> dict[str, subprocess.Popen]:
    procs = {}
    for name in sorted(names):
        script, setup = PROBES[name]
        (folder / name).mkdir(parents=True)
        env, args = setup(folder / name)
        procs[name] = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return procs


def start_early(items) -> None:
    """conftest calls this after collection: the selected tests' probes start then, beside
    the tests of the files before this one, instead of while this process waits for them
    (seconds of importing Prefect each)."""
    import tempfile

    chosen = {item.name for item in items} & set(PROBES)
    if chosen:
        _STARTED.update(_start_probes(chosen, Path(tempfile.mkdtemp(prefix="flow-layer-probes-"))))
    # the pool test_stop_now_ends_the_workers_at_once kills: spawned and warm before it
    pool_early([item for item in items if item.name == _STOP_NOW], _STOP_NOW, _two_worker_pool)


def _two_worker_pool():
    from ketl.flows.pool import ComputePool

    return ComputePool(2)


@pytest.fixture(scope="module")
def probe(tmp_path_factory, request):
    """The selected tests' scripts, each in a fresh interpreter, started after collection
    (``start_early``); started here, together, if they were not."""
    chosen = {item.name for item in request.session.items if item.module is request.module} & set(PROBES)
    procs = {name: _STARTED.pop(name) for name in chosen & set(_STARTED)}
    procs.update(_start_probes(chosen - set(procs), tmp_path_factory.mktemp("probe")))

    def result(name: str) -> subprocess.CompletedProcess:
        stdout, stderr = procs[name].communicate(timeout=300)
        return subprocess.CompletedProcess(procs[name].args, procs[name].returncode, stdout, stderr)
    try:
        yield result
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def test_importing_the_flow_layer_leaves_the_environment_alone(probe):
    done = probe("test_importing_the_flow_layer_leaves_the_environment_alone")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"changed": [], "prefect": True}


def test_ketl_flows_loads_prefect_only_when_the_flow_is_used_and_configures_it_first(probe):
    done = probe("test_ketl_flows_loads_prefect_only_when_the_flow_is_used_and_configures_it_first")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["120", "False"]


def test_a_value_the_user_set_wins(tmp_path):
    env = {**_clean_env(tmp_path), STARTUP_TIMEOUT: "45"}
    done = _python("""
        from ketl.flows.prefect_env import configure, startup_timeout
        print(configure(), startup_timeout())
    """, env)
    assert done.stdout.split() == ["True", "45"], done.stderr


def test_ketl_run_gets_the_120_second_start_up_timeout(probe):
    """The CLI path with a stand-in flow (STAND_IN_RUN)."""
    done = probe("test_ketl_run_gets_the_120_second_start_up_timeout")
    assert done.returncode == 0, done.stderr
    assert "timeout 120" in done.stdout
    # the typed summary reached the CLI's table
    assert "run feedc0de" in done.stdout and "docs/s" in done.stdout and "CPU s: repair" in done.stdout
    assert "a note with [brackets]" in done.stderr


def test_no_import_time_environment_writes_and_no_noqa_e402_in_the_flow_layer():
    for path in sorted((SRC / "flows").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "E402" not in text, path.name
        top_level = [line for line in text.splitlines() if line.startswith("os.environ")]
        assert not top_level, (path.name, top_level)


def test_no_global_statement_in_the_run_steps_and_flow_layer():
    owned = [*sorted((SRC / "flows").glob("*.py")),
             *(SRC / "run" / f for f in ("batch.py", "dedup.py", "work.py", "summary.py", "incremental.py"))]
    offenders = [f"{p.name}:{n}" for p in owned
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if line.strip().startswith("global ")]
    assert not offenders


# -------------------------------------------------------------- the pool

def _pid() -> int:
    return os.getpid()


def test_compute_pool_runs_batches_in_its_workers_and_only_while_open(pool_of):
    from ketl.flows.pool import CURRENT, ComputePool, compute

    assert compute(_pid) == os.getpid()  # no pool: in this process (a Dask worker's case)
    with pool_of(2) as pool:
        assert CURRENT.get() is pool
        worker = compute(_pid)
        # Prefect's thread runner runs each task in a copy of the flow's context
        assert contextvars.copy_context().run(compute, _pid) != os.getpid() and worker != os.getpid()
    assert CURRENT.get() is None
    assert compute(_pid) == os.getpid()
    with ComputePool(1) as pool:
        assert pool.compute(_pid) == os.getpid()  # one worker: no processes to start


def _pid_after(seconds: float, mark: str | None = None) -> int:
    import time

    time.sleep(seconds)
    if mark:
        Path(mark).write_text("done")
    return os.getpid()


def _fail() -> None:
    raise OSError("disk full")


def _pid_meeting(folder: str, me: str, other: str, limit: float = 20.0) -> int:
    """Say "here", then wait (up to ``limit``) for the other call: two calls that run side
    by side both return at once; one worker taking both waits out the limit on the first,
    and the pids then show it. (Two 0.4 s sleeps were flaky under load: a worker
    descheduled for 0.4 s let the other take both calls.)"""
    import time

    Path(folder, me).write_text("here")
    deadline = time.monotonic() + limit
    while not Path(folder, other).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid()


def test_compute_each_spreads_one_tasks_batches_over_the_workers_and_counts_each(tmp_path, pool_of):
    from ketl.flows.pool import compute_each
    from ketl.run import progress

    class Count:
        def __init__(self):
            self.done = []

        def start(self, phase, total):
            pass

        def advance(self, phase, n=1):
            self.done.append((phase, n))

    seen = Count()
    progress.set_reporter(seen)
    try:
        assert compute_each(_pid_after, [(0.0,), (0.0,)]) == [os.getpid()] * 2  # no pool: here, in order
        assert seen.done == []  # and the flow counts the task's batches (a Dask worker's case)
        with pool_of(2) as pool:
            assert pool.ready(120)  # both workers up: else the first takes every call
            meet = [(str(tmp_path), "a", "b"), (str(tmp_path), "b", "a"),
                    (str(tmp_path), "c", "c"), (str(tmp_path), "d", "d")]
            pids = compute_each(_pid_meeting, meet, "read")
        assert len(set(pids[:2])) == 2 and os.getpid() not in pids  # side by side, in the workers
        assert seen.done == [("read", 1)] * 4
        # a retried task runs its finished batches again: each batch still counts once
        seen.done.clear()
        with pool_of(2) as pool:
            keys = [("run", b) for b in (3, 4)]
            compute_each(_pid_after, [(0.0,), (0.0,)], "curate", keys)
            compute_each(_pid_after, [(0.0,), (0.0,)], "curate", keys)  # the retry
            compute_each(_pid_after, [(0.0,)], "curate", [("run", 5)])
        assert seen.done == [("curate", 1)] * 3
    finally:
        progress.set_reporter(None)


def test_compute_each_raises_only_once_the_tasks_running_batches_are_done(tmp_path, pool_of):
    """A retried task must not write a batch's files while its first attempt still does."""
    from ketl.flows.pool import compute_each

    mark = tmp_path / "slow-batch-done"
    with pool_of(2):  # the session's warm workers: a call failing in one leaves both working
        compute_each(_pid_after, [(0.0,), (0.0,)])  # both workers up
        with pytest.raises(OSError, match="disk full"):
            compute_each(_fail_or_sleep, [(None, str(mark)), (str(mark), str(mark))])
        assert mark.read_text() == "done"


def _fail_or_sleep(mark: str | None, started: str) -> int:
    """The failing call waits (up to 20 s) until the slow one has started: a batch not yet
    started when another fails is rightly dropped, so without the wait a loaded machine
    (the slow call picked up late) failed this test without a bug."""
    import time

    started_mark = Path(started + ".started")
    if mark is None:
        deadline = time.monotonic() + 20.0
        while not started_mark.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        _fail()
    started_mark.write_text("started")
    return _pid_after(1.0, mark)


def _batch_once_failing(folder: str, batch: int, fail: int) -> int:
    """A batch step that notes each run of ``batch`` and fails ``fail``'s first run."""
    runs = Path(folder, f"runs-{batch}")
    with open(runs, "a") as fh:
        fh.write("x")
    if batch == fail and runs.read_text() == "x":
        raise OSError("disk full")
    return batch * 10


@pytest.mark.parametrize("workers", [1, 2])
def test_a_retried_task_reruns_only_the_batches_not_done(tmp_path, workers, pool_of):
    """One task run stands for all of a step's batches: its retry (Prefect calls the
    task again, with the same batches) must not redo the batches already written."""
    from ketl.flows.pool import ComputePool, compute_each

    calls = [(str(tmp_path), b, 2) for b in range(6)]
    keys = [("run", b) for b in range(6)]
    with pool_of(workers) as pool:
        if workers > 1:
            assert pool.ready(120)
        with pytest.raises(OSError, match="disk full"):
            compute_each(_batch_once_failing, calls, "curate", keys)
        first = {b: len(Path(tmp_path, f"runs-{b}").read_text()) for b in range(6) if Path(tmp_path, f"runs-{b}").exists()}
        assert first[2] == 1
        assert compute_each(_batch_once_failing, calls, "curate", keys) == [b * 10 for b in range(6)]  # the retry
        again = {b: len(Path(tmp_path, f"runs-{b}").read_text()) for b in range(6)}
    assert again[2] == 2  # the failed batch ran again
    for b in range(6):  # every other batch ran once: the ones done before the failure were not redone
        assert again[b] == (2 if b == 2 else 1), (b, first, again)
    # another phase, or another run, with the same batch numbers is not "done"
    with ComputePool(1):
        assert compute_each(_batch_once_failing, calls[:1], "read", [("run", 0)]) == [0]
    assert Path(tmp_path, "runs-0").read_text() == "xx"


def test_split_groups_consecutive_batches_into_tasks():
    from ketl.flows.flow import _split

    assert _split(list(range(5)), 2) == [[0, 1, 2], [3, 4]]
    assert _split(list(range(20)), 2) == [list(range(10)), list(range(10, 20))]
    assert _split([0], 4) == [[0]]  # fewer items than tasks: fewer tasks
    assert _split(list(range(3)), 0) == [[0], [1], [2]]  # 0: one per task (Dask)
    assert _split([], 2) == []


_STOP_NOW = "test_stop_now_ends_the_workers_at_once"


def test_stop_now_ends_the_workers_at_once():
    import time

    with take_pool(_STOP_NOW, _two_worker_pool) as pool:  # a pool of its own (started early): it is killed
        pool.compute(_pid)  # the workers are up
        procs = list(pool._executor._processes.values())
        t = time.monotonic()
        pool.stop_now(grace=1.0)
        assert time.monotonic() - t < 2 and not any(running(p.pid) for p in procs)
        t = time.monotonic()
    assert time.monotonic() - t < 5  # closing the pool after that does not wait on the dead workers


# -------------------------------------------------------------- the resources cache

def test_resource_cache_compiles_once_per_settings():
    from ketl.run.batch import ResourceCache
    from ketl.settings import Settings

    cache = ResourceCache()
    a = cache.get(Settings())
    assert cache.get(Settings(raw="elsewhere", workers=3)) is a  # same config_hash: not compiled again
    other = cache.get(Settings(skip=("quotes",)))
    assert other is not a and cache.get(Settings(skip=("quotes",))) is other
    cache.clear()
    assert cache.get(Settings()) is not a


def test_a_failed_compile_leaves_no_stale_entry(tmp_path):
    from ketl.run.batch import ResourceCache
    from ketl.settings import Settings

    cache = ResourceCache()
    good = cache.get(Settings())
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rule]]\npattern = '('\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.toml"):
        cache.get(Settings(rule_files=(str(bad),)))
    assert cache.get(Settings()) is not good  # compiled again, not the entry of before the failure


def test_the_flow_process_compiles_only_the_users_files(tmp_path):
    """check_settings (CLI, flow) leaves ketl's own rules and gazetteer to the workers,
    and still turns a bad user file or setting into a one-line ConfigError."""
    from ketl.run import batch
    from ketl.settings import ConfigError, Settings

    batch.PROCESS_RESOURCES.clear()
    try:
        batch.check_settings(Settings())
        assert batch.PROCESS_RESOURCES._value is None  # nothing compiled here
        bad = tmp_path / "bad.toml"
        bad.write_text("[[rule]]\npattern = '('\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="bad.toml"):
            batch.check_settings(Settings(rule_files=(str(bad),)))
        with pytest.raises(ConfigError, match="gaz.toml"):
            (tmp_path / "gaz.toml").write_text("[[entity]\n", encoding="utf-8")
            batch.check_settings(Settings(gazetteer_files=(str(tmp_path / "gaz.toml"),)))
        with pytest.raises(ConfigError):
            batch.check_settings(Settings(stages={"quotes": {"max_chars": "many"}}))
        good = tmp_path / "good.toml"
        good.write_text("", encoding="utf-8")
        batch.check_settings(Settings(rule_files=(str(good),)))
        assert batch.PROCESS_RESOURCES._value is not None  # a user file: compiled, to check it
    finally:
        batch.PROCESS_RESOURCES.clear()


# -------------------------------------------------------------- the summary

def test_run_summary_round_trips_and_refuses_unknown_keys():
    from ketl.run.summary import RunSummary

    s = RunSummary(run_id="r", out="o", articles=3, seconds=1.5, stage_seconds={"repair": 0.5},
                   notes=["re-curated 2 articles (settings changed)"], user_files=["/tmp/g.toml"])
    d = s.to_dict()
    assert json.loads(json.dumps(d)) == d  # plain values, for Prefect's result display
    assert RunSummary.from_dict(d) == s and s.docs_per_second == 2.0
    with pytest.raises(ValueError, match="artciles"):
        RunSummary.from_dict({**d, "artciles": 1})
    assert {f.name for f in dataclasses.fields(RunSummary)} >= {"near_duplicates", "band_workers", "clusters"}


def test_stage_seconds_are_cpu_time_of_the_batch_thread_not_wall_time():
    import time as _time

    from ketl.run.batch import _Timer

    spent: dict[str, float] = {}
    timer = _Timer(spent)
    timer("sleeping", lambda: _time.sleep(0.3))  # waiting is no stage work
    t0 = _time.perf_counter()
    timer("working", lambda: sum(i * i for i in range(300_000)))
    wall = _time.perf_counter() - t0
    assert spent["sleeping"] < 0.05
    assert 0 < spent["working"] <= wall + 0.01
