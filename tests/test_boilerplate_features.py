"""Per-page line facts of the boilerplate stage (features.py): each one equal to
what the stage computed line by line before, on real text in many scripts."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from ketl.document import Document
from ketl.stages.boilerplate import features
from ketl.stages.boilerplate.features import PageLines, has_non_latin_letter, line_keys, non_ascii, script_counts
from ketl.stages.boilerplate.metadata import extract_metadata_at, extract_metadata_lines
from ketl.stages.boilerplate.reprint import _ANY_NOTICE, _STRONG, _WEAK
from ketl.stages.boilerplate.rules import load_rules
from ketl.stages.boilerplate.site_stats import SiteLineStats, line_key, site_and_line_keys
from ketl.stages.boilerplate.stage import clean_document
from ketl.stages.repair.script import script_of

from conftest import SEEDS, SHARED, shared_path

RULES = load_rules()
TESTDATA = Path(__file__).parent / "data"

# Text that a per-line computation and a per-page one could see differently:
# a Greek final sigma at a line's end, a Turkish dotted capital I (lower-cases
# to two characters), every kind of whitespace inside a line, digits of other
# scripts, a lone surrogate, a line of spaces, no final newline.
TRICKY = ("ΟΔΟΣ ΑΘΗΝΑΣ\nΣΟΦΙΑ Σ\n  İSTANBUL İzmir  \ttabs\tand\u00a0nbsp\u2028sep\x1cfs  two  spaces\n"
          "٣٤ digits ١٢٣ and ２０２４ and 12 345\n\ud800 lone surrogate\n   \n"
          "Photo: AFP\nShare this article\n© 2024 Daily Planet. All rights reserved.")


def _texts() -> list[str]:
    out = [TRICKY]
    out += [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    out += [p.read_text(encoding="utf-8") for p in sorted(TESTDATA.rglob("*.txt"))]
    # read at import, so no shared_path here (it would skip the module where ../shared is
    # missing); test_the_aeb_pages_are_among_the_texts asks for it inside a test
    aeb = SHARED / "bench" / "aeb" / "html-text.json"
    if aeb.is_file():
        pages = json.loads(aeb.read_text(encoding="utf-8"))["output"]
        out += [v["articleBody"] for _, v in sorted(pages.items())][:80]
    return out


TEXTS = _texts()


def test_the_aeb_pages_are_among_the_texts():
    shared_path("bench", "aeb", "html-text.json")  # skipped without ../shared, failed on CI
    assert len(TEXTS) >= 80 + len(list(SEEDS.glob("*.txt")))


def test_the_texts_cover_many_scripts():
    scripts = {script_of(ch) for t in TEXTS for ch in t if ch.isalpha()}
    assert {"LATIN", "CYRILLIC", "GREEK", "ARABIC", "HAN", "HANGUL"} <= scripts


@pytest.mark.parametrize("k", range(len(TEXTS)))
def test_page_lines_equal_the_line_by_line_facts(k):
    text = TEXTS[k]
    page = PageLines(text, RULES)
    assert page.texts == text.split("\n")
    assert page.stripped == [t.strip() for t in page.texts]
    # one lower() of the page is each line's lower()
    assert page.low == [t.strip().lower() for t in page.texts]
    assert page.rule == [RULES.match_lines([t.strip().lower()])[0] for t in page.texts]
    assert page.keys() == [line_key(t) if t.strip() else 0 for t in page.texts]


def test_line_keys_ignore_case_spacing_and_numbers_as_line_key_does():
    low = ["© 2019 site", "©  2020\tsite", "share\u00a0this", "share this", "a\u2028b", "٣٤ x"]
    keys = line_keys(low)
    assert keys == [line_key(s) for s in low]
    assert keys[0] == keys[1] and keys[2] == keys[3]
    assert line_keys(["", "x"])[0] == 0


def test_every_whitespace_but_the_space_is_unprintable():
    """line_keys' shortcut: a stripped line with no two spaces in a row that is
    printable holds no whitespace but single spaces."""
    assert all(not chr(c).isprintable() for c in range(0x110000) if chr(c).isspace() and c != 0x20)


def test_without_equals_the_facts_of_the_text_left():
    text = "Title of the story here\n\nThe story. It goes on for a while.\nRead more\n"
    page = PageLines(text, RULES)
    page.keys()
    left = "\nThe story. It goes on for a while.\nRead more\n"
    got = page.without(left, {0}, RULES)
    fresh = PageLines(left, RULES)
    assert (got.texts, got.stripped, got.low, got.rule, got.keys()) == \
        (fresh.texts, fresh.stripped, fresh.low, fresh.rule, fresh.keys())


def test_without_finds_lines_by_text_when_the_end_moved():
    # A last line removed without a newline of its own leaves the one before:
    # the lines no longer line up by index.
    text = "The story. It goes on for a while.\nRead more\nSource: Daily Planet"
    page = PageLines(text, RULES)
    left = "The story. It goes on for a while.\nRead more\n"
    got = page.without(left, {2}, RULES)
    fresh = PageLines(left, RULES)
    assert (got.texts, got.low, got.rule, got.keys()) == (fresh.texts, fresh.low, fresh.rule, fresh.keys())


_NLL = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff]")


def test_non_ascii_keeps_the_other_characters_in_order():
    for t in TEXTS:
        assert non_ascii(t) == "".join(ch for ch in t if not ch.isascii())


def test_has_non_latin_letter_is_the_regex_search():
    samples = TEXTS + ["plain ascii", "Café “quoted” — naïve", "µ and ª", "ǅ Ǆ", "ɐ IPA", "x ʼ y"]
    for t in samples:
        assert has_non_latin_letter(t) == bool(_NLL.search(t)), t[:60]
    assert has_non_latin_letter("Привет") and not has_non_latin_letter("Café “quoted”")


def _line_by_line(lines):
    """The count as the stage made it before: one line at a time."""
    counts = {}
    for line in lines:
        latin = len(re.findall(r"[A-Za-z\u00c0-\u024f]", line))
        if latin:
            counts["LATIN"] = counts.get("LATIN", 0) + latin
        for ch, c in Counter(re.sub(r"[\x00-\x7f]+", "", line)).items():
            if ch.isalpha():
                sc = script_of(ch)
                if sc != "LATIN":
                    counts[sc] = counts.get(sc, 0) + (2.5 if sc in features._WIDE_SCRIPTS else 1) * c
    return counts


@pytest.mark.parametrize("k", range(len(TEXTS)))
def test_script_counts_equal_the_line_by_line_count_in_order(k):
    lines = [t.strip() for t in TEXTS[k].split("\n")]
    for part in (lines, lines[::-1], lines[:3], lines * 3):  # short ones counted per line, long ones with numpy
        want = _line_by_line(part)
        assert list(script_counts(part).items()) == list(want.items())


def test_script_counts_put_latin_first_on_its_line():
    # Russian first; then a line where a Greek letter precedes the first Latin one.
    lines = ["Привет мир " * 200, "α then latin b and 漢字"]
    want = _line_by_line(lines)
    assert list(want) == ["CYRILLIC", "LATIN", "GREEK", "HAN"]
    assert list(script_counts(lines)) == list(want)  # the numpy path (over 2,000 characters)
    assert list(script_counts(lines[1:])) == ["LATIN", "GREEK", "HAN"]


def test_a_notice_always_passes_the_one_alternation():
    """find_reprint_strength rules a line out when _ANY_NOTICE does not match it:
    safe only if every phrasing that matches a line makes it match."""
    lines = [t.strip() for text in TEXTS for t in text.split("\n") if t.strip()]
    lines += ["This article was originally published by The Conversation.", "Source: Reuters",
              "Distributed by Tribune Content Agency", "(c) 2021 Le Monde", "Quelle: dpa",
              "Статья впервые опубликована на сайте Коммерсантъ"]
    hits = 0
    for s in lines:
        if any(p.match(s) for p in (*_STRONG, *_WEAK)):
            hits += 1
            assert _ANY_NOTICE(s), s
    assert hits >= 6


def _doc(text: str, path: str = "site/t.txt") -> Document:
    return Document.from_source(doc_id="t", source_path=path, source_sha256="0", source_encoding="utf-8",
                                source=text)


@pytest.mark.parametrize("k", range(len(TEXTS)))
def test_metadata_by_index_equals_metadata_by_text(k):
    """The stage asks metadata about lines by index; the public API by text."""
    def furniture(line: str) -> bool:
        return RULES.match(line) is not None

    a, b = _doc(TEXTS[k]), _doc(TEXTS[k])
    at_a = extract_metadata_at(a, furniture)
    texts = b.text.split("\n")
    at_b, removed = extract_metadata_lines(b, texts, lambda q: furniture(texts[q]))
    assert (at_a, a.text, a.meta, a.edits) == (at_b, b.text, b.meta, b.edits)
    kept = [t for q, t in enumerate(texts) if q not in removed]
    assert "\n".join(kept).strip() == b.text.strip()


def test_clean_document_is_the_same_through_the_fallback_alignment(monkeypatch):
    """The three ways PageLines.without finds the lines left (by the changes'
    offsets, by index after a split, by text) give the same stage output."""
    def run():
        stats = SiteLineStats()
        docs = [_doc(t, f"site{q % 3}/{q}.txt") for q, t in enumerate(TEXTS)]
        for d in docs:
            stats.add(*site_and_line_keys(d))
        return [clean_document(d, RULES, stats) for d in docs]

    fast = run()
    real = PageLines.without
    # Without the changes: the text is split and its lines compared by index.
    monkeypatch.setattr(PageLines, "without", lambda self, text, removed, rules, changes=None:
                        real(self, text, removed, rules))
    split = run()
    # No line named as removed: the lines do not line up by index, found by text.
    monkeypatch.setattr(PageLines, "without", lambda self, text, removed, rules, changes=None:
                        real(self, text, set(), rules))
    slow = run()
    assert [(d.text, d.meta, d.edits) for d in fast] == [(d.text, d.meta, d.edits) for d in slow]
    assert [(d.text, d.meta, d.edits) for d in fast] == [(d.text, d.meta, d.edits) for d in split]
    assert sum(len(d.edits) for d in fast) > 100
    assert sum(1 for d in fast if d.meta.get("title")) > 20


@pytest.mark.parametrize("k", range(len(TEXTS)))
def test_phase_a_keys_are_the_line_keys(k):
    _, keys = site_and_line_keys(_doc(TEXTS[k]))
    assert keys == {line_key(t) for t in TEXTS[k].split("\n") if t.strip()}


def test_line_keys_turn_every_digit_run_into_one_zero():
    """The byte path (ASCII digit runs halved to one "0") against line_key,
    on runs of every length, zeros inside them, and digits beside other scripts."""
    low = ["0", "007", "a1b22c333d4444e55555", "x00y", "1" * 33, "“quoted” 2024 — 10:45", "٣4 mixed", "4٣",
           "page 1 of 12", "№ 5", "²³ superscripts", "1,000,000.50 $"]
    assert line_keys(low) == [line_key(s) for s in low]
    assert line_keys(["a1b"]) == line_keys(["a999b"]) != line_keys(["ab"])
