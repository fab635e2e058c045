"""Shared fixtures. Prefect's engine is started at most once per session (a
temporary server costs 10-26 s here); everything else tests plain functions."""

from __future__ import annotations

import atexit
import heapq
import inspect
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from importlib.util import find_spec
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RAW = REPO / "raw"
# raw/ holds the five seed articles of ../shared/seeds, byte for byte
# (test_raw_holds_the_seeds checks), so a clone without ../shared runs every
# seed test on raw/. Beside ../shared, SEEDS stays ../shared/seeds: tests that
# reach the benchmarks as SEEDS.parent / "bench" keep working there.
SEEDS = SHARED / "seeds" if (SHARED / "seeds").is_dir() else RAW

# Prefect reads these at import: isolate its home and keep it quiet and offline.
_PREFECT_HOME = tempfile.mkdtemp(prefix="ketl-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)

# Bytecode caching on, whatever the shell said (this machine's sets PYTHONDONTWRITEBYTECODE):
# without it every process the tests start (pool and Dask workers, `ketl` subprocesses,
# their servers) compiled ketl's sources anew, 0.25 CPU s each. This process now writes
# the .pyc of the modules it imports (src/ketl/__pycache__, git-ignored) and the processes
# it starts read them (and write the rest); what runs is the same code.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def shared_required() -> bool:
    """CI has ../shared and must run every test that needs it: a missing file fails there."""
    return _env_flag("CI") or _env_flag("KETL_REQUIRE_SHARED")


def shared_path(*parts: str | Path) -> Path:
    """A file or folder under ../shared (parts relative to it, or a path inside it).

    Missing, it skips the calling test with a one-line reason, or fails it when
    ``shared_required()``; call it in the test or fixture, never at import, so
    collection works in any clone."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"needs ../{os.path.relpath(path, SHARED.parent)} (the shared benchmarks beside the repository)"
        if shared_required():
            pytest.fail(f"{reason}; CI runs every test (CI or KETL_REQUIRE_SHARED is set)", pytrace=False)
        pytest.skip(reason)
    return path


def texts_in_many_scripts(aeb_limit: int | None = None) -> list[str]:
    """Real text in many scripts for fast-path-vs-reference tests: the seeds,
    tests/data/multilingual and (the first ``aeb_limit``) AEB gold bodies; the
    AEB bodies are required on CI (``shared_path``), optional elsewhere."""
    import json

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((REPO / "tests" / "data" / "multilingual").rglob("*.txt"))]
    truth = SHARED / "bench" / "aeb" / "ground-truth.json"
    if truth.is_file() or shared_required():
        data = json.loads(shared_path(truth).read_text(encoding="utf-8"))
        data = data.get("output", data)
        texts += [v if isinstance(v, str) else v.get("articleBody") or "" for v in list(data.values())[:aeb_limit]]
    return [t for t in texts if t]


def pytest_configure(config):
    config.addinivalue_line("markers", "shared(*paths): the test reads these paths under ../shared; "
                                       "skipped when they are missing (failed on CI)")


def pytest_runtest_setup(item):
    if _EARLY.get("dask at") == item.nodeid:  # the session's Dask cluster, as its users draw near
        _EARLY["dask"] = _dask_boot(_EARLY.pop("dask url"))
    for key, start, stop in _STARTS_AT.pop(item.nodeid, []):  # work whose test draws near
        try:
            _STARTED_EARLY[key] = (start(), stop)
        except Exception as exc:  # noqa: BLE001 - raised in the test that takes it, not in this one
            _STARTED_EARLY[key] = (exc, lambda exc: None)
    for mark in item.iter_markers("shared"):
        for part in mark.args or ("",):
            shared_path(part)


def _missing_shared_file(call) -> str | None:
    """The ../shared path a test failed to open while ../shared is absent, if that is why it failed."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if not isinstance(exc, FileNotFoundError) or not exc.filename or SHARED.exists():
        return None
    path = Path(os.fsdecode(exc.filename)).absolute()
    return os.path.relpath(path, SHARED.parent) if path.is_relative_to(SHARED) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    path, lineno = item.reportinfo()[:2]
    # A test reading ../shared without shared_path() skips all the same (a safety
    # net for new tests); on CI the failure stands.
    missing = _missing_shared_file(call) if report.failed and not shared_required() else None
    if missing:
        report.outcome = "skipped"
        report.longrepr = (str(path), (lineno or 0) + 1,
                           f"Skipped: needs ../{missing} (the shared benchmarks beside the repository)")
    # A skip raised in shared_path() is reported at conftest.py: point at the test instead.
    elif report.skipped and isinstance(report.longrepr, tuple) and "needs ../shared/" in report.longrepr[2]:
        report.longrepr = (str(path), (lineno or 0) + 1, report.longrepr[2])


def seed_texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


class _ServerBoot:
    """The session's temporary Prefect server, booting in its own process while this one
    goes on (the boot is 10-26 s here, most of it imports in that process). Prefect's own
    test harness, split in two: ``prefect_test_harness`` waits for the server at once."""

    def __init__(self, folder: Path):
        from prefect.server.api.server import SubprocessASGIServer
        from prefect.testing.utilities import _find_available_port

        self.db = folder / "prefect.db"
        self.server = SubprocessASGIServer(port=_find_available_port())
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._boot, name="prefect-server-boot", daemon=True)
        self.thread.start()
        # Back to the tests only once the server's process has started, with this moment's
        # environment: a test that sets os.environ for a while cannot give it a torn copy.
        while self.thread.is_alive() and self.server.server_process is None:
            time.sleep(0.005)

    def _boot(self) -> None:
        from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

        try:  # a database of its own, as the harness gives it
            with temporary_settings(updates={PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{self.db}"}):
                self.server.start(timeout=120)
        except BaseException as exc:  # raised where a test waits for the server
            self.error = exc

    def wait(self) -> str:
        """The server's API URL, once it answers."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.server.api_url


_EARLY: dict[str, object] = {}
DASK_LEAD = 40  # tests between the session Dask cluster's start and its first user: seconds here
# Tests between the start of work a test only waits for and that test: a pool's workers
# take 3-20 s here to spawn, import and warm up, a probe process seconds of imports,
# which the test otherwise waited for; started this far ahead, it runs beside the tests
# before. Idle, warm pool workers cost no CPU (no heartbeats), only their memory.
LEAD = 60
_STARTS_AT: dict[str, list] = {}  # nodeid -> [(key, start, stop)]: what to start as it sets up
_STARTED_EARLY: dict[str, tuple] = {}  # key -> (what start() gave, stop), until a test takes it


def start_before(items, key: str, start, stop, lead: int = LEAD) -> None:
    """For a module's ``start_early(items)``: ``start()`` as the test ``lead`` tests before
    the first of ``items`` sets up; ``take_started(key, start)`` gives its result to the
    test, ``stop(result)`` ends it if the session ends first."""
    if not items or key in _STARTED_EARLY or any(key == k for at in _STARTS_AT.values() for k, _, _ in at):
        return
    session_items = items[0].session.items
    first = min(session_items.index(item) for item in items)
    _STARTS_AT.setdefault(session_items[max(0, first - lead)].nodeid, []).append((key, start, stop))


def take_started(key: str, start):
    """What ``start_before`` started for ``key``, or ``start()`` now when it was not (the
    test selected alone, or first: a -k selection)."""
    for at in _STARTS_AT.values():  # not started yet: drop it
        at[:] = [entry for entry in at if entry[0] != key]
    found = _STARTED_EARLY.pop(key, None)
    if found is None:
        return start()
    if isinstance(found[0], Exception):
        raise found[0]
    return found[0]


def pool_early(items, key: str, factory, lead: int = LEAD) -> None:
    """``start_before`` for a ``ComputePool``: ``factory()`` (a pool not yet started) started
    and off the Ctrl-C stoppers (``_detached``), its workers spawning and warming up beside
    the tests before its first user; ``take_pool(key, factory)`` gives it to its test."""
    start_before(items, key, lambda: _detached(factory().start()), _end_pool, lead)


def take_pool(key: str, factory):
    """The pool ``pool_early`` started for ``key``, or ``factory()`` not started when none
    was. Either way a pool of the test's own: its ``with`` block, or ``close()``, ends it."""
    return take_started(key, factory)


def _end_pool(pool) -> None:
    pool.stop_now()
    pool.close()


def _detached(pool):
    """``pool`` off the Ctrl-C stoppers its start put it on: tests call every stopper (as
    the handler does) to stop their own pools, and must not end one waiting for its test.
    Its workers still end with this process (exit_with_parent)."""
    pool._off()
    pool._off = lambda: None
    return pool


def pytest_collection_finish(session):
    """Start, before the first test, the work in other processes that selected tests will
    only wait for, so it runs beside the tests that come first instead of before them:
    the session's Prefect server if a test uses it, and what a test module's
    ``start_early(items)`` starts for its selected tests."""
    if session.config.option.collectonly or not session.items:
        return
    if any("_prefect_server" in item.fixturenames for item in session.items):
        folder = Path(tempfile.mkdtemp(prefix="session-server-", dir=_PREFECT_HOME))
        _EARLY["server"] = _EARLY["session server"] = boot = _ServerBoot(folder)
        # The modules' work that needs the server starts as soon as it answers, not when
        # its first user comes (a quarter of the suite in): more of it then runs beside
        # the in-process tests that come first.
        _EARLY["environ"] = dict(os.environ)
        _EARLY["copied"] = threading.Event()
        _EARLY["server up"] = threading.Thread(target=_when_up, args=(boot, list(session.items)),
                                               name="prefect-server-up", daemon=True)
        _EARLY["server up"].start()
        first = next((k for k, item in enumerate(session.items) if "dask_cluster" in item.fixturenames), None)
        if first is not None and find_spec("prefect_dask"):
            # Not now: idle, the cluster costs a tenth of a core (heartbeats, 6 CPU s a
            # minute here), and its first user came a quarter of the suite after
            # collection. Its start (4 s) runs beside the tests just before that user.
            _EARLY["dask at"] = session.items[max(0, first - DASK_LEAD)].nodeid
            _EARLY["dask url"] = boot.server.api_url  # known before the server answers
    pool_early([item for item in session.items if "_two_workers" in item.fixturenames], _TWO_WORKERS, _two_pool)
    by_module: dict[object, list] = {}
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "start_early"):
            by_module.setdefault(module, []).append(item)
    for module, items in by_module.items():
        module.start_early(items)


def _migrated_copy(db: Path, copy: Path) -> None:
    import sqlite3

    src, dst = sqlite3.connect(db), sqlite3.connect(copy)
    try:
        src.backup(dst)  # consistent while the server writes, unlike a file copy
    finally:
        src.close()
        dst.close()


def _when_up(boot: _ServerBoot, items: list) -> None:
    """Once the session's server answers: its migrated copy, then the modules'
    ``start_with_server`` (in this thread; the ``_prefect_server`` fixture waits for it)."""
    try:
        url = boot.wait()
    except BaseException:  # noqa: BLE001 - raised again where the fixture waits for the server
        _EARLY["copied"].set()
        return
    copy = boot.db.with_name("migrated-copy.db")
    try:
        _migrated_copy(boot.db, copy)
    finally:
        _EARLY["copied"].set()
    _call_modules(items, "start_with_server", (url, copy))


def session_server_url() -> str | None:
    """The session's Prefect server's API URL once it answers, for work started ahead of
    its test (``start_before``); None when no selected test uses that server."""
    boot = _EARLY.get("session server")
    if boot is None:
        return None
    url = boot.wait()
    # Not before the migrated copy is taken: the copy must hold no deployment or
    # run that work started early writes.
    _EARLY["copied"].wait()
    return url


def session_environ() -> dict[str, str]:
    """The environment for work started in the background: os.environ as the session
    started (after collection), not as a test has set it for a moment."""
    return dict(_EARLY.get("environ") or os.environ)


def _call_modules(items, hook: str, arg) -> None:
    """Each test module's ``hook(its selected items, arg)``, for the work in other processes
    its selected tests only wait for, to run beside the tests that follow:
    ``start_with_server(items, (API URL, migrated database))`` once the session's server is
    up, ``start_with_seed_dataset(items, (raw, curated, API URL, migrated database))`` once
    the session's seed dataset is (``_seed_dataset``)."""
    by_module: dict[object, list] = {}
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, hook):
            by_module.setdefault(module, []).append(item)
    for module, selected in by_module.items():
        getattr(module, hook)(selected, arg)


