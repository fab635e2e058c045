"""Issue 12, the run side: hostile or unlucky input and damaged state never crash a run,
never block later runs and never corrupt the dataset silently."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from ketl.cli import app
from ketl.run import watchdog
from ketl.run.watchdog import group_members
from conftest import RAW, SEEDS, in_background, session_environ

runner = CliRunner()
SEED = sorted(SEEDS.glob("*.txt"))


def ketl(*args: str):
    return runner.invoke(app, list(args))


def table(out: Path, name: str):
    return ds.dataset(out / name, format="parquet", partitioning="hive").to_table()


def _no_quote_article() -> str:
    # a real seed with every quotation mark taken out: nothing for the quote stage to find
    text = SEED[0].read_text(encoding="utf-8")
    for mark in "\"“”„«»‘’‚‹›「」『』":
        text = text.replace(mark, "")
    return text


@pytest.mark.usefixtures("prefect_api")
def test_batches_without_quotes_or_articles_do_not_crash_the_run(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SEED[1], raw / "a-quoted.txt")
    (raw / "b-unquoted.txt").write_text(_no_quote_article(), encoding="utf-8")
    (raw / "c-large.txt").write_text("Слишком большой файл. " * 2000, encoding="utf-8")
    cfg = tmp_path / "ketl.toml"
    cfg.write_text("[ketl]\nmax_file_bytes = 40000\n")  # c-large.txt is over it: a batch of one reject
    out = tmp_path / "curated"
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--batch-size", "1", "--workers", "1",
               "--config", str(cfg))
    assert res.exit_code == 1, res.output  # 1: the run finished, one input rejected
    arts = {a["source_path"]: a for a in table(out, "articles").to_pylist()}
    assert sorted(arts) == ["a-quoted.txt", "b-unquoted.txt"]
    assert {r["source_path"]: r["reason"] for r in table(out, "rejects").to_pylist()} == {"c-large.txt": "too_large"}
    quotes = table(out, "quotes").to_pylist()
    assert quotes and {q["source_path"] for q in quotes} == {"a-quoted.txt"}
    # an hourly run whose only new article holds no quote
    (raw / "d-unquoted.txt").write_text(_no_quote_article().replace("Baku", "Ganja"), encoding="utf-8")
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--batch-size", "1", "--workers", "1",
               "--config", str(cfg))
    assert res.exit_code in (0, 1), res.output
    assert "d-unquoted.txt" in table(out, "articles").column("source_path").to_pylist()
    assert len(table(out, "quotes").to_pylist()) == len(quotes)


def _ketl_cmd(raw: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ketl.cli", "run", "--raw", str(raw), "--out", str(out), "--workers", "1", *extra]


def _refused_second_run(root: Path, migrated_db: Path, env: dict) -> dict:
    """A first ``ketl run`` starting its own temporary server, and a second on the same
    dataset once the first holds the lock: what each did."""
    raw, out, home = root / "raw", root / "curated", root / "prefect-home"
    shutil.copytree(RAW, raw)
    home.mkdir()
    shutil.copy(migrated_db, home / "prefect.db")  # as ``prefect_home`` gives it
    # the first starts its own temporary server, as a user's run does
    env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(home)}
    first = subprocess.Popen(_ketl_cmd(raw, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=root)
    found = {"second": None, "first_ran_on": None}
    try:
        lock = out / ".ketl" / "lock"
        deadline = time.monotonic() + 120  # the moment comes when it comes on a loaded machine
        while first.poll() is None and not (lock.is_file() and lock.read_text().startswith("pid")):
            if time.monotonic() > deadline:
                return found  # the test says the first never took the lock
            time.sleep(0.05)
        found["second"] = subprocess.run(_ketl_cmd(raw, out), env=env, capture_output=True, text=True, timeout=120,
                                         cwd=root)
        found["first_ran_on"] = first.poll() is None
    finally:
        found["first"] = first.communicate(timeout=300)[1], first.wait()
    found["articles"] = table(out, "articles").num_rows if found["first"][1] == 0 else None
    return found


def test_second_run_is_refused_at_once_while_the_first_starts_prefect(background):
    found = background("refused")
    second = found["second"]
    assert second is not None, "the first run never took the lock"
    # refused while the first still runs, before its own Prefect start-up (10-25 s here): no
    # wall-clock bound, which a loaded machine breaks, but what the refused run printed
    assert found["first_ran_on"], "the first run ended before the second was refused"
    assert second.returncode == 2, second.stderr
    said = " ".join(second.stderr.split())  # one line, soft-wrapped at the console's width
    assert said.startswith("error: another ketl run is writing to ") and said.endswith("; wait for it to finish"), \
        second.stderr  # and nothing else: no "starting Prefect", no traceback
    stderr, returncode = found["first"]
    assert returncode == 0, stderr
    assert found["articles"] == 5


def _replace(path: Path, data: bytes) -> None:
    path.unlink()  # a new inode, as an editor or a copy would make: never write through a hard link
    path.write_bytes(data)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    _replace(path, data[: len(data) // 2])


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    _replace(path, bytes(data))


DAMAGE = {
    "truncated band": ("quote_index.bands/band-000.parquet", _truncate),
    "truncated processed": ("processed.parquet", _truncate),
    "same-size change": ("site_lines.parquet", _flip_a_byte),
}


def test_damaged_state_is_refused_in_one_line_and_never_carried_forward(seeded, tmp_path):
    from test_run import snapshot_files

    raw_copy, first = seeded  # the seeds after one committed run
    # a new article holding one short quote (on main this run exited 0 with the damage linked in)
    (raw_copy / "new.txt").write_text("Brief\n\nThe mayor said \"we agree\" and left Ganja.\n", encoding="utf-8")
    for name, (rel, damage) in DAMAGE.items():
        out = tmp_path / name.replace(" ", "-")
        shutil.copytree(first, out, symlinks=True)
        damage(out / ".ketl" / "current" / "_state" / rel)
        before = snapshot_files(out)
        res = ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1")
        assert res.exit_code == 3, (name, res.output)
        assert "state is damaged" in res.output and rel in res.output and "ketl run --full" in res.output
        assert "Traceback" not in res.output and "starting Prefect" not in res.output
        assert len(res.output.strip().splitlines()) <= 3, res.output  # one line, soft-wrapped at most
        assert snapshot_files(out) == before
    res = ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1", "--full")
    assert res.exit_code == 0, res.output
    assert table(out, "articles").num_rows == 6
    # the rebuilt state is checked like any other: the next run passes the check
    assert ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1").exit_code == 0


def test_manifest_names_every_state_file_and_catches_changes(tmp_path):
    from ketl import manifest

    snap = tmp_path / "snap"
    (snap / "_state" / "idx.bands").mkdir(parents=True)
    (snap / "articles" / "run_date=2026-01-01").mkdir(parents=True)
    (snap / "_state" / "processed.parquet").write_bytes("Ереван, Bakı, 東京".encode() * 100)
    (snap / "_state" / "idx.bands" / "band-000.parquet").write_bytes(b"x" * 5000)
    (snap / "articles" / "run_date=2026-01-01" / "part-0.parquet").write_bytes(b"y" * 300)
    manifest.write(snap, ["articles"], None, manifest.HashCache())
    manifest.verify(snap, manifest.HashCache())
    assert manifest.committed_before(snap) == []
    _flip_a_byte(snap / "_state" / "idx.bands" / "band-000.parquet")
    with pytest.raises(manifest.DamagedState, match="band-000.parquet changed since its commit"):
        manifest.verify(snap, manifest.HashCache())
    _flip_a_byte(snap / "_state" / "idx.bands" / "band-000.parquet")
    manifest.verify(snap, manifest.HashCache())
    (snap / "_state" / "stray.parquet").write_bytes(b"z")
    with pytest.raises(manifest.DamagedState, match="stray.parquet was not written by the commit"):
        manifest.verify(snap, manifest.HashCache())
    (snap / "_state" / "stray.parquet").unlink()
    _truncate(snap / "articles" / "run_date=2026-01-01" / "part-0.parquet")
    with pytest.raises(manifest.DamagedState, match="has 150 bytes, its commit recorded 300"):
        manifest.verify(snap, manifest.HashCache())


@pytest.mark.usefixtures("prefect_api")
def test_a_gazetteer_planted_beside_out_is_not_loaded_and_loaded_files_are_named(tmp_path):
    from ketl.stages.entities.gazetteer import entity_toml

    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SEED[0], raw / "a.txt")
    out = tmp_path / "shared-tmp" / "curated"
    out.parent.mkdir()
    planted = out.parent / "gazetteer.user.toml"  # e.g. /tmp/gazetteer.user.toml for --out /tmp/x
    planted.write_text(entity_toml("Mordor", "organisation", comment="planted", corruptions=["ceasefire"]),
                       encoding="utf-8")
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1")
    assert res.exit_code == 0, res.output
    assert f"ignored {planted}: it lies outside the dataset" in " ".join(res.output.split())
    assert "loaded: " not in res.output
    (article,) = table(out, "articles").to_pylist()
    assert "Mordor" not in article["text"] and "ceasefire" in article["text"]
    assert table(out, "runs").column("user_files").to_pylist() == [[]]

    # the review file inside the dataset is loaded, and named in the summary and the runs row
    planted.rename(out / "gazetteer.user.toml")
    rules = tmp_path / "my-rules.toml"
    rules.write_text("", encoding="utf-8")
    shutil.copy(SEED[0], raw / "b.txt")
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    named = [str(rules.resolve()), str((out / "gazetteer.user.toml").resolve())]
    flat = " ".join(res.output.split())
    assert all(f"loaded: {f}" in flat for f in named) and "ignored" not in flat
    runs = sorted(table(out, "runs").to_pylist(), key=lambda r: r["finished_at"])
    assert runs[-1]["user_files"] == named
    b = next(a for a in table(out, "articles").to_pylist() if a["source_path"] == "b.txt")
    assert "Mordor" in b["text"]


def _is_watchdog(pid: int) -> bool:
    try:
        return b"watchdog.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _is_server(pid: int) -> bool:  # Prefect's temporary server
    try:
        return b"uvicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


KILL_SIGNALS = [signal.SIGKILL, signal.SIGTERM]


def _busy(proc: subprocess.Popen) -> list[int]:
    """The processes below ``proc`` (not its watchdog), once they are the temporary server,
    the resource tracker and two pool workers at least; else []."""
    from ketl.run.watchdog import _processes, descendants

    below = [p for p in descendants({proc.pid}, _processes()) if not _is_watchdog(p)]
    return below if len(below) >= 4 and any(_is_server(p) for p in below) else []


def _killed_alone(root: Path, migrated_db: Path, env: dict) -> dict:
    """Per signal: a ``ketl run`` on its own temporary server, killed (the ketl process alone)
    once its pool is busy: (the processes below it then, those of its group still alive
    10 s after its death or when none was, seconds from its death to then).

    The two runs go side by side: each is a temporary server's start-up (seconds of
    imports in the run and in the server) that this process only waits for."""
    raw = root / "raw"
    for i in range(300):  # enough work that the pool is busy when the kill comes
        (raw / f"s{i % 7}").mkdir(parents=True, exist_ok=True)
        shutil.copy(SEED[i % 5], raw / f"s{i % 7}" / f"{i}.txt")
    procs = {}
    for sig in KILL_SIGNALS:
        home = root / f"prefect-home-{sig.name}"  # a migrated database, as ``prefect_home`` gives
        home.mkdir()
        shutil.copy(migrated_db, home / "prefect.db")
        own = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}  # its own temporary server
        own["PREFECT_HOME"] = str(home)
        procs[sig] = subprocess.Popen(_ketl_cmd(raw, root / f"out-{sig.name}", "--batch-size", "20")[:-2]
                                      + ["--workers", "2"], env=own, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True, cwd=root)
    waiting, dying, found = dict(procs), {}, {}
    try:
        deadline = time.monotonic() + 120
        while waiting or dying:
            for sig, proc in list(waiting.items()):
                below = _busy(proc)
                if below:
                    os.kill(proc.pid, sig)
                    proc.wait(timeout=10)
                    dying[sig] = (below, time.monotonic())
                    del waiting[sig]
                elif proc.poll() is not None or time.monotonic() > deadline:
                    found[sig] = ([], [], 0.0)  # never busy: the test says so
                    del waiting[sig]
            for sig, (below, t0) in list(dying.items()):
                left = group_members(procs[sig].pid)
                if not left or time.monotonic() - t0 >= 10:
                    found[sig] = (below, left, time.monotonic() - t0)
                    del dying[sig]
            time.sleep(0.1)
        return found
    finally:
        for proc in procs.values():
            for pid in group_members(proc.pid):
                os.kill(pid, signal.SIGKILL)
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.mark.parametrize("sig", KILL_SIGNALS, ids=lambda sig: sig.name)
def test_killing_the_ketl_process_alone_takes_its_children_with_it(sig, background):
    """The temporary Prefect server, the resource tracker and the pool workers die within
    seconds of the ketl process, and the next run is not slowed by them."""
    below, left, took = background("killed")[sig]
    assert below, "the run never had its server, resource tracker and two pool workers running"
    assert not left, f"{len(left)} processes outlived ketl by {took:.1f} s"
    # the watchdog's poll and grace (2.5 s) and room for a loaded machine; a grace gone wrong
    # (10 s and more) fails here or above
    assert took < watchdog.POLL_SECONDS + watchdog.GRACE_SECONDS + 5, took


def test_minhash_of_one_huge_text_needs_one_block_of_memory_and_gives_the_same_signature():
    import tracemalloc

    import numpy as np

    from ketl.dedup import minhash

    rng = np.random.default_rng(12)
    hashes = rng.integers(0, 2**32, size=1_000_000, dtype=np.uint64).astype(np.uint32)
    offsets = np.array([0, 7, 9, 999_000, 1_000_000])  # small, small, huge, small
    tracemalloc.start()
    got = minhash.signatures_from_hashes(hashes, offsets)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 48 << 20, peak  # perms x shingles of the huge text would be 512 MB
    a, b = minhash.permutations(128, minhash.MinHashSettings().seed)
    h = minhash._fmix32(hashes)
    for k in range(4):
        part = h[offsets[k]:offsets[k + 1]].astype(np.uint64)
        want = [int(((int(a[p]) * part + int(b[p])) & 0xFFFFFFFF).min()) for p in range(0, 128, 31)]
        assert got[k, ::31].tolist() == want


def test_one_watchdog_per_process_and_it_stops_what_is_left(tmp_path):
    from ketl.run import watchdog

    first = watchdog.start()
    assert first is not None and watchdog.start() is first  # in-process runs share it
    # a process this one started and left behind: the watchdog's cleanup stops it
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    noted = watchdog.descendants({os.getpid()}, watchdog._processes())
    assert child.pid in noted and first.pid in noted
    t0 = time.monotonic()
    watchdog.cleanup({child.pid: noted[child.pid]}, grace=1.0)
    assert child.wait(timeout=5) == -signal.SIGTERM and time.monotonic() - t0 < 3


def test_a_worker_whose_parent_died_while_it_started_exits_at_once():
    code = ("import time; from ketl.watchdog import exit_with_parent; "
            "exit_with_parent(999999999); time.sleep(30)")  # its parent is not that pid: gone
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], timeout=20)
    assert proc.returncode == 1 and time.monotonic() - t0 < 10


# The runs that start their own temporary Prefect server (10-25 s each here, most of it
# imports in new processes) go in a thread from the moment the session's server is up
# (conftest.py calls start_with_server), beside the tests that follow, which use the
# other core; the tests here read what they found. In the session's one background lane
# (conftest.in_background), one after the other: the kill test bounds how long the
# children may outlive ketl, so no third server starts beside it.
_SCENARIOS = {"killed": ("test_killing_the_ketl_process_alone_takes_its_children_with_it", _killed_alone),
              "refused": ("test_second_run_is_refused_at_once_while_the_first_starts_prefect", _refused_second_run)}
_STARTED: dict[str, Future] = {}
_ROOTS: list[Path] = []


def start_with_server(items, server: tuple[str, Path]) -> None:
    first = {}  # test name -> its first selected item
    for item in items:
        first.setdefault(item.originalname, item)
    chosen = [key for key, (test, _) in _SCENARIOS.items() if test in first and key not in _STARTED]
    if not chosen:
        return
    env = session_environ()  # not os.environ: tests change it for a moment now and then
    root = Path(tempfile.mkdtemp(prefix="ketl-run-safety-"))
    _ROOTS.append(root)
    for key in chosen:
        (root / key).mkdir()
        _STARTED[key] = in_background(_SCENARIOS[key][1], root / key, server[1], env,
                                      needed_by=first[_SCENARIOS[key][0]])


@pytest.fixture(scope="module")
def background(request, _prefect_server):
    """What a scenario above found (started with the session's server, or now)."""
    start_with_server([item for item in request.session.items if item.module is request.module], _prefect_server)
    yield lambda key: _STARTED[key].result(timeout=900)
    for future in _STARTED.values():
        if not future.cancel():
            future.exception(timeout=900)  # let it end: it stops its own processes
    _STARTED.clear()
    for root in _ROOTS:
        shutil.rmtree(root, ignore_errors=True)
