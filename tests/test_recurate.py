"""Re-curation (issue 13.5): a re-read file replaces its stored rows, and stored
articles curated with other settings are read again unless --keep-stale."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ketl.settings import Settings
from ketl.dedup.index import QuoteIndex
from ketl.run.incremental import Plan, add_stale, file_key_in, stale_files
from ketl.run.processed import Seen
from ketl.ingest.scan import SourceFile
from ketl.run.dedup import with_clusters
from ketl.run.user_files import with_user_gazetteer
from ketl.stages.entities.review import ReviewItem, default_user_gazetteer, record_decisions
from ketl.store import remove_rows

from conftest import SEEDS

# -- pure functions -----------------------------------------------------------------


def test_file_key_matches_a_file_and_its_jsonl_lines_only():
    paths = pa.array(["a.txt", "b.jsonl#3", "b.jsonl#12", "b.jsonl.x", "c#1.txt", "c", "ա/գ.jsonl.gz#7",
                      "ba.jsonl#3"])
    files = pa.array(["a.txt", "b.jsonl", "c#1.txt", "ա/գ.jsonl.gz"])
    assert file_key_in(paths, files).to_pylist() == [True, True, True, False, True, False, True, False]


def _seen(run: str, n: int = 1, sha: str = "s") -> Seen:
    return Seen(sha, 10, 1, n, run)


def test_stale_files_judges_by_the_run_that_wrote_the_rows():
    processed = {"old.txt": _seen("r1"), "new.txt": _seen("r2"), "gone.jsonl": _seen("r1", 4),
                 "rejected.txt": _seen("r1", 0, ""), "unknown.txt": _seen("r0")}
    stale = stale_files(processed, {"r1": "h-old", "r2": "h-now"}, "h-now",
                        present={"old.txt", "new.txt", "rejected.txt", "unknown.txt"})
    assert stale.paths == {"old.txt"} and stale.articles == 1 and stale.gone == 4
    assert stale_files(processed, {"r1": "h-now", "r2": "h-now"}, "h-now", {"old.txt"}).paths == set()


def test_add_stale_reads_them_in_scan_order_and_skips_no_more():
    files = [SourceFile(p, 10, 1) for p in ("a.txt", "b.txt", "c.txt", "d.txt")]
    files.append(SourceFile("e.txt", 0, 1, problem="broken_link"))
    the_plan = Plan([files[2]], skipped=3, restat=[("b.txt", "s", 10, 1, -1)])
    assert add_stale(the_plan, files, {"a.txt", "b.txt", "e.txt"}) == 2
    assert [f.path for f in the_plan.to_read] == ["a.txt", "b.txt", "c.txt"]
    assert the_plan.skipped == 1 and the_plan.restat == []
    assert add_stale(the_plan, files, {"a.txt"}) == 0


def test_only_files_read_again_whole_replace_their_rows():
    from ketl.flows.flow import RunSummary, _replaced
    from ketl.run.processed import file_rows_table

    processed = {"edited.txt": _seen("r1"), "now-unreadable.txt": _seen("r1"), "restat.txt": _seen("r1"),
                 "was-rejected.txt": _seen("r1", 0, "")}
    rows = [("edited.txt", "s2", 10, 2, 1), ("now-unreadable.txt", "", 10, 2, 0), ("restat.txt", "s", 10, 2, -1),
            ("was-rejected.txt", "s3", 10, 2, 1), ("new.txt", "s4", 10, 2, 1)]
    # bytes that could not be read now keep the stored rows, as a file gone from raw/ does
    summary = RunSummary("r", "out")
    table = file_rows_table(rows)
    assert _replaced(summary, table, processed, {"edited.txt", "restat.txt"}) == ["edited.txt", "was-rejected.txt"]
    assert summary.recurated == 1 and summary.notes == ["re-curated 1 articles (settings changed)"]
    # the flow hands over the batches' tables as one; several chunks give the same
    chunked = pa.concat_tables([table.slice(0, 2), table.slice(2)])
    summary = RunSummary("r", "out")
    assert _replaced(summary, chunked, processed, {"edited.txt", "restat.txt"}) == ["edited.txt", "was-rejected.txt"]
    assert summary.recurated == 1
    # a first run stores nothing to replace
    assert _replaced(RunSummary("r", "out"), table, {}, set()) == []


def test_remove_rows_never_touches_the_previous_snapshots_file(tmp_path):
    old, staging = tmp_path / "old", tmp_path / "staging"
    part = old / "articles" / "run_date=2026-01-01"
    part.mkdir(parents=True)
    rows = pa.table({"doc_id": ["d1", "d2", "d3"], "source_path": ["x.txt", "y.jsonl#1", "z.txt"],
                     "text": ["Ереван", "埃里温", "Yerevan"]})
    pq.write_table(rows, part / "p1.parquet")
    pq.write_table(rows.slice(1, 1), part / "p2.parquet")
    linked = staging / "articles" / "run_date=2026-01-01"
    linked.mkdir(parents=True)
    for p in part.iterdir():
        os.link(p, linked / p.name)
    before = (part / "p1.parquet").read_bytes()
    n, ids = remove_rows(staging, "articles", lambda t: file_key_in(t.column("source_path"), pa.array(["y.jsonl"])),
                         ["source_path"])
    assert n == 2 and sorted(ids.to_pylist()) == ["d2", "d2"]
    assert (part / "p1.parquet").read_bytes() == before and (part / "p2.parquet").exists()
    assert pq.read_table(linked / "p1.parquet").column("text").to_pylist() == ["Ереван", "Yerevan"]
    assert not (linked / "p2.parquet").exists()  # emptied: removed, not left as an empty part


QUOTES_TEXT = [
    "Мы никогда не отдадим Арцах, сказал министр иностранных дел на встрече в Ереване",
    "Мы никогда не отдадим Арцах, сказал министр иностранных дел на встрече в Ереване.",
    "我们永远不会放弃这片土地，外交部长在埃里温的会议上说道，并呼吁国际社会支持",
    "Մենք երբեք չենք հանձնի Արցախը, ասաց արտաքին գործերի նախարարը Երևանում կայացած հանդիպմանը",
    "Мы никогда не отдадим Арцах, — сказал министр иностранных дел на встрече в Ереване",
]


def _quotes(ids: list[str], texts: list[str]) -> pa.Table:
    n = len(ids)
    return pa.table({"quote_id": ids, "doc_id": ids, "source_path": ids, "text": texts,
                     "cluster_id": pa.nulls(n, pa.string()), "similarity": pa.nulls(n, pa.float32())})


def test_quote_clusters_name_and_count_only_live_members():
    index = QuoteIndex()
    index.add(pa.table({"quote_id": ["q0", "q1", "q2", "q3", "q4"], "text": QUOTES_TEXT}))
    full, clusters = with_clusters(_quotes(["q0", "q1", "q2", "q3", "q4"], QUOTES_TEXT), index)
    assert full.column("cluster_id").to_pylist()[:2] == ["q0", "q0"] and clusters == 1
    assert full.column("cluster_size").to_pylist()[0] == 3
    # q0 (the root) was replaced: its cluster is named by q1 and counts two members
    live = ["q1", "q2", "q3", "q4"]
    quotes, clusters = with_clusters(_quotes(live, QUOTES_TEXT[1:]), index)
    cid = quotes.column("cluster_id").to_pylist()
    assert set(cid) <= set(live)  # no row names a removed quote
    assert cid[0] == "q1" and cid[3] == "q1" and quotes.column("cluster_size").to_pylist() == [2, 1, 1, 2]
    assert quotes.column("is_canonical").to_pylist() == [True, True, True, False]
    assert quotes.column("similarity").to_pylist()[0] == 1.0 and clusters == 1
    # an unindexed quote (dedup skipped) keeps what it has
    alone, _ = with_clusters(_quotes(["qx"], ["Nowhere indexed"]), index)
    assert alone.column("cluster_id").to_pylist() == [None] and alone.column("cluster_size").to_pylist() == [1]


def test_near_duplicate_of_never_names_a_replaced_article():
    from ketl.dedup.index import ArticleIndex

    base = ("Ուկրաինայի և Ռուսաստանի պատվիրակությունները կհանդիպեն Ստամբուլում երկուշաբթի օրը "
            "բանակցությունների նոր փուլի համար, հայտնել է արտաքին գործերի նախարարությունը ")
    texts = [base + "առավոտյան", base + "երեկոյան", base + "կեսօրին", "Совсем другая статья о погоде в Москве " * 3]
    index = ArticleIndex()
    out = index.add(pa.table({"doc_id": ["d0", "d1", "d2", "d3"], "text": texts}))
    assert out.column("near_duplicate_of").to_pylist() == [None, "d0", "d0", None]
    ids = pa.array(["d1", "d2", "d3"])
    assert index.earliest_live(ids, pa.array(["d0"])).to_pylist() == [None, "d1", None]
    assert index.earliest_live(pa.array(["d2", "d3"]), pa.array(["d0", "d1"])).to_pylist() == [None, None]
    assert index.earliest_live(pa.array(["d2", "dx"]), pa.array([], pa.string())).to_pylist() == ["d0", None]


def test_config_hash_covers_the_datasets_user_gazetteer(tmp_path):
    out = tmp_path / "curated"
    base = Settings(out=str(out))
    before = with_user_gazetteer(base)[0].config_hash()
    item = ReviewItem("x", "Salxian", "Sarkissian", "Armen Sarkissian", "person", 0.9, 1, "d", "000.txt", 3, "")
    record_decisions(default_user_gazetteer(out), accepted=[item])
    after = with_user_gazetteer(base)[0].config_hash()
    assert after != before
    record_decisions(default_user_gazetteer(out), rejected=[item])
    assert with_user_gazetteer(base)[0].config_hash() != after


FEED = [  # a JSONL file in three scripts: its lines are rows of one file
    ("hy1", "Հանդիպում Ստեփանակերտում",
     "Երեկ Ստեփանակերտում կայացավ հանդիպում, որին մասնակցում էին տեղական իշխանությունների ներկայացուցիչները։ "
     "Քննարկվեցին ճանապարհների վերանորոգման և դպրոցների ջեռուցման հարցերը։"),
    ("ru1", "Переговоры в Москве",
     "В Москве прошли переговоры министров иностранных дел. Стороны обсудили вопросы транспортного сообщения "
     "и возвращения беженцев, сообщает пресс-служба министерства."),
    ("zh1", "日内瓦会谈", "双方代表在日内瓦举行会谈，讨论了人道主义援助和边界划定问题。会谈将于下周继续进行。"),
]

# -- real runs ----------------------------------------------------------------------

runner = CliRunner()


def _ketl(*args: str):
    from ketl.cli import app

    return runner.invoke(app, list(args))


def _table(out: Path, name: str) -> list[dict]:
    return ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()


def _by_path(out: Path) -> dict[str, dict]:
    rows = _table(out, "articles")
    assert len({r["source_path"] for r in rows}) == len(rows), "a file has rows twice"
    return {r["source_path"]: r for r in rows}


def _assert_quote_clusters_live(out: Path) -> None:
    quotes = _table(out, "quotes")
    ids = {q["quote_id"] for q in quotes}
    docs = {r["doc_id"] for r in _table(out, "articles")}
    assert len(ids) == len(quotes) and {q["doc_id"] for q in quotes} <= docs
    sizes: dict[str, int] = {}
    for q in quotes:
        sizes[q["cluster_id"]] = sizes.get(q["cluster_id"], 0) + 1
    assert set(sizes) <= ids, "a quote cluster names a removed quote"
    assert all(q["cluster_size"] == sizes[q["cluster_id"]] for q in quotes)


def _martigny_edits(out: Path, articles: dict[str, dict]) -> int:
    doc = articles["000_9d448b33668d1c4d.txt"]["doc_id"]
    return sum(e["before"] == "Martigny" for e in _table(out, "edits") if e["doc_id"] == doc)


def _stored_doc_ids(out: Path, table: str) -> set[str]:
    return {r["doc_id"] for r in _table(out, table)}


@pytest.mark.usefixtures("prefect_api")
def test_reread_replaces_rows_and_settings_changes_reach_stored_articles(raw_copy, tmp_path):
    out = tmp_path / "curated"
    run = ("run", "--raw", str(raw_copy), "--out", str(out), "--workers", "1")
    shutil.copy(SEEDS / "003_dc860a697fd09110.txt", raw_copy / "reprint.txt")  # its quotes join 003's clusters
    feed = raw_copy / "feed.jsonl"
    feed.write_text("\n".join(json.dumps({"id": k, "title": t, "text": x}, ensure_ascii=False)
                              for k, t, x in FEED) + "\n", encoding="utf-8")
    assert _ketl(*run).exit_code == 0
    first = _by_path(out)
    assert len(first) == 9
    _assert_quote_clusters_live(out)

    # (a, d) a changed file: its old rows give way to the new ones, in every table
    edited = raw_copy / "003_dc860a697fd09110.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nUpdated: the talks resume in Geneva.\n",
                      encoding="utf-8")
    feed.write_text(feed.read_text(encoding="utf-8").replace("Ստեփանակերտում", "Գորիսում"), encoding="utf-8")
    res = _ketl(*run)
    assert res.exit_code == 0, res.output
    second = _by_path(out)
    # every line of the changed JSONL is a new row (new doc_id), the changed line with its new title
    assert [second[f"feed.jsonl#{i}"]["title"] for i in (1, 2, 3)] == ["Հանդիպում Գորիսում", *(t for _, t, _ in FEED[1:])]
    assert second["feed.jsonl#2"]["text"] == first["feed.jsonl#2"]["text"] and "Москве" in first["feed.jsonl#2"]["text"]
    assert not {first[f"feed.jsonl#{i}"]["doc_id"] for i in (1, 2, 3)} & _stored_doc_ids(out, "articles")
    assert len(second) == 9 and "talks resume in Geneva" in second["003_dc860a697fd09110.txt"]["text"]
    old_id = first["003_dc860a697fd09110.txt"]["doc_id"]
    assert old_id != second["003_dc860a697fd09110.txt"]["doc_id"]
    for name in ("articles", "edits", "entities", "quotes", "suggestions"):
        assert old_id not in _stored_doc_ids(out, name), name
    assert {r["doc_id"] for r in second.values()} - {old_id} >= {r["doc_id"] for p, r in first.items()
                                                                 if p != "003_dc860a697fd09110.txt"
                                                                 and not p.startswith("feed.jsonl")}
    _assert_quote_clusters_live(out)
    # the reprint pointed at 003's old version: it is now the earliest live member, and the new 003 points at it
    assert first["reprint.txt"]["near_duplicate_of"] == old_id
    assert second["reprint.txt"]["near_duplicate_of"] is None
    assert second["003_dc860a697fd09110.txt"]["near_duplicate_of"] == second["reprint.txt"]["doc_id"]
    assert {r["near_duplicate_of"] for r in second.values()} - {None} <= {r["doc_id"] for r in second.values()}
    reprint_quotes = [q for q in _table(out, "quotes") if q["source_path"] == "reprint.txt"]
    assert reprint_quotes and any(q["cluster_size"] >= 2 for q in reprint_quotes)

    # (b) a review decision, then --keep-stale: nothing re-read, and it says so
    (raw_copy / "001_6fb742abf75a8ac6.txt").unlink()  # (c) a file gone from raw/
    # The run corrected "Martigny" (a place of the seed) to Martuni; the reviewer rejects that.
    assert "Martigny" not in second["000_9d448b33668d1c4d.txt"]["text"]
    assert _martigny_edits(out, second) == 1
    item = ReviewItem("x", "Martigny", "Martuni", "Martuni", "place", 0.9, 1, "d", "000.txt", 3, "")
    record_decisions(default_user_gazetteer(out), rejected=[item])
    res = _ketl(*run, "--keep-stale")
    assert res.exit_code == 0, res.output
    assert "8 articles were curated with other settings; kept as they are (--keep-stale)" in res.output
    assert "1 articles curated with other settings stay as they are" in res.output
    assert _by_path(out) == second and _martigny_edits(out, second) == 1

    # the next run without it re-curates: the decision reaches the stored article
    res = _ketl(*run)
    assert res.exit_code == 0, res.output
    assert "8 articles were curated with other settings; re-curating them (--keep-stale to keep them)" in res.output
    assert "re-curated 8 articles (settings changed)" in res.output
    third = _by_path(out)
    assert len(third) == 9 and third["001_6fb742abf75a8ac6.txt"] == second["001_6fb742abf75a8ac6.txt"]  # (c)
    article = third["000_9d448b33668d1c4d.txt"]
    assert "Martigny" in article["text"] and article["doc_id"] == second["000_9d448b33668d1c4d.txt"]["doc_id"]
    assert _martigny_edits(out, third) == 0
    edits = [e for e in _table(out, "edits") if e["doc_id"] == article["doc_id"]]
    assert len({e["seq"] for e in edits}) == len(edits) and {e["run_id"] for e in edits} == {article["run_id"]}
    entities = [e for e in _table(out, "entities") if e["doc_id"] == article["doc_id"]]
    assert entities and {e["run_id"] for e in entities} == {article["run_id"]}
    assert "Martuni" not in {e["canonical"] for e in entities if e["surface"] == "Martigny"}
    _assert_quote_clusters_live(out)
    runs = sorted(_table(out, "runs"), key=lambda r: r["finished_at"])
    assert [r["recurated"] for r in runs] == [0, 0, 0, 8]

    # re-curated rows carry this run's hash: the next run has nothing to do
    res = _ketl(*run)
    assert res.exit_code == 0 and "re-curating" not in res.output
    assert "1 articles curated with other settings stay as they are" in res.output
    assert _by_path(out) == third


def test_a_reread_file_is_counted_once_in_the_site_line_state(tmp_path):
    """Re-reading a file must not count its lines twice: a line in half a site's
    documents would then look like boilerplate and real sentences be cut."""
    from datetime import datetime, timezone

    from ketl.ingest.scan import scan
    from ketl.run.batch import SITE_LINES, RunContext, merge_site_lines, prepare_batch

    raw = tmp_path / "raw"
    for site in ("a", "b"):
        shutil.copytree(SEEDS, raw / site, ignore=shutil.ignore_patterns("*.md"))
    units = scan(raw, False)

    def ctx(run: str) -> RunContext:
        return RunContext(run_id=run, raw=str(raw), staging=str(tmp_path / run), settings=Settings(),
                          config_hash="h", started_at=datetime.now(timezone.utc))

    first = ctx("r1")
    prepare_batch(first, 0, units)
    stored = merge_site_lines(first, None, [0])
    assert stored.num_rows > 10
    (tmp_path / "prev" / "_state").mkdir(parents=True)
    pq.write_table(stored, tmp_path / "prev" / "_state" / SITE_LINES)
    again = ctx("r2")
    prepare_batch(again, 0, units, recount=[u.path for u in units if u.path.startswith("a/")])
    merged = merge_site_lines(again, tmp_path / "prev", [0])
    key = [("site", "ascending"), ("line_key", "ascending")]
    by_site = {s: merged.filter(pc.equal(merged.column("site"), s)).sort_by(key) for s in ("a", "b")}
    old = {s: stored.filter(pc.equal(stored.column("site"), s)).sort_by(key) for s in ("a", "b")}
    assert by_site["a"].equals(old["a"])  # re-read: the same counts
    doubled = pc.multiply(old["b"].column("n_docs"), 2)
    assert by_site["b"].column("n_docs").equals(doubled)  # read a second time as new files: counted again