class _Lane:
    """One thread running the jobs given it one at a time, the job whose first test comes
    first in the session first; the thread ends when none is left (nothing to stop)."""

    def __init__(self) -> None:
        self.jobs: list = []  # heap of (order, sequence, future, fn, args)
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.given = itertools.count()  # among jobs of the same order, the first given first

    def submit(self, order: int, fn, args) -> Future:
        future: Future = Future()
        with self.lock:
            heapq.heappush(self.jobs, (order, next(self.given), future, fn, args))
            if self.thread is None:
                self.thread = threading.Thread(target=self._work, name="ketl-background")
                self.thread.start()
        return future

    def cancel_pending(self) -> None:
        """Drop the jobs not yet started (the one running ends on its own)."""
        with self.lock:
            for _, _, future, _, _ in self.jobs:
                future.cancel()

    def _work(self) -> None:
        while True:
            with self.lock:
                if not self.jobs:
                    self.thread = None
                    return
                _, _, future, fn, args = heapq.heappop(self.jobs)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # raised where the test waits for it
                future.set_exception(exc)


_LANE = _Lane()


def pytest_sessionfinish(session):
    # A session stopped early (-x, a Ctrl-C) has queued background jobs no test will read:
    # without this, the interpreter's exit waited for all of them (minutes of real runs).
    _LANE.cancel_pending()
    for started, stop in _STARTED_EARLY.values():  # started for tests the session did not reach
        stop(started)
    _STARTED_EARLY.clear()


