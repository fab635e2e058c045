"""The ``ketl`` command line (typer + rich): the app, and the table of its commands.

Each command lives in its own module (run, serve, report, export; entities holds
``gazetteer import`` and ``review``); this one only mounts them, in the order
``ketl --help`` lists them.

Exit codes: 0 success; 1 the run finished but some inputs were rejected (the
rest is written); 2 usage errors (missing raw folder, unwritable output,
another run holding the lock, a bad config file), always as one line on stderr;
3 an internal error (a bug) or a damaged dataset, the dataset left as it was;
130 Ctrl-C (one line, the dataset as it was: see ketl.run.interrupt).
"""

from __future__ import annotations

import sys

import typer

from .. import __version__
from .console import err, out
from .entities import gazetteer_app, review
from .export import export
from .report import report
from .run import _quiet_prefect, exit_now, finished_run, run  # noqa: F401  (_quiet_prefect: tests/test_interrupt.py imports it from here)
from .serve import serve

__all__ = ["app", "main"]

app = typer.Typer(
    name="ketl",
    help="Curate scraped, machine-translated news into a clean, de-duplicated, provenance-rich Parquet dataset.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts are plain text: "[default: ...]" and "'ketl[dask]'" must show as written.
    rich_markup_mode=None,
)


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


for _command in (run, serve, report, export):
    app.command()(_command)
app.add_typer(gazetteer_app, name="gazetteer")
app.command("review")(review)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted: the dataset is unchanged (the next run cleans up)")
        sys.exit(130)
    except SystemExit as exc:
        if finished_run():
            exit_now(exc.code)
        raise
