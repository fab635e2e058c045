"""The run's worker pool starts before Prefect and warms up while Prefect's server starts (issue 15).

``ketl run`` starts the pool early (ketl.flows.pool.start_early), each worker
compiling the run's resources and filling the stages' lazy caches
(ketl.run.warm); the flow adopts that pool; Ctrl-C stops it from the moment it
exists; a warm-up changes no result and a failing one fails nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from conftest import SEEDS, in_background, lane_result, session_environ, start_before, take_started
from ketl.run.watchdog import running

REPO = Path(__file__).resolve().parents[1]


def _pid() -> int:
    return os.getpid()


def _worker_state() -> dict:
    """What a worker holds: the compiled resources' key and the lazy tables' cache sizes."""
    from ketl.run.batch import PROCESS_RESOURCES
    from ketl.stages.boilerplate import classifier, metadata
    from ketl.stages.quotes import stage as quotes

    return {"pid": os.getpid(), "resources": PROCESS_RESOURCES._key,
            "place names": metadata._place_names.cache_info().currsize,
            "stop words": classifier._stop_index.cache_info().currsize,
            "quote lexicon": quotes._lexicon.cache_info().currsize}


def test_the_early_pool_is_warm_for_the_run_and_the_flow_adopts_it():
    from ketl.flows.pool import CURRENT, compute, for_run, start_early
    from ketl.run import interrupt
    from ketl.settings import Settings

    settings = Settings(skip=("dedup",))  # not the default: the warm-up must compile these settings
    key = settings.config_hash()
    with start_early(2, settings, key) as early:
        assert early.stop_now in interrupt._stoppers  # Ctrl-C stops it from the start, not from the flow on
        assert early.ready(timeout=180)
        with for_run(2) as pool:
            assert pool is early and CURRENT.get() is early
            states = [compute(_worker_state) for _ in range(6)]
        assert CURRENT.get() is None
        assert len({s["pid"] for s in states} - {os.getpid()}) >= 1
        for s in states:
            assert s == {"pid": s["pid"], "resources": key, "place names": 1, "stop words": 1, "quote lexicon": 1}
        with for_run(3) as other:  # another worker count: a pool of its own, closed with the run
            assert other is not early and compute(_pid) != os.getpid()
        assert other._executor is None
    assert early.stop_now not in interrupt._stoppers and early._executor is None


def test_the_early_pool_ends_at_once_when_the_run_never_starts():
    from ketl.flows.pool import start_early
    from ketl.settings import Settings

    t = time.monotonic()
    with pytest.raises(SystemExit):
        with start_early(2, Settings(), None) as early:
            procs = list(early._executor._processes.values())
            raise SystemExit(2)  # a usage error found after the pool started
    assert time.monotonic() - t < 10
    assert procs and not any(p.is_alive() for p in procs)


def test_stop_now_ends_warming_workers_as_ctrl_c_does():
    from ketl.flows.pool import start_early
    from ketl.run import interrupt
    from ketl.settings import Settings

    with start_early(2, Settings(), None) as early:
        procs = list(early._executor._processes.values())
        t = time.monotonic()
        for stop in list(interrupt._stoppers):  # what the Ctrl-C handler does first
            stop()
        assert time.monotonic() - t < 3 and not any(running(p.pid) for p in procs)


def test_a_failing_warm_up_fails_nothing(tmp_path):
    """A gazetteer that cannot be read: the warm-up gives up quietly, the pool works,
    and the batch that needs the gazetteer is where the error shows."""
    from ketl.flows.pool import compute, for_run, start_early
    from ketl.run.batch import resources
    from ketl.settings import Settings

    bad = Settings(gazetteer_files=(str(tmp_path / "missing.toml"),))
    with start_early(2, bad, "some-hash") as early:
        assert early.ready(timeout=180)
        with for_run(2):
            assert compute(_pid) != os.getpid()
            with pytest.raises(Exception, match="missing.toml"):
                compute(resources, bad, "some-hash")


def _stage_outputs(raw: str) -> list:
    """Every stage's output on the articles under ``raw``, as plain values."""
    from ketl.ingest.read import read_units
    from ketl.ingest.scan import scan
    from ketl.run.batch import resources
    from ketl.settings import Settings
    from ketl.stages import stages_of_step

    settings = Settings()
    res = resources(settings, settings.config_hash())
    docs = read_units(Path(raw), scan(Path(raw), False), settings.max_file_bytes).docs
    for step in ("prepare", "finish"):
        for stage in stages_of_step(step):
            docs = stage.run(docs, res)
    return [(d.doc_id, d.text, d.meta, d.edits, d.quotes, d.entities, d.suggestions) for d in docs]


