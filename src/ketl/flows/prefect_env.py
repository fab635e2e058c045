"""Prefect's settings that ketl needs, set by the entry points before prefect is imported.

Prefect 3 reads its settings from the environment once, when ``prefect.context``
is imported (its root settings context), and hands them to the temporary
server it starts in a subprocess: so these must be in ``os.environ`` before
``import prefect``. Setting them as a side effect of importing ketl's flow
module changed the environment of anyone who merely imported ketl; instead
every entry point calls :func:`configure` first: ``ketl run`` and ``ketl serve``,
the deployment file ``flows/curate_flow.py``, and the first use of the flow
through ``ketl.flows`` (its attributes load the flow module lazily).

A value the user set in the environment wins (``setdefault``).

This module imports nothing of prefect, nor of the flow module.
"""

from __future__ import annotations

import os
import sys

# A cold temporary server takes 10-26 s to start here; Prefect's default
# start-up timeout (20 s) is too short.
STARTUP_TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DEFAULTS = {
    STARTUP_TIMEOUT: "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # no telemetry from a curation run
}


def configure() -> bool:
    """Put ketl's Prefect defaults in the environment (unless set); False when prefect
    was imported already, so they came too late for this process's settings."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    return "prefect.context" not in sys.modules


def startup_timeout() -> int:
    """Seconds to wait for a temporary Prefect server to start."""
    return int(os.environ.get(STARTUP_TIMEOUT) or DEFAULTS[STARTUP_TIMEOUT])
