"""The repair stage cuts each text's language sample once: the batch's walk
reads it, and the final language of a text whose repair only cut trailing
newlines reuses it (language.first_sample_after_trim). Whatever is reused must
be what cutting the repaired text afresh gives, and the stage's answers must be
those of a document repaired alone, in many languages and scripts."""

from __future__ import annotations

import json
import random
from pathlib import Path

from ketl.document import Document
from ketl.repair import repair_document, repair_documents
from ketl.text.language import _first_sample, detect_language, first_sample, first_sample_after_trim

from conftest import SEEDS, shared_path

MULTILINGUAL = Path(__file__).parent / "data" / "multilingual"


def _texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(MULTILINGUAL.rglob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    pages = json.loads(shared_path("bench", "aeb", "html-text.json").read_text(encoding="utf-8"))["output"]
    texts += [v["articleBody"] for _, v in sorted(pages.items())]
    return texts


def _variants(text: str, rng: random.Random) -> list[tuple[str, str]]:
    """(original, repaired) pairs: trailing newlines cut, and cuts the shortcut must refuse."""
    body = text.rstrip("\n")
    out = [(body + "\n" * k, body + "\n" * j) for k in (1, 2, 3) for j in range(k)]
    cut = rng.randrange(1, len(body) + 1) if body else 0
    out += [(body + "\n", body[:cut]),  # text cut, not newlines
            (body + " \n", body),  # a space cut with the newline
            (body + "\n", body + "x"),  # longer
            (body.replace(" ", "  ", 1) + "\n", body)]  # changed inside
    short = body[:rng.randrange(1, 400)] if body else ""
    out += [(short + "\n\n", short), (short + "\n", short + "")]
    return out


def test_the_sample_after_a_trim_is_the_one_cut_afresh():
    rng = random.Random(15)
    reused = refused = 0
    for text in _texts():
        for original, repaired in _variants(text, rng):
            got = first_sample_after_trim(repaired, original, first_sample(original))
            if got is None:
                refused += 1
                continue
            reused += 1
            assert got == _first_sample(repaired), (original[-40:], repaired[-40:])
            assert detect_language(repaired, None, got) == detect_language(repaired)
    assert reused > 300 and refused > 300  # both ways exercised on real text


def _doc(i: int, text: str) -> Document:
    return Document.from_source(doc_id=str(i), source_path=f"{i}.txt", source_sha256="",
                                source_encoding="utf-8", source=text)


def test_a_batch_repairs_as_each_document_alone():
    texts = _texts()
    rng = random.Random(7)
    texts += [t.rstrip("\n") + "\n" * rng.randint(0, 3) for t in texts[:80]]
    batch = list(repair_documents([_doc(i, t) for i, t in enumerate(texts)]))
    alone = [repair_document(_doc(i, t)) for i, t in enumerate(texts)]
    assert [(d.text, d.edits, d.meta) for d in batch] == [(d.text, d.edits, d.meta) for d in alone]
    assert len({d.meta["language"] for d in batch}) >= 10


def test_the_language_set_is_that_of_the_repaired_text_cut_afresh():
    # Alone or in a batch, meta["language"] is detect_language of the final text
    # with nothing reused; trailing newlines of every count exercise the reuse.
    rng = random.Random(3)
    texts = [t.rstrip("\n") + "\n" * rng.randint(0, 3) for t in _texts()]
    for docs in ([repair_document(_doc(i, t)) for i, t in enumerate(texts)],
                 list(repair_documents([_doc(i, t) for i, t in enumerate(texts)]))):
        assert [d.meta["language"] for d in docs] == [detect_language(d.text)[0] for d in docs]
