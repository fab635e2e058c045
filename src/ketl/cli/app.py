"""The ``ketl`` command line (typer + rich).

Exit codes: 0 success; 1 the run finished but some inputs were rejected (the
rest is written); 2 usage errors (missing raw folder, unwritable output,
another run holding the lock, a bad config file), always as one line on stderr;
3 an internal error (a bug), the dataset left as it was; 130 Ctrl-C (one line,
the dataset as it was: see ketl.interrupt).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import __version__

if TYPE_CHECKING:
    from ..run.summary import RunSummary

app = typer.Typer(
    name="ketl",
    help="Curate scraped, machine-translated news into a clean, de-duplicated, provenance-rich Parquet dataset.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts are plain text: "[default: ...]" and "'ketl[dask]'" must show as written.
    rich_markup_mode=None,
)
err = Console(stderr=True)
out = Console()


def _version(value: bool) -> None:
    if value:
        out.print(f"ketl {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """ketl: raw/ in, curated Parquet out. Run `ketl run` on the sample input to start."""


def fail(message: str, code: int = 2) -> None:
    from .text import printable

    # messages carry paths and input text: never markup, never terminal escapes
    err.print(f"[bold red]error:[/] {printable(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


class _RichReporter:
    """Shows the flow's batch progress as rich bars on stderr."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def start(self, phase: str, total: int) -> None:
        label = {"read": "read + repair", "curate": "clean + write", "dedup": "near-duplicate bands"}.get(phase, phase)
        self.tasks[phase] = self.progress.add_task(label, total=total)

    def advance(self, phase: str, n: int = 1) -> None:
        if phase in self.tasks:
            self.progress.advance(self.tasks[phase], n)


def _quiet_prefect(verbose: bool) -> None:
    # Prefect logs every task run at INFO on the console; the progress bar says
    # the same thing more usefully. --verbose brings the logs back.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    if not verbose:
        # Its ERROR records (a crashed task's traceback, each one again for the
        # flow) still go to the API, for the UI; the terminal gets ketl's one
        # line instead. Prefect's documented override of its logging.yml.
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")


def _catch_ctrl_c(store):
    """From here on Ctrl-C stops the run within seconds (see ketl.interrupt); returns
    the function that ends that."""
    from ..run.interrupt import Handler

    def cursor_back() -> None:
        if err.is_terminal:  # the progress bar hid it; os._exit skips rich's clean-up
            os.write(2, b"\n\x1b[?25h")

    # written as is (not through rich): only control characters need showing harmlessly
    label = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in str(store.out))
    return Handler(store.out, cleanup=store.recover, before_exit=cursor_back, label=label).install()


@app.command()
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
    _quiet_prefect(verbose)
    from ..flows.prefect_env import configure

    configure()  # before anything imports prefect: it reads its settings then
    from ..settings import ConfigError, load_settings
    from ..store import StoreError

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        fail(str(exc))
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
    # Usage errors are caught here, before Prefect starts: inside a flow run
    # Prefect would log them with a traceback.
    from ..run.batch import check_resources
    from ..run.user_files import with_user_gazetteer
    from ..store import Store

    try:
        check_resources(with_user_gazetteer(settings.with_overrides(
            out=out_s, skip=(*settings.skip, *skip),
            rule_files=(*settings.rule_files, *(str(p) for p in rules)),
            gazetteer_files=(*settings.gazetteer_files, *(str(p) for p in gazetteer))))[0])
        # Held for the whole command: a second run is refused now, not after Prefect's start-up.
        store = Store(Path(out_s))
        store.hold()
    except (ConfigError, StoreError) as exc:
        fail(str(exc))
    from ..run.watchdog import start as start_watchdog

    start_watchdog()  # before Prefect or any worker starts: nothing this run starts outlives it
    uncatch = _catch_ctrl_c(store)
    try:
        _run_locked(out_s, full, skip, settings, workers, runner, dask_address, raw_s, batch_size, config,
                    rules, gazetteer, keep_stale)
    finally:
        uncatch()  # Ctrl-C's clean-up removes staging folders: never once another run may hold the lock
        store.release()


