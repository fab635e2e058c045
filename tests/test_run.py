"""End-to-end: the `ketl run` CLI and the `curate` flow on real input, under one Prefect server."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ketl.cli import app
from ketl.schemas import TABLES
from ketl.store import Store
from conftest import SEEDS, lane_result, copy_seed_dataset, in_background, session_environ

pytestmark = pytest.mark.usefixtures("prefect_api")
runner = CliRunner()


def ketl(*args: str):
    result = runner.invoke(app, list(args))
    return result


def table(out: Path, name: str):
    return ds.dataset(out / name, format="parquet", partitioning="hive").to_table()


def snapshot_files(out: Path) -> dict[str, bytes]:
    """Every file readers can see through the table links, with its bytes."""
    seen = {}
    for name in TABLES:
        root = out / name
        if root.exists():
            for p in sorted(root.rglob("*.parquet")):
                seen[str(p.relative_to(out))] = p.read_bytes()
    return seen


def test_run_on_raw_then_rerun_then_add(raw_copy, tmp_path):
    out = tmp_path / "curated"
    res = ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "2")
    assert res.exit_code == 0, res.output
    assert "articles written" in res.output
    band_row = [line for line in res.output.splitlines() if line.startswith("│   band tasks ran in")]
    assert band_row and band_row[0].rstrip(" │")[-1] in "12", res.output  # in the 2 pool processes
    articles = table(out, "articles")
    assert articles.num_rows == 5
    # every documented column with its documented type, descriptions in the metadata
    for name, schema in TABLES.items():
        files = list((out / name).rglob("*.parquet"))
        for f in files:
            got = pq.read_schema(f)
            for field in schema:
                assert got.field(field.name).type == field.type, (name, field.name)
                assert got.field(field.name).metadata[b"description"]
    rows = articles.to_pylist()
    for row in rows:
        data = (raw_copy / row["source_path"]).read_bytes()
        assert row["source_sha256"] == hashlib.sha256(data).hexdigest()
        assert row["n_chars"] == len(row["text"]) > 0
        assert row["pipeline_version"] and row["config_hash"] and row["run_id"]
    runs = table(out, "runs").to_pylist()
    assert len(runs) == 1 and runs[0]["articles"] == 5 and runs[0]["status"] == "ok"
    assert rows[0]["run_id"] == runs[0]["run_id"]
    # every stage left its mark on the seeds, and every edit replays against its source
    by_path = {r["source_path"]: r for r in rows}
    assert "[ad_1]" not in by_path["004_1e930348a9d95387.txt"]["text"]
    assert "wasagreed" not in by_path["001_6fb742abf75a8ac6.txt"]["text"]
    assert "Stepanakert" in by_path["002_67a6e7a638f7b526.txt"]["text"]
    assert by_path["003_dc860a697fd09110.txt"]["reprinted_from"] == "Radio Free Europe/Radio Liberty"
    edits = table(out, "edits").to_pylist()
    assert {e["stage"] for e in edits} >= {"repair.normalize", "boilerplate", "boilerplate.metadata", "entities"}
    for e in edits:
        source = (raw_copy / e["source_path"]).read_text(encoding="utf-8")
        assert e["source_line"] == source.count("\n", 0, e["source_start"]) + 1
    assert sum(r["n_edits"] for r in rows) == len(edits)
    quotes = table(out, "quotes").to_pylist()
    for q in quotes:
        text = by_path[q["source_path"]]["text"]
        assert text[q["start"]:q["end"]].split() == q["text"].split() or "\n" in text[q["start"]:q["end"]]
    hazardous = {q["cluster_id"] for q in quotes if q["text"] == "very hazardous"}
    assert len(hazardous) == 1
    assert [q["cluster_size"] for q in quotes if q["cluster_id"] in hazardous] == [2, 2]

    # the README's reading snippets run as written against this dataset
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    snippet = readme.split("## Reading the output", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    cwd = os.getcwd()
    os.chdir(out.parent)
    try:
        scope: dict = {}
        exec(compile(snippet, "README.md", "exec"), scope)
        assert scope["articles"].num_rows == 5 and len(scope["edits"]) > 0
    finally:
        os.chdir(cwd)

    # idempotent re-run: nothing new, nothing added but its row in the run history
    before = {k: v for k, v in snapshot_files(out).items() if not k.startswith("runs/")}
    res = ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1")
    assert res.exit_code == 0, res.output
    assert {k: v for k, v in snapshot_files(out).items() if not k.startswith("runs/")} == before
    assert "unchanged, skipped" in res.output
    assert sorted(r["status"] for r in table(out, "runs").to_pylist()) == ["nothing_new", "ok"]

    # incremental: one new file is processed and appended, the rest skipped
    (raw_copy / "sub").mkdir()
    shutil.copy(SEEDS / "003_dc860a697fd09110.txt", raw_copy / "sub" / "copy.txt")
    res = ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1")
    assert res.exit_code == 0, res.output
    articles = table(out, "articles")
    assert articles.num_rows == 6
    assert sorted(articles.column("source_path").to_pylist())[-1] == "sub/copy.txt"
    assert len(set(articles.column("doc_id").to_pylist())) == 6
    runs = table(out, "runs").to_pylist()
    assert sorted(r["files_new"] for r in runs) == [0, 1, 5]
    # the copy of 003 is a whole-article reprint; its quotes join the earlier clusters
    copy = [a for a in articles.to_pylist() if a["source_path"] == "sub/copy.txt"][0]
    original = [a for a in articles.to_pylist() if a["source_path"] == "003_dc860a697fd09110.txt"][0]
    assert copy["near_duplicate_of"] == original["doc_id"]
    quotes = table(out, "quotes").to_pylist()
    copied = [q for q in quotes if q["doc_id"] == copy["doc_id"]]
    assert copied and all(not q["is_canonical"] and q["cluster_size"] >= 2 for q in copied)

    # a changed file is processed again and its new rows replace the old ones; --full rebuilds from scratch
    (raw_copy / "sub" / "copy.txt").write_text("A changed article about Stepanakert.\n")
    res = ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1")
    assert res.exit_code == 0
    changed = [a for a in table(out, "articles").to_pylist() if a["source_path"] == "sub/copy.txt"]
    assert table(out, "articles").num_rows == 6 and len(changed) == 1
    assert changed[0]["text"].startswith("A changed article") and changed[0]["doc_id"] != copy["doc_id"]
    assert copy["doc_id"] not in {q["doc_id"] for q in table(out, "quotes").to_pylist()}
    res = ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1", "--full")
    assert res.exit_code == 0
    assert table(out, "articles").num_rows == 6
    # --full rebuilds the data but keeps the history: five runs, the last one full
    runs = sorted(table(out, "runs").to_pylist(), key=lambda r: r["finished_at"])
    assert [r["full"] for r in runs] == [False] * 4 + [True]


def test_bad_inputs_exit_1_and_are_recorded(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SEEDS / "000_9d448b33668d1c4d.txt", raw / "good.txt")
    (raw / "empty.txt").write_bytes(b"")
    (raw / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (raw / "feed.jsonl").write_text(json.dumps({"text": "Baku: fighting resumed.", "site": "x.test"}) + "\n{broken\n")
    os.symlink(raw / "gone.txt", raw / "dangling.txt")
    out = tmp_path / "curated"
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1")
    assert res.exit_code == 1, res.output
    rejects = {r["source_path"]: r["reason"] for r in table(out, "rejects").to_pylist()}
    assert rejects == {"empty.txt": "empty", "binary.txt": "binary", "feed.jsonl#2": "malformed_jsonl",
                       "dangling.txt": "broken_link"}
    articles = table(out, "articles").to_pylist()
    assert sorted(a["source_path"] for a in articles) == ["feed.jsonl#1", "good.txt"]
    assert [a["site"] for a in articles if a["source_path"] == "feed.jsonl#1"] == ["x.test"]
    # re-running adds no reject rows either
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1")
    assert res.exit_code == 0
    assert table(out, "rejects").num_rows == 4


def test_usage_errors_are_one_line_exit_2(tmp_path):
    res = ketl("run", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert res.exit_code == 2
    assert "does not exist" in res.output and "Traceback" not in res.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = ketl("run", "--raw", str(tmp_path), "--out", str(blocker / "out"))
    assert res.exit_code == 2 and "not writable" in res.output
    # usage errors are caught before Prefect starts, so nothing logs a traceback
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[entities]\nthreshhold = 0.9\n")
    for args in (["--skip", "spelling"], ["--config", str(cfg)]):
        res = ketl("run", "--raw", str(tmp_path), "--out", str(tmp_path / "o"), *args)
        assert res.exit_code == 2, res.output
        assert "Traceback" not in res.output and "starting Prefect" not in res.output


def test_second_run_on_same_out_fails_fast(raw_copy, tmp_path):
    out = tmp_path / "curated"
    with Store(out):
        res = ketl("run", "--raw", str(raw_copy), "--out", str(out))
    assert res.exit_code == 2
    assert "another ketl run" in res.output


KILL_POINTS = ["after_batches", "before_commit", "after_rename"]


def _kill_runs(seed: tuple[Path, Path], root: Path, env: dict) -> dict:
    """Per fault point: a copy of the seed dataset with one new file, and the ``ketl run``
    that KETL_FAULT killed (-9) at that point, with what the dataset held before it.
    The three runs go side by side: each is seconds of a fresh interpreter importing
    Prefect while this process only waits."""
    cases = {}
    for point in KILL_POINTS:
        (root / point).mkdir()
        raw, out = copy_seed_dataset(seed, root / point)
        before = snapshot_files(out), (out / ".ketl" / "current").resolve().name
        shutil.copy(SEEDS / "002_67a6e7a638f7b526.txt", raw / "new.txt")
        proc = subprocess.Popen([sys.executable, "-m", "ketl.cli", "run", "--raw", str(raw), "--out", str(out),
                                 "--workers", "1"], env={**env, "KETL_FAULT": point}, cwd=root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        cases[point] = (raw, out, before, proc)
    found = {}
    for point, (raw, out, before, proc) in cases.items():
        _, stderr = proc.communicate(timeout=300)
        found[point] = (raw, out, before, proc.returncode, stderr)
    return found


_KILLED: list = []  # the kill runs' Future and folder, once started
_KILL_TESTS = "test_kill_9_mid_run_leaves_the_earlier_dataset_intact"


def start_with_seed_dataset(items, seed: tuple[Path, Path, str, Path]) -> None:
    """Called by conftest.py once the session's seed dataset exists (tests of other modules
    build it): the kill runs start then, in the background lane, and run beside the tests
    before this module's instead of in its kill tests' setup."""
    users = [item for item in items if item.originalname == _KILL_TESTS]
    if _KILLED or not users:
        return
    raw, out, api, _ = seed
    root = Path(tempfile.mkdtemp(prefix="ketl-kill-9-"))
    env = {**session_environ(), "PREFECT_API_URL": api}  # not os.environ: tests change it for a moment
    _KILLED.append((in_background(_kill_runs, (raw, out), root, env, needed_by=users[0]), root))


@pytest.fixture(scope="module")
def killed_runs(request, _seed_dataset, _prefect_server):
    """What ``_kill_runs`` found (started with the seed dataset, or now)."""
    start_with_seed_dataset([item for item in request.session.items if item.module is request.module],
                            (*_seed_dataset, *_prefect_server))
    yield from lane_result(_KILLED, timeout=900)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_9_mid_run_leaves_the_earlier_dataset_intact(point, killed_runs):
    raw, out, (before, committed), returncode, stderr = killed_runs[point]  # the seeds' dataset, then the kill
    snaps = out / ".ketl" / "snapshots"
    assert returncode == -9, stderr
    assert snapshot_files(out) == before
    assert table(out, "articles").num_rows == 5
    left = {p.name for p in snaps.iterdir()} - {committed}
    assert len(left) == (point == "after_rename"), left  # renamed into snapshots/, never made current
    # the next run cleans up and adds the new file exactly once
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1")
    assert res.exit_code == 0, res.output
    assert table(out, "articles").num_rows == 6
    assert not list((out / ".ketl" / "staging").glob("*"))
    # the orphan was never current: it goes; the last committed snapshot stays for readers
    current = (out / ".ketl" / "current").resolve().name
    assert {p.name for p in snaps.iterdir()} == {current, committed} and current not in left


def test_curate_flow_is_callable_from_python(raw_copy, tmp_path):
    from ketl.flows import curate
    from ketl.run import progress

    class Bars:  # what the CLI's progress bars are told
        def __init__(self):
            self.total, self.done = {}, {}

        def start(self, phase, total):
            self.total[phase] = total

        def advance(self, phase, n=1):
            self.done[phase] = self.done.get(phase, 0) + n

    bars = Bars()
    progress.set_reporter(bars)
    try:
        summary = curate(raw=str(raw_copy), out=str(tmp_path / "o"), workers=1)
    finally:
        progress.set_reporter(None)
    assert summary["articles"] == 5 and summary["files_seen"] == 5
    # every bar's total is what it counts up to (the curate bar once read 0 of 0 batches)
    assert bars.total["read"] == bars.total["curate"] >= 1
    assert all(bars.done.get(phase) == total for phase, total in bars.total.items()), (bars.total, bars.done)
    # the run published its counts and summary as Prefect artifacts
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        counts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ketl-run-counts"])))
        markdown = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ketl-run-summary"])))
    mine = [a for a in counts if a.description and summary["run_id"] in a.description]
    assert len(mine) == 1
    data = mine[0].data if isinstance(mine[0].data, list) else json.loads(mine[0].data)
    assert {"count": "articles", "value": 5} in data
    assert any(summary["run_id"] in (a.data or "") for a in markdown)


def test_site_footers_are_learned_across_runs(tmp_path):
    """Per-site line counts persist in the state: a footer seen in too few articles
    to judge in the first run is recognised once later runs bring more of the site."""
    raw = tmp_path / "raw"
    site = raw / "karabakh-daily.test"
    site.mkdir(parents=True)
    footer = "Karabakh Daily is published by the Caucasus Media Group from its newsroom in Stepanakert."
    seeds = sorted(SEEDS.glob("*.txt"))

    def article(i: int) -> str:
        body = seeds[i].read_text(encoding="utf-8").strip()
        return f"{body}\n\n{footer}\n"

    for i in range(2):
        (site / f"a{i}.txt").write_text(article(i), encoding="utf-8")
    out = tmp_path / "curated"
    assert ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1").exit_code == 0
    first = {a["source_path"]: a for a in table(out, "articles").to_pylist()}
    assert all(footer in a["text"] for a in first.values())  # 2 articles: not enough to judge
    for i in range(2, 4):
        (site / f"a{i}.txt").write_text(article(i), encoding="utf-8")
    assert ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1").exit_code == 0
    later = [a for a in table(out, "articles").to_pylist() if a["source_path"] not in first]
    assert len(later) == 2
    assert all(footer not in a["text"] for a in later)
    assert all(a["site"] == "karabakh-daily.test" for a in later)
    rules = {e["rule"] for e in table(out, "edits").to_pylist() if e["before"].strip() == footer}
    assert rules == {"site.repeated_line"}


def test_skipped_stages_leave_text_as_decoded(raw_copy, tmp_path):
    out = tmp_path / "curated"
    res = ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1",
               "--skip", "repair", "--skip", "boilerplate", "--skip", "entities", "--skip", "dedup")
    assert res.exit_code == 0, res.output
    for a in table(out, "articles").to_pylist():
        assert a["text"] == (raw_copy / a["source_path"]).read_text(encoding="utf-8")
        assert a["near_duplicate_of"] is None
    assert table(out, "edits").num_rows == 0
    quotes = table(out, "quotes").to_pylist()
    assert quotes and all(q["cluster_id"] is None for q in quotes)
    res = ketl("run", "--raw", str(raw_copy), "--out", str(tmp_path / "o2"), "--skip", "spelling")
    assert res.exit_code == 2 and "unknown stage" in res.output


def test_run_skipping_dedup_keeps_the_index_for_later_runs(tmp_path):
    """A run with --skip dedup leaves the stored index (sketch and band folders
    included) as it was, keeps old clusters' sizes, and a later run joins them."""
    seeds = sorted(SEEDS.glob("*.txt"))
    raw = tmp_path / "raw"
    for site in ("a", "b"):
        (raw / site).mkdir(parents=True)
        for p in seeds[:3]:
            shutil.copy(p, raw / site / p.name)
    out = tmp_path / "curated"
    assert ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1").exit_code == 0
    state = out / ".ketl" / "current" / "_state"
    stored = sorted(str(p.relative_to(state)) for p in state.rglob("*") if p.is_file())
    assert "quote_index.sketches/from-000000000000.arrow" in stored
    assert sum(1 for s in stored if s.startswith("quote_index.bands/")) == 32
    sizes = {q["quote_id"]: q["cluster_size"] for q in table(out, "quotes").to_pylist()}
    assert min(sizes.values()) >= 2  # every quote has its reprint from the other site

    (raw / "c").mkdir()
    shutil.copy(seeds[3], raw / "c" / seeds[3].name)
    assert ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1", "--skip", "dedup").exit_code == 0
    kept = sorted(str(p.relative_to(state)) for p in state.rglob("*") if p.is_file())
    assert set(stored) <= set(kept)
    quotes = table(out, "quotes").to_pylist()
    assert {q["quote_id"]: q["cluster_size"] for q in quotes if q["quote_id"] in sizes} == sizes

    (raw / "d").mkdir()
    shutil.copy(seeds[0], raw / "d" / seeds[0].name)
    assert ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "2").exit_code == 0
    quotes = table(out, "quotes").to_pylist()
    now = {q["cluster_id"]: q["cluster_size"] for q in quotes}
    reprint = [q for q in quotes if q["source_path"].startswith("d/")]
    # Every quote of the third reprint joined a stored cluster, which grew by as many.
    assert reprint and all(q["cluster_id"] in sizes for q in reprint)
    for cid, k in Counter(q["cluster_id"] for q in reprint).items():
        assert now[cid] == sizes[cid] + k
    assert len(list((state / "quote_index.sketches").glob("*.arrow"))) == 2


