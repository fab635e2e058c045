"""The suite in a clone without ../shared: tests needing it skip with a reason; on CI they fail."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import REPO, RAW, SHARED

# Fast files that together read every kind of ../shared data at import or in tests:
# the seeds (test_decode reads one at import), the AEB pages, ground truth, ftfy's cases.
FILES = ["tests/test_decode.py", "tests/test_language.py", "tests/test_repair_ftfy.py",
         "tests/test_content_safety.py"]


def _make_clone(root: Path) -> Path:
    """The repository's files in ``root``, a folder with no ``shared`` beside it."""
    # What a clone holds: every file git tracks (new ones too), so a new top-level
    # folder (tools/ was one) cannot be missed.
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = REPO / name
        if src.is_file() and "__pycache__" not in src.parts:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / name, follow_symlinks=False)
    assert not (root.parent / "shared").exists()
    # A test written without the guard, as a new one may be: it must skip too.
    (root / "tests" / "test_unguarded.py").write_text(
        "import json\nfrom conftest import SHARED\n\n\ndef test_reads_shared_directly():\n"
        "    json.loads((SHARED / 'bench' / 'aeb' / 'ground-truth.json').read_text())\n", encoding="utf-8")
    return root


def _start(clone: Path, *args: str, ci: bool = False) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "KETL_REQUIRE_SHARED")}
    env["PYTHONPATH"] = os.pathsep.join([str(clone / "src"), env.get("PYTHONPATH", "")])
    if ci:
        env["CI"] = "true"
    return subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *args],
                            cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# One run collects the whole suite and runs FILES and the unguarded test in it: the two
# tests below that read it cost one interpreter and one collection, not two (4 CPU s here).
_WHOLE = (("tests", "-k", " or ".join(Path(f).name for f in (*FILES, "tests/test_unguarded.py"))), False)
# The clone's pytest run behind each test here: (arguments, with CI set).
RUNS = {
    "test_tests_needing_shared_skip_with_a_reason": _WHOLE,
    "test_ci_fails_instead_of_skipping": (("tests/test_language.py::test_vectorised_scorer_equals_py3langid",), True),
    "test_the_whole_suite_collects_without_shared": _WHOLE,
}


_STARTED: dict[str, subprocess.Popen] = {}  # the clone's pytest runs, by the test that reads one
_CLONES: list[Path] = []


def start_early(items) -> None:
    """Called by conftest.py after collection: the clone's pytest runs of the tests selected
    here start before the session's first test, side by side. Each is seconds of imports
    in a process of its own: they run beside the tests that come first, and the tests
    here read their results."""
    chosen = {item.name for item in items} & set(RUNS) - set(_STARTED)
    if not chosen:
        return
    folder = Path(tempfile.mkdtemp(prefix="ketl-fresh-"))
    _CLONES.append(folder)
    clone = _make_clone(folder / "ketl")
    by_run: dict[tuple, subprocess.Popen] = {}  # tests that read the same run share its process
    for name in sorted(chosen):
        if RUNS[name] not in by_run:
            by_run[RUNS[name]] = _start(clone, *RUNS[name][0], ci=RUNS[name][1])
        _STARTED[name] = by_run[RUNS[name]]


@pytest.fixture(scope="module")
def runs(request):
    """The clone's pytest run behind a test here, by that test's name (started early)."""
    start_early([item for item in request.session.items if item.module is request.module])
    try:
        yield lambda name: _finished(_STARTED[name])
    finally:
        for proc in set(_STARTED.values()):
            if proc.poll() is None:
                proc.kill()
            _finished(proc)
        _STARTED.clear()
        _DONE.clear()
        for folder in _CLONES:
            shutil.rmtree(folder, ignore_errors=True)


_DONE: dict[subprocess.Popen, subprocess.CompletedProcess] = {}


def _finished(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    if proc not in _DONE:  # its output can be read once
        stdout, stderr = proc.communicate(timeout=600)
        _DONE[proc] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return _DONE[proc]


def test_tests_needing_shared_skip_with_a_reason(runs):
    res = runs("test_tests_needing_shared_skip_with_a_reason")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    skips = re.findall(r"^SKIPPED \[\d+\] (\S+): (.*)$", out, re.M)
    assert skips, out[-3000:]
    for where, reason in skips:
        assert where.startswith("tests/test_"), where  # the test's own line, not conftest's
        assert re.fullmatch(r"needs \.\./shared/\S+ \(the shared benchmarks beside the repository\)", reason), reason
    reasons = {r for _, r in skips}
    assert ("tests/test_unguarded.py:5", "needs ../shared/bench/aeb/ground-truth.json "
            "(the shared benchmarks beside the repository)") in skips
    for data in ("bench/aeb/html-text.json", "bench/aeb/ground-truth.json", "bench/ftfy-cases"):
        assert any(f"../shared/{data} " in r for r in reasons), (data, reasons)
    passed = int(re.search(r"(\d+) passed", out).group(1))
    assert passed > 20  # the tests on the seeds (raw/) and on built text still run


def test_ci_fails_instead_of_skipping(runs):
    res = runs("test_ci_fails_instead_of_skipping")
    out = res.stdout + res.stderr
    assert res.returncode == 1, out[-3000:]
    assert "needs ../shared/bench/aeb/html-text.json" in out and "CI runs every test" in out
    assert "1 failed" in out and "skipped" not in out


@pytest.mark.slow
def test_the_whole_suite_collects_without_shared(runs):
    res = runs("test_the_whole_suite_collects_without_shared")
    out = res.stdout + res.stderr
    # every module was collected, and all but FILES' tests deselected after that
    assert res.returncode == 0 and re.search(r"\d{3,} deselected", out), out[-3000:]
    assert not re.search(r"^ERROR |\d+ errors?\b", out, re.M), out[-3000:]


@pytest.mark.shared("seeds")
def test_raw_holds_the_seeds():
    seeds = {p.name: p.read_bytes() for p in (SHARED / "seeds").glob("*.txt")}
    assert len(seeds) == 5
    assert {p.name: p.read_bytes() for p in RAW.glob("*.txt")} == seeds
