"""What the CLI prints keeps square brackets as written (issue 13, point 1).

rich reads ``[...]`` as markup: help texts, install hints and user paths lost
their bracketed parts (``'ketl[dask]'`` printed as ``'ketl'``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from ketl.cli import app

runner = CliRunner()


def flat(text: str) -> str:
    return " ".join(text.split())


def test_help_texts_keep_their_bracketed_defaults():
    serve = flat(runner.invoke(app, ["serve", "--help"]).output)
    assert "[default: the config's schedule, \"0 * * * *\"]" in serve
    review = flat(runner.invoke(app, ["review", "--help"]).output)
    assert "record decisions in [default: <out>/gazetteer.user.toml]" in review


def test_a_bracketed_raw_path_is_printed_as_given(tmp_path):
    name = str(tmp_path / "news[bold]x")
    result = runner.invoke(app, ["run", "--raw", name])
    assert result.exit_code == 2
    assert "news[bold]x" in result.output and "\\[" not in result.output


def test_the_dask_hint_names_the_extra(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("Ein Satz über Kyjiw. 北京的一个句子。", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "prefect_dask", None)  # the base install has no prefect-dask
    result = runner.invoke(app, ["run", "--runner", "dask", "--raw", str(raw), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "pip install 'ketl[dask]'" in result.output


def test_a_bracketed_report_path_is_printed_as_given(tmp_path):
    missing = tmp_path / "data[red]set"
    result = runner.invoke(app, ["report", "--out", str(missing)])
    assert result.exit_code == 2
    assert "data[red]set" in result.output and "\\[" not in result.output


def test_export_errors_show_no_escaping_backslashes(tmp_path):
    result = runner.invoke(app, ["export", "--out", str(tmp_path / "no[such]set"), "--to", str(tmp_path / "e")])
    assert result.exit_code == 2
    assert "no[such]set" in result.output and "\\[" not in result.output


_UNREACHABLE: list[tuple[int, subprocess.Popen, Path]] = []  # (port, the ketl serve aimed at it, its folder)


def start_early(items) -> None:
    """Called by conftest.py after collection: the ``ketl serve`` below starts before the
    session's first test (seconds of importing Prefect, which the test only waits for)."""
    if any(item.name == "test_serve_against_an_unreachable_server_is_one_line" for item in items):
        _start_unreachable()


def _start_unreachable() -> None:
    if _UNREACHABLE:
        return
    with socket.socket() as s:  # a port that was free a moment ago: nothing answers on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="ketl-unreachable-"))
    env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_HOME": str(folder / "ph")}
    proc = subprocess.Popen([sys.executable, "-m", "ketl.cli", "serve", "--cron", "*/5 * * * *"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder)
    _UNREACHABLE.append((port, proc, folder))


def test_serve_against_an_unreachable_server_is_one_line():
    """A wrong PREFECT_API_URL (nothing listens there) is a usage error, not httpx's traceback."""
    _start_unreachable()  # started early, unless this test was not collected then
    port, proc, folder = _UNREACHABLE[0]
    try:
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert f"error: cannot reach the Prefect server at http://127.0.0.1:{port}/api" in stderr