def test_index_in_the_old_layout_is_converted_by_the_next_run(tmp_path):
    from test_dedup_distributed import _as_format_2

    from ketl.dedup.index import ArticleIndex, QuoteIndex

    seeds = sorted(SEEDS.glob("*.txt"))
    raw = tmp_path / "raw"
    (raw / "a").mkdir(parents=True)
    for p in seeds[:3]:
        shutil.copy(p, raw / "a" / p.name)
    out = tmp_path / "curated"
    assert ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "1").exit_code == 0
    state = (out / ".ketl" / "current").resolve() / "_state"
    before = {q["quote_id"]: q["cluster_id"] for q in table(out, "quotes").to_pylist()}
    for cls in (QuoteIndex, ArticleIndex):
        _as_format_2(state, cls)
        assert cls.stored_format(state) == 2
    (state.parent / "_manifest.json").unlink()  # ketl 0.1 wrote no manifest
    (raw / "b").mkdir()
    shutil.copy(seeds[0], raw / "b" / seeds[0].name)
    res = ketl("run", "--raw", str(raw), "--out", str(out), "--workers", "2")
    assert res.exit_code == 0, res.output
    state = (out / ".ketl" / "current").resolve() / "_state"
    assert QuoteIndex.stored_format(state) == ArticleIndex.stored_format(state) == 3
    assert not list(state.glob("*.bands.parquet")) and not list(state.glob("*.grams.parquet"))
    quotes = table(out, "quotes").to_pylist()
    assert {q["quote_id"]: q["cluster_id"] for q in quotes if q["quote_id"] in before} == before
    reprint = [q for q in quotes if q["source_path"].startswith("b/")]
    assert reprint and all(q["cluster_id"] in before for q in reprint)
    dup = [a for a in table(out, "articles").to_pylist() if a["source_path"].startswith("b/")]
    assert dup[0]["near_duplicate_of"] is not None


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_damaged_index_is_one_line_exit_3_and_full_rebuilds(damage, seeded):
    raw_copy, out = seeded  # the seeds after one committed run
    before = snapshot_files(out)
    (sketch,) = (out / ".ketl" / "current" / "_state" / "quote_index.sketches").glob("*.arrow")
    if damage == "missing":
        sketch.unlink()
    else:
        data = sketch.read_bytes()
        sketch.unlink()  # a new inode: never write through a hard link
        sketch.write_bytes(data[: len(data) // 2])
    shutil.copy(raw_copy / sorted(p.name for p in raw_copy.iterdir() if p.is_file())[0], raw_copy / "again.txt")
    res = ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1")
    assert res.exit_code == 3, res.output
    # caught by the commit's manifest (size and checksum of every state file) before the index is opened
    assert "is damaged" in res.output and "quote_index.sketches" in res.output and "ketl run --full" in res.output
    assert "Traceback" not in res.output
    assert snapshot_files(out) == before
    res = ketl("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1", "--full")
    assert res.exit_code == 0, res.output
    assert table(out, "articles").num_rows == 6
