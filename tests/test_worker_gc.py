"""The pool workers' collector policy (run/worker_gc.py) and their pandas guard (run/warm.py).

A worker freezes its heap after the warm-up and after each step and collects
young objects rarely: the long-lived tables are not walked inside the stage
timers. Frozen objects are still freed by reference counting; only a cycle
among them would stay, so the tests check on ketl's real steps that almost
none is left behind. No other process takes the policy (a user's notebook
may run ``curate``).
"""

from __future__ import annotations

import gc
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import SEEDS, pool_early, take_pool

MULTILINGUAL = {
    "ru.txt": "Новости дня\n\nМОСКВА, 3 марта. «Мы продолжим переговоры», — заявил министр Сергей Лавров.\n",
    "ar.txt": "قال الوزير إن المحادثات ستستمر في جنيف يوم الأحد.\n\nاقرأ أيضا\n",
    "zh.txt": "外交部发言人表示，谈判将于周日在日内瓦继续。\n\n“我们将继续谈判，”部长说。\n",
    "hy.txt": "Երևան, 3 մարտի. «Մենք կշարունակենք բանակցությունները», - ասաց նախարարը։\n",
}


def _raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in sorted(SEEDS.glob("*.txt")):
        (raw / p.name).write_bytes(p.read_bytes())
    for name, text in MULTILINGUAL.items():
        (raw / name).write_text(text, encoding="utf-8")
    return raw


