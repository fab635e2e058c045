"""The classifier's CPU paths of issue 15 (seventh stop) answer as the code they
replace, on real text in many scripts (seeds, the multilingual texts, the AEB
pages) and on pages built to reach each branch."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import regex

from ketl.stages.boilerplate import classifier as cl
from ketl.stages.boilerplate import copies, prose
from ketl.stages.boilerplate.copies import copied_lines

from conftest import SEEDS, shared_path

MULTILINGUAL = Path(__file__).parent / "data" / "multilingual"


@functools.cache  # read in a test, not at import: collection works without ../shared
def _pages() -> list[list[str]]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    for sub in ("clean", "dressed"):
        texts += [p.read_text(encoding="utf-8") for p in sorted((MULTILINGUAL / sub).glob("*.txt"))]
    aeb = json.loads(shared_path("bench", "aeb", "html-text.json").read_text(encoding="utf-8"))["output"]
    texts += [v["articleBody"] for _, v in sorted(aeb.items())]
    return [[ln.strip() for ln in t.split("\n") if ln.strip()] for t in texts]


@functools.cache
def _lines() -> list[str]:
    return [line for page in _pages() for line in page]

_LETTER_OR_MARK = regex.compile(r"[\p{L}\p{M}]")
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")


def test_the_pages_cover_many_scripts():
    text = "".join(_lines())
    for ch in "дع中한กλשქन":  # Cyrillic, Arabic, Han, Hangul, Thai, Greek, Hebrew, Georgian, Devanagari
        assert any(ch in line for line in _lines()) or re.search(f"[{ch}]", text), ch
    assert sum(not line.isascii() for line in _lines()) > 1000


def _reference_is_prose(line: str) -> bool:
    """is_prose as written before: the letters outside ASCII matched one by one."""
    if line[-1] not in prose._TERMINAL_CHARS:
        if len(line) < 30 or line.isascii() or not prose._UNPUNCTUATED.search(line):
            return False
    elif line.count(" ") < 3 or len(line) < 40 and len(prose._words(line.lower())) < 4:
        n = prose.effective_length(line)
        if n < 24 or not prose._NO_SPACE_SCRIPT.search(line) and not prose._SPACELESS.search(line):
            return False
    ascii_part = line.encode("ascii", "ignore")
    letters = sum(chr(b).isalpha() for b in ascii_part)
    if len(ascii_part) < len(line):
        letters += len(_LETTER_OR_MARK.findall(_ASCII_RUN.sub("", line)))
    return letters * 2 >= len(line) - line.count(" ")


def test_is_prose_equals_matching_each_letter():
    # Marks inside words (Devanagari, Thai, Burmese vowels), a lone surrogate,
    # emoji, letters of every script on the pages.
    extra = ["नमस्ते दुनिया, यह एक परीक्षण वाक्य है जो काफी लंबा है।", "မြန်မာ စာ ကြောင်း ရှည်ရှည် တစ်ခု ဖြစ်ပါသည် ။",
             "lone \ud800 surrogate in a sentence that is long enough to count.", "🙂🙂🙂 emoji only line, no letters 🙂🙂.",
             "ภาษาไทยไม่มีช่องว่างระหว่างคำและประโยคยาวพอสมควรสำหรับการทดสอบ"]
    seen = {True: 0, False: 0}
    for line in _lines() + extra:
        got = prose.is_prose.__wrapped__(line)
        assert got == _reference_is_prose(line), line
        seen[got] += 1
    assert seen[True] > 500 and seen[False] > 500


def test_effective_lengths_equal_one_line_at_a_time():
    for page in _pages() + [["第１２回　ニュース、東京。", "plain ascii", "Ünïcödé"], ["한국어 문장입니다.", "x"], []]:
        assert prose.effective_lengths(page) == [prose.effective_length(line) for line in page]
    assert prose.effective_lengths(["東京", "ab"]) == [5, 2]  # a wide page takes each line's own count


def _reference_copied_lines(lines: list[str]) -> list[bool]:
    """copied_lines as written before the shortcut for pages whose lines all open differently."""
    out = [False] * len(lines)
    starts: dict[str, list[str]] = {}
    for q, line in enumerate(lines):
        n = len(line)
        if n < copies._MIN_STEM:
            continue
        if n < copies._KEY:
            if line.endswith(copies._ELLIPSES):
                out[q] = copies._cut_copy_of_short_key(line, lines, q)
            continue
        key = line[:copies._KEY]
        seen = starts.get(key)
        if seen is not None and any(copies._copies(line, p, starts) for p in seen):
            out[q] = True
        elif n >= copies._MIN_PARAGRAPH:
            starts.setdefault(key, []).append(line)
    return out


def test_copied_lines_equal_the_full_scan():
    para = [line for line in _lines() if 80 <= len(line) <= 300][:40]
    built = [
        para[:3] + [para[0] + " " + para[1]],  # a glued copy (same opening as an earlier line)
        para[:3] + [para[1][:50] + "..."],  # cut short, key shared
        para[:2] + [para[0][:35] + "…"],  # cut short below the key: the branch the shortcut keeps
        para[:4] + [para[2]],  # an exact repeat: no copy
        ["Short line", para[5]],
    ]
    flagged = 0
    for page in _pages() + built:
        got = copied_lines(page)
        assert got == _reference_copied_lines(page), page[:2]
        flagged += sum(got)
    assert all(copied_lines(b)[-1] for b in built[:3]) and flagged >= 3


def test_remembered_verdicts_equal_fresh_ones_in_every_script():
    cfg = cl.ClassifierSettings()
    cl._VERDICTS.clear()
    cl._GLUED.clear()
    for page in _pages()[:80]:
        stop = cl.document_stopwords(page)
        first = cl.classify_stripped(page, stop, None, cfg), cl.teaser_lines(page, stop)
        again = cl.classify_stripped(page, stop, None, cfg), cl.teaser_lines(page, stop)  # (from the memo)
        for line in page:
            assert cl._initial(line, stop, cfg) == cl._VERDICTS[(cfg, cl._stop_number(stop))].get(
                line, cl._initial(line, stop, cfg))[:2]
            if stop:
                assert cl._GLUED[cl._stop_number(stop)].get(line, cl._glued_headline(line, stop)) == \
                    cl._glued_headline(line, stop)
        assert first == again
    assert len(cl._VERDICTS) >= 3  # several languages' lists, and none


def test_a_stop_set_of_its_own_is_not_remembered_by():
    cfg = cl.ClassifierSettings()
    english = cl.document_stopwords(_pages()[0])
    own = english | {"furniture"}  # a rule file's words joined to a list: a new set each page
    assert cl._stop_number(english) is not None and cl._stop_number(own) is None
    assert cl._stop_number(frozenset()) == -1
    cl._VERDICTS.clear()
    cl.classify_stripped(_pages()[0], own, None, cfg)
    assert not cl._VERDICTS
    line = "Furniture furniture furniture furniture furniture furniture furniture furniture."
    assert cl._initial(line, own, cfg) != cl._initial(line, english, cfg)


def test_the_verdict_memo_is_bounded(monkeypatch):
    cfg = cl.ClassifierSettings()
    monkeypatch.setattr(cl, "_VERDICTS_MAX", 5)
    cl._VERDICTS.clear()
    page = [line for line in _lines() if len(line) > 20][:40]
    for k in range(0, 40, 4):
        cl.classify_stripped(page[k:k + 4], frozenset(), None, cfg)
        assert len(cl._VERDICTS[(cfg, -1)]) <= 5 + 4


def test_headline_lists_pretest_changes_nothing():
    def reference(lines, min_headlines=3, max_gap=4, skip=None):
        heads = [(skip is None or not skip[q]) and cl.headline_like(lines[q]) for q in range(len(lines))]
        return heads

    for page in _pages():
        heads = [20 <= len(line) <= 200 and line[-1] not in ".;,:" and cl.headline_like(line) for line in page]
        assert heads == reference(page)
    assert sum(cl.headline_like(line) for line in _lines()) > 20


def test_stop_words_from_remembered_line_groups_equal_a_fresh_count():
    """document_stopwords counts each sample line's remembered stop-word groups:
    the same list, first call or later, as counting the page's words afresh."""
    cl._GROUPS.clear()
    chosen = set()
    for page in _pages():
        first = cl.document_stopwords(page)
        assert cl.document_stopwords(page) == first  # (now from the memo)
        lists, group, _ = cl._stop_index()
        sample, size = [], 0
        for line in page:
            if len(line) >= 60:
                sample.append(line)
                size += len(line)
                if size >= cl._SAMPLE_CHARS:
                    break
        if size >= 200:
            words = [w for line in sample for w in cl._words(line.lower())]
            hits = [sum(w in words_k for w in words) for words_k in lists]
            best = max(range(len(lists)), key=lambda k: (hits[k], -k))
            if hits[best] >= 0.08 * max(1, len(words)) and cl._describes_prose(page, lists[best]):
                assert first is lists[best]
            else:
                assert first == frozenset()
        chosen.add(first)
    assert len(chosen) >= 6
    page = ["Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor ut ut ut."] * 5
    assert "ut" in cl.document_stopwords(page, n_adaptive=3)  # the adaptive words still come from the page


