"""The batch steps call each stage with the whole batch, and fall back to one document
per call when that raises (run/batch.py:_guarded): the result must be exactly the
one-at-a-time result, whatever state the failing call left the documents in.

On real text in several languages and scripts: the seed articles, the dressed and
clean multilingual test pages and, where ../shared is there, a few AEB pages."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from conftest import SEEDS, SHARED
from ketl.document import Change, Document, Edit, EntityMention, Quote, apply_changes
from ketl.ingest.read import read_units
from ketl.ingest.scan import scan
from ketl.run import batch
from ketl.settings import Settings
from ketl.stages import STAGES

MULTILINGUAL = Path(__file__).resolve().parent / "data" / "multilingual"
TEXT_STAGES = [s for s in STAGES if s.step != "dedup"]


def _raw(tmp: Path) -> Path:
    raw = tmp / "raw"
    raw.mkdir()
    for p in sorted(SEEDS.glob("*.txt")):
        (raw / p.name).write_bytes(p.read_bytes())
    for sub in ("dressed", "clean"):
        for p in sorted((MULTILINGUAL / sub).glob("*.txt")):
            (raw / f"{sub}-{p.name}").write_bytes(p.read_bytes())
    aeb = SHARED / "bench" / "aeb" / "html-text.json"
    if aeb.is_file():  # long pages with furniture, several languages
        pages = json.loads(aeb.read_text(encoding="utf-8"))
        for k, v in sorted(pages.get("output", pages).items())[:12]:
            (raw / f"aeb-{k[:16]}.txt").write_text(v["articleBody"], encoding="utf-8")
    return raw


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[list[Document], batch.Resources]:
    raw = _raw(tmp_path_factory.mktemp("fallback"))
    docs = read_units(raw, scan(raw, False), 1 << 26).docs
    assert len(docs) >= 30
    return docs, batch.resources(Settings(raw=str(raw)))


def _state(doc: Document) -> tuple:
    """Everything a stage may leave in a document, comparable."""
    return (doc.doc_id, doc.text, tuple(tuple(a) for a in doc._segments) if doc._segments else None,  # noqa: SLF001
            tuple(doc.edits), sorted(doc.meta.items(), key=str), tuple(doc.quotes), tuple(doc.entities),
            tuple(doc.suggestions))


def _copies(docs: list[Document]) -> list[Document]:
    return [dataclasses.replace(d, meta=dict(d.meta), edits=list(d.edits), quotes=list(d.quotes),
                                entities=list(d.entities), suggestions=list(d.suggestions)) for d in docs]


def _input_of(stage_name: str, docs: list[Document], res: batch.Resources) -> list[Document]:
    """``docs`` as they reach ``stage_name``: through the stages before it, one at a time."""
    docs = _copies(docs)
    for s in TEXT_STAGES:
        if s.name == stage_name:
            return docs
        docs = [out for d in docs for out in s.run([d], res)]
    raise KeyError(stage_name)


def test_the_snapshot_holds_every_field_a_stage_may_change():
    """A field added to Document must be added to the snapshot, or named as a stage's input."""
    inputs = {"doc_id", "source_path", "source_sha256", "source_encoding", "source", "_source_line_starts"}
    snap = batch._snapshot(Document.from_source(doc_id="d", source_path="d.txt", source_sha256="",
                                                source_encoding="utf-8", source="a\r\nb"))
    assert {f.name for f in dataclasses.fields(Document)} - inputs == set(batch._STAGE_FIELDS)
    assert len(snap) == len(batch._STAGE_FIELDS)


def test_restore_undoes_every_kind_of_change():
    doc = Document.from_source(doc_id="d", source_path="d.txt", source_sha256="", source_encoding="utf-8",
                               source="Сегодня в Баку\r\nшёл дождь.\r\n", site="x")
    before = _state(doc)
    saved = batch._snapshot(doc)
    apply_changes(doc, [Change(0, 7, "", "t")], "t")
    doc.meta["site"], doc.meta["language"] = "y", "ru"
    doc.quotes.append(Quote("a", None, 0, 1))
    doc.entities.append(EntityMention(0, 1, "a", "A", "PER"))
    doc.suggestions = []
    doc.edits[0:0] = [Edit("t", "t", "", "", 1, 0, 0, 0)]
    assert _state(doc) != before
    batch._restore(doc, saved)
    assert _state(doc) == before


@pytest.mark.parametrize("stage_name", [s.name for s in TEXT_STAGES])
def test_a_whole_batch_gives_the_one_at_a_time_result(corpus, stage_name):
    """Batch-level work in a stage (repair's language walk over a chunk) changes no answer."""
    docs, res = corpus
    stage = next(s for s in TEXT_STAGES if s.name == stage_name)
    given = _input_of(stage_name, docs, res)
    one = [out for d in _copies(given) for out in stage.run([d], res)]
    rejects: list = []
    whole = batch._guarded(lambda ds: stage.run(ds, res), given, rejects, stage_name)
    assert rejects == []
    assert [_state(d) for d in whole] == [_state(d) for d in one]


def _fails_after_the_batch(run, res, bad: str):
    """A stage that did its work on every document, left a mark on each, then raised."""
    def stage(docs):
        out = run(docs, res)
        if any(d.doc_id == bad for d in docs):
            for d in docs:
                d.meta["half-done"] = True
                d.edits.append(Edit("t", "t", "", "", 1, 0, 0, len(d.edits)))
                if d.text:
                    apply_changes(d, [Change(0, 1, "", "t")], "t")
            raise RuntimeError("boom")
        return out
    return stage


def _fails_midway(run, res, bad: str):
    """A stage that works document by document and raises halfway through ``bad``,
    which it has already changed in part."""
    def stage(docs):
        out = []
        for d in docs:
            if d.doc_id == bad:
                if d.text:
                    apply_changes(d, [Change(0, 1, "X", "t")], "t")
                d.entities.append(EntityMention(0, 1, "X", "X", "PER"))
                raise RuntimeError("boom")
            out.extend(run([d], res))
        return out
    return stage


@pytest.mark.parametrize("stage_name", [s.name for s in TEXT_STAGES])
@pytest.mark.parametrize("failing", [_fails_after_the_batch, _fails_midway])
def test_a_stage_failing_on_a_batch_gives_the_one_at_a_time_result(corpus, stage_name, failing):
    docs, res = corpus
    stage = next(s for s in TEXT_STAGES if s.name == stage_name)
    given = _input_of(stage_name, docs, res)
    bad = given[len(given) // 2]
    # One at a time, as the batch steps did: the failing article a reject, the others each run alone.
    expected = [out for d in _copies(given) if d.doc_id != bad.doc_id for out in stage.run([d], res)]
    rejects: list = []
    got = batch._guarded(failing(stage.run, res, bad.doc_id), given, rejects, stage_name)
    assert [_state(d) for d in got] == [_state(d) for d in expected]
    assert [(r.source_path, r.reason, r.detail) for r in rejects] == [
        (bad.source_path, "stage_error", f"{stage_name}: RuntimeError: boom")]


def test_a_lone_document_is_run_once(corpus):
    """A batch of one has nothing to fall back to: the stage runs once, its error a reject."""
    docs, res = corpus
    calls = []

    def stage(ds):
        calls.append(len(ds))
        raise ValueError("bad article")

    rejects: list = []
    assert batch._guarded(stage, _copies(docs[:1]), rejects, "quotes") == []
    assert calls == [1]
    assert [r.detail for r in rejects] == ["quotes: ValueError: bad article"]
