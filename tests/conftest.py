"""Shared fixtures. Prefect's engine is started at most once per session (a
temporary server costs 10-26 s here); everything else tests plain functions."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
RAW = REPO / "raw"

# Prefect reads these at import: isolate its home and keep it quiet and offline.
_PREFECT_HOME = tempfile.mkdtemp(prefix="ketl-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)


def seed_texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture(scope="session")
def prefect_api():
    """One temporary Prefect server for the whole session; yields its API URL.

    Subprocess runs (crash tests) reuse it through PREFECT_API_URL instead of
    starting their own."""
    from prefect.testing.utilities import prefect_test_harness
    from prefect.settings import PREFECT_API_URL

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "raw"
    shutil.copytree(RAW, dst)
    return dst
