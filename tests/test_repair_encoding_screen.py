"""benign_pairs_only: the repair stage skips encoding_changes on a page whose only
trigger matches are pairs ftfy's badness regex rejects ("’”", "çã", "«В").
It must never skip a page encoding_changes would change, and its pair offsets
must be the array scan's. Checked on real text in many scripts, on the same
texts with mojibake, controls and entities put in, and on ftfy's own cases."""

from __future__ import annotations

import json
import random

import ftfy
import pytest
from conftest import SHARED, texts_in_many_scripts

from ketl.stages.repair.encoding import (_pairs_from_runs, _trigger_positions, benign_pairs_only,
                                         encoding_changes, may_trigger)
from ketl.stages.repair.scan import nonascii_runs, scan_text


def _damaged(rng: random.Random, text: str) -> str:
    """``text`` with one line damaged as scraped pages are: mojibake, an entity, a control, a C1."""
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    how = rng.randrange(4)
    if how == 0:
        lines[i] = lines[i].encode("utf-8").decode("cp1252", errors="replace")
    elif how == 1:
        lines[i] += " &amp; more"
    elif how == 2:
        lines[i] += "\x07"
    else:
        lines[i] = lines[i].encode("utf-8").decode("latin-1")
    return "\n".join(lines)


def _texts() -> list[str]:
    rng = random.Random(15)
    texts = texts_in_many_scripts(aeb_limit=80)
    decorated = [t + "\n\n© 2024 The Site — all rights reserved. “Quoted” ’” «Кавычки» —\n" for t in texts[::3]]
    return texts + decorated + [_damaged(rng, t) for t in texts]


def test_a_page_proven_idle_is_one_encoding_changes_leaves_alone():
    proven = looked = 0
    for text in _texts():
        facts = scan_text(text)
        if not (facts.nfc and may_trigger(text, False, facts)):
            continue  # the stage skips these already
        looked += 1
        if benign_pairs_only(text, False, facts):
            proven += 1
            assert encoding_changes(text, False, facts, screened=True) == [], text[:200]
    # The screen must be worth having (the benchmark corpus: 355 of 381 pages)
    # and must let through the pages that need ftfy.
    assert looked > 50 and 0.2 * looked < proven < looked


def test_pair_offsets_found_in_the_runs_are_the_array_scans():
    compared = 0
    for text in _texts():
        facts = scan_text(text)
        if facts.controls:
            continue  # controls are strong matches: the screen stops before its pairs
        runs = nonascii_runs(text)
        strong, pairs = _trigger_positions(text, False)
        found = _pairs_from_runs(text, runs, False)
        if found is None:  # a single marker: a strong match of the array scan too
            assert len(strong)
            continue
        assert found == pairs.tolist()
        compared += bool(found)
    assert compared > 50


def test_damaged_pages_are_not_proven_idle():
    for text, why in [("the minister’s statement: itâ€™s here\nsecond line", "mojibake pair"),
                      ("Rock &amp; roll, “fine”", "an entity"),
                      ("a line\x07 with a bell, “quoted”", "a control"),
                      ("Ã© est mal décodé", "Ã"),
                      ("ﬁne ligature — ok", "a single marker")]:
        assert not benign_pairs_only(text, False, scan_text(text)), why
        assert encoding_changes(text) != [] or why == "a single marker" and ftfy.fix_text(text) != text


@pytest.mark.shared("bench/ftfy-cases")
def test_ftfys_own_cases_proven_idle_only_when_ftfy_changes_nothing():
    proven = 0
    for path in sorted((SHARED / "bench" / "ftfy-cases").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            text = case["original"]
            facts = scan_text(text)
            if facts.nfc and may_trigger(text, False, facts) and benign_pairs_only(text, False, facts):
                proven += 1
                assert encoding_changes(text, False, facts, screened=True) == [], text
    assert proven > 0
