"""Issue 13 point 3: Ctrl-C during ``ketl run`` stops within seconds, leaves the dataset
as it was, prints one line and exits 130 (the first Ctrl-C, a second one, and one
during Prefect's start-up)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import Future
from importlib.util import find_spec
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from interrupt_trial import (batches_started, build_raw, dataset_fingerprint, env_without_server, interrupt,
                             ketl_cmd, server_starting)
from ketl.run.interrupt import DEADLINE, current_run, message
from ketl.run.watchdog import running
from conftest import copy_seed_dataset, in_background, session_environ, start_before, take_started

SRC = Path(__file__).resolve().parents[1] / "src"
# Four batches of 250 new files: the Ctrl-C (1 s after the batches start) finds both pool
# workers computing, and the run 5-10 s from its end here. 3,000 files in batches of the
# default size cost 5 s more of scanning before the batches start, for the same moment.
FILES = 1000
BATCH = ("--batch-size", "250")
# The Dask runner's workers are not stopped by the Ctrl-C (only the watchdog ends them,
# after ketl exits): one that finishes a batch in that window writes it into the removed
# staging folder, or prints a heartbeat traceback. Batches of 1,000 (tens of seconds
# each) keep that as rare as it was; smaller ones made it likely (report to the lead).
DASK_FILES = 2000
WITHIN = 15.0  # seconds from the signal to the exit, generous for a loaded CI machine (0.2 s measured here)


def _base(seeded: tuple[Path, Path], api: str, env: dict, files: int = FILES) -> tuple[Path, Path, dict]:
    """A dataset holding one committed run of the seeds; raw/ then gains ``files`` new files."""
    raw, out = seeded
    build_raw(raw.parent / "gen", files)
    shutil.move(str(raw.parent / "gen" / "raw"), raw / "gen")
    return raw, out, {**env, "PREFECT_API_URL": api}


def _interrupted_cleanly(o, out: Path, before: dict, base_run: str) -> None:
    print(f"exit {o.returncode} {o.after_signal:.2f} s after the SIGINT (sent {o.signalled_at:.1f} s into the run)")
    assert o.returncode == 130, o.stderr
    assert o.after_signal < WITHIN, o.after_signal
    lines = [ln for ln in o.stderr.splitlines() if ln.strip() and not ln.startswith("starting Prefect")]
    assert lines == [f"Interrupted: nothing was committed; the dataset is as it was after run {base_run}."], o.stderr
    assert not o.left, f"{len(o.left)} processes of the run outlived it"
    assert dataset_fingerprint(out) == before  # every file, and where current points
    assert not any((out / ".ketl" / "staging").glob("*")), "staging leftovers"


def _next_run_commits(raw: Path, out: Path, base_run: str) -> None:
    from typer.testing import CliRunner

    from ketl.cli import app

    keep = sorted((raw / "gen").rglob("*.txt"))[:12]
    for p in sorted((raw / "gen").rglob("*.txt"))[12:]:
        p.unlink()
    # in this process, on the session's server: what matters is what the interrupted run left
    done = CliRunner().invoke(app, ["run", "--raw", str(raw), "--out", str(out), "--workers", "1"])
    assert done.exit_code in (0, 1), done.output
    now = current_run(out)
    assert now is not None and now != base_run
    written = set()
    for table in ("articles", "rejects"):
        written |= set(ds.dataset(out / table, format="parquet", partitioning="hive").to_table()
                       .column("source_path").to_pylist())
    assert {str(p.relative_to(raw)) for p in keep} <= written


# The interrupted runs (real `ketl run`s in other processes, 10-25 s each here) go in the
# session's background lane (conftest.in_background) from the moment the seed dataset
# exists, beside the tests before these, which use the other core; the tests here check
# what they found. Each: (root, seed dataset, API URL, migrated database, environment) ->
# (raw, out, the dataset's fingerprint and run before, the Outcome).

def _mid_run(root: Path, seed, api: str, migrated_db: Path, env: dict):
    # One real run for both presses (each costs a temporary server): the
    # first stops the run, the second, 50 ms later, must change nothing.
    raw, out, _ = _base(copy_seed_dataset(seed, root), api, env)
    before, base_run = dataset_fingerprint(out), current_run(out)
    home = root / "prefect-home"  # as ``prefect_home`` gives it: migrated
    home.mkdir()
    shutil.copy(migrated_db, home / "prefect.db")
    # as a user's run: its own temporary Prefect server, which must go too
    o = interrupt(ketl_cmd(raw, out, *BATCH), env_without_server(home, env), batches_started(out),
                  delay=1.0, second_after=0.05, grace=90, cwd=root)
    return raw, out, before, base_run, o


def _second_press_dask(root: Path, seed, api: str, migrated_db: Path, env: dict):
    raw, out, env = _base(copy_seed_dataset(seed, root), api, env, files=DASK_FILES)
    before, base_run = dataset_fingerprint(out), current_run(out)
    # One worker: the Ctrl-C must find a Dask worker computing, kill it and keep its nanny
    # from starting another; a second one (11 CPU s of imports and warm-up) showed nothing more.
    o = interrupt(ketl_cmd(raw, out, "--workers", "1", "--runner", "dask"), env, batches_started(out),
                  delay=1.0, second_after=0.05, grace=90, cwd=root)
    return raw, out, before, base_run, o


def _during_start_up(root: Path, seed, api: str, migrated_db: Path, env: dict):
    # The signal comes before the run reads raw/: a few new files are as good as thousands.
    raw, out, _ = _base(copy_seed_dataset(seed, root), api, env, files=50)
    before, base_run = dataset_fingerprint(out), current_run(out)
    # a first ever start (an empty PREFECT_HOME: the migrations too), the longest start-up a user sees
    o = interrupt(ketl_cmd(raw, out), env_without_server(root / "prefect-home", env), server_starting(out),
                  delay=0.3, grace=60, cwd=root)
    return raw, out, before, base_run, o


_INTERRUPTED = {"mid run": ("test_ctrl_c_mid_run_and_again_while_stopping_leaves_the_dataset_as_it_was", _mid_run),
                "dask": ("test_a_second_ctrl_c_while_stopping_gives_the_same_one_line_and_130", _second_press_dask),
                "start-up": ("test_ctrl_c_during_prefect_start_up_gives_the_one_line_and_130", _during_start_up)}
_RUNS: dict[str, tuple] = {}  # key -> (Future, its folder)


def start_with_seed_dataset(items, seed: tuple[Path, Path, str, Path]) -> None:
    """Called by conftest.py once the session's seed dataset exists: the interrupted runs
    of the tests selected here start then, in the background lane."""
    first = {}
    for item in items:
        first.setdefault(item.originalname, item)
    env = session_environ()  # not os.environ: tests change it for a moment now and then
    for key, (test, scenario) in _INTERRUPTED.items():
        if test not in first or key in _RUNS or (key == "dask" and find_spec("prefect_dask") is None):
            continue
        root = Path(tempfile.mkdtemp(prefix="ketl-interrupted-"))
        _RUNS[key] = (in_background(scenario, root, seed[:2], *seed[2:], env, needed_by=first[test]), root)


@pytest.fixture(scope="module")
def interrupted(request, _seed_dataset, _prefect_server):
    """What an interrupted run above found (started with the seed dataset, or now)."""
    start_with_seed_dataset([item for item in request.session.items if item.module is request.module],
                            (*_seed_dataset, *_prefect_server))
    yield lambda key: _RUNS[key][0].result(timeout=900)
    for future, root in _RUNS.values():
        if not future.cancel():
            future.exception(timeout=900)  # let it end: it stops its own processes
        shutil.rmtree(root, ignore_errors=True)
    _RUNS.clear()


@pytest.mark.slow
def test_ctrl_c_mid_run_and_again_while_stopping_leaves_the_dataset_as_it_was(interrupted, prefect_api):
    raw, out, before, base_run, o = interrupted("mid run")
    _interrupted_cleanly(o, out, before, base_run)
    _next_run_commits(raw, out, base_run)


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["dask"])
def test_a_second_ctrl_c_while_stopping_gives_the_same_one_line_and_130(interrupted, runner):
    if runner == "dask":
        pytest.importorskip("prefect_dask")  # a local Dask cluster's workers must not print either
    raw, out, before, base_run, o = interrupted(runner)
    _interrupted_cleanly(o, out, before, base_run)


@pytest.mark.slow
def test_ctrl_c_during_prefect_start_up_gives_the_one_line_and_130(interrupted):
    raw, out, before, base_run, o = interrupted("start-up")
    _interrupted_cleanly(o, out, before, base_run)


# -- the handler alone, in a small process (no Prefect) ---------------------------

HANDLER_SCRIPT = textwrap.dedent("""
    import os, signal, sys, threading, time
    from pathlib import Path
    from ketl.run import interrupt
    from ketl.run.interrupt import Handler, on_interrupt

    out, mode = Path(sys.argv[1]), sys.argv[2]
    if mode != "hang":  # an exit left to the deadline's timer then takes a minute, not 4 s
        interrupt.DEADLINE = 60.0
    stopped = []
    on_interrupt(lambda: stopped.append(1))

    def cleanup():
        (out / "cleanup-ran").write_text(str(len(stopped)))
        if mode == "hang":
            time.sleep(60)
        if mode == "fail":
            raise OSError("disk gone")
        if mode == "thread":  # as a pool's queue feeder thread dies when its pipe is closed under it
            t = threading.Thread(target=lambda: os.close(-1), name="QueueFeederThread")
            t.start()
            t.join()

    if mode == "starting":  # a worker the Ctrl-C finds starting: forked, its exec still to come
        go_r, go_w = os.pipe()
        child = os.fork()
        if child == 0:
            null = os.open(os.devnull, os.O_WRONLY)  # off the test's pipes, as below
            os.dup2(null, 1), os.dup2(null, 2)
            os.read(go_r, 1)
            time.sleep(0.3)  # the handler's first look finds a copy of this process
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", "--multiprocessing-fork"])
        on_interrupt(lambda: os.write(go_w, b"1"))  # the stoppers run just before the workers are killed
        (out / "worker-pid").write_text(str(child))

    Handler(out, cleanup=cleanup, label="data [set]").install()
    if mode == "worker":  # a worker no stopper knows of, as a local Dask cluster's are
        import multiprocessing
        worker = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(60,))
        # on /dev/null, so the test's pipes close when this process ends, whatever the worker does
        saved = [os.dup(1), os.dup(2)]
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1), os.dup2(null, 2)
        worker.start()
        os.dup2(saved[0], 1), os.dup2(saved[1], 2)
        (out / "worker-pid").write_text(str(worker.pid))
        # what a killed Dask worker leaves: a semaphore the tracker must clean up, which it warned of
        from multiprocessing import resource_tracker
        resource_tracker.register("/ketl-test-left-by-a-worker", "semaphore")
    print("ready", flush=True)
    time.sleep(60)
