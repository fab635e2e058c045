"""ketl report's research sections (timelines, speakers, over time, reprints, cuts, before/after),
on datasets written through the real store, read back with the stdlib html.parser."""

from __future__ import annotations

import hashlib
import shutil
import sys
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ketl.report.build import summarize, write_report
from ketl.report.charts import STAGE_COLOURS, stage_colour
from ketl.report.research import CUT_BINS, word_diff
from ketl.schemas import EDIT_STAGE_RENAMES, TABLES
from ketl.store import INTERNAL, Store, write_part

from conftest import SEEDS

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=timezone.utc)
SEEN = datetime(2026, 1, 1, tzinfo=timezone.utc)
STATEMENT = "Armenia plays a crucial role here and we will keep the talks going"
# wordings across scripts: a word swapped, one dropped, the quote cut short
WORDINGS = [STATEMENT, "Armenia plays a key role here and we will keep the talks going",
            "Armenia plays a crucial role here and we will keep talks", STATEMENT]
SITES = ["azatutyun.am", "news.am", "armenpress.am", "news.am"]
BODIES = ["Փաշինյանը հայտարարեց, որ բանակցությունները կշարունակվեն։", "Переговоры продолжатся, заявил он.",
          "قال إن المحادثات ستستمر.", "会谈将继续进行。"]


def _seed_body() -> str:
    text = sorted(SEEDS.glob("*.txt"))[0].read_text(encoding="utf-8")
    return "\n".join(ln for ln in text.splitlines()[2:] if ln.strip())[:1500]


def _commit(out: Path, run_id: str, tables: dict[str, list[dict]]) -> None:
    with Store(out) as store:
        staging = store.begin(run_id, full=False)
        for table, rows in tables.items():
            write_part(staging, table, pa.Table.from_pylist(rows, schema=TABLES[table]), f"part-{run_id}",
                       "2024-05-06")
        store.commit(staging)


def _article(i: int, site: str | None, text: str, published: datetime | None, source_chars: int,
             path: str | None = None, sha: str = "0" * 64, n_edits: int = 0) -> dict:
    return dict(doc_id=f"d{i:03d}", source_path=path or f"{site}/a{i:03d}.txt", source_sha256=sha,
                source_encoding="utf-8", title=f"Title {i}", site=site, text=text, language="hy",
                n_chars=len(text), source_chars=source_chars, n_edits=n_edits, published=published,
                published_raw=published.isoformat() if published else None, first_seen=SEEN, run_id="r1",
                pipeline_version="0.3.0", config_hash="c" * 64, processed_at=SEEN)


