"""A round that only cut runs of blank lines needs no look round when nothing can
follow from the cut (stage._only_blank_lines_cut): the repair is the one the look
round gives, on real text in many scripts with blank lines added."""

from __future__ import annotations

import random

import pytest

from ketl.document import Document
from ketl.stages.repair import stage
from ketl.stages.repair.stage import RepairSettings, repair_documents

from conftest import texts_in_many_scripts


def _with_blank_runs(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(3):
        at = rng.randrange(len(lines) + 1)
        lines[at:at] = rng.choice([["", ""], ["", "", "", ""], ["  ", "\t", ""], [" "]])
    head = rng.choice(["", "\n\n", " \n\n"])
    tail = rng.choice(["", "\n", "\n\n\n", "\n \n"])
    return head + "\n".join(lines) + tail


def _repair(texts: list[str], settings: RepairSettings) -> list[tuple]:
    docs = [Document.from_source(doc_id=str(i), source_path=f"{i}.txt", source_sha256="", source_encoding="utf-8",
                                 source=t) for i, t in enumerate(texts)]
    return [(d.text, d.edits, d.meta.get("language")) for d in repair_documents(docs, settings)]


def _texts() -> list[str]:
    rng = random.Random(15)
    real = texts_in_many_scripts(aeb_limit=80)
    texts = [_with_blank_runs(t, rng) for t in real for _ in range(2)]
    # Text the encoding rule looks at (mojibake, curly quotes, entities) ending in
    # blank lines: the last line, which loses its newline, is asked alone.
    texts += [_with_blank_runs(t.encode("utf-8").decode("windows-1252", errors="replace"), rng) for t in real[::4]]
    texts += [t.rstrip("\n") + tail for t in real[1::4] for tail in ("\nCafÃ© “Le Monde”\n\n", "\n1 &lt; 2 ‘said’\n")]
    texts.append("<p>A page</p> with a tag.\n\nThe last line &amp; its entity “quoted”.\n\n")
    texts.append("A page without a tag.\n\nThe last line &amp; its entity “quoted”.\n\n")
    # The parenthetical rule reads across lines: once the blank lines between the
    # name and its repetition are cut, the next round finds it.
    texts.append("Talks with Vladimir\n" + "\n" * 30 + "Putin (Vladimir Putin) went on in Moscow on Sunday.\n")
    texts.append("It happened in the decade. 1990.\n\n\n\nThe talks went on.\n")
    texts.append("The talks went on for the whole decade. 1990.\t\n\n\n")  # the cut starts at the tab
    return texts


@pytest.mark.parametrize("settings", [RepairSettings(), RepairSettings(fix_encoding=False)])
def test_the_shortcut_repairs_as_the_look_round(monkeypatch, settings):
    texts = _texts()
    taken = []
    real = stage._only_blank_lines_cut

    def counting(*args):
        answer = real(*args)
        taken.append(answer)
        return answer

    monkeypatch.setattr(stage, "_only_blank_lines_cut", counting)
    fast = _repair(texts, settings)
    monkeypatch.setattr(stage, "_only_blank_lines_cut", lambda *args: False)
    assert fast == _repair(texts, settings)
    monkeypatch.setattr(stage, "_only_blank_lines_cut", real)
    assert fast[::7] == [got for t in texts[::7] for got in _repair([t], settings)]  # one document at a time
    assert sum(taken) > len(texts) // 10  # the shortcut was taken, and often
    assert not all(taken)  # ... and declined where it must
    assert any(e.rule == "paren.duplicate" for e in fast[-3][1])  # found by the look round


def test_a_bracket_that_reads_back_to_a_cut_declines_the_shortcut():
    from ketl.stages.repair.settle import DirtySpans

    text = "Talks with Vladimir\n\nPutin (Vladimir Putin) went on.\n\nThe end."
    dirty = DirtySpans()
    dirty.encoding_idle = True
    dirty.spans = [(19, 21)]
    assert not stage._only_blank_lines_cut(text, RepairSettings(), dirty)
    assert stage._only_blank_lines_cut(text, RepairSettings(remove_duplicate_parentheticals=False), dirty)
    dirty.spans = [(text.index("\n\nThe"), text.index("\n\nThe") + 2)]
    assert stage._only_blank_lines_cut(text, RepairSettings(), dirty)


def test_the_last_line_is_asked_alone_and_an_entity_after_a_tag_declines():
    s = RepairSettings()
    assert stage._last_line_settled("First line.\nThe “Café” reopened.", s)
    assert not stage._last_line_settled("First line.\nThe CafÃ© reopened.", s)  # mojibake the rule would fix
    assert stage._last_line_settled("CafÃ© on the first line.\nThe last line is clean.", s)
    assert not stage._last_line_settled("<b>A tag</b>\nFish &amp; chips.", s)  # ftfy's entity rule needs the whole text
    assert not stage._last_line_settled("No tag.\nFish &amp; chips.", s)  # decoded: a change