def _warm_then(raw: str) -> list:
    from ketl.run.warm import warm_worker
    from ketl.settings import Settings

    settings = Settings()
    warm_worker(settings, settings.config_hash())
    return _stage_outputs(raw)


_COLD_AND_WARM = "test_the_warm_up_changes_no_result"


def _cold_and_warm() -> tuple:
    """The test below's input in a folder of its own, and a fresh process computing each
    side: (raw, (cold executor, warm executor), (cold future, warm future))."""
    raw = Path(tempfile.mkdtemp(prefix="ketl-warm-up-")) / "raw"
    raw.mkdir()
    for p in sorted(SEEDS.glob("*.txt")):
        (raw / p.name).write_bytes(p.read_bytes())
    from ketl.run.warm import _ARTICLES

    for name, data in _ARTICLES.items():  # the warm-up's own articles, as input too
        (raw / f"warm-{name}").write_bytes(data)
    spawn = multiprocessing.get_context("spawn")
    cold, warm = ProcessPoolExecutor(1, mp_context=spawn), ProcessPoolExecutor(1, mp_context=spawn)
    return raw, (cold, warm), (cold.submit(_stage_outputs, str(raw)), warm.submit(_warm_then, str(raw)))


def _end_cold_and_warm(started: tuple) -> None:
    raw, executors, _ = started
    for executor in executors:
        executor.shutdown(wait=True, cancel_futures=True)
    shutil.rmtree(raw.parent, ignore_errors=True)


def start_early(items) -> None:
    """conftest calls this after collection: the two processes of the test below start
    some tests before it (conftest.start_before), their imports and stages beside those
    tests instead of while pytest waits."""
    start_before([item for item in items if item.name == _COLD_AND_WARM], _COLD_AND_WARM, _cold_and_warm,
                 _end_cold_and_warm)


def test_the_warm_up_changes_no_result():
    """The seeds and a few AEB-like pages in several scripts, cold and warmed, each in a fresh process."""
    started = take_started(_COLD_AND_WARM, _cold_and_warm)
    raw, _, (a, b) = started
    try:
        cold_out, warm_out = a.result(timeout=300), b.result(timeout=300)
        assert len(cold_out) == len(list(raw.iterdir())) >= 10
    finally:
        _end_cold_and_warm(started)
    assert any(o[3] for o in cold_out) and any(o[4] for o in cold_out)  # edits and quotes to compare
    assert warm_out == cold_out


def _two_real_runs(root: Path, migrated_db: Path, api: str, env: dict) -> dict:
    """A ``ketl run --workers 2`` of the seeds with KETL_TIMELINE on its own temporary server
    (a migrated database: no first-start migrations), as a user's run; then one finding
    nothing new, on the session's server (``api``). What the test below reads."""
    raw, out, trace, home = root / "raw", root / "out", root / "timeline.tsv", root / "prefect-home"
    raw.mkdir()
    home.mkdir()
    shutil.copy(migrated_db, home / "prefect.db")  # as ``prefect_home`` gives it
    for p in sorted(SEEDS.glob("*.txt")):
        (raw / p.name).write_bytes(p.read_bytes())
    env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    env.update(PYTHONPATH=str(REPO / "src"), PREFECT_HOME=str(home), KETL_TIMELINE=str(trace))
    found = {"raw": raw, "out": out, "trace": trace, "t0": time.time()}
    found["first"] = subprocess.run([sys.executable, "-m", "ketl.cli", "run", "--raw", str(raw), "--out", str(out),
                                     "--workers", "2"], env=env, capture_output=True, text=True, timeout=600, cwd=root)
    if found["first"].returncode != 0:
        return found
    # the first run's timeline as it was then: the second run adds its own events to the file
    found["trace"] = shutil.copy(trace, root / "timeline-first-run.tsv")
    from ketl.run.processed import PROCESSED_FILE, load_processed

    state = (out / ".ketl" / "current").resolve() / "_state"
    found["state"], found["before"], found["inode"] = state, load_processed(state), (state / PROCESSED_FILE).stat().st_ino
    # one worker: the state is the point here, and each early worker warms up (about 5 CPU s)
    found["again"] = subprocess.run([sys.executable, "-m", "ketl.cli", "run", "--raw", str(raw), "--out", str(out),
                                     "--workers", "1"], env={**env, "PREFECT_API_URL": api},  # the session's server
                                    capture_output=True, text=True, timeout=600, cwd=root)
    return found