def _run_steps(raw: str, staging: str, run_id: str, settings=None) -> int:
    """Every batch step of a run over ``raw``, each followed by ``step_done`` as the
    pool's ``traced`` does; the articles written."""
    import pyarrow.parquet as pq

    from ketl.ingest.scan import scan
    from ketl.run import batch, dedup, worker_gc
    from ketl.settings import Settings

    settings = settings or Settings(raw=raw)
    ctx = batch.RunContext(run_id=run_id, raw=raw, staging=staging, settings=settings,
                           config_hash=settings.config_hash(), started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    (Path(staging) / "_state").mkdir(parents=True)
    units = scan(Path(raw), False)
    batches = [0, 1]
    for b in batches:
        batch.prepare_batch(ctx, b, units[b::2])
        worker_gc.step_done()
    pq.write_table(batch.merge_site_lines(ctx, None, batches), ctx.files.site_lines_active())
    articles = 0
    for b in batches:
        articles += batch.finish_batch(ctx, b).articles
        worker_gc.step_done()
    plan = dedup.DedupPlan({n: dedup.register_index(ctx, n, batches, None) for n in dedup.INDEXES})
    shards = [dedup.band_shard(ctx, plan, s) for s in range(dedup.SHARDS)]
    worker_gc.step_done()
    for n in dedup.INDEXES:
        dedup.finalize_half(ctx, n, batches, None, plan, shards, [])
    worker_gc.step_done()
    return articles


def _policy_and_leftovers(raw: str, tmp: str) -> dict:
    """In a pool worker: the collector's settings, then two runs' steps, then what
    the frozen heap held that no collection would ever have freed."""
    import sys

    out = {"threshold": gc.get_threshold(), "frozen_after_warm_up": gc.get_freeze_count(), "on": gc.isenabled()}
    out["articles"] = _run_steps(raw, f"{tmp}/a", "run-a") + _run_steps(raw, f"{tmp}/b", "run-b")
    out["frozen_after_steps"] = gc.get_freeze_count()
    out["pandas"] = "pandas" in sys.modules
    gc.unfreeze()
    out["cycles_left"] = gc.collect()  # unreachable objects the frozen heap kept
    return out


_WARM_POOL = "test_worker_gc's warm pool"
_COLLECTOR_AT_START: list = []  # this process's collector settings as the pool started


def _warm_pool():
    from ketl.flows.pool import ComputePool
    from ketl.settings import Settings

    _COLLECTOR_AT_START.append((gc.get_threshold(), gc.get_freeze_count()))
    settings = Settings()
    return ComputePool(2, (settings, settings.config_hash()))


def start_early(items) -> None:
    """conftest calls this after collection: the warm pool starts LEAD tests (conftest) before its
    first user, its workers warming up (10-20 s here) beside those tests."""
    pool_early([item for item in items if "warm_pool" in item.fixturenames], _WARM_POOL, _warm_pool)


@pytest.fixture(scope="module")
def warm_pool():
    """One warm pool for this file's worker tests (started early, or now)."""
    with take_pool(_WARM_POOL, _warm_pool) as pool:
        assert pool.ready(300)
        yield pool
    # The process that started the pool keeps its own collector as it was.
    assert (gc.get_threshold(), gc.get_freeze_count()) == _COLLECTOR_AT_START.pop()


def test_pool_workers_freeze_their_heap_and_leave_no_garbage_behind(tmp_path, warm_pool):
    from ketl.run import worker_gc

    raw = _raw(tmp_path)
    here = gc.get_threshold(), gc.get_freeze_count()
    there = warm_pool.compute(_policy_and_leftovers, str(raw), str(tmp_path / "work"))
    assert there["threshold"] == worker_gc.THRESHOLDS and there["on"]  # paused only during the warm-up
    assert there["frozen_after_warm_up"] > 10_000  # the compiled rules, the gazetteer, the tables
    assert there["frozen_after_steps"] > there["frozen_after_warm_up"]  # the steps' memos, frozen too
    assert there["articles"] == 2 * (len(list(SEEDS.glob("*.txt"))) + len(MULTILINGUAL))
    # Without the policy the collector finds ~100 unreachable objects per 4,000 articles;
    # a cycle in something a step keeps (a memo, a cache) would leave thousands here.
    assert there["cycles_left"] < 500, there
    assert not there["pandas"]
    # The process that started the pool keeps its own collector as it was.
    assert (gc.get_threshold(), gc.get_freeze_count()) == here


def test_step_done_changes_nothing_outside_a_pool_worker():
    """``curate`` may run in a user's notebook: its collector is the user's."""
    from ketl.run import worker_gc

    before = gc.get_threshold(), gc.get_freeze_count()
    junk = [[]]
    junk[0].append(junk)  # a cycle: frozen, it would stay
    worker_gc.step_done()
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
    del junk


def _try_pandas() -> tuple[str, str]:
    try:
        import pandas  # noqa: F401
    except ImportError as exc:
        imported = f"{type(exc).__name__}: {exc}"
    else:
        imported = "imported"
    from importlib.util import find_spec

    try:
        found = repr(find_spec("pandas"))
    except ImportError as exc:
        found = f"{type(exc).__name__}: {exc}"
    return imported, found


def test_pandas_in_a_pool_worker_fails_with_a_message_saying_why(warm_pool):
    """Nothing a user configures runs code in a worker (rule files and gazetteers are
    TOML data, Dask runs have no pool), so nothing should reach pandas there; if
    ketl's own code ever does, the error says what keeps it out and why."""
    imported, found = warm_pool.compute(_try_pandas)
    for message in (imported, found):
        assert message.startswith("ModuleNotFoundError: ")
        assert "ketl" in message and "keep_pandas_out" in message and "pyarrow" in message


def test_no_module_a_worker_runs_uses_pandas():
    """The guard costs nothing only as long as no code a worker runs needs pandas: the
    batch steps, the stages, ingest, dedup, the text helpers and the top-level modules
    (document, schemas, store, settings...). The CLI, the report and the flows run
    in the user's process, where pandas is allowed."""
    src = Path(__file__).resolve().parents[1] / "src" / "ketl"
    files = [p for folder in ("run", "stages", "ingest", "dedup", "text") for p in sorted((src / folder).rglob("*.py"))]
    files += sorted(src.glob("*.py"))
    assert len(files) > 40 and src / "run" / "batch.py" in files
    uses = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if "pandas" in code and path.name != "warm.py":
                uses.append(f"{path.relative_to(src)}:{n}: {line.strip()}")
    assert not uses, "\n".join(uses)


@pytest.mark.parametrize("name", ["pandas", "pandas.core.frame"])
def test_the_guard_refuses_only_pandas(name):
    from ketl.run.warm import _NoPandas

    with pytest.raises(ModuleNotFoundError, match="keep_pandas_out"):
        _NoPandas().find_spec(name)
    assert _NoPandas().find_spec("pandasx") is None and _NoPandas().find_spec("pyarrow") is None
