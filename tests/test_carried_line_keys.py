"""Site line keys carried from the prepare step to finish's boilerplate stage
(stages/boilerplate/carried.py, issue 15): the carried keys are the ones the
stage computes, a stage that lends them gives the same documents as one that
computes them, a changed text is never given another text's keys, and the
keys never reach a Document."""

from __future__ import annotations

import copy
import pickle
from collections import Counter

import pytest

from ketl.document import Change, Document, apply_changes
from ketl.stages.boilerplate import carried, features
from ketl.stages.boilerplate.carried import carried_keys, carried_line_keys, pack_page_keys, site_and_page_keys
from ketl.stages.boilerplate.features import PageLines
from ketl.stages.boilerplate.rules import load_rules
from ketl.stages.boilerplate.site_stats import SiteLineStats, line_key, site_and_line_keys
from ketl.stages.boilerplate.stage import BoilerplateSettings, clean_documents

from conftest import texts_in_many_scripts

RULES = load_rules()
# A blank line of spaces, whitespace of every kind, digits of other scripts, no final newline.
TRICKY = ("ΟΔΟΣ ΑΘΗΝΑΣ - Daily Planet\n\n  İSTANBUL İzmir  \ttabs\tand\u00a0nbsp\u2028sep\n   \n"
          "٣٤ digits ١٢٣ and ２０２４ and 12 345\n\ud800 lone surrogate\nShare this article\n"
          "© 2024 Daily Planet. All rights reserved.")


def _docs(texts: list[str], sites: int = 3) -> list[Document]:
    # a few sites, so that the site statistics have repeated lines to find
    return [Document.from_source(doc_id=f"d{i}", source_path=f"site-{i % sites}/{i}.txt", source_sha256="",
                                 source_encoding="utf-8", source=t) for i, t in enumerate(texts)]


TEXTS = [TRICKY, *texts_in_many_scripts(aeb_limit=60)]


def test_page_keys_are_phase_a_keys_and_the_stage_keys():
    n_lines = 0
    for doc in _docs(TEXTS):
        site, distinct, keys = site_and_page_keys(doc)
        assert (site, distinct) == site_and_line_keys(doc)
        # what PageLines computes for itself, and line_key of each line
        assert keys == PageLines(doc.text, RULES).keys()
        assert keys == [line_key(t) if t.strip() else 0 for t in doc.text.split("\n")]
        n_lines += len(keys)
    assert n_lines > 2000


def test_packed_keys_travel_in_a_pickle_and_come_back_whole():
    pages = [site_and_page_keys(d)[2] for d in _docs(TEXTS)]
    packed = pickle.loads(pickle.dumps(pack_page_keys(pages)))
    assert carried._unpacked(packed) == pages
    assert carried._unpacked(pack_page_keys([])) == []
    assert carried._unpacked(pack_page_keys([[], [5], []])) == [[], [5], []]


def _stats(docs: list[Document]) -> SiteLineStats:
    stats = SiteLineStats()
    for d in docs:
        stats.add(*site_and_line_keys(d))
    return stats


def _state(docs: list[Document]) -> list[tuple]:
    return [(d.text, d.meta, d.edits, d._segments) for d in docs]  # noqa: SLF001


def test_lent_keys_give_the_documents_computed_keys_give(monkeypatch):
    # the texts three times over (as many sites' pages repeat furniture), so that
    # site repetition and metadata's furniture test ask for keys
    docs = _docs(TEXTS * 3, sites=4)
    stats = _stats(docs)
    packed = pack_page_keys([site_and_page_keys(d)[2] for d in docs])
    computed = list(clean_documents(copy.deepcopy(docs), RULES, stats))
    hashed = Counter()
    real = features.line_keys
    monkeypatch.setattr(features, "line_keys", lambda low: hashed.update(["page"]) or real(low))
    lent = copy.deepcopy(docs)
    with carried_line_keys(lent, packed):
        out = list(clean_documents(lent, RULES, stats))
    assert _state(out) == _state(computed)
    assert any(e.stage == "boilerplate" and e.rule == "site.repeated_line" for d in out for e in d.edits)
    assert hashed["page"] == 0  # no page hashed its lines again
    assert not carried._CARRIED  # lent for the block only