_RUNS: list = []  # the two runs' Future and folder, once started
_SLOW = "test_ketl_run_starts_the_pool_before_prefect_and_the_workers_warm_up"


def start_with_server(items, server: tuple[str, Path]) -> None:
    """Called by conftest.py once the session's server is up: the two real runs below go
    in the background lane then (seconds of new processes importing Prefect, a temporary
    server's start-up), beside the tests before this module's."""
    users = [item for item in items if item.originalname == _SLOW]
    if _RUNS or not users:
        return
    root = Path(tempfile.mkdtemp(prefix="ketl-warm-start-"))
    # session_environ(), not os.environ: tests change that for a moment now and then
    _RUNS.append((in_background(_two_real_runs, root, server[1], server[0], session_environ(), needed_by=users[0]),
                  root))


@pytest.fixture
def two_real_runs(request, _prefect_server):
    start_with_server([request.node], _prefect_server)
    yield from lane_result(_RUNS, timeout=1200)


@pytest.mark.slow
def test_ketl_run_starts_the_pool_before_prefect_and_the_workers_warm_up(two_real_runs):
    """A real run with KETL_TIMELINE: the pool starts before Prefect is even imported,
    both workers warm up, the flow (Prefect up) uses them, the run commits."""
    from ketl.run.timeline import read

    found = two_real_runs
    raw, out, trace, done = found["raw"], found["out"], found["trace"], found["first"]
    assert done.returncode == 0, done.stderr[-3000:]
    events = read(str(trace), found["t0"])
    names = [e for e, _, _ in events]
    at = {e: t for e, t, _ in events}
    assert names[0] == "cli started" and names[-1] == "cli done"
    assert at["pool started"] < at["prefect imported"] < at["flow started"] < at["first batch done (read)"] \
        < at["committed"] < at["flow returned"] <= at["pool closed"] <= at["cli done"]
    warm = [(t, pid) for e, t, pid in events if e == "worker warm"]
    main = {pid for e, _, pid in events if e == "cli started"}
    assert len(warm) == 2 and not main & {pid for _, pid in warm}  # two worker processes, not the CLI
    assert (out / ".ketl" / "current").exists()
    assert "articles written" in done.stdout  # the summary, flushed before the quick exit

    # a run that finds nothing new keeps the processed-files state as stored (linked, not rewritten)
    from ketl.run.processed import PROCESSED_FILE, load_processed

    state, before, inode, again = found["state"], found["before"], found["inode"], found["again"]
    assert again.returncode == 0, again.stderr[-3000:]
    state2 = (out / ".ketl" / "current").resolve() / "_state"
    assert state2 != state and (state2 / PROCESSED_FILE).stat().st_ino == inode
    assert load_processed(state2) == before and len(before) == len(list(raw.iterdir()))