""")


HANDLER_CASES = [("ok", 1), ("ok", 3), ("fail", 1), ("thread", 1), ("worker", 1), ("starting", 1), ("hang", 1),
                 ("hang", 2)]


_HANDLER = "test_interrupt: the handler cases"


def _start_handler_runs() -> tuple[Future, Path]:
    """``_handler_runs`` in a thread of its own (not the lane: these processes mostly sleep,
    and must not queue behind real runs), started some tests before the cases' test
    (conftest.start_before): (its Future, its folder)."""
    future: Future = Future()
    root = Path(tempfile.mkdtemp(prefix="ketl-handler-cases-"))

    def work() -> None:
        try:
            future.set_result(_handler_runs(root))
        except BaseException as exc:  # raised where the test waits for it
            future.set_exception(exc)
    threading.Thread(target=work, name="handler-cases", daemon=True).start()
    return future, root


def _end_handler_runs(started: tuple[Future, Path]) -> None:
    future, root = started
    try:
        future.exception(timeout=300)  # let it end: it kills what a failed case left
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def handler_runs() -> dict[tuple[str, int], tuple[subprocess.CompletedProcess, float, Path]]:
    started = take_started(_HANDLER, _start_handler_runs)
    try:
        yield started[0].result(timeout=300)
    finally:
        _end_handler_runs(started)


def _handler_runs(root: Path) -> dict[tuple[str, int], tuple[subprocess.CompletedProcess, float, Path]]:
    """Every case's small process, signalled together: each mostly sleeps (a hang waits out
    DEADLINE), so one after the other cost the sum of those waits. Per case: the process,
    seconds from its first SIGINT to its exit, its folder. Each case's time is measured from
    its own signal, so the tests running meanwhile change no bound."""
    base = session_environ()  # not os.environ: a test may set it for a moment meanwhile
    env = {**base, "PYTHONPATH": os.pathsep.join([str(SRC), base.get("PYTHONPATH", "")])}
    runs = {}
    for mode, signals in HANDLER_CASES:
        folder = root / f"handler-{mode}-{signals}"
        folder.mkdir()
        runs[mode, signals] = (subprocess.Popen([sys.executable, "-c", HANDLER_SCRIPT, str(folder), mode], env=env,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), folder)
    for proc, _ in runs.values():
        assert proc.stdout.readline().strip() == "ready"
    first, exited, worker_left = {}, {}, {}
    for k in range(max(n for _, n in HANDLER_CASES)):
        for (mode, signals), (proc, _) in runs.items():
            if k < signals:
                first.setdefault((mode, signals), time.monotonic())
                proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    deadline = time.monotonic() + 30
    while len(exited) < len(runs) and time.monotonic() < deadline:
        for case, (proc, _) in runs.items():
            if case not in exited and proc.poll() is not None:
                exited[case] = time.monotonic()
                worker_left[case] = _worker_running(runs[case][1])
        time.sleep(0.01)
    found = {}
    for case, (proc, folder) in runs.items():
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate()
        _kill_worker_left(folder)  # a failed case's worker would sleep on for a minute
        took = exited.get(case, float("inf")) - first[case]
        found[case] = (subprocess.CompletedProcess(proc.args, proc.returncode, out, err), took, folder,
                       worker_left.get(case))
    return found


def _worker_running(folder: Path) -> bool:
    """Was the case's worker process (if it started one) still running when the case exited?"""
    pid_file = folder / "worker-pid"
    return pid_file.exists() and running(int(pid_file.read_text()))