def _quote(doc: dict, k: int, text: str, speaker: str | None, name: str | None, kind: str, cluster: str) -> dict:
    qid = f"{doc['doc_id']}:{k}"
    return dict(quote_id=qid, doc_id=doc["doc_id"], source_path=doc["source_path"], text=text, speaker=speaker,
                speaker_id=name and hashlib.blake2b(name.casefold().encode()).hexdigest()[:16],
                speaker_name=name, kind=kind, start=k, end=k + len(text), cluster_id=cluster,
                is_canonical=qid == cluster, similarity=1.0, run_id="r1")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """Four outlets quoting one statement at known times, a term cluster, a reprint, and one article
    whose source is still under raw/ with a title and byline the stages removed."""
    base = tmp_path_factory.mktemp("research")
    raw, out = base / "raw", base / "curated"
    body = _seed_body()
    source = f"Talks to go on | Azatutyun\n\nBy Staff Reporter | 6 May 2024\n\n{body}\n"
    (raw / "azatutyun.am").mkdir(parents=True)
    (raw / "azatutyun.am" / "cut.txt").write_text(source, encoding="utf-8")
    sha = hashlib.sha256(source.encode("utf-8")).hexdigest()
    arts = [_article(i, SITES[i], f"{BODIES[i]} «{WORDINGS[i]}».", T0 + timedelta(hours=3 * i),
                     len(BODIES[i]) + len(WORDINGS[i]) + 6)
            for i in range(4)]
    arts.append(_article(4, "azatutyun.am", body, None, len(source), path="azatutyun.am/cut.txt", sha=sha,
                         n_edits=2))
    loose = "A loose article without site or date, nothing removed."
    arts.append(_article(5, None, loose, None, len(loose)))
    head = source.index(body)
    byline = source.index("By Staff")
    edits = [dict(doc_id="d004", source_path="azatutyun.am/cut.txt", seq=0, stage="metadata", rule="metadata.title",
                  before=source[:byline], after="", source_line=1, source_start=0, source_end=byline, run_id="r1"),
             dict(doc_id="d004", source_path="azatutyun.am/cut.txt", seq=1, stage="boilerplate", rule="bio.author",
                  before=source[byline:head], after="", source_line=3, source_start=byline, source_end=head,
                  run_id="r1")]
    names = ["Armen Sarkissian", "Sarkissian", "Armen Sarkisyan", None]
    quotes = [_quote(a, 10, WORDINGS[i], names[i], names[0] if names[i] else None, "statement", "d000:10")
              for i, a in enumerate(arts[:4])]
    quotes += [_quote(a, 2, "dogs", None, None, "term", "d000:2" if i == 0 else "d000:2") for i, a in enumerate(arts[:3])]
    qc = dict(cluster_id="d000:10", canonical_text=STATEMENT, speaker_id=quotes[0]["speaker_id"],
              speaker_name="Armen Sarkissian", attributed=3, speaker_disagree=0, members=4, articles=4,
              outlets=SITES[:3], n_outlets=3, first_at=T0, first_dated=True, first_outlet=SITES[0],
              first_doc_id="d000", last_at=T0 + timedelta(hours=9), last_outlet="news.am", last_doc_id="d003",
              spread_hours=9.0, wordings=3, min_similarity=0.7, run_id="r1")
    ac = dict(cluster_id="d000", title="Title 0", members=2, outlets=["azatutyun.am", "news.am"], n_outlets=2,
              doc_ids=["d000", "d001"], delays_hours=[0.0, 3.0], first_at=T0, first_dated=True,
              first_outlet="azatutyun.am", first_doc_id="d000", last_at=T0 + timedelta(hours=3),
              last_outlet="news.am", spread_hours=3.0, run_id="r1")
    run = dict(run_id="r1", started_at=SEEN, finished_at=SEEN, pipeline_version="0.3.0", config_hash="c" * 64,
               raw_root=str(raw), full=False, files_seen=6, files_new=6, files_skipped=0, rejected=0, articles=6,
               edits=2, quotes=len(quotes), seconds=1.0, status="ok")
    _commit(out, "r1", dict(articles=arts, edits=edits, quotes=quotes, runs=[run], quote_clusters=[qc],
                            article_clusters=[ac]))
    page = write_report(out).read_text(encoding="utf-8")
    return dict(out=out, raw=raw, page=page, summary=summarize(out), arts=arts, source=source, body=body)


class Page(HTMLParser):
    """Ids, links, tables (header and cell classes per column) and the text under each h2."""

    def __init__(self, page: str):
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.tables: list[dict] = []
        self.sections: dict[str, list[str]] = {}
        self._h2: str | None = None
        self._in_h2 = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "h2":
            self._h2, self._in_h2 = a.get("id", ""), True
            self.sections[self._h2] = []
        if tag == "table":
            self.tables.append({"th": [], "rows": []})
        if tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        if tag == "th":
            self.tables[-1]["th"].append(a.get("class") or "")
        if tag == "td":
            self.tables[-1]["rows"][-1].append(a.get("class") or "")

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._h2 is not None:
            self.sections[self._h2].append(data)

    def text(self, section: str) -> str:
        return "".join(self.sections[section])


def test_research_sections_lead_the_page(built):
    order = list(Page(built["page"]).sections)
    assert order[:6] == ["timelines", "speakers", "over-time", "reprints", "cuts", "before-after"]


def test_timeline_runs_first_to_last_with_one_canonical_speaker(built):
    [c] = built["summary"].research.timelines
    assert [r["outlet"] for r in c["rows"]] == SITES
    assert [r["hours"] for r in c["rows"]] == [0.0, 3.0, 6.0, 9.0]
    # three spellings and one unattributed member: the main speaker is the canonical name
    assert c["speaker_name"] == "Armen Sarkissian"
    assert [r["speaker"] for r in c["rows"][:3]] == ["Armen Sarkissian"] * 3
    text = Page(built["page"]).text("timelines")
    assert "Armen Sarkissian" in text and all(s in text for s in SITES)
    assert [h in text for h in ("first", "+3.0 h", "+6.0 h", "+9.0 h")] == [True] * 4


def test_wording_differences_are_marked_against_the_canonical_text(built):
    rows = built["summary"].research.timelines[0]["rows"]
    assert all(op == "=" for op, _ in rows[0]["diff"])
    assert [w.strip() for op, w in rows[1]["diff"] if op != "="] == ["crucial", "key"]
    assert [w.strip() for op, w in rows[2]["diff"] if op == "-"] == ["the", "going"]
    assert "<del>crucial</del><ins>key</ins>" in built["page"]