def test_a_finished_run_exits_without_teardown_but_with_every_exit_step():
    """exit_now: non-daemon threads finish and atexit hooks run (Prefect stops its server
    there), stdout is flushed, the exit code is kept; only the interpreter's teardown is skipped."""
    code = """
import atexit, sys, threading, time
from ketl.cli.run import exit_now
atexit.register(lambda: print("atexit hook ran"))
threading.Thread(target=lambda: (time.sleep(0.3), print("thread finished"))).start()
sys.stdout.write("unflushed summary")
exit_now(int(sys.argv[1]) if sys.argv[1].isdigit() else sys.argv[1])
print("never")
"""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    for arg, status in (("0", 0), ("1", 1), ("usage message", 1)):
        done = subprocess.run([sys.executable, "-c", code, arg], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == status, done.stderr
        assert "unflushed summary" in done.stdout and "thread finished" in done.stdout
        assert "atexit hook ran" in done.stdout and "never" not in done.stdout
        assert ("usage message" in done.stderr) == (arg == "usage message")


def test_only_a_finished_run_takes_the_quick_exit(tmp_path):
    """A usage error, or a command other than run, exits the ordinary way (exit code kept)."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PYTHONPATH=str(REPO / "src"), PREFECT_HOME=str(tmp_path / "ph"))
    done = subprocess.run([sys.executable, "-m", "ketl.cli", "run", "--raw", str(tmp_path / "nowhere")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "does not exist" in done.stderr


def _place_names_loaded(settings) -> int:
    from ketl.run.warm import warm_worker
    from ketl.stages.boilerplate import metadata

    metadata._place_names.cache_clear()  # a pool worker of the session's: as a fresh process has them
    warm_worker(settings, settings.config_hash())
    return metadata._place_names.cache_info().currsize


def test_a_skipped_stage_is_not_warmed(pool_of):
    """Its tables would only take memory (boilerplate's place names: 33 MB)."""
    from ketl.settings import Settings

    with pool_of(2) as pool:
        skipped = pool.compute(_place_names_loaded, Settings(skip=("boilerplate",)))
        running = pool.compute(_place_names_loaded, Settings())
        assert (skipped, running) == (0, 1)


def _quotes_lexicon_after_stage_warm_ups(skip: tuple[str, ...]) -> int:
    from ketl.run.warm import _stage_warm_ups
    from ketl.settings import Settings
    from ketl.stages.quotes import stage as quotes_stage

    quotes_stage._lexicon.cache_clear()
    settings = Settings(skip=skip)
    _stage_warm_ups(settings, settings.config_hash())
    return quotes_stage._lexicon.cache_info().currsize


def test_the_stage_warm_ups_build_the_quote_lexicon_unless_quotes_are_skipped(pool_of):
    # The quote stage's lexicon (about 7 ms) was built inside each worker's first batch.
    # (In a pool worker of the session: the helper empties the cache first.)
    with pool_of(2) as pool:
        assert pool.compute(_quotes_lexicon_after_stage_warm_ups, ()) == 1
        assert pool.compute(_quotes_lexicon_after_stage_warm_ups, ("quotes",)) == 0


def _batch_tables(raw: str, staging: str) -> tuple[bool, dict]:
    """prepare_batch + finish_batch over ``raw``: every table written, as rows; and
    whether this process loaded pandas."""
    from datetime import datetime, timezone

    import pyarrow.parquet as pq

    from ketl.ingest.scan import scan
    from ketl.run import batch
    from ketl.settings import Settings

    settings = Settings(raw=raw)
    ctx = batch.RunContext(run_id="nopandas", raw=raw, staging=staging, settings=settings,
                           config_hash=settings.config_hash(), started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    batch.prepare_batch(ctx, 0, scan(Path(raw), False))
    pq.write_table(batch.merge_site_lines(ctx, None, [0]), ctx.files.site_lines_active())
    batch.finish_batch(ctx, 0)
    tables = {f"{root.name}/{p.relative_to(root)}".split("part-")[0]: [
        {k: v for k, v in r.items() if k != "processed_at"} for r in pq.read_table(p).to_pylist()]
        for root in (Path(staging), ctx.work) for p in sorted(root.rglob("*.parquet"))}
    return "pandas" in sys.modules, tables


def test_pool_workers_run_without_pandas_and_write_the_same_tables(tmp_path, pool_of):
    """pyarrow imports pandas at its first conversion when it is installed (0.47 CPU s
    per worker); the pool's workers tell it pandas is missing (run.warm.keep_pandas_out),
    and their batch steps write exactly what a process with pandas writes."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in sorted(SEEDS.glob("*.txt")):
        (raw / p.name).write_bytes(p.read_bytes())
    (raw / "ru.txt").write_text("Новости\n\nМОСКВА, 3 марта. «Мы продолжим», — заявил министр.\n", encoding="utf-8")
    import pandas  # noqa: F401 - this process has it, as the flow process may

    here = _batch_tables(str(raw), str(tmp_path / "here"))
    with pool_of(2) as pool:  # the session's pool workers: the tables do not depend on the warm-up
        there = pool.compute(_batch_tables, str(raw), str(tmp_path / "there"))
    assert here[0] is True and there[0] is False
    assert len(here[1]) >= 5 and set(there[1]) == {k.replace("here", "there") for k in here[1]}
    assert list(there[1].values()) == list(here[1].values())
    assert sum(len(rows) for rows in here[1].values()) > 50
