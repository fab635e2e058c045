"""Warm a worker process before its first batch: everything the stages build lazily, built now.

A fresh worker used to pay about 2 CPU seconds on its first batch (measured on
the benchmark corpus): compiling the run's rules and gazetteer, repair's
language and word tables, boilerplate's place names and stop-word lists,
the quote lexicon, MinHash permutations, pyarrow's Parquet writer. The pool
starts its workers while Prefect's temporary server starts (10-25 s here), and
each runs :func:`warm_worker` as its initializer, so that cost is paid then.

Rather than list every lazy table (a list that would go stale as the stages
change), the warm-up runs the two real batch steps on a few small articles in
a throwaway folder, then asks the stages that have a ``warm_up`` for what those
articles may not reach (place names only some datelines need). Every cache
this fills is a cache of a pure function: results do not change.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ..settings import Settings
from . import timeline

# Small articles in several scripts and encodings: a site header and footer, a
# dateline, a quote with its speaker, mojibake, a glued word, a date.
_ARTICLES: dict[str, bytes] = {
    "en.txt": ("Harbor Times\nHome | World | Politics\n\nTalks resume in Geneva\n3 March 2024, 10:30\n\n"
               "GENEVA (Reuters) - The talks wasagreed on Sunday ,  the minister said.\n\n"
               "\"We will continue the negotiations,\" Josep Borrell said on Monday.\n\n"
               "CafÃ© owners in Baku said the talks would go on. Advertisement\n\n"
               "© 2024 Harbor Times. All rights reserved.\n").encode("utf-8"),
    "ru.txt": ("Новости дня\n\nПереговоры продолжатся\n\nМОСКВА, 3 марта. «Мы продолжим переговоры», — "
               "заявил министр Сергей Лавров в воскресенье.\n\nПоделиться в Telegram\n").encode("utf-8"),
    "ar.txt": "قال الوزير إن المحادثات ستستمر في جنيف يوم الأحد.\n\nاقرأ أيضا\n".encode("utf-8"),
    "zh.txt": "外交部发言人表示，谈判将于周日在日内瓦继续。\n\n“我们将继续谈判，”部长说。\n".encode("utf-8"),
    "fr.txt": "Le ministre a déclaré que les négociations reprendraient à Genève.\n".encode("cp1252"),
}


class _NoPandas:
    """An import finder that says pandas is not installed.

    pyarrow looks for pandas at its first conversion of Python or numpy values
    (``pa.array``, ``pa.table``: is the value a DataFrame?) and imports it when it
    is installed: 0.47 CPU s and about 50 MB in each worker (measured), for
    nothing, since nothing a batch step runs uses pandas. Told it is missing,
    pyarrow converts exactly as before.

    Nothing a user configures runs code in a worker (rule files and gazetteers are
    TOML data; a Dask run has no pool), and tests/test_worker_gc.py checks that no
    module of the batch steps uses pandas. Should ketl's own code ever reach it, the
    error says so instead of a bare "No module named 'pandas'" that contradicts
    the user's installation; ``find_spec`` raises it too, since a None would let
    the next finder find pandas after all."""

    def find_spec(self, name: str, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(
                f"No module named {name!r}: ketl keeps pandas out of its pool workers "
                "(ketl.run.warm.keep_pandas_out; loading it cost each worker 0.5 CPU s and 50 MB), "
                "so code a batch step runs must use pyarrow, not pandas", name=name)
        return None


def keep_pandas_out() -> None:
    """Make pandas unimportable in this process (a pool worker: see :class:`_NoPandas`)."""
    import sys

    if "pandas" not in sys.modules and not any(isinstance(f, _NoPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoPandas())


def warm_worker(settings: Settings | None, config_hash: str | None) -> None:
    """Fill this process's lazy caches for a run with ``settings`` (the process pool's
    initializer). Never raises: a warm-up that fails leaves the first batch to
    pay the cost, and to report whatever is wrong as it would have."""
    try:
        if settings is not None:
            _batch_steps(settings, config_hash)
        _stage_warm_ups(settings, config_hash)
    except Exception:  # noqa: BLE001 - see the docstring
        pass
    timeline.mark("worker warm")


def _batch_steps(settings: Settings, config_hash: str | None) -> None:
    """prepare_batch and finish_batch over :data:`_ARTICLES`, in a temporary folder."""
    from ..ingest.scan import scan
    from .batch import RunContext, finish_batch, prepare_batch

    with tempfile.TemporaryDirectory(prefix="ketl-warm-") as tmp:
        raw, staging = Path(tmp) / "raw", Path(tmp) / "staging"
        raw.mkdir()
        for name, data in _ARTICLES.items():
            (raw / name).write_bytes(data)
        ctx = RunContext(run_id="warm-up", raw=str(raw), staging=str(staging),
                         settings=settings.with_overrides(raw=str(raw), out=tmp),
                         config_hash=config_hash or settings.config_hash(),
                         started_at=datetime.now(timezone.utc))
        prepare_batch(ctx, 0, scan(raw, False))
        finish_batch(ctx, 0)


def _stage_warm_ups(settings: Settings | None, config_hash: str | None) -> None:
    """The stages' own warm-ups: tables the articles above may not have reached."""
    from ..stages.boilerplate import warm_up as boilerplate_warm_up
    from ..stages.entities.stage import warm_up as entities_warm_up
    from ..stages.quotes.stage import warm_up as quotes_warm_up
    from ..stages.repair.stage import warm_up as repair_warm_up
    from .batch import resources

    if settings is None:
        boilerplate_warm_up()
        repair_warm_up()
        quotes_warm_up()
        return
    skip = settings.skip
    res = resources(settings, config_hash)  # compiled by the batch steps above: cached
    if "boilerplate" not in skip:  # the run's rules, not the defaults compiled once more
        boilerplate_warm_up(res.rules, res.boilerplate)
    if "repair" not in skip:  # a skipped stage's tables would only take memory
        repair_warm_up(res.repair, res.gazetteer.protects)
    if "entities" not in skip:
        entities_warm_up(res.gazetteer, res.entities)
    if "quotes" not in skip:
        quotes_warm_up()
