"""ketl report: numbers, names, charts and escaping, on small datasets written through the real store."""

from __future__ import annotations

import base64
import io
import re
import struct
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from ketl.report.build import ReportSettings, summarize, write_report
from ketl.schemas import TABLES
from ketl.store import Store, write_part

from conftest import SEEDS
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
XSS = "<script>alert('x')</script> & co"


def _seed_lines() -> list[str]:
    """Real sentences from the sample articles, to make the data look like ketl's."""
    lines = []
    for p in sorted(SEEDS.glob("*.txt")):
        lines += [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if len(ln.strip()) > 60]
    return lines


def _commit(out: Path, run_id: str, tables: dict[str, list[dict]], run_date: str) -> None:
    """One run's rows committed through the real store (placeholders for empty tables included)."""
    with Store(out) as store:
        staging = store.begin(run_id, full=False)
        for table, rows in tables.items():
            write_part(staging, table, pa.Table.from_pylist(rows, schema=TABLES[table]), f"part-{run_id}", run_date)
        store.commit(staging)


def _article(i: int, site: str | None, text: str, run_id: str, language: str | None = "en",
             near: str | None = None) -> dict:
    return dict(doc_id=f"d{i:03d}", source_path=f"{site or 'loose'}/a{i:03d}.txt", source_sha256="0" * 64,
                source_encoding="utf-8", source_id=None, url=None, published=None, title=f"Title {i}",
                site=site, dateline=None, reprinted_from=None, text=text, language=language, n_chars=len(text),
                n_edits=0, near_duplicate_of=near, run_id=run_id, pipeline_version="0.1.0",
                config_hash="c" * 64, processed_at=T0)


def _edit(doc: dict, seq: int, stage: str, rule: str, before: str, after: str) -> dict:
    return dict(doc_id=doc["doc_id"], source_path=doc["source_path"], seq=seq, stage=stage, rule=rule,
                before=before, after=after, source_line=1, source_start=0, source_end=len(before),
                run_id=doc["run_id"])


def _quote(doc: dict, k: int, text: str, speaker: str | None, cluster: str) -> dict:
    qid = f"{doc['doc_id']}:{k}"
    return dict(quote_id=qid, doc_id=doc["doc_id"], source_path=doc["source_path"], text=text, speaker=speaker,
                start=k, end=k + len(text), cluster_id=cluster, cluster_size=None,
                is_canonical=qid == cluster, similarity=1.0, run_id=doc["run_id"])


def _run(run_id: str, finished: datetime, articles: int, seconds: float, status: str, rejected: int = 0) -> dict:
    return dict(run_id=run_id, started_at=finished - timedelta(seconds=seconds), finished_at=finished,
                pipeline_version="0.1.0", config_hash="c" * 64, raw_root="/raw", full=False, files_seen=articles,
                files_new=articles, files_skipped=0, rejected=rejected, articles=articles, edits=0, quotes=0,
                seconds=seconds, status=status)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    """Two committed runs; returns the dataset folder and the rows written (to derive expectations)."""
    out = tmp_path_factory.mktemp("report") / "curated"
    lines = _seed_lines()
    sites = ["azatutyun.am"] * 5 + ["news.az"] * 3 + [XSS] + [None] * 2
    arts = [_article(i, s, lines[i], "run-one", language="ru" if i == 3 else "en") for i, s in enumerate(sites)]
    arts[7]["near_duplicate_of"] = arts[0]["doc_id"]
    edits = []
    for i, doc in enumerate(arts):
        edits.append(_edit(doc, 0, "normalize", "unicode.nbsp", "\u00a0", " "))
        if i % 2 == 0:
            edits.append(_edit(doc, 1, "boilerplate", "ad.slot", f"\n[ad_{i}]\n", ""))
    edits.append(_edit(arts[0], 2, "normalize", "words.glued", XSS, "fixed"))
    edits.append(_edit(arts[1], 2, "entity", "entity.fuzzy", "Askelan", "Askeran"))
    edits.append(_edit(arts[2], 2, "entity", "entity.fuzzy", "Askelan", "Askeran"))
    edits.append(_edit(arts[3], 2, "entity", "entity.corruption", "Steppe cart", "Stepanakert"))
    big = "I am absolutely confident in the effectiveness of the peace negotiations"
    quotes = [_quote(arts[0], 5, big, "Ilham Aliyev", "d000:5"),
              _quote(arts[5], 9, big, "Aliyev", "d000:5"),
              _quote(arts[6], 2, big + ".", None, "d000:5"),
              _quote(arts[8], 4, XSS, XSS, "d008:4"),
              _quote(arts[8], 40, XSS, XSS, "d008:4"),
              _quote(arts[1], 7, "very hazardous", "Ilham Aliyev", "d001:7")]
    rejects = [dict(source_path=p, source_sha256="", reason=r, detail=d, run_id="run-one") for p, r, d in [
        ("blob.txt", "binary", "NUL bytes"), ("empty.txt", "empty", "0 bytes"), ("b/empty2.txt", "empty", "0 bytes"),
        ("<img src=x>.txt", "empty", "0 bytes")]]
    entities = [dict(doc_id=d["doc_id"], start=0, end=4, surface="Baku", canonical="Baku", type="place",
                     run_id="run-one") for d in arts[:4]] + \
               [dict(doc_id="d000", start=9, end=13, surface="Baku", canonical="Baku", type="place", run_id="run-one")]
    suggestions = [dict(doc_id="d001", source_path=arts[1]["source_path"], span="Martigny", candidate="Martuni",
                        canonical="Martuni", type="place", score=0.8, context="in Martigny", source_line=3,
                        source_start=1, source_end=9, run_id="run-one", status=st) for st in ("pending", None)]
    runs1 = [_run("run-one", T0, len(arts), 12.5, "partial", rejected=len(rejects))]
    _commit(out, "run-one", dict(articles=arts, edits=edits, quotes=quotes, rejects=rejects, runs=runs1,
                                 entities=entities, suggestions=suggestions), "2024-05-01")
    late = _article(20, "news.az", lines[20], "run-two")
    runs2 = [_run("run-two", T0 + timedelta(hours=1), 1, 3.0, "ok")]
    _commit(out, "run-two", dict(articles=[late], runs=runs2), "2024-05-01")
    return out, dict(articles=arts + [late], edits=edits, quotes=quotes, rejects=rejects, runs=runs1 + runs2,
                     suggestions=suggestions)