def _kill_worker_left(folder: Path) -> None:
    if _worker_running(folder):
        os.kill(int((folder / "worker-pid").read_text()), signal.SIGKILL)


@pytest.mark.parametrize("mode,signals", HANDLER_CASES)
def test_the_handler_stops_the_workers_cleans_up_and_says_one_line(handler_runs, mode, signals):
    done, took, folder, worker_left = handler_runs[mode, signals]
    assert done.returncode == 130
    # the label is printed as given (no rich markup involved), once however many signals came
    assert done.stderr == "Interrupted: nothing was committed; data [set] still holds no dataset.\n"
    assert (folder / "cleanup-ran").read_text() == "1"  # the pool stopper ran before the clean-up
    # A clean-up that hangs is cut off at the deadline; one that ends exits at once, not by the
    # deadline's timer: that timer is set to 60 s in those cases, so a wrong exit shows as a
    # minute, and the bound leaves a loaded machine its seconds (0.1-0.5 s measured here; a
    # worker still starting holds the exit until it is killed, up to _kill_workers' 3 s).
    if mode == "hang":
        assert DEADLINE - 0.5 <= took < DEADLINE + 6, took
    else:
        assert took < 20, took
    if mode in ("worker", "starting"):  # killed before the exit, not left to the watchdog's later sweep
        assert (folder / "worker-pid").exists() and not worker_left, "the worker outlived the interrupt"


