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
RAW = REPO / "raw"
# raw/ holds the five seed articles of ../shared/seeds, byte for byte
# (test_raw_holds_the_seeds checks), so a clone without ../shared runs every
# seed test on raw/. Beside ../shared, SEEDS stays ../shared/seeds: tests that
# reach the benchmarks as SEEDS.parent / "bench" keep working there.
SEEDS = SHARED / "seeds" if (SHARED / "seeds").is_dir() else RAW

# Prefect reads these at import: isolate its home and keep it quiet and offline.
_PREFECT_HOME = tempfile.mkdtemp(prefix="ketl-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def shared_required() -> bool:
    """CI has ../shared and must run every test that needs it: a missing file fails there."""
    return _env_flag("CI") or _env_flag("KETL_REQUIRE_SHARED")


def shared_path(*parts: str | Path) -> Path:
    """A file or folder under ../shared (parts relative to it, or a path inside it).

    Missing, it skips the calling test with a one-line reason, or fails it when
    ``shared_required()``; call it in the test or fixture, never at import, so
    collection works in any clone."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"needs ../{os.path.relpath(path, SHARED.parent)} (the shared benchmarks beside the repository)"
        if shared_required():
            pytest.fail(f"{reason}; CI runs every test (CI or KETL_REQUIRE_SHARED is set)", pytrace=False)
        pytest.skip(reason)
    return path


def pytest_configure(config):
    config.addinivalue_line("markers", "shared(*paths): the test reads these paths under ../shared; "
                                       "skipped when they are missing (failed on CI)")


def pytest_runtest_setup(item):
    for mark in item.iter_markers("shared"):
        for part in mark.args or ("",):
            shared_path(part)


def _missing_shared_file(call) -> str | None:
    """The ../shared path a test failed to open while ../shared is absent, if that is why it failed."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if not isinstance(exc, FileNotFoundError) or not exc.filename or SHARED.exists():
        return None
    path = Path(os.fsdecode(exc.filename)).absolute()
    return os.path.relpath(path, SHARED.parent) if path.is_relative_to(SHARED) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    path, lineno = item.reportinfo()[:2]
    # A test reading ../shared without shared_path() skips all the same (a safety
    # net for new tests); on CI the failure stands.
    missing = _missing_shared_file(call) if report.failed and not shared_required() else None
    if missing:
        report.outcome = "skipped"
        report.longrepr = (str(path), (lineno or 0) + 1,
                           f"Skipped: needs ../{missing} (the shared benchmarks beside the repository)")
    # A skip raised in shared_path() is reported at conftest.py: point at the test instead.
    elif report.skipped and isinstance(report.longrepr, tuple) and "needs ../shared/" in report.longrepr[2]:
        report.longrepr = (str(path), (lineno or 0) + 1, report.longrepr[2])


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
