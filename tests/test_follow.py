"""Following statements (issue #16), pure parts: quote kinds, canonical speakers,
publication dates, first_seen, and the quote_clusters / article_clusters builders."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

from conftest import seed_texts
from ketl.document import EntityMention, Quote
from ketl.ingest.dates import article_date, header_date, parse_published
from ketl.run.first_seen import keep_first_seen
from ketl.run.propagation import article_clusters, quote_clusters
from ketl.schemas import ARTICLE_CLUSTERS, ARTICLES, QUOTE_CLUSTERS, QUOTES
from ketl.stages.quotes.kind import quote_kind
from ketl.stages.quotes.speakers import SpeakerResolver, speaker_id
from ketl.stages.quotes.stage import find_quotes, resolve_speakers

UTC = timezone.utc


# -- kind ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "dogs", "fascist.", "We", "war crimes", "humanitarian truce", "aggressive and destructive",
    "the need for strict adherence", "the threat of a full-scale war",
    "собаки", "фашисты", "terroristes", "Verräter", "كلاب", "狗", "ադրբեջանական ագրեսիա",
])
def test_scare_quotes_and_terms_are_terms(text):
    assert quote_kind(text) == "term"


@pytest.mark.parametrize("text", [
    "We will take revenge on the battlefield,",
    "plays a crucial role here.",
    "The Azerbaijani side is exercising restraint.",
    "I agree.",
    "Мы не допустим новой войны в регионе.",
    "Nous sommes prêts à négocier.",
    "Wir sind bereit zu verhandeln.",
    "Estamos dispuestos a negociar sin condiciones previas.",
    "我们欢迎这一决定，并希望双方尽快恢复谈判。",
    "نحن مستعدون للتفاوض من أجل السلام في المنطقة اليوم.",
    "Մենք պատրաստ ենք բանակցությունների առանց նախապայմանների։",
])
def test_statements_in_many_languages_are_statements(text):
    assert quote_kind(text) == "statement"


@pytest.mark.parametrize("text", ["Iron Fist", "Operation Dawn Shield", "Nagorno-Karabakh Republic"])
def test_quoted_names_are_names(text):
    assert quote_kind(text) == "name"


def test_seed_scare_quotes_are_terms_and_statements_stay():
    seeds = seed_texts()
    quotes = {q.text: q for t in seeds.values() for q in find_quotes(t)}
    assert quotes["dogs"].kind == "term"
    assert quotes["fascist."].kind == "term"
    assert quotes["plays a crucial role here."].kind == "statement"
    long = [q for q in quotes.values() if len(q.text.split()) >= 8]
    assert long and all(q.kind == "statement" for q in long)


# -- speakers -------------------------------------------------------------------------

def _mention(surface: str, canonical: str, type_: str = "person") -> EntityMention:
    return EntityMention(0, len(surface), surface, canonical, type_)


def test_speaker_variants_resolve_to_the_gazetteer_person():
    resolver = SpeakerResolver([_mention("Pashinian", "Nikol Pashinyan"), _mention("Aliyev", "Ilham Aliyev")])
    assert resolver.canonical("Pashinian") == "Nikol Pashinyan"
    assert resolver.canonical("Aliyev") == "Ilham Aliyev"
    assert resolver.canonical("Ilham Aliyev") == "Ilham Aliyev"  # by its surname's one person
    assert resolver.canonical("Maria Kovacs") == "Maria Kovacs"  # not in the gazetteer: as found
    assert resolver.canonical(None) is None


def test_two_people_of_one_surname_stay_apart():
    resolver = SpeakerResolver([_mention("Anna Petrosyan", "Anna Petrosyan"),
                                _mention("Levon Petrosyan", "Levon Petrosyan")])
    assert resolver.canonical("Petrosyan") == "Petrosyan"


def test_speaker_id_is_the_same_for_the_same_person_everywhere():
    assert speaker_id("Ilham Aliyev") == speaker_id("ilham  aliyev")
    assert speaker_id("Ilham Aliyev") != speaker_id("Nikol Pashinyan")


def test_surname_after_full_name_in_one_article_is_one_person():
    text = ("Azerbaijani President Ilham Aliyev spoke on Monday.\n"
            "“We will not accept this,” Aliyev said.\n"
            "“The war is over,” said Azerbaijani President Ilham Aliyev.")
    quotes = resolve_speakers(find_quotes(text), [])
    assert {q.speaker_name for q in quotes} == {"Ilham Aliyev"}
    assert len({q.speaker_id for q in quotes}) == 1


def test_quote_keeps_speaker_as_found_and_adds_canonical():
    q = resolve_speakers([Quote("We must talk now.", "Pashinian", 0, 17)], [_mention("Pashinian", "Nikol Pashinyan")])[0]
    assert (q.speaker, q.speaker_name, q.speaker_id) == ("Pashinian", "Nikol Pashinyan", speaker_id("Nikol Pashinyan"))


@pytest.mark.parametrize("text, speaker", [
    ("“We must talk now,” said UN spokesman Daniel Okafor.", "Daniel Okafor"),
    ("“We must talk now,” said German diplomat Helena Brandt.", "Helena Brandt"),
    ("Maria Kovacs told the meeting: “We must talk now.”", "Maria Kovacs"),
    ("“Мы готовы,” said Foreign Minister Jeyhun Bayramov.", "Jeyhun Bayramov"),
])
def test_speaker_forms(text, speaker):
    assert find_quotes(text)[0].speaker == speaker


# -- dates -----------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2020-10-27T10:15:00Z", datetime(2020, 10, 27, 10, 15, tzinfo=UTC)),
    ("2020-10-27T14:15:00+04:00", datetime(2020, 10, 27, 10, 15, tzinfo=UTC)),
    ("2020-10-27", datetime(2020, 10, 27, tzinfo=UTC)),
    ("Tue, 27 Oct 2020 10:15:00 GMT", datetime(2020, 10, 27, 10, 15, tzinfo=UTC)),
    ("October 27, 2020", datetime(2020, 10, 27, tzinfo=UTC)),
    ("27 October 2020 10:15", datetime(2020, 10, 27, 10, 15, tzinfo=UTC)),
    ("1603793700", datetime(2020, 10, 27, 10, 15, tzinfo=UTC)),
    ("27.10.2020", datetime(2020, 10, 27, tzinfo=UTC)),
    ("27 октября 2020", datetime(2020, 10, 27, tzinfo=UTC)),
    ("27 de octubre de 2020", datetime(2020, 10, 27, tzinfo=UTC)),
    ("2018.04.05", datetime(2018, 4, 5, tzinfo=UTC)),
    ("20/11/2019 14:05", datetime(2019, 11, 20, 14, 5, tzinfo=UTC)),
    ("11/20/2019", datetime(2019, 11, 20, tzinfo=UTC)),  # 20 is no month: month first
    ("30. Juli 2018", datetime(2018, 7, 30, tzinfo=UTC)),
])
def test_published_values_parse_to_utc(value, expected):
    assert parse_published(value) == expected


@pytest.mark.parametrize("value", ["", "yesterday", "3 hours ago", "Oct 27", "not a date", "Monday", "x" * 500,
                                   "31/02/2020", "2020"])
def test_no_date_is_invented_from_a_value_without_one(value):
    assert parse_published(value) is None


@pytest.mark.parametrize("text, expected, raw", [
    ("Headline\n\nBy John Smith | October 27, 2020 at 3:45 pm\n\nBody.", datetime(2020, 10, 27, 15, 45, tzinfo=UTC),
     "October 27, 2020 at 3:45 pm"),
    ("Заголовок\n27 октября 2020 г., 14:05\nТекст статьи.", datetime(2020, 10, 27, 14, 5, tzinfo=UTC),
     "27 октября 2020 г., 14:05"),
    ("Titre\nPublié le 27/10/2020 à 14h05\nTexte.", datetime(2020, 10, 27, 14, 5, tzinfo=UTC), "27/10/2020 à 14h05"),
    ("BAKU, 2020-10-27 — Azerbaijan said on Tuesday", datetime(2020, 10, 27, tzinfo=UTC), "2020-10-27"),
])
def test_header_dates(text, expected, raw):
    assert header_date(text) == (expected, raw)


def test_header_date_only_in_the_first_lines_and_only_with_a_year():
    body = "\n".join(f"Paragraph {i} of the body." for i in range(12))
    assert header_date(f"Headline\n{body}\nPublished October 27, 2020") is None  # too far down
    assert header_date("BAKU, Oct 27 (Reuters) - Azerbaijan said on Monday, October 26, it would") is None
    for name, text in seed_texts().items():
        assert header_date(text) is None, name  # the seeds print no publication date


def test_article_date_prefers_the_given_value_and_keeps_an_unreadable_one():
    assert article_date("2020-10-27", "Title\nOctober 1, 2019") == (datetime(2020, 10, 27, tzinfo=UTC), "2020-10-27")
    assert article_date("soon", "Title\nOctober 1, 2019") == (datetime(2019, 10, 1, tzinfo=UTC), "October 1, 2019")
    assert article_date("soon", "Title\nno date") == (None, "soon")
    assert article_date(None, "Title\nno date") == (None, None)


# -- first_seen -------------------------------------------------------------------------

def _ts(values):
    return pa.array(values, pa.timestamp("us", tz="UTC"))


def test_stored_first_seen_wins_and_old_rows_give_their_processed_at():
    now, then, older = (datetime(2026, 1, d, tzinfo=UTC) for d in (3, 2, 1))
    new = pa.table({"doc_id": ["a", "b", "c"], "first_seen": _ts([now] * 3)})
    stored = pa.table({"doc_id": ["a", "b"], "first_seen": _ts([then, None]), "processed_at": _ts([then, older])})
    got = keep_first_seen(new, stored).column("first_seen").to_pylist()
    assert got == [then, older, now]


# -- propagation tables ------------------------------------------------------------------

T0 = datetime(2020, 10, 27, 8, 0, tzinfo=UTC)


def _articles(rows):
    """rows: (doc_id, site, published or None, near_duplicate_of)."""
    n = len(rows)
    return pa.table({
        "doc_id": [r[0] for r in rows], "source_path": [f"{r[0]}.txt" for r in rows],
        "site": [r[1] for r in rows], "title": [f"Title {r[0]}" for r in rows],
        "published": _ts([r[2] for r in rows]), "first_seen": _ts([T0 + timedelta(days=400)] * n),
        "processed_at": _ts([T0 + timedelta(days=400)] * n), "near_duplicate_of": [r[3] for r in rows],
    })


def _quotes(rows):
    """rows: (quote_id, doc_id, text, speaker_name, cluster_id, kind, similarity)."""
    return pa.table({
        "quote_id": [r[0] for r in rows], "doc_id": [r[1] for r in rows], "text": [r[2] for r in rows],
        "speaker_name": [r[3] for r in rows], "speaker_id": [speaker_id(r[3]) if r[3] else None for r in rows],
        "cluster_id": [r[4] for r in rows], "kind": [r[5] for r in rows],
        "similarity": pa.array([r[6] for r in rows], pa.float32()),
    })


def test_quote_cluster_names_the_first_outlet_the_main_speaker_and_the_spread():
    arts = _articles([("d1", "Baku Ledger", T0 + timedelta(hours=5), None),
                      ("d2", "Caucasus Wire", T0, None),
                      ("d3", None, None, None),  # undated, no site: last, named by its file
                      ("d4", "Yerevan Courier", T0 + timedelta(hours=2), None)])
    q = _quotes([("q1", "d1", "Russia plays a crucial role here.", "Armen Sarkissian", "q1", "statement", 1.0),
                 ("q2", "d2", "Russia plays a crucial role here,", "Armen Sarkissian", "q1", "statement", 0.9),
                 ("q3", "d3", "Russia plays a role here.", "Salxian", "q1", "statement", 0.6),
                 ("q4", "d4", "russia  plays a crucial role here", None, "q1", "statement", 0.95),
                 ("q5", "d1", "dogs", "Ilham Aliyev", "q5", "term", 1.0),
                 ("q6", "d2", "dogs", "Ilham Aliyev", "q5", "term", 0.99)])
    t = quote_clusters(q, arts, "run")
    assert t.schema == QUOTE_CLUSTERS
    rows = t.to_pylist()
    assert len(rows) == 1  # the "dogs" cluster is a term: left out
    r = rows[0]
    assert (r["first_outlet"], r["first_doc_id"], r["first_at"], r["first_dated"]) == ("Caucasus Wire", "d2", T0, True)
    assert r["outlets"] == ["Caucasus Wire", "Yerevan Courier", "Baku Ledger", "d3.txt"]
    assert (r["last_outlet"], r["last_doc_id"]) == ("d3.txt", "d3")
    assert (r["speaker_name"], r["attributed"], r["speaker_disagree"]) == ("Armen Sarkissian", 3, 1)
    assert r["speaker_id"] == speaker_id("Armen Sarkissian")
    assert (r["members"], r["articles"], r["n_outlets"]) == (4, 4, 4)
    assert r["canonical_text"] == "Russia plays a crucial role here."
    assert r["wordings"] == 2  # case, spacing and edge punctuation are one wording
    assert r["min_similarity"] == pytest.approx(0.6)
    assert r["spread_hours"] == pytest.approx(400 * 24 - 0)


def test_old_quote_rows_without_kind_are_classified_on_the_fly():
    arts = _articles([("d1", "A", T0, None), ("d2", "B", T0 + timedelta(hours=1), None)])
    q = _quotes([("q1", "d1", "dogs", "X Y", "q1", None, 1.0), ("q2", "d2", "dogs", "X Y", "q1", None, 1.0),
                 ("q3", "d1", "We will never accept this outcome, whatever it costs.", "X Y", "q3", None, 1.0),
                 ("q4", "d2", "We will never accept this outcome, whatever it costs", "X Y", "q3", None, 0.9)])
    rows = quote_clusters(q, arts, "run").to_pylist()
    assert [r["cluster_id"] for r in rows] == ["q3"]
    assert (rows[0]["first_outlet"], rows[0]["spread_hours"]) == ("A", 1.0)


def test_article_clusters_give_first_outlet_reprints_and_delays():
    arts = _articles([("root", "Radio Free Europe", T0 + timedelta(hours=1), None),
                      ("r1", "AMN", T0 + timedelta(hours=7), "root"),
                      ("r2", "Caucasus Wire", T0, "root"),  # published before the indexed root
                      ("solo", "Baku Ledger", T0, None)])
    t = article_clusters(arts, "run")
    assert t.schema == ARTICLE_CLUSTERS
    (r,) = t.to_pylist()
    assert (r["cluster_id"], r["members"], r["first_outlet"], r["first_doc_id"]) == ("root", 3, "Caucasus Wire", "r2")
    assert r["doc_ids"] == ["r2", "root", "r1"]
    assert r["delays_hours"] == [0.0, 1.0, 7.0]
    assert r["outlets"] == ["Caucasus Wire", "Radio Free Europe", "AMN"]
    assert (r["last_outlet"], r["spread_hours"], r["title"]) == ("AMN", 7.0, "Title r2")


def test_empty_inputs_give_empty_tables_with_the_schema():
    assert quote_clusters(QUOTES.empty_table(), ARTICLES.empty_table(), "r").schema == QUOTE_CLUSTERS
    assert article_clusters(_articles([("a", "A", T0, None)]), "r").num_rows == 0


def test_article_parts_of_an_older_ketl_are_upgraded_to_a_published_timestamp(tmp_path):
    """Before #16 `published` was the JSONL string as given: such a part is rewritten once, the
    string kept in published_raw, so no reader meets two types for one column."""
    import pyarrow.parquet as pq

    from ketl.run.first_seen import upgrade_published

    old_fields = [f for f in ARTICLES if f.name not in ("published", "published_raw", "first_seen")]
    old = pa.schema(old_fields).insert(6, pa.field("published", pa.string()))
    rows = []
    for i, value in enumerate(["Tue, 27 Oct 2020 10:15:00 GMT", None, "soon"]):
        row = {f.name: None for f in old}
        row.update(doc_id=f"d{i}", source_path=f"f{i}.jsonl#1", source_sha256="0", source_encoding="utf-8",
                   text="Текст статьи.", n_chars=13, n_edits=0, run_id="r", pipeline_version="0.2.0",
                   config_hash="c", processed_at=T0, published=value)
        rows.append(row)
    part = tmp_path / "articles" / "run_date=2024-05-01" / "part-aaaaaaaa-00000.parquet"
    part.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=old), part)
    assert upgrade_published(tmp_path) == 1
    got = pq.read_table(part)
    assert got.schema.field("published").type == ARTICLES.field("published").type
    assert got.column("published").to_pylist() == [datetime(2020, 10, 27, 10, 15, tzinfo=UTC), None, None]
    assert got.column("published_raw").to_pylist() == ["Tue, 27 Oct 2020 10:15:00 GMT", None, "soon"]
    assert got.column("text").to_pylist() == ["Текст статьи."] * 3
    assert upgrade_published(tmp_path) == 0  # once
