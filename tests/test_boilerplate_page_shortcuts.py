"""The boilerplate stage's page-level shortcuts (issue 15): each gives the answer
of the line-by-line code it stands in for, on real text in many scripts (the
seeds, the multilingual test texts, the AEB pages) and on text built to hit
the cases where the shortcut must step aside."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ketl.document import Document
from ketl.stages.boilerplate import features, stage
from ketl.stages.boilerplate.features import _keys_by_line, _page_keys, line_keys, script_counts
from ketl.stages.boilerplate.metadata import title_key
from ketl.stages.boilerplate.rules import load_rules
from ketl.stages.boilerplate.site_stats import SiteLineStats, line_key_lower, site_and_line_keys, split_title_suffix
from ketl.stages.boilerplate.stage import BoilerplateSettings, _Lines, _mark_repeated_title, _mark_stray_script
from ketl.stages.repair.script import script_of

from conftest import SEEDS, SHARED, shared_path

RULES = load_rules()
TESTDATA = Path(__file__).parent / "data"


def _texts() -> list[str]:
    out = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    out += [p.read_text(encoding="utf-8") for p in sorted(TESTDATA.rglob("*.txt"))]
    aeb = SHARED / "bench" / "aeb" / "html-text.json"
    if aeb.is_file():
        pages = json.loads(aeb.read_text(encoding="utf-8"))["output"]
        out += [v["articleBody"] for _, v in sorted(pages.items())][:120]
    return out


TEXTS = _texts()


def _low(text: str) -> list[str]:
    return [t.strip() for t in text.lower().split("\n")]


def test_the_texts_hold_many_scripts_and_the_aeb_pages():
    shared_path("bench", "aeb", "html-text.json")  # skipped without ../shared, failed on CI
    scripts = {script_of(ch) for t in TEXTS for ch in t if ch.isalpha()}
    assert {"LATIN", "CYRILLIC", "GREEK", "ARABIC", "HAN", "HANGUL", "JAPANESE"} <= scripts
    assert len(TEXTS) > 120


def test_page_keys_equal_the_keys_of_each_line():
    taken = 0
    for text in TEXTS:
        low = _low(text)
        want = [line_key_lower(s) if s else 0 for s in low]
        fast = _page_keys(low)
        if fast is not None:
            taken += 1
            assert fast == want, text[:80]
        assert line_keys(low) == want
    # the shortcut is the common case, not a path the tests never see
    assert taken >= 0.8 * len(TEXTS)


@pytest.mark.parametrize("line", [
    "two  spaces", "a\ttab", "a\u00a0nbsp", "line\u2028sep", "file\x1csep", "del\x7fchar", "nul\x00",
    "arabic ٣٤ digits", "fullwidth ２０２４", "devanagari ४२", "lone \ud800 surrogate",
])
def test_page_keys_leave_lines_that_need_their_own_path(line):
    low = ["plain first line", line.lower(), "", "last 2024"]
    assert _page_keys(low) is None
    assert line_keys(low) == [line_key_lower(s) if s else 0 for s in low]


def test_digit_runs_become_one_zero_on_each_line_alone():
    low = ["0", "00 a 000", "1 22 333 4444 55555", "x9y 10a010", "© 2019-2020 site", "", "ԁigit-free",
           "2024\u00e9t\u00e9 12", "0000000000000000017"]
    assert _page_keys(low) == [line_key_lower(s) if s else 0 for s in low]
    # a run ends at the line: "1" closing a line and "2" opening the next stay two keys
    assert _page_keys(["a 1", "2 b"]) == [line_key_lower("a 0"), line_key_lower("0 b")]
    assert _page_keys(["", "", ""]) == [0, 0, 0]
    assert _keys_by_line(low) == _page_keys(low)


def _counted_both(lines):
    text = "".join(lines)
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    where = np.flatnonzero(cp > 0x7F)
    return features._counted_scripts(cp[where], where), features._counted_chars(cp[where], where)


def test_script_table_counts_as_each_distinct_character():
    for text in TEXTS:
        lines = text.split("\n")
        if "".join(lines).isascii():
            continue
        cp = np.frombuffer("".join(lines).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        if cp.max() > 0xFFFF:
            continue
        table, chars = _counted_both(lines)
        assert table == chars  # (the order of the scripts is settled by their positions, compared here too)


def test_script_counts_over_the_bmp_and_beyond_it():
    # every script of the BMP the counts can meet, twice, a page long: the
    # table's blocks are filled as the page reaches them
    letters = "".join(chr(c) for c in range(0x80, 0x10000) if chr(c).isalpha())
    table, chars = _counted_both([letters, letters[::-1]])
    assert table == chars
    # letters outside the BMP (CJK extension B, mathematical letters) take the other path
    lines = ["Заголовок 𠀀𠀁 текст " * 60, "𝐀𝐁 English prose. " * 60, "漢字かな 한국어 " * 60]
    counts = script_counts(lines)
    assert counts["HAN"] > 0 and counts["CYRILLIC"] > 0 and "MATHEMATICAL" in counts
    assert list(counts.items()) == list(_line_by_line(lines).items())


def _line_by_line(lines):
    """The count one character at a time, a line's Latin letters first (as the
    stage counted before: scripts enter in the order of their first letter,
    LATIN ahead of the others of its line)."""
    counts = {}
    for line in lines:
        latin = [ch for ch in line if "A" <= ch <= "Z" or "a" <= ch <= "z" or "\u00c0" <= ch <= "\u024f"]
        if latin:
            counts["LATIN"] = counts.get("LATIN", 0) + len(latin)
        for ch in line:
            if not ch.isascii() and ch.isalpha() and (sc := script_of(ch)) != "LATIN":
                counts[sc] = counts.get(sc, 0) + (2.5 if sc in features._WIDE_SCRIPTS else 1)
    return counts


def _old_repeated_title(lines: _Lines, title: str) -> list[str]:
    """_mark_repeated_title as it was: every line of a fitting length tested."""
    tk = title_key(title)
    reason = list(lines.reason)
    lo, hi = len(tk) // 2, 2 * len(tk) + 80
    words = tk.split(" ")
    first_word, longest = words[0], max(words, key=len)
    for i, s in enumerate(lines.stripped):
        if s and not reason[i] and lo <= len(s) <= hi and first_word in lines.low[i] and longest in lines.low[i] \
                and (title_key(s) == tk or title_key(split_title_suffix(s)[0]) == tk):
            reason[i] = "title.repeated"
    return reason


def _page(text: str) -> _Lines:
    return _Lines(features.PageLines(text, RULES))


@pytest.mark.parametrize("k", range(0, 40))
def test_repeated_title_shortcut_finds_what_every_line_test_found(k):
    text = TEXTS[k % len(TEXTS)]
    body = [s for s in text.split("\n") if s.strip()]
    # titles: the page's first line (often printed again), a later line, a title
    # printed again with a site suffix and in another case
    for title in (body[0], body[len(body) // 2], body[0].upper() + " - Daily Planet"):
        if not title_key(title):
            continue
        page = text + "\n" + title + "\n" + body[-1]
        lines = _page(page)
        want = _old_repeated_title(lines, title)
        _mark_repeated_title(lines, title)
        assert lines.reason == want
        assert "title.repeated" in want  # the line added is found both ways


def _old_stray(lines: _Lines, text: str, settings: BoilerplateSettings) -> tuple[list[str], str]:
    """_mark_stray_script as it was."""
    stripped, reason = lines.stripped, list(lines.reason)
    cap = settings.stray_script_max_chars
    short = [i for i, s in enumerate(stripped) if s and not reason[i] and len(s) <= cap and stage._LETTER.search(s)]
    main = ("LATIN" if not features.has_non_latin_letter(text) else stage.dominant_script(stripped, True)) \
        if short or settings.classifier else ""
    for i in short:
        if main and not stage._shares_script(stripped[i], main) and not stage._continues_neighbour(lines, i, cap):
            reason[i] = "fragment.stray_script"
    return reason, main


STRAYS = "\n".join(["بب", "PAGETOP", "Ωμέγα", "Привет", "ok", "12:30", "→", "日本語", "ẞtraße", "Ꭰ", "Ok!", "ª", "ʔ"])


@pytest.mark.parametrize("classifier", [True, False])
def test_stray_script_shortcut_marks_what_every_short_line_test_marked(classifier):
    settings = BoilerplateSettings(classifier=classifier)
    marked = 0
    for text in TEXTS + ["Plain ASCII only.\nShort\n12", STRAYS, "Prose of a page in English.\n" + STRAYS]:
        page = text + "\n" + STRAYS
        old, new = _page(page), _page(page)
        want, want_main = _old_stray(old, page, settings)
        assert _mark_stray_script(new, page, settings) == want_main
        assert new.reason == want
        marked += want.count("fragment.stray_script")
    assert marked > 0


def test_repeated_test_is_is_repeated():
    stats = SiteLineStats()
    for k in range(12):
        stats.add("site.example", {1, 2} | ({3} if k % 4 == 0 else set()) | ({4} if k < 2 else set()))
    stats.add("other.example", {1})
    for site in ("site.example", "other.example", "unknown", ""):
        test = stats.repeated_test(site)
        for key in (1, 2, 3, 4, 5):
            assert test(key) == stats.is_repeated(site, key)
    assert stats.repeated_test("site.example")(3)  # 3 of 12 documents: a quarter, the threshold


def test_a_whole_document_keeps_its_article_in_many_scripts():
    # end to end on the multilingual texts: the stage runs its shortcuts and
    # leaves the prose of the page in place
    for path in sorted(TESTDATA.rglob("*.txt"))[:12]:
        text = path.read_text(encoding="utf-8")
        doc = Document.from_source(doc_id=path.name, source_path=f"x/{path.name}", source_sha256="",
                                   source_encoding="utf-8", source=text)
        stage.clean_document(doc, RULES)
        longest = max(text.split("\n"), key=len).strip()
        assert longest in doc.text


def _docs(texts):
    return [Document.from_source(doc_id=f"d{k}", source_path=f"site{k % 3}/{k}.txt", source_sha256="",
                                 source_encoding="utf-8", source=t) for k, t in enumerate(texts)]


def test_a_chunk_at_a_time_equals_a_document_at_a_time():
    # every step over a chunk before the next: the same edits, text and
    # metadata as each document through all steps alone, with and without the
    # site statistics and the classifier, across chunk boundaries and with an
    # empty document and a blank one among them
    texts = TEXTS + ["", "   \n\n"] + [t + "\nShare this article\n© 2024 Daily Planet" for t in TEXTS[:30]]
    stats = SiteLineStats()
    for doc in _docs(texts):
        stats.add(*site_and_line_keys(doc))
    for settings in (BoilerplateSettings(), BoilerplateSettings(classifier=False)):
        for st in (stats, None):
            alone = [stage.clean_document(d, RULES, st, settings) for d in _docs(texts)]
            together = list(stage.clean_documents(_docs(texts), RULES, st, settings))
            assert len(together) == len(alone) > 2 * stage._CHUNK
            for a, b in zip(alone, together):
                assert (a.text, a.meta, a.edits) == (b.text, b.meta, b.edits)
            assert sum(len(d.edits) for d in together) > len(texts)