@pytest.mark.parametrize("a, b", [
    (STATEMENT, WORDINGS[1]), (WORDINGS[2], STATEMENT),
    ("Переговоры продолжатся, заявил премьер-министр.", "Переговоры не продолжатся, заявил министр."),
    ("Բանակցությունները կշարունակվեն, ասաց նա։", "Բանակցությունները կշարունակվեն։"),
    ("会谈将继续进行。", "会谈将继续。"), ("قال إن المحادثات ستستمر", "قال إن المحادثات لن تستمر"), ("", "only new")])
def test_word_diff_loses_no_text_in_any_script(a, b):
    ops = word_diff(a, b)
    assert "".join(w for op, w in ops if op != "-") == b
    assert "".join(w for op, w in ops if op != "+") == a


def test_terms_stay_out_of_the_cluster_lists(built):
    s = built["summary"]
    assert [c["cluster_id"] for c in s.clusters] == ["d000:10"]
    assert s.headline["quote clusters"] == 1
    assert "dogs" not in built["page"]


def test_top_speakers_group_spellings_under_the_canonical_name(built):
    [sp] = built["summary"].research.speakers
    assert (sp["name"], sp["quotes"], sp["articles"], sp["spellings"]) == ("Armen Sarkissian", 3, 3, 3)


def test_articles_over_time_count_dated_articles_per_site(built):
    t = built["summary"].research.over_time
    assert t["unit"] == "day" and t["by"] == "published"
    assert {k: sum(v) for k, v in t["series"].items()} == {"news.am": 2, "azatutyun.am": 1, "armenpress.am": 1}
    assert t["left_out"] == 2 and "2 undated articles are left out" in Page(built["page"]).text("over-time")


def test_reprints_name_the_first_outlet_and_the_delay(built):
    [g] = built["summary"].research.reprints
    assert g["first_outlet"] == "azatutyun.am" and g["copies"] == [("news.am", 3.0)]


def test_removed_share_histogram_and_links_to_the_most_cut(built):
    r, page = built["summary"].research, Page(built["page"])
    assert len(r.cut_hist) == CUT_BINS and sum(r.cut_hist) == r.cut_measured == len(built["arts"])
    top = r.most_cut[0]
    assert top["doc_id"] == "d004"
    assert top["share"] == pytest.approx(1 - len(built["body"]) / len(built["source"]))
    links = [h for h in page.hrefs if h.startswith("#doc-")]
    assert "#doc-d004" in links
    # every in-page link (the section nav, the most-cut articles) lands on an element
    inner = [h for h in page.hrefs if h.startswith("#")]
    assert len(inner) > len(links) and all(h[1:] in page.ids for h in inner)
    assert "bio.author" in page.text("cuts")


def test_before_after_marks_removed_spans_and_keeps_the_curated_text_whole(built):
    c = built["summary"].research.chosen
    assert c["source"] == built["source"] and c["curated"] == built["body"]
    text = Page(built["page"]).text("before-after")
    # the body appears twice (source and curated), whole; the removed byline once, inside <del>
    assert text.count(built["body"].splitlines()[-1]) == 2
    assert "By Staff Reporter | 6 May 2024" in text
    assert '<del title="boilerplate bio.author (removed)"' in built["page"]


def test_before_after_without_the_raw_file_says_so(built, tmp_path):
    out = tmp_path / "curated"
    shutil.copytree(built["out"], out, symlinks=True)
    raw = built["raw"]
    moved = raw.with_name("raw-moved")
    raw.rename(moved)
    try:
        page = write_report(out, tmp_path / "r.html").read_text(encoding="utf-8")
    finally:
        moved.rename(raw)
    assert "its file is no" in page and built["body"].splitlines()[-1] in page


def test_numbers_sit_under_right_aligned_headers(built):
    tables = Page(built["page"]).tables
    assert len(tables) >= 6
    for t in tables:
        for row in t["rows"][1:]:
            assert [("n" in c) for c in row] == [("n" in c) for c in t["th"]][: len(row)]


def test_stage_colours_are_fixed_by_name_old_and_new():
    for old, new in EDIT_STAGE_RENAMES.items():
        assert stage_colour(old) == stage_colour(new) == STAGE_COLOURS[new]
    assert stage_colour("some.new_stage") == stage_colour("some.new_stage")