def in_background(fn, *args, needed_by=None) -> Future:
    """``fn(*args)`` in the session's one background thread, one job at a time, the job
    ``needed_by`` (a test item) first needs soonest first.

    For work in other processes that tests only wait for (runs that start their own
    temporary server, killed or interrupted runs): it goes on while this process runs the
    tests between, on the other core. One at a time: two temporary servers starting side
    by side slow each other (and the kill test bounds how long a run's children outlive it)."""
    order = needed_by.session.items.index(needed_by) if needed_by is not None else -1
    return _LANE.submit(order, fn, args)


def start_once_in_lane(slot: list, items, test_name: str, fn, prefix: str, api: str) -> None:
    """``fn(scratch root, api, session_environ())`` in the lane, kept in ``slot`` as
    ``[(future, scratch root)]``, if a test named ``test_name`` is among ``items`` and it
    has not started yet (a module's ``start_with_server``; its fixture calls it again in
    case the session's server came up without it)."""
    users = [item for item in items if item.originalname == test_name]
    if slot or not users:
        return
    root = Path(tempfile.mkdtemp(prefix=prefix))
    slot.append((in_background(fn, root, api, session_environ(), needed_by=users[0]), root))


def lane_result(slot: list, timeout: float):
    """For a fixture: yield the result of the lane job kept in ``slot`` as ``[(future,
    scratch root)]``, then delete its scratch root and empty the slot."""
    future, root = slot[0]
    try:
        yield future.result(timeout=timeout)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        slot.clear()