@pytest.fixture(scope="module")
def report(built) -> tuple[Path, str]:
    out, _ = built
    path = write_report(out)
    return path, path.read_text(encoding="utf-8")


def _pngs(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_headline_counts_the_rows(built):
    out, rows = built
    h = summarize(out).headline
    arts = rows["articles"]
    assert h["articles"] == len(arts)
    assert h["sites"] == len({a["site"] for a in arts if a["site"]})
    assert h["runs"] == 2 and h["edits"] == len(rows["edits"]) and h["rejects"] == len(rows["rejects"])
    assert h["quotes"] == len(rows["quotes"])
    members: dict[str, int] = {}
    for q in rows["quotes"]:
        members[q["cluster_id"]] = members.get(q["cluster_id"], 0) + 1
    assert h["quote clusters"] == sum(1 for n in members.values() if n > 1)
    assert h["near-duplicate articles"] == sum(1 for a in arts if a["near_duplicate_of"])


def test_summary_groups_sites_rules_and_rejects(built):
    out, rows = built
    s = summarize(out)
    assert s.sites[0] == ("azatutyun.am", 5) and ("news.az", 4) in s.sites and ("(unknown)", 2) in s.sites
    assert dict(s.languages) == {"en": len(rows["articles"]) - 1, "ru": 1}
    # written as ketl 0.2 did ("normalize"), reported under the current name
    assert s.rules[0][:2] == ("unicode.nbsp", "repair.normalize") and s.rules[0][2] == len(rows["articles"]) - 1
    assert all(len(ex) <= 3 for ex in s.examples.values())
    # identical before/after pairs are shown once
    first_path = min(e["source_path"] for e in rows["edits"] if e["rule"] == "unicode.nbsp")
    assert s.examples["unicode.nbsp"] == [("\u00a0", " ", first_path)]
    reasons = {r["reason"]: r for r in s.rejects}
    assert reasons["empty"]["count"] == 3 and reasons["binary"]["count"] == 1
    assert [r["reason"] for r in s.rejects] == ["empty", "binary"]
    assert s.entity_fixes[0] == ("Askelan", "Askeran", 2)
    assert s.suggestions_pending == 2  # a null status counts as pending
    assert s.entities[0] == ("Baku", "place", 5, 4)
    assert [r["run_id"] for r in s.runs] == ["run-one", "run-two"]


def test_clusters_rank_by_articles_and_name_speakers_and_outlets(built):
    out, _ = built
    clusters = summarize(out).clusters
    assert [c["cluster_id"] for c in clusters] == ["d000:5", "d008:4"]  # 3 articles beat 2 members on 1
    first = clusters[0]
    assert first["size"] == 3 and first["articles"] == 3
    assert first["text"].startswith("I am absolutely confident") and not first["text"].endswith(".")
    assert dict(first["speakers"]) == {"Ilham Aliyev": 1, "Aliyev": 1} and first["unattributed"] == 1
    assert dict(first["outlets"]) == {"azatutyun.am": 1, "news.az": 2}


def test_html_shows_numbers_names_and_runs(report, built):
    path, page = report
    out, rows = built
    assert path == out / "report.html"
    text = re.sub(r"<[^>]+>", " ", page)
    for name in ("azatutyun.am", "news.az", "unicode.nbsp", "ad.slot", "Ilham Aliyev", "Askeran", "Stepanakert",
                 "Martuni", "blob.txt", "b/empty2.txt", "binary", "run-two"[:8], "partial"):
        assert name in text, name
    assert re.search(rf">{len(rows['articles'])}</b><span>articles", page)
    assert "2024-05-01 09:00:00" in page  # the newest run's finish time
    assert "2</b> suggestions pending review" in page


def test_charts_are_valid_pngs_and_match_the_files(report):
    path, page = report
    embedded = _pngs(page)
    files = sorted((path.parent / "report_files").glob("*.png"))
    assert {f.name for f in files} == {"articles_per_site.png", "languages.png", "edits_per_stage.png",
                                       "edits_per_rule.png", "rejects_by_reason.png", "runs.png"}
    assert sorted(embedded) == sorted(f.read_bytes() for f in files)
    from matplotlib.image import imread

    for data in embedded:
        w, h = _png_size(data)
        assert 300 < w < 2000 and 150 < h < 3000
        pixels = imread(io.BytesIO(data), format="png")  # decodes: the file is whole
        assert pixels.shape[:2] == (h, w) and pixels.std() > 0.05  # not a blank canvas


def test_html_escapes_what_the_data_holds(report):
    _, page = report
    assert "<script>" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    assert "&lt;img src=x&gt;.txt" in page


def test_report_is_deterministic(built, tmp_path):
    out, _ = built
    a = write_report(out, tmp_path / "a.html")
    b = write_report(out, tmp_path / "b.html")
    assert a.read_bytes() == b.read_bytes()
    assert [p.read_bytes() for p in sorted((tmp_path / "a_files").iterdir())] == \
           [p.read_bytes() for p in sorted((tmp_path / "b_files").iterdir())]


def test_dest_folder_gets_report_html(built, tmp_path):
    out, _ = built
    path = write_report(out, tmp_path)
    assert path == tmp_path / "report.html" and (tmp_path / "report_files" / "runs.png").is_file()


def test_empty_dataset_reports_zeros_without_charts(tmp_path):
    out = tmp_path / "curated"
    _commit(out, "run-empty", {}, "2024-05-01")  # every table is a placeholder file
    assert all(len(list((out / t).rglob("empty.parquet"))) == 1 for t in TABLES)
    s = summarize(out)
    assert set(s.headline.values()) == {0}
    page = write_report(out).read_text(encoding="utf-8")
    assert "No articles yet." in page and "No edits." in page and "No input was rejected." in page
    assert _pngs(page) == [] and list((out / "report_files").glob("*.png")) == []


def test_stale_charts_are_removed(tmp_path):
    out = tmp_path / "curated"
    _commit(out, "r1", {"runs": [_run("r1", T0, 0, 1.0, "ok")]}, "2024-05-01")
    (out / "report_files").mkdir()
    (out / "report_files" / "edits_per_rule.png").write_bytes(b"old")
    (out / "report_files" / "mine.png").write_bytes(b"keep")
    write_report(out)
    assert sorted(p.name for p in (out / "report_files").iterdir()) == ["mine.png", "runs.png"]


def test_weird_unicode_is_kept_and_escaped(tmp_path):
    out = tmp_path / "curated"
    doc = _article(1, "сайт.рф", "Текст \u200b\u202e 🙂 عربى", "r1", language=None)
    edits = [_edit(doc, 0, "normalize", "unicode.invisible", "\u200b\u202e", ""),
             _edit(doc, 1, "normalize", "rule\u00a0odd <b>", "🙂" * 400, "x")]
    _commit(out, "r1", dict(articles=[doc], edits=edits, runs=[_run("r1", T0, 1, 1.0, "ok")]), "2024-05-01")
    page = write_report(out).read_text(encoding="utf-8")
    assert "сайт.рф" in page and "rule\u00a0odd &lt;b&gt;" in page
    assert "🙂" * 159 + "…" in page and "🙂" * 161 not in page  # long snippets are cut
    assert summarize(out).languages == [("(unknown)", 1)]


@pytest.mark.parametrize("make, error", [
    (lambda p: p / "missing", FileNotFoundError),
    (lambda p: (p / "file.txt").write_text("x") and p / "file.txt", ValueError),
    (lambda p: p, ValueError),  # an empty folder
    (lambda p: (p / "articles").mkdir() or p, ValueError),  # no runs table
])
def test_bad_input_raises_one_line_errors(tmp_path, make, error):
    target = make(tmp_path)
    with pytest.raises(error) as info:
        write_report(target)
    assert "\n" not in str(info.value) and str(target) in str(info.value)


def test_corrupt_parquet_is_a_value_error(tmp_path):
    out = tmp_path / "curated"
    _commit(out, "r1", {"runs": [_run("r1", T0, 0, 1.0, "ok")]}, "2024-05-01")
    part = next((out / "articles").rglob("*.parquet"))
    part.unlink()
    (part.parent / "part-broken.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ValueError, match="articles table") as info:
        summarize(out)
    assert "\n" not in str(info.value)


def test_small_settings_cap_lists(built):
    out, _ = built
    s = summarize(out, ReportSettings(top_rules=2, examples_per_rule=1, example_rules=1, top_clusters=1))
    assert len(s.rules) == 2 and list(s.examples) == ["unicode.nbsp"] and len(s.clusters) == 1


def test_without_matplotlib_the_report_is_written_without_charts(built, tmp_path, monkeypatch):
    out, rows = built
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    path = write_report(out, tmp_path / "plain.html")
    page = path.read_text(encoding="utf-8")
    assert "<img" not in page and not any((tmp_path / "plain_files").iterdir())
    assert "charts left out: matplotlib does not import" in page
    assert re.search(rf">{len(rows['articles'])}</b><span>articles", page)
    assert "azatutyun.am" in page and "Stepanakert" in page


def test_matplotlib_is_a_core_dependency():
    """The quick start installs no extra: its `ketl report` must draw charts."""
    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(re.match(r"matplotlib\b", d) for d in project["dependencies"])


def test_many_runs_are_charted_per_day(tmp_path):
    out = tmp_path / "curated"
    runs = [_run(f"r{i:03d}", T0 + timedelta(hours=i), i % 7, 2.0, "partial" if i == 30 else "ok") for i in range(72)]
    _commit(out, "many", {"runs": runs}, "2024-05-01")
    from ketl.report.build import _run_series

    title, labels, articles, seconds, partial = _run_series(summarize(out).runs, most=60)
    days = sorted({r["finished_at"].date().isoformat() for r in runs})
    assert labels == days and len(days) == 4 and "72 runs" in title
    assert articles == [sum(r["articles"] for r in runs if r["finished_at"].date().isoformat() == d) for d in days]
    assert seconds == [2.0 * sum(r["finished_at"].date().isoformat() == d for r in runs) for d in days]
    assert partial == [d == runs[30]["finished_at"].date().isoformat() for d in days]
    page = write_report(out).read_text(encoding="utf-8")
    assert "The newest 30 of 72 runs." in page and "r071"[:8] in page and ">r000<" not in page


def test_labels_that_look_like_mathtext_are_drawn_as_text(tmp_path):
    """matplotlib parses `$...$` as math: a site, rule or reason holding dollars must not
    fail the whole report (`$\\frac{1}{$` is an unfinished formula)."""
    out = tmp_path / "curated"
    odd = ["$\\frac{1}{$", "US$5 $bn", "$$", "price $x^2$ \\$"]
    arts = [_article(i, site, _seed_lines()[i], "r1") for i, site in enumerate(odd)]
    edits = [_edit(a, 0, "normalize", f"rule{site}", "a", "b") for a, site in zip(arts, odd)]
    rejects = [dict(source_path="x.txt", source_sha256="", reason="$\\frac{", detail="d", run_id="r1")]
    _commit(out, "r1", dict(articles=arts, edits=edits, rejects=rejects,
                            runs=[_run("r1", T0, len(arts), 1.0, "partial", rejected=1)]), "2024-05-01")
    page = write_report(out).read_text(encoding="utf-8")
    assert "$\\frac{1}{$" in page and "US$5 $bn" in page
    assert len(_pngs(page)) == len(list((out / "report_files").glob("*.png"))) >= 4