def test_the_line_names_the_run_the_dataset_holds(tmp_path):
    assert message("cur", "r1", "r1") == "Interrupted: nothing was committed; the dataset is as it was after run r1."
    assert message("cur", None, None) == "Interrupted: nothing was committed; cur still holds no dataset."
    # the signal came after the commit swapped ``current``: say so, not "nothing was committed"
    assert message("cur", "r1", "r2") == "Interrupted after the commit: the dataset holds run r2."
    (tmp_path / ".ketl" / "snapshots" / "abc").mkdir(parents=True)
    assert current_run(tmp_path) is None
    os.symlink(Path("snapshots") / "abc", tmp_path / ".ketl" / "current")
    assert current_run(tmp_path) == "abc"


CHILD_SCRIPT = textwrap.dedent("""
    import subprocess, sys, threading
    from pathlib import Path
    from ketl.run.interrupt import Handler

    uninstall = Handler(Path(sys.argv[1]), cleanup=lambda: None).install()
    from multiprocessing import resource_tracker
    resource_tracker.ensure_running()  # as a process pool does: it must not unblock SIGINT again
    kids = []
    def spawn():  # as Prefect and the pool start their processes: from some thread
        kids.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]))
    for start in (spawn, lambda: threading.Thread(target=spawn).start()):
        start()
    while len(kids) < 2:
        pass
    for kid in kids:
        status = Path(f"/proc/{kid.pid}/status").read_text()
        print(int(next(ln for ln in status.splitlines() if ln.startswith("SigBlk:")).split()[1], 16) & 2)
        kid.kill()
    uninstall()
    import signal
    print(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))
""")