def _run_locked(out_s, full, skip, settings, workers, runner, dask_address, raw_s, batch_size, config,
                rules, gazetteer, keep_stale=False) -> None:
    from ..settings import ConfigError
    from ..flows.flow import UsageError, curate_with
    from ..store import StoreError
    from ..run import progress as progress_hook
    from ..dedup.index import DamagedIndex
    from ..manifest import DamagedState
    from ..run.dedup import check_stored_indexes
    from ..store import Store

    if not full:
        try:
            Store(Path(out_s)).verify()
        except DamagedState as exc:
            fail(f"the dataset's state is damaged: {exc}", code=3)
    if not full and "dedup" not in (*settings.skip, *skip):
        try:
            check_stored_indexes(Path(out_s))
        except DamagedIndex as exc:
            fail(f"the dataset's near-duplicate index is damaged: {exc}", code=3)
    bar = Progress(TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("batches"), TimeElapsedColumn(), console=err, transient=False)
    progress_hook.set_reporter(_RichReporter(bar))
    try:
        with bar:
            err.print("[dim]starting Prefect (a temporary local server unless PREFECT_API_URL is set)...[/]")
            summary = curate_with(workers=workers or settings.workers or None, runner=runner,
                                  dask_address=dask_address, raw=raw_s, out=out_s,
                                  batch_size=batch_size, full=full, config=str(config) if config else None,
                                  rule_files=[str(p) for p in rules] or None,
                                  gazetteer_files=[str(p) for p in gazetteer] or None,
                                  skip=list(skip) or None, keep_stale=keep_stale)
    except (UsageError, StoreError, ConfigError) as exc:
        fail(str(exc))
    except DamagedIndex as exc:
        fail(f"the dataset's near-duplicate index is damaged: {exc}", code=3)
    except DamagedState as exc:
        fail(f"the dataset's state is damaged: {exc}", code=3)
    except Exception as exc:  # a bug: say so in one line; --verbose shows Prefect's traceback
        fail(f"the run failed ({type(exc).__name__}: {exc}); the dataset is unchanged. "
             "Rerun with -v for details and report it.", code=3)
    finally:
        progress_hook.set_reporter(None)
    _print_summary(summary)
    raise typer.Exit(1 if summary.rejected else 0)


def _print_summary(s: RunSummary) -> None:
    from .text import printable

    table = Table(title=f"run {s.run_id[:8]}: {printable(s.out)}", show_header=False, title_justify="left",
                  min_width=36)
    table.add_column(style="bold")
    table.add_column(justify="right")
    # Every figure is of this run except the ones under "dataset" (the whole
    # curated set after it): a reader must not take one for the other.
    table.add_row("[dim]this run[/]", "")
    rows = [
        ("files seen", s.files_seen),
        ("new or changed", s.files_new),
        ("unchanged, skipped", s.files_skipped),
        ("rejected", s.rejected),
        ("articles written", s.articles),
        ("edits", s.edits),
        ("quotes", s.quotes),
        ("near-duplicate articles", s.near_duplicates),
        ("band tasks ran in (processes)", s.band_workers),
        ("seconds", f"{s.seconds:.2f}"),
        ("docs/s", f"{s.docs_per_second:.0f}"),
    ]
    for k, v in rows:
        table.add_row(f"  {k}", str(v))
    for reason, n in sorted(s.rejects_by_reason.items()):
        table.add_row(f"  rejected: {reason}", str(n))
    for stage, secs in sorted(s.stage_seconds.items(), key=lambda kv: -kv[1]):
        table.add_row(f"  CPU s: {stage}", f"{secs:.2f}")
    table.add_row("[dim]dataset[/]", "")
    table.add_row("  quote clusters (>1)", str(s.clusters))
    out.print(table)
    # Name what changed the text besides ketl's own files (a planted file would show here).
    for f in s.user_files:
        out.print(f"loaded: {printable(f)}", highlight=False, soft_wrap=True)
    for note in s.notes:
        err.print(f"[yellow]{printable(note)}[/]", highlight=False, soft_wrap=True)
    if s.rejected:
        err.print(f"[yellow]{s.rejected} input(s) rejected: see {printable(s.out)}/rejects[/]")


