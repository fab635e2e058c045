"""``ketl run``: check the arguments and the dataset, hold its lock, run the ``curate`` flow, print the summary.

Usage errors are found here, before Prefect starts (inside a flow run Prefect
would log them with a traceback), and each is one line on stderr (see app.py
for the exit codes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

import typer

from .console import err, fail, load_settings_or_fail
from .display import RichReporter, print_summary, progress_bar

__all__ = ["run"]


def run(
    raw: Optional[Path] = typer.Option(None, "--raw", help="Folder of raw articles (.txt, .jsonl, .jsonl.gz), walked recursively. (default: raw)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Output folder of the Parquet dataset. (default: curated)"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Files per Prefect task. (default: 1000)"),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker processes. (default: one per core)"),
    full: bool = typer.Option(False, "--full", help="Rebuild the dataset from scratch instead of adding new files."),
    keep_stale: bool = typer.Option(False, "--keep-stale", help="Keep stored articles curated with other settings, rules or gazetteer as they are (by default the run re-curates them)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Settings file. (default: ./ketl.toml when present)"),
    rules: List[Path] = typer.Option([], "--rules", help="Extra boilerplate rule file (TOML; repeatable)."),
    gazetteer: List[Path] = typer.Option([], "--gazetteer", help="Extra gazetteer file (TOML; repeatable)."),
    skip: List[str] = typer.Option([], "--skip", help="Leave a stage out: repair, boilerplate, entities, quotes or dedup (repeatable)."),
    runner: Optional[str] = typer.Option(None, "--runner", help="local (a process pool on this machine) or dask. (default: dask with --dask-address, else local)"),
    dask_address: Optional[str] = typer.Option(None, "--dask-address", help="Scheduler of an existing Dask cluster, e.g. tcp://host:8786. (default: a local cluster of --workers processes)"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's logs."),
) -> None:
    """Run the `curate` flow in-process: raw/ -> curated/ (no server needed)."""
    from ..flows.prefect_env import configure

    from ..run import timeline

    timeline.mark("cli started")
    if (prof := timeline.profiler()) is not None:  # KETL_PROFILE: the main thread, to the exit
        prof.enable()
    configure()  # before anything imports prefect: it reads its settings then
    _quiet_prefect(verbose)
    settings = load_settings_or_fail(config)
    raw_s, out_s, runner = _checked_arguments(settings, raw, out_dir, rules, gazetteer, runner, dask_address)
    store = _hold_dataset(settings, out_s, skip, rules, gazetteer)
    from ..run.watchdog import start as start_watchdog

    start_watchdog()  # before Prefect or any worker starts: nothing this run starts outlives it
    uncatch = _catch_ctrl_c(store)
    try:
        # after the Ctrl-C handler: the workers inherit its blocked SIGINT, and it stops them
        with _early_pool(settings, out_s, skip, rules, gazetteer, workers, runner):
            _check_dataset(Path(out_s), full, dedup="dedup" not in (*settings.skip, *skip))
            summary = _curate(workers=workers or settings.workers or None, runner=runner,
                              dask_address=dask_address, raw=raw_s, out=out_s, batch_size=batch_size, full=full,
                              config=str(config) if config else None,
                              rule_files=[str(p) for p in rules] or None,
                              gazetteer_files=[str(p) for p in gazetteer] or None,
                              skip=list(skip) or None, keep_stale=keep_stale)
        timeline.mark("pool closed")
        print_summary(summary)
        _FINISHED.append(True)
        raise typer.Exit(1 if summary.rejected else 0)
    finally:
        uncatch()  # Ctrl-C's clean-up removes staging folders: never once another run may hold the lock
        store.release()
        timeline.mark("cli done")  # what follows is the interpreter's exit (Prefect's atexit hooks)


# Set once a run has committed and printed its summary (see exit_now).
_FINISHED: list[bool] = []


def finished_run() -> bool:
    """Did this process's ``ketl run`` commit and print its summary?"""
    return bool(_FINISHED)


def exit_now(code: object) -> None:
    """End the process after a finished run without the interpreter's teardown.

    Once the run is committed and its summary printed, nothing is left to write,
    but tearing down the thousands of modules Prefect and pyarrow load took
    2.1-3.7 s after the last atexit hook (measured on the seeds and on a 20k
    dataset): more than a run that finds nothing new spends on its work. So: the
    steps of a normal exit that can matter (join non-daemon threads and run their
    exit hooks, run the atexit hooks: Prefect stops its temporary server and
    drains its log and event queues there, flush stdio), then ``os._exit``.
    Only the ``ketl`` command calls this, never code that imported ketl."""
    import atexit
    import sys
    import threading

    status = 0 if code is None else code if isinstance(code, int) else 1
    if not isinstance(code, int) and code is not None:
        print(code, file=sys.stderr)
    threading._shutdown()  # noqa: SLF001 - what the interpreter runs first at exit
    atexit._run_exitfuncs()  # noqa: SLF001
    from ..run import timeline

    timeline.dump_threads("main")  # KETL_PROFILE: the flow process's CPU by thread
    if (prof := timeline.profiler()) is not None:
        prof.disable()
        timeline.dump_profile("main")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def _quiet_prefect(verbose: bool) -> None:
    # Prefect logs every task run at INFO on the console; the progress bar says
    # the same thing more usefully. --verbose brings the logs back.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    if not verbose:
        # Its ERROR records (a crashed task's traceback, each one again for the
        # flow) still go to the API, for the UI; the terminal gets ketl's one
        # line instead. Prefect's documented override of its logging.yml.
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")