def test_line_memos_share_one_bound_across_languages_and_settings(monkeypatch):
    """The review's worry: one memo per (settings, stop list) each capped alone
    let a worker meeting many languages keep ~100 MB of old lines."""
    import dataclasses

    monkeypatch.setattr(cl, "_VERDICTS_MAX", 50)
    monkeypatch.setattr(cl, "_VERDICTS", {})
    monkeypatch.setattr(cl, "_GLUED", {})
    pages = [p for p in _pages() if len(p) > 10][:40]
    configs = [cl.ClassifierSettings(), dataclasses.replace(cl.ClassifierSettings(), list_header_penalty=3)]
    seen = 0
    for cfg in configs:
        for page in pages:
            stop = cl.document_stopwords(page)
            cl.classify_stripped(page, stop, None, cfg)
            cl.teaser_lines(page, stop)
            held = sum(map(len, cl._VERDICTS.values()))
            assert held <= 50 + len(page), held  # a page may fill past the bound; the next one clears
            assert sum(map(len, cl._GLUED.values())) <= 50 + len(page)
            seen = max(seen, len(cl._VERDICTS))
    assert seen >= 2  # more than one memo was live: the bound is shared, not per memo


def test_an_equal_copy_of_a_shared_stop_list_is_not_taken_for_it():
    shared = cl._stop_index()[0]
    k = next(i for i, words in enumerate(shared) if words)
    assert cl._stop_number(shared[k]) == k
    assert cl._stop_number(frozenset(shared[k]) | frozenset({"zzqx"})) is None
    assert cl._stop_number(frozenset(set(shared[k]))) is None  # equal, but not the list: no shared memo
