"""``ketl serve``'s Prefect side: check a cron schedule, then serve the ``curate`` flow on it.

The CLI holds no prefect import (tests/test_layout.py): it calls these two
functions and prints their ``ValueError`` as a one-line usage error.
"""

from __future__ import annotations

__all__ = ["ServeError", "check_cron", "serve"]


class ServeError(RuntimeError):
    """The Prefect server named by PREFECT_API_URL cannot be reached: the CLI prints one line."""


def check_cron(schedule: str) -> None:
    """Raise ``ValueError`` naming ``schedule`` when Prefect would not accept it as a cron schedule."""
    try:
        from prefect.client.schemas.schedules import CronSchedule

        CronSchedule(cron=schedule)
    except Exception as exc:  # pydantic's ValidationError, or croniter's own errors
        raise ValueError(f"invalid cron schedule {schedule!r}: {exc}") from exc


def serve(name: str, schedule: str, parameters: dict[str, str]) -> None:
    """Register deployment ``curate/<name>`` on the API server and run its scheduled
    flow runs in this process until Ctrl-C."""
    import httpx

    from .flow import curate

    try:
        curate.serve(name=name, cron=schedule, parameters=parameters, print_starting_message=False)
    except httpx.TransportError as exc:  # a wrong PREFECT_API_URL, or the server went away
        from prefect.settings import PREFECT_API_URL

        raise ServeError(f"cannot reach the Prefect server at {PREFECT_API_URL.value()} "
                         f"({type(exc).__name__}: {exc}); is `prefect server start` running?") from None
