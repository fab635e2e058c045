"""The prepare step hands its documents to the finish step as narrow records (ketl.run.handoff):
the same Documents come back, position maps included, at little more than the bytes of their texts."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from conftest import SEEDS, shared_path
from ketl.document import Document
from ketl.run.handoff import pack, unpack


def _prepared(texts: dict[str, str]) -> list[Document]:
    """``texts`` through the prepare step's stages, as prepare_batch runs them."""
    from ketl.run.batch import resources
    from ketl.settings import Settings
    from ketl.stages import stages_of_step

    settings = Settings()
    res = resources(settings, settings.config_hash())
    docs = [Document.from_source(doc_id=name, source_path=name, source_sha256="0" * 64, source_encoding="utf-8",
                                 source=text, url=f"https://example.org/{name}") for name, text in texts.items()]
    for stage in stages_of_step("prepare"):
        docs = stage.run(docs, res)
    return docs


def _same(a: Document, b: Document) -> bool:
    same_map = (a.positions is None and b.positions is None) or (
        a.positions is not None and b.positions is not None and a.positions.dtype == b.positions.dtype
        and np.array_equal(a.positions, b.positions))
    return same_map and all(getattr(a, f) == getattr(b, f) for f in (
        "doc_id", "source_path", "source_sha256", "source_encoding", "source", "text", "meta", "edits",
        "quotes", "entities", "suggestions"))


def _texts() -> dict[str, str]:
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}
    texts.update({
        # CRLF and lone CR (a position map before any edit), mojibake, glued words, several scripts
        "crlf.txt": "Talks resume\r\n\r\nThe minister said on Sunday ,  that talks wasagreed.\r\nCafÃ© owners\rwait.\r\n",
        "ru.txt": "Москва , 3 марта.  «Мы продолжим переговоры»,  — заявил министр.\n",
        "zh.txt": "外交部发言人表示，谈判将于周日在日内瓦继续。\n\n“我们将继续谈判，”部长说。\n",
        "ar.txt": "قال الوزير إن المحادثات ستستمر في جنيف يوم الأحد .\n",
        "empty.txt": "",
    })
    return texts


def test_prepared_documents_come_back_equal_from_their_records():
    docs = _prepared(_texts())
    assert sum(d.positions is not None for d in docs) >= 5 and sum(len(d.edits) for d in docs) >= 10
    for d in docs:
        d.line_starts()  # the cache the records leave out: recomputed on demand, to the same values
    back = unpack(pickle.loads(pickle.dumps(pack(docs), protocol=pickle.HIGHEST_PROTOCOL)))
    assert len(back) == len(docs)
    for a, b in zip(docs, back):
        assert _same(a, b), a.doc_id
        assert np.array_equal(a.line_starts(), b.line_starts())


@pytest.mark.shared("bench/aeb/html-text.json")
def test_aeb_pages_come_back_equal_and_smaller():
    pages = json.loads(shared_path("bench", "aeb", "html-text.json").read_text(encoding="utf-8"))["output"]
    docs = _prepared({k: v["articleBody"] for k, v in sorted(pages.items())[:60]})
    records = pickle.dumps(pack(docs), protocol=pickle.HIGHEST_PROTOCOL)
    assert all(_same(a, b) for a, b in zip(docs, unpack(pickle.loads(records))))
    whole = pickle.dumps(docs, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(records) <= len(whole)
    # the texts themselves and little else: a position map of an int64 per character
    # (what a Document carried before its map became segments) made it 5x this
    texts = sum(len(d.source.encode("utf-8")) + len(d.text.encode("utf-8")) for d in docs)
    assert len(records) < 1.3 * texts, (len(records), texts)


def test_only_prepared_documents_travel_this_way():
    from ketl.document import Quote

    doc = Document.from_source(doc_id="q", source_path="q", source_sha256="", source_encoding="utf-8", source="x")
    doc.quotes = [Quote("x", None, 0, 1)]
    with pytest.raises(ValueError, match="only prepared documents"):
        pack([doc])