@app.command()
def serve(
    cron: Optional[str] = typer.Option(None, "--cron", help='Cron schedule. [default: the config\'s schedule, "0 * * * *"]'),
    raw: Optional[Path] = typer.Option(None, "--raw", help="Raw folder the scheduled runs read. (default: raw)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Output folder. (default: curated)"),
    name: str = typer.Option("ketl-curate", "--name", help="Deployment name."),
    config: Optional[Path] = typer.Option(None, "--config", help="Settings file. (default: ./ketl.toml when present)"),
) -> None:
    """Serve the `curate` flow on a cron schedule (needs a Prefect server: PREFECT_API_URL)."""
    from ..flows.prefect_env import configure

    configure()  # before anything imports prefect: it reads its settings then
    if not os.environ.get("PREFECT_API_URL"):
        fail("ketl serve needs a Prefect server to hold the schedule: start one with "
             "`prefect server start` and `export PREFECT_API_URL=http://127.0.0.1:4200/api`, then run ketl serve again")
    from ..settings import ConfigError, load_settings

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        fail(str(exc))
    schedule = cron or settings.schedule
    try:
        from prefect.client.schemas.schedules import CronSchedule

        CronSchedule(cron=schedule)
    except Exception as exc:
        fail(f"invalid cron schedule {schedule!r}: {exc}")
    from ..flows.flow import curate

    params = {"raw": str((raw or Path(settings.raw)).resolve()), "out": str((out_dir or Path(settings.out)).resolve())}
    if config:
        params["config"] = str(config.resolve())
    from .text import printable

    err.print(f"serving deployment curate/{printable(name)} on cron {printable(repr(schedule))} with "
              f"{printable(str(params))}; Ctrl-C stops", highlight=False, soft_wrap=True)
    curate.serve(name=name, cron=schedule, parameters=params, print_starting_message=False)


@app.command()
def report(
    out_dir: Path = typer.Option(Path("curated"), "--out", help="The curated dataset."),
    dest: Optional[Path] = typer.Option(None, "--dest", help="Report file. (default: <out>/report.html)"),
) -> None:
    """Write an HTML report (with charts) of the dataset beside it."""
    from ..report.build import write_report

    try:
        path = write_report(out_dir, dest)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        fail(str(exc))
    from .text import printable

    out.print(f"report written to {printable(path)}", highlight=False, soft_wrap=True)
    from ..report.charts import MISSING, available

    if not available():
        err.print(f"[yellow]note:[/] {printable(MISSING)}", highlight=False, soft_wrap=True)


@app.command()
def export(
    to: Path = typer.Option(..., "--to", help="Folder to write the tables into as plain files (created if missing)."),
    out_dir: Path = typer.Option(Path("curated"), "--out", help="The curated dataset."),
) -> None:
    """Write the current snapshot as plain table folders (no links) for any copy tool;
    a second export writes only the files that changed."""
    from rich.markup import escape

    from ..export import ExportError, export_dataset

    try:
        s = export_dataset(out_dir, to)
    except ExportError as exc:
        fail(str(exc))  # fail() escapes: escaping here too would print the backslashes
    out.print(f"exported snapshot {escape(s.snapshot)} of {escape(str(out_dir))} to {escape(str(to))}: "
              f"{s.written} files written ({s.bytes_written:,} bytes), {s.unchanged} unchanged, "
              f"{s.removed} removed", highlight=False, soft_wrap=True)


def _mount_entity_commands() -> None:
    from .entities import gazetteer_app, review

    app.add_typer(gazetteer_app, name="gazetteer")
    app.command("review")(review)


_mount_entity_commands()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted: the dataset is unchanged (the next run cleans up)")
        sys.exit(130)