def _checked_arguments(settings, raw, out_dir, rules, gazetteer, runner, dask_address) -> tuple[str, str, str]:
    """(raw folder, output folder, runner) from the options and the settings; a usage error if
    a folder or file is missing or the runner options disagree."""
    raw_s = str(raw) if raw is not None else settings.raw
    out_s = str(out_dir) if out_dir is not None else settings.out
    if not Path(raw_s).is_dir():
        fail(f"raw folder {raw_s!r} does not exist or is not a folder (pass --raw)")
    for f in (*rules, *gazetteer):
        if not f.is_file():
            fail(f"{f} does not exist or is not a file")
    runner = runner or ("dask" if dask_address else "local")  # an address alone means that cluster
    if runner not in ("local", "dask"):
        fail(f"unknown --runner {runner!r}: use local or dask")
    if dask_address and runner != "dask":
        fail("--dask-address needs --runner dask (or no --runner): the local runner would ignore it")
    if runner == "dask":  # the workers have their own working folder
        raw_s, out_s = str(Path(raw_s).resolve()), str(Path(out_s).resolve())
    return raw_s, out_s, runner


def _hold_dataset(settings, out_s: str, skip, rules, gazetteer):
    """Check the run's settings and user files (bad ones are usage errors), then take the dataset's
    lock for the whole command: a second run is refused now, not after Prefect's start-up."""
    from ..run.batch import check_settings
    from ..run.user_files import with_user_gazetteer
    from ..settings import ConfigError
    from ..store import Store, StoreError

    try:
        check_settings(with_user_gazetteer(settings.with_cli(
            out=out_s, skip=skip, rule_files=rules, gazetteer_files=gazetteer))[0])
        store = Store(Path(out_s))
        store.hold()
    except (ConfigError, StoreError) as exc:
        fail(str(exc))
    return store


def _early_pool(settings, out_s: str, skip, rules, gazetteer, workers: int | None, runner: str):
    """The local runner's worker pool, started now: its workers load the stages' tables while
    Prefect is imported and its server starts, and the flow adopts it (flows/pool.py)."""
    from contextlib import nullcontext

    if runner != "local":
        return nullcontext()  # a Dask cluster's workers are the processes
    from ..flows.pool import start_early
    from ..run.user_files import with_user_gazetteer

    # the settings the flow will run with (raw, out and workers are not hashed)
    run_settings = with_user_gazetteer(settings.with_cli(
        out=out_s, skip=skip, rule_files=rules, gazetteer_files=gazetteer))[0]
    return start_early(workers or settings.workers or os.cpu_count() or 1, run_settings, run_settings.config_hash())


def _catch_ctrl_c(store):
    """From here on Ctrl-C stops the run within seconds (see ketl.run.interrupt); returns
    the function that ends that."""
    from ..run.interrupt import Handler

    def cursor_back() -> None:
        if err.is_terminal:  # the progress bar hid it; os._exit skips rich's clean-up
            os.write(2, b"\n\x1b[?25h")

    # written as is (not through rich): only control characters need showing harmlessly
    label = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in str(store.out))
    return Handler(store.out, cleanup=store.recover, before_exit=cursor_back, label=label).install()


def _damaged(exc: Exception) -> None:
    from ..dedup.index import DamagedIndex

    what = "near-duplicate index" if isinstance(exc, DamagedIndex) else "state"
    fail(f"the dataset's {what} is damaged: {exc}", code=3)


def _check_dataset(out: Path, full: bool, dedup: bool) -> None:
    """A run that adds to a dataset first checks what it adds to (exit 3 if damaged)."""
    from ..dedup.index import DamagedIndex
    from ..manifest import DamagedState
    from ..run.dedup import check_stored_indexes
    from ..store import Store

    if full:
        return
    try:
        Store(out).verify()
        if dedup:
            check_stored_indexes(out)
    except (DamagedState, DamagedIndex) as exc:
        _damaged(exc)


def _curate(**flow_args):
    """The flow's RunSummary, with its batches shown as progress bars; every failure one line."""
    from ..dedup.index import DamagedIndex
    from ..flows import UsageError, curate_with
    from ..manifest import DamagedState
    from ..run import progress as progress_hook
    from ..run import timeline
    from ..settings import ConfigError
    from ..store import StoreError

    timeline.mark("prefect imported")

    bar = progress_bar()
    progress_hook.set_reporter(RichReporter(bar))
    try:
        with bar:
            err.print("[dim]starting Prefect (a temporary local server unless PREFECT_API_URL is set)...[/]")
            summary = curate_with(**flow_args)
        timeline.mark("flow returned")
    except (UsageError, StoreError, ConfigError) as exc:
        fail(str(exc))
    except (DamagedIndex, DamagedState) as exc:
        _damaged(exc)
    except Exception as exc:  # a bug: say so in one line; --verbose shows Prefect's traceback
        fail(f"the run failed ({type(exc).__name__}: {exc}); the dataset is unchanged. "
             "Rerun with -v for details and report it.", code=3)
    finally:
        progress_hook.set_reporter(None)
    return summary  # curate_with's RunSummary (the flow itself returns a dict, for Prefect's display)