@pytest.fixture(scope="session")
def _prefect_server(request):
    """One temporary Prefect server for the session: (API URL, a copy of its
    database taken right after its start-up: migrated, blocks registered, no runs)."""
    from contextlib import ExitStack

    import prefect.context
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.utilities.asyncutils import run_coro_as_sync

    boot = _EARLY.pop("server", None) or _ServerBoot(Path(tempfile.mkdtemp(prefix="session-server-",
                                                                           dir=_PREFECT_HOME)))
    up = _EARLY.pop("server up", None)
    if up is not None:
        up.join()
    url = boot.wait()
    copy = boot.db.with_name("migrated-copy.db")
    if not copy.exists():
        _migrated_copy(boot.db, copy)
    prior = SubprocessASGIServer._instances.get(None)
    try:
        with ExitStack() as stack:
            # what prefect_test_harness does once its server answers: this process's runs
            # use it, and Prefect code asking for "the" temporary server gets this one
            stack.enter_context(temporary_settings(updates={PREFECT_API_URL: url}))
            global_context = getattr(prefect.context, "_temporary_global_settings_context", None)
            if global_context is not None:
                stack.enter_context(global_context(prefect.context.get_settings_context()))
            SubprocessASGIServer._instances[None] = boot.server
            _call_modules(request.session.items, "start_with_server", (url, copy))
            yield url, copy

            async def drain() -> None:  # the logs and events still queued, before the server goes
                try:
                    result = APILogWorker.instance().drain()
                    if inspect.isawaitable(result):
                        await result
                except RuntimeError:
                    pass  # no log worker was started
                result = EventsWorker.drain_all()
                if inspect.isawaitable(result):
                    await result
            run_coro_as_sync(drain())
    finally:
        boot.server.stop()
        if prior is not None:
            SubprocessASGIServer._instances[None] = prior
        else:
            SubprocessASGIServer._instances.pop(None, None)


