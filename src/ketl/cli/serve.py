"""``ketl serve``: the ``curate`` flow on a cron schedule (the Prefect side is ketl.flows.deploy)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from .console import err, fail, load_settings_or_fail
from .text import printable


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
    settings = load_settings_or_fail(config)
    schedule = cron or settings.schedule
    from ..flows import deploy

    try:
        deploy.check_cron(schedule)
    except ValueError as exc:
        fail(str(exc))
    params = {"raw": str((raw or Path(settings.raw)).resolve()), "out": str((out_dir or Path(settings.out)).resolve())}
    if config:
        params["config"] = str(config.resolve())
    err.print(f"serving deployment curate/{printable(name)} on cron {printable(repr(schedule))} with "
              f"{printable(str(params))}; Ctrl-C stops", highlight=False, soft_wrap=True)
    try:
        deploy.serve(name, schedule, params)
    except deploy.ServeError as exc:
        fail(str(exc))