def test_a_changed_text_is_not_given_the_keys_of_the_old_one():
    docs = _docs(TEXTS[:12])
    packed = pack_page_keys([site_and_page_keys(d)[2] for d in docs])
    with carried_line_keys(docs, packed):
        assert all(carried_keys(d) == site_and_page_keys(d)[2] for d in docs)
        # a stage between prepare and boilerplate changed a text: its keys are computed anew
        changed = docs[1]
        apply_changes(changed, [Change(0, 0, "Breaking news\n\n", "test.insert")], stage="test")
        assert carried_keys(changed) is None
        assert PageLines(changed.text, RULES, carried_keys(changed)).keys() == site_and_page_keys(changed)[2]
        # an equal text (a stage that gave back a copy) keeps them
        docs[2].text = "".join(list(docs[2].text))
        assert carried_keys(docs[2]) == site_and_page_keys(docs[2])[2]
    assert all(carried_keys(d) is None for d in docs)


@pytest.mark.parametrize("packed", [None, pack_page_keys([]), pack_page_keys([[1, 2]])])
def test_keys_of_another_batch_or_none_are_not_lent(packed):
    docs = _docs(TEXTS[:3])
    with carried_line_keys(docs, packed):
        assert all(carried_keys(d) is None for d in docs)


def test_keys_of_the_wrong_length_are_not_used():
    doc = _docs([TRICKY])[0]
    keys = site_and_page_keys(doc)[2]
    assert PageLines(doc.text, RULES, keys[:-1]).keys() == keys  # computed, not taken
    assert PageLines(doc.text, RULES, keys).keys() is keys


def test_the_block_gives_back_its_entries_when_a_stage_raises():
    docs = _docs(TEXTS[:3])
    with pytest.raises(RuntimeError):
        with carried_line_keys(docs, pack_page_keys([site_and_page_keys(d)[2] for d in docs])):
            raise RuntimeError("a stage failed")
    assert not carried._CARRIED


def _finish_outputs(tmp, carry: bool, monkeypatch) -> tuple[list, Counter]:
    """The seeds through prepare_batch and finish_batch (one batch, in process);
    without ``carry`` the prepared file is rewritten as before bp-8 (no keys)."""
    import shutil
    from datetime import datetime, timezone

    import pyarrow.parquet as pq

    from conftest import SEEDS
    from ketl.ingest.scan import scan
    from ketl.run import batch
    from ketl.settings import Settings

    raw = tmp / "raw"
    for i, p in enumerate(sorted(SEEDS.glob("*.txt")) * 2):  # each seed twice: lines that repeat on a site
        (raw / "site").mkdir(parents=True, exist_ok=True)
        shutil.copy(p, raw / "site" / f"{i}-{p.name}")
    ctx = batch.RunContext(run_id="r", raw=str(raw), staging=str(tmp / "staging"), settings=Settings(raw=str(raw)),
                           config_hash="h", started_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
    (tmp / "staging").mkdir()
    batch.prepare_batch(ctx, 0, scan(raw, False))
    pq.write_table(batch.merge_site_lines(ctx, None, [0]), ctx.files.site_lines_active())
    path = ctx.files.prepared(0)
    records, rejects, packed = pickle.loads(path.read_bytes())
    assert len(packed[1]) == len(records) > 0
    if not carry:
        path.write_bytes(pickle.dumps((records, rejects)))
    hashed = Counter()
    real = features.line_keys
    monkeypatch.setattr(features, "line_keys", lambda low: hashed.update(["page"]) or real(low))
    batch.finish_batch(ctx, 0)
    monkeypatch.setattr(features, "line_keys", real)
    return sorted(pq.read_table(ctx.files.articles(0)).drop_columns(["run_id", "processed_at"]).to_pylist(),
                  key=lambda r: r["doc_id"]), hashed


def test_finish_takes_prepare_s_keys_and_writes_what_it_wrote_without_them(tmp_path, monkeypatch):
    with_keys, hashed = _finish_outputs(tmp_path / "a", True, monkeypatch)
    without, hashed_before = _finish_outputs(tmp_path / "b", False, monkeypatch)
    assert hashed["page"] == 0 and hashed_before["page"] > 0  # finish hashed no line prepare had hashed
    assert with_keys == without and any(r["text"] for r in with_keys)