@pytest.fixture(scope="session")
def prefect_api(_prefect_server) -> str:
    """The session's temporary Prefect server; its API URL.

    Subprocess runs (crash tests) reuse it through PREFECT_API_URL instead of
    starting their own."""
    return _prefect_server[0]


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "raw"
    shutil.copytree(RAW, dst)
    return dst


@pytest.fixture(scope="session")
def _seed_dataset(request, tmp_path_factory, _prefect_server) -> tuple[Path, Path]:
    """raw/ and the dataset one ``ketl run --workers 1`` makes of it, built once.

    Many tests start from "the seeds, curated once" and then damage, kill or
    extend that dataset: a copy of this one is the same start for milliseconds
    instead of a run (2-7 s each here)."""
    from typer.testing import CliRunner

    from ketl.cli import app

    root = tmp_path_factory.mktemp("seed-dataset")
    raw, out = root / "raw", root / "curated"
    shutil.copytree(RAW, raw)
    res = CliRunner().invoke(app, ["run", "--raw", str(raw), "--out", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    _call_modules(request.session.items, "start_with_seed_dataset", (raw, out, *_prefect_server))
    return raw, out


@pytest.fixture
def seeded(tmp_path: Path, _seed_dataset) -> tuple[Path, Path]:
    """(raw, curated) in ``tmp_path``: the five seeds after one committed run, as if
    this test had run ``ketl run --raw raw --out curated --workers 1`` itself.

    copy2 keeps raw/'s mtimes, so the next run skips the seeds by their stat as it
    would in place; the dataset's links are relative and copied as links."""
    return copy_seed_dataset(_seed_dataset, tmp_path)


def copy_seed_dataset(seed_dataset: tuple[Path, Path], dest: Path) -> tuple[Path, Path]:
    """``seeded`` into ``dest`` (for module fixtures): (dest/raw, dest/curated)."""
    raw, out = seed_dataset
    shutil.copytree(raw, dest / "raw")
    shutil.copytree(out, dest / "curated", symlinks=True)
    return dest / "raw", dest / "curated"


@pytest.fixture
def prefect_home(tmp_path: Path, _prefect_server) -> Path:
    """A ``PREFECT_HOME`` of its own for a run that starts its own temporary server
    (as a user's run without PREFECT_API_URL does), whose database is already
    migrated: the server still starts, stops and is signalled like a user's, but
    skips the migrations of a first ever start (several seconds of a cold start).
    Tests about that first start-up itself use an empty folder instead."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    shutil.copy(_prefect_server[1], home / "prefect.db")
    return home


class _DaskBoot:
    """A Dask cluster started on its own, as a user's would be: ``dask scheduler`` and
    ``dask worker --nworkers 2 --nthreads 1`` (two single-threaded worker processes) in
    ``home``, a folder that is not the tests', their workers' tasks reporting to ``api_url``.
    It starts in other processes at once; ``address()`` waits for it."""

    def __init__(self, home: Path, api_url: str):
        self.home, self.api_url = home, api_url
        self.file = home.parent / "scheduler.json"
        self.log = open(home.parent / "dask.log", "w")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PREFECT_API_URL": api_url}
        # --dashboard-address :0: the scheduler's HTTP server on a free port. On 8787 it
        # stays for the session, and every later Dask cluster (a `ketl run --runner dask`
        # under test) warns "Port 8787 is already in use" on its stderr.
        commands = (["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--dashboard-address", ":0", "--scheduler-file", str(self.file)],
                    ["distributed.cli.dask_worker", "--scheduler-file", str(self.file), "--host", "127.0.0.1",
                     "--nworkers", "2", "--nthreads", "1"])
        self.procs = [subprocess.Popen([sys.executable, "-m", *args], cwd=home, env=env, stdout=self.log,
                                       stderr=subprocess.STDOUT, start_new_session=True) for args in commands]
        # In sessions of their own, nothing else ends them: a session that stops before the
        # fixture's teardown (an error in a later module's start_early, a Ctrl-C) left them
        # running for good.
        atexit.register(self.stop)

    def address(self, timeout: float = 120) -> str:
        """The scheduler's address, once both workers have joined it."""
        from distributed import Client

        with Client(scheduler_file=str(self.file), timeout=timeout) as client:
            client.wait_for_workers(2, timeout=timeout)
            # what the relative-path tests rely on: the workers run in ``home``
            assert set(client.run(os.getcwd).values()) == {str(self.home)}
            return client.scheduler.address

    def stop(self) -> None:
        if self.log.closed:
            return  # stopped after its last test already
        for proc in reversed(self.procs):  # the workers first, then the scheduler
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.log.close()


def _dask_boot(api_url: str) -> _DaskBoot:
    home = Path(tempfile.mkdtemp(prefix="dask-cluster-")) / "workers-home"
    home.mkdir()
    return _DaskBoot(home, api_url)


@pytest.fixture(scope="session")
def dask_cluster(prefect_api) -> tuple[str, Path]:
    """(address, the workers' working folder) of a Dask cluster started on its own,
    as a user's would be, that runs reach by its address (``_DaskBoot``). One for the
    session, started after collection beside the first tests (each start cost 5-12 s
    here); nothing a test does changes it."""
    pytest.importorskip("prefect_dask")
    boot = _EARLY.pop("dask", None)
    if boot is not None and boot.api_url != prefect_api:  # the server took another port at its start
        boot.stop()
        boot = None
    boot = boot or _dask_boot(prefect_api)
    _EARLY["dask running"] = boot
    try:
        yield boot.address(), boot.home
    finally:
        boot.stop()
        shutil.rmtree(boot.home.parent, ignore_errors=True)


_TWO_WORKERS = "the session's two workers"


def _two_pool():
    from ketl.flows.pool import ComputePool

    return ComputePool(2)


@pytest.fixture(scope="session")
def _two_workers():
    """One ``ComputePool(2)`` for the session, started and warmed once (3.5 CPU s a pool
    here), for the tests about what an open pool does with its workers."""
    # started LEAD tests before its first user (pytest_collection_finish), or now
    pool = _detached(take_pool(_TWO_WORKERS, _two_pool).start())
    assert pool.ready(180), "the session's two pool workers did not start"
    _EARLY["pool running"] = pool
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def pool_of(_two_workers):
    """``pool_of(n)`` for ``ComputePool(n)`` in a test of what an open pool does (compute,
    compute_each, retries): with two workers, a pool of the test's own (its own batches
    done, its own context) over the session's two warm worker processes, which its
    ``with`` block leaves running. Tests of a pool's start, close or stop make their own."""
    from ketl.flows.pool import ComputePool

    class Borrowed(ComputePool):
        def __init__(self) -> None:
            super().__init__(2)
            self._executor = _two_workers._executor  # start() then has nothing to start

        def close(self) -> None:
            self._executor = None  # the workers are the session's

    assert _two_workers._executor is not None, "the session's pool was stopped before a test that uses it"
    return lambda workers: Borrowed() if workers == 2 else ComputePool(workers)


# fixture a test uses -> what _EARLY holds while it runs, stopped after its last test
_STOP_AFTER_LAST_USER = {"dask_cluster": ("dask running", lambda boot: boot.stop()),
                         "_two_workers": ("pool running", lambda pool: pool.close())}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """The session's Dask cluster and pool workers stop after the last selected test that
    uses them: idle, the cluster's scheduler and workers still cost 8 % of a core
    (heartbeats), and the pool's workers hold their tables, for the rest of the session
    otherwise."""
    yield
    for fixture, (key, stop) in _STOP_AFTER_LAST_USER.items():
        if key in _EARLY and not any(fixture in later.fixturenames
                                     for later in item.session.items[item.session.items.index(item) + 1:]):
            stop(_EARLY.pop(key))