def test_no_process_started_under_the_handler_sees_ctrl_c(tmp_path):
    """Children (the Prefect server, pool workers, a Dask cluster) start with SIGINT
    blocked, whichever thread starts them, so the terminal's Ctrl-C to the group
    gives none of them a traceback; giving the handler back unblocks it again."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", CHILD_SCRIPT, str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "2", "False"], done.stdout


_PROBES: dict[bool, subprocess.Popen] = {}  # -v or not -> a process logging a task's ERROR
_PROBES_HOME: list[Path] = []
_PROBE_SCRIPT = ("from prefect.logging.configuration import setup_logging\n"
                 "setup_logging()\n"  # what a flow run does first
                 "from prefect.logging import get_logger\n"
                 "get_logger('prefect.task_runs').error('boom from a task')\n")


def start_early(items) -> None:
    """Called by conftest.py after collection: the logging probes start before the
    session's first test (each is seconds of importing Prefect in a process of its own,
    which the test below only waits for); the nanny probe (a local Dask cluster's start,
    5-13 s here) some tests before its own (conftest.start_before)."""
    if any(item.name == "test_prefect_error_logs_reach_the_terminal_only_with_verbose" for item in items):
        _start_probes()
    start_before([item for item in items if item.name == _NANNY], _NANNY, _nanny_probe, _end_probe)
    cases = [item for item in items if item.originalname == "test_the_handler_stops_the_workers_cleans_up_and_says_one_line"]
    start_before(cases, _HANDLER, _start_handler_runs, _end_handler_runs)


def _start_probes() -> None:
    from ketl.cli.app import _quiet_prefect

    if _PROBES:
        return
    home = Path(tempfile.mkdtemp(prefix="ketl-log-probe-"))
    _PROBES_HOME.append(home)
    for verbose in (False, True):
        saved = dict(os.environ)
        try:
            for k in ("PREFECT_LOGGING_LEVEL", "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"):
                os.environ.pop(k, None)
            _quiet_prefect(verbose)
            env = {**os.environ, "PREFECT_HOME": str(home / f"ph-{verbose}"),
                   "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore"}
        finally:
            os.environ.clear()
            os.environ.update(saved)
        _PROBES[verbose] = subprocess.Popen([sys.executable, "-c", _PROBE_SCRIPT], env=env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_prefect_error_logs_reach_the_terminal_only_with_verbose():
    """The setting ketl uses without -v (Prefect's console handler at CRITICAL) keeps a
    task's ERROR off the terminal; -v leaves Prefect's default."""
    _start_probes()  # started early, unless this test was not collected then
    try:
        seen = {verbose: proc.communicate(timeout=120)[1] for verbose, proc in _PROBES.items()}
    finally:
        for proc in _PROBES.values():
            if proc.poll() is None:
                proc.kill()
        shutil.rmtree(_PROBES_HOME[0], ignore_errors=True)
    assert sorted(seen) == [False, True]
    assert "boom from a task" not in seen[False], seen[False]
    assert "boom from a task" in seen[True], seen[True]


_NANNY = "test_a_killed_dask_worker_is_not_restarted_by_its_nanny"


def _nanny_probe() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).parent / "nanny_probe.py")],
                            env=session_environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _end_probe(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def test_a_killed_dask_worker_is_not_restarted_by_its_nanny():
    # The Dask Ctrl-C flake: the local cluster's nannies (in ketl's process)
    # restarted a worker the handler had just killed, and the new worker logged
    # after the one line or outlived ketl. Without the hold the nanny restarts it
    # (so the probe can see a restart); with it, nothing comes back.
    proc = take_started(_NANNY, _nanny_probe)  # started some tests before this one
    try:
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        _end_probe(proc)
    said = stdout + stderr[-2000:]
    assert "without hold: workers 1 restarted 1" in stdout, said
    assert "with hold: workers 1 restarted 0" in stdout, said


FORKED_SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    from ketl.run import interrupt, watchdog
    child = os.fork()
    if child == 0:
        time.sleep(30)
        os._exit(0)
    t0 = time.monotonic()
    interrupt._kill_workers(wait=8.0)
    took = time.monotonic() - t0
    alive = watchdog.running(child)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    print(took, alive, interrupt.STARTING_AT_MOST)
""")


def test_a_child_forked_without_exec_does_not_hold_the_worker_kill():
    """A library's own fork (no exec) reads as this process for good: the kill stops
    waiting for it after STARTING_AT_MOST seconds instead of the whole wait, and does
    not kill it (it is no worker). In its own process: the kill takes every worker
    below the process that calls it, and pytest's has the session's."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", FORKED_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    took, alive, at_most = done.stdout.split()
    assert float(at_most) <= float(took) < 6.0, took  # not the whole 8 s wait
    assert alive == "True"