def _strip_to_older(out: Path) -> None:
    """The snapshot as ketl 0.2 left it: no propagation tables, articles without the new columns."""
    root = (out / INTERNAL / "current").resolve()
    for table in ("quote_clusters", "article_clusters"):
        shutil.rmtree(root / table)
    old = [f for f in TABLES["articles"] if f.name not in {"published", "published_raw", "first_seen",
                                                           "source_chars", "n_replacement_chars"}]
    for part in (root / "articles").rglob("*.parquet"):
        t = pq.read_table(part)
        if t.num_rows:
            pq.write_table(t.select([f.name for f in old]), part)
    for part in (root / "quotes").rglob("*.parquet"):
        t = pq.read_table(part)
        if t.num_rows:
            pq.write_table(t.drop_columns(["kind", "speaker_id", "speaker_name"]), part)


def test_older_dataset_says_so_in_one_line_per_section(built, tmp_path):
    out = tmp_path / "curated"
    shutil.copytree(built["out"], out, symlinks=False)
    _strip_to_older(out)
    s = summarize(out)
    assert set(s.research.missing) == {"timelines", "reprints", "cuts", "over_time"}
    page = write_report(out, tmp_path / "old.html").read_text(encoding="utf-8")
    assert page.count('class="missing"') == 5  # and speakers grouped as written
    assert not s.research.speakers_canonical and {x["name"] for x in s.research.speakers} == {
        "Armen Sarkissian", "Sarkissian", "Armen Sarkisyan"}
    # without kind every quote is kept: the term cluster is back in the old list
    assert "dogs" in page


def test_report_opens_in_chromium_without_errors(built, tmp_path):
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from report_browser_check import browse, chromium

    browser = chromium()
    if browser is None:
        pytest.skip("chromium is not installed")
    page = tmp_path / "report.html"
    page.write_text(built["page"], encoding="utf-8")
    title, console, _ = browse(page, browser, tmp_path / "shot.png")
    assert title.startswith("KETL-OK") and not console, (title, console)
    assert (tmp_path / "shot.png").stat().st_size > 10_000


def test_data_in_the_research_sections_is_escaped(built):
    from ketl.report.research import Research
    from ketl.report.research_html import research_sections

    bad = "<script>alert(1)</script>"
    r = Research(speakers=[{"name": bad, "quotes": 2, "articles": 1, "spellings": 1}],
                 timelines=[{**built["summary"].research.timelines[0], "speaker_name": bad, "first_outlet": bad,
                             "canonical_text": bad, "rows": [{**built["summary"].research.timelines[0]["rows"][0],
                                                              "outlet": bad, "diff": word_diff(bad, bad + " x")}]}])
    page = "".join(research_sections(r, {}, lambda *a: ""))
    assert "<script>" not in page and page.count("&lt;script&gt;") >= 5


def test_empty_dataset_has_no_research_rows_and_no_older_ketl_lines(tmp_path):
    out = tmp_path / "curated"
    _commit(out, "r0", {"articles": []})
    s = summarize(out)
    assert s.research.missing == {} and s.research.over_time is None and s.research.most_cut == []
    page = write_report(out).read_text(encoding="utf-8")
    assert "older ketl" not in page


def test_article_asked_for_is_shown_before_and_after(built, tmp_path):
    from ketl.report.build import ReportSettings
    from ketl.report.research import ResearchSettings

    def chosen(article):
        return summarize(built["out"], ReportSettings(research=ResearchSettings(article=article))).research

    r = chosen("news.am/a001.txt")
    assert r.chosen["doc_id"] == "d001" and r.chosen["asked"] and r.chosen["curated"] == built["arts"][1]["text"]
    assert chosen("d001").chosen["doc_id"] == "d001"
    r = chosen("no/such.txt")
    assert r.chosen["doc_id"] == "d004" and not r.chosen["asked"] and "no/such.txt" in r.missing["chosen"]


def test_cli_report_takes_article(built, tmp_path):
    from typer.testing import CliRunner

    from ketl.cli.app import app

    result = CliRunner().invoke(app, ["report", "--out", str(built["out"]), "--dest", str(tmp_path / "r.html"),
                                      "--article", "d001"])
    assert result.exit_code == 0, result.output
    assert "The article asked for" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_a_quote_as_long_as_an_article_is_diffed_by_its_head():
    import time

    from ketl.report.research import _head

    long = " ".join(f"слово{i}" for i in range(30_000))
    other = long.replace("слово7 ", "иное77 ")  # same length: both heads end at the same word
    # CPU of this thread, not wall: a loaded machine stretches the wall, a quadratic diff of
    # 30,000 words would still take far more than a CPU second
    t = time.thread_time()
    ops = word_diff(_head(long), _head(other))
    assert time.thread_time() - t < 1.0
    assert "".join(w for op, w in ops if op != "-") == _head(other) and _head(other).endswith("…")
    assert [w for op, w in ops if op != "="] == ["слово7", "иное77"]
