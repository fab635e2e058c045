"""The repair stage's shortcut for a round that only cut the text's blank tail
(stage._only_tail_trimmed): whenever it says the text is settled, a full round
finds nothing, and the stage's output is the one without the shortcut."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketl.document import Document
from ketl.stages.entities.gazetteer import Gazetteer
from ketl.stages.repair import stage
from ketl.stages.repair.stage import RepairSettings

from conftest import SEEDS, SHARED

# Endings aimed at every rule that reads the end of a line or of the text.
_ENDINGS = ["", "\n", " \n", "\n\n\n", "\t\n \n", "  ", "said..", "century. .", "word ,", "vraiment ;",
            "the decade. 1990.", "biased’", "it's'", "Putin (Putin)", "heavyshelling", "wasagreed",
            "CafÃ©", "&amp;", "&amp", "x\u200d", "\u200b", "e\u0301", "Привет мир", "中文。", "ok <b>",
            "a\xa0b", "(x", "“quote”", "'so'", "\x07", "\ufffd", "\nبب", "\nПривет мир", "\n中文"]


def _texts() -> list[str]:
    folder = Path(__file__).parent / "data" / "multilingual"
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    gt = SHARED / "bench" / "aeb" / "ground-truth.json"
    if gt.is_file():
        texts += [v["articleBody"] for _, v in sorted(json.loads(gt.read_text(encoding="utf-8")).items())]
    return texts


def _doc(text: str) -> Document:
    return Document.from_source(doc_id="t", source_path="", source_sha256="", source_encoding="utf-8", source=text)


class _Checked:
    """Wraps the shortcut: each time it says settled, a full round on the text must change nothing."""

    def __init__(self, protected) -> None:
        self.real = stage._only_tail_trimmed
        self.protected = protected
        self.fired = 0

    def __call__(self, text, s, dirty, edits):
        answer = self.real(text, s, dirty, edits)
        if answer:
            self.fired += 1
            look = _doc(text)
            assert not stage._round(look, s, self.protected, stage._LazyLanguage(look)), repr(text[-80:])
        return answer


def test_the_shortcut_fires_only_where_a_full_round_finds_nothing(monkeypatch):
    protected = Gazetteer.load().protects
    checked = _Checked(protected)
    monkeypatch.setattr(stage, "_only_tail_trimmed", checked)
    rng = random.Random(6)
    texts = _texts()
    assert len(texts) > 100
    for text in texts:
        stage.repair(text.rstrip() + "\n", protected=protected)  # the common case
        for ending in rng.sample(_ENDINGS, 4):
            tail = rng.choice(["\n", "\n\n", " \n", "\t\n\n  \n", "  "])
            stage.repair(text.rstrip() + " " + ending + tail, protected=protected)
    assert checked.fired > 150


def test_same_output_without_the_shortcut(monkeypatch):
    protected = Gazetteer.load().protects
    rng = random.Random(7)
    texts = [t.rstrip() + " " + rng.choice(_ENDINGS) + rng.choice(["\n", "\n\n", " \n"]) for t in _texts()]
    texts += [e + "\n" for e in _ENDINGS]
    fast = [stage.repair(t, protected=protected) for t in texts]
    monkeypatch.setattr(stage, "_only_tail_trimmed", lambda *a: False)
    slow = [stage.repair(t, protected=protected) for t in texts]
    assert [(r.text, r.edits, r.language) for r in fast] == [(r.text, r.edits, r.language) for r in slow]
    assert sum(any(e.rule == "space.blank_lines" for e in r.edits) for r in fast) > 100


_alphabet = st.sampled_from(list("ab zZ.,;:!?'’‘“”()\t\xa0\u200b\u00ad\ufeffÃ©â€™é\u0301بΩ&;#0x9<") +
                            ["amp", "the", "was", "agreed", "wasagreed", "\n", ". 1990."])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_alphabet, max_size=40).map("".join), st.sampled_from(["\n", " \n", "\n\n\n", "\t", " "]))
def test_property_the_shortcut_is_safe_on_noisy_text(text, tail):
    checked = _Checked(None)
    real = stage._only_tail_trimmed
    stage._only_tail_trimmed = checked
    try:
        once = stage.repair(text + tail)
    finally:
        stage._only_tail_trimmed = real
    again = stage.repair(once.text)
    assert again.text == once.text and again.edits == []


def test_the_shortcut_needs_the_tail_alone():
    # A round that also trimmed a line or collapsed blank lines inside the text
    # is looked at as before; a deletion elsewhere is not the tail.
    s = RepairSettings()
    calls = []
    real = stage._only_tail_trimmed

    def spy(*args):
        calls.append(real(*args))
        return calls[-1]

    stage._only_tail_trimmed = spy
    try:
        stage.repair("The talks went on, the minister said on Sunday.\n")
        stage.repair("The talks went on,  the minister said on Sunday.\n")
        stage.repair("The talks went on.\n\n\n\nThe minister said so on Sunday.\n")
        stage.repair("CafÃ© owners said the talks went on.\n", s)
    finally:
        stage._only_tail_trimmed = real
    assert calls[0] is True
    assert calls[1:] == [False] * (len(calls) - 1) and len(calls) >= 3
