"""The classifier's fast paths (issue 15) answer as the plain regex code they replace,
on real text in many scripts and on the corner cases each shortcut rests on."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from ketl.stages.boilerplate import classifier as cl

from conftest import SEEDS, shared_path
from test_classifier_shared_hits import _reference_sample  # the sample as taken before the fast paths

MULTILINGUAL = Path(__file__).parent / "data" / "multilingual"
WORD = re.compile(r"\w+")

# Lines that test the shortcuts' premises: "İ" lower-cases to "i" and a combining
# dot; NBSP, thin space, ideographic space; a lone surrogate; marks inside words
# (Devanagari, Burmese); underscores, digits of other scripts, emoji, tabs.
TRICKY = [
    "İstanbul'da İSTANBUL — “quoted” ‘words’ don’t stop…",
    "a\u00a0-\u00a0b", "a\u2009-\u2009b", "x\t-\ty", "-lead", "trail -", "a -b", "a- b", "a - b", "a--b",
    "well-known co-operation", "\u3000第１２回　ニュース、東京。", "snake_case __init__ x_1",
    "नमस्ते दुनिया, यह एक परीक्षण है।", "မြန်မာ စာ ကြောင်း ။", "٢٠١٩ جميع الحقوق محفوظة",
    "emoji 🙂 and ⬇️ arrows → ← » › • ·", "lone \ud800 surrogate", "Ⅻ chapter ½ ²", "ǅemal ǈuba ß ẞ",
    "www.example.com/path", "mail me: a@b.org", "Home | News | Sport", "a > b / c \\ d",
    "ΣΟΦΟΣ σοφός ΌΣΟΣ", "ﬁne ﬂow", "",
]


def _real_lines() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    for sub in ("clean", "dressed"):
        texts += [p.read_text(encoding="utf-8") for p in sorted((MULTILINGUAL / sub).glob("*.txt"))]
    lines = [ln.strip() for t in texts for ln in t.split("\n")]
    return [ln for ln in lines if ln] + TRICKY


LINES = _real_lines()


def test_the_corpus_covers_many_scripts():
    scripts = {"Latin": "a", "Cyrillic": "д", "Arabic": "ع", "Devanagari": "न", "Han": "中", "Hangul": "한",
               "Thai": "ก", "Greek": "λ", "Hebrew": "ש", "Georgian": "ქ", "Myanmar": "မ"}
    text = "".join(LINES)
    ranges = {"Latin": (0x41, 0x7a), "Cyrillic": (0x400, 0x4ff), "Arabic": (0x600, 0x6ff),
              "Devanagari": (0x900, 0x97f), "Han": (0x4e00, 0x9fff), "Hangul": (0xac00, 0xd7af),
              "Thai": (0xe00, 0xe7f), "Greek": (0x370, 0x3ff), "Hebrew": (0x590, 0x5ff),
              "Georgian": (0x10a0, 0x10ff), "Myanmar": (0x1000, 0x109f)}
    missing = [s for s in scripts if not any(ranges[s][0] <= ord(ch) <= ranges[s][1] for ch in text)]
    assert not missing


def test_word_characters_are_alnum_or_underscore_everywhere():
    """The premise of cl._words: ``\\w`` matches exactly the characters that are
    ``isalnum()`` or "_", over every code point; and no whitespace is one."""
    w = re.compile(r"\w")
    odd = [cp for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp < 0xE000
           and bool(w.match(chr(cp))) != (chr(cp).isalnum() or chr(cp) == "_")]
    assert odd == []
    assert not any(chr(cp).isspace() and w.match(chr(cp)) for cp in range(sys.maxunicode + 1))


def test_lower_casing_changes_word_runs_only_for_dotted_capital_i():
    """The premise of cl._few_words: lower() maps each character to one
    character of the same kind (word or not), but for "İ"."""
    def kind(s: str) -> bool:
        return s.isalnum() or s == "_"
    odd = [cp for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp < 0xE000
           and (len(chr(cp).lower()) != 1 or kind(chr(cp).lower()) != kind(chr(cp)))]
    assert odd == [0x130]


@pytest.mark.parametrize("lower", [False, True])
def test_words_equal_the_regex_on_every_line(lower):
    for line in LINES:
        text = line.lower() if lower else line
        assert cl._words(text) == WORD.findall(text), line
    joined = "\n".join(LINES)
    assert cl._words(joined) == WORD.findall(joined)


def test_line_words_split_the_lower_cased_line():
    assert cl._line_words("İstanbul’s “Big” DAY") == ["i", "stanbul", "s", "big", "day"]
    assert cl._line_words("Ünïcödé_x 12,5 км.") == ["ünïcödé_x", "12", "5", "км"]


def _separator_by_regex(line: str) -> bool:
    return bool(cl._SEPARATOR_CHAR.search(line) or "www." in line or ("-" in line and cl._SPACED_DASH.search(line)))


def test_separator_pretest_equals_the_regexes():
    hits = 0
    for line in LINES:
        assert cl._has_separator(line) == _separator_by_regex(line), line
        hits += cl._has_separator(line)
    assert 10 < hits < len(LINES) / 2  # both answers occur


def test_few_words_equals_counting_regex_words():
    seen = set()
    for line in LINES:
        if line:
            want = len(WORD.findall(line)) < len(line) / 8
            assert cl._few_words(line, cl._line_words(line)) == want, line
            seen.add(want)
    assert seen == {True, False}
    # "İ" lower-cased splits a word in two: the count is taken on the line itself.
    line = "İİİİİİİİİİİİİİİİİİİİİİİİİİİİ"
    assert len(cl._line_words(line)) == 28 and cl._few_words(line, cl._line_words(line))


def _reference_stopwords(lines: list[str], min_coverage: float = 0.08) -> frozenset[str]:
    """document_stopwords as written before the fast paths: a Counter of
    regex words, then each language's list tried on each word."""
    sample, size = _reference_sample(lines)
    text = "\n".join(sample) if size >= 200 else "\n".join(lines)[:cl._SAMPLE_CHARS]
    counts = Counter(WORD.findall(text.lower()))
    best, best_hits = frozenset(), 0
    for words in cl._stop_lists().values():
        hits = sum(c for w, c in counts.items() if w in words)
        if hits > best_hits:
            best, best_hits = words, hits
    if best_hits < min_coverage * max(1, sum(counts.values())) or not cl._describes_prose(lines, best):
        return frozenset()
    return best


def _pages() -> list[list[str]]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    for sub in ("clean", "dressed"):
        texts += [p.read_text(encoding="utf-8") for p in sorted((MULTILINGUAL / sub).glob("*.txt"))]
    pages = [[ln.strip() for ln in t.split("\n") if ln.strip()] for t in texts]
    # Short pages take the other branch (fewer than 200 characters of long lines).
    pages += [p[:3] for p in pages] + [[ln for ln in p if len(ln) < 60] for p in pages]
    return pages


def test_document_stopwords_equal_the_word_by_word_count():
    chosen = Counter()
    for lines in _pages():
        got = cl.document_stopwords(lines)
        assert got == _reference_stopwords(lines), lines[:3]
        chosen[got] += 1
    assert len(chosen) >= 6  # several languages' lists, and none for some pages


def test_document_stopwords_equal_the_word_by_word_count_on_the_aeb_pages():
    pages = json.loads(shared_path("bench", "aeb", "html-text.json").read_text(encoding="utf-8"))["output"]
    for key, page in sorted(pages.items()):
        lines = [ln.strip() for ln in page["articleBody"].split("\n") if ln.strip()]
        assert cl.document_stopwords(lines) == _reference_stopwords(lines), key


def test_adaptive_stop_words_still_come_from_the_page():
    lines = ["Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor ut ut ut."] * 5
    extra = cl.document_stopwords(lines, n_adaptive=3) - cl.document_stopwords(lines)
    assert "ut" in extra  # (Latin has no list: the page's own short words serve)


def _reference_initial(line: str, stop: frozenset[str], cfg: cl.ClassifierSettings) -> tuple[str, str]:
    """_initial as written before the fast paths (regex pre-tests and words)."""
    n_chars = cl.effective_length(line)
    if not cl._LETTER.search(line):
        return (cl.SHORT, "") if n_chars < cfg.length_low else (cl.BAD, "classifier.no_letters")
    words = None
    if _separator_by_regex(line):
        sep = len(cl._SEPARATORS.findall(line)) + 3 * len(cl._URL.findall(line))
        words = WORD.findall(line.lower())
        if words and sep / len(words) > cfg.max_separator_density * 4 and len(words) > 3:
            return cl.BAD, "classifier.link_density"
    if n_chars < cfg.length_low:
        return cl.SHORT, ""
    terminal = line[-1] in cl._TERMINAL_CHARS
    if not stop or (not line.isascii() and cl._NO_SPACE_SCRIPT.search(line)
                    and len(WORD.findall(line)) < len(line) / 8):
        return (cl.GOOD, "") if terminal or n_chars >= cfg.length_high or cl.is_prose(line) else (cl.NEAR, "")
    words = words or WORD.findall(line.lower())
    density = sum(w in stop for w in words) / max(1, len(words))
    if density >= cfg.stop_high and (n_chars >= cfg.length_high or terminal):
        return cl.GOOD, ""
    if density >= cfg.stop_low or terminal and density >= cfg.stop_low / 2 and len(words) >= 4 or cl.is_prose(line):
        return cl.NEAR, ""
    return cl.BAD, "classifier.low_content"


def test_line_verdicts_equal_the_regex_path_in_every_script():
    cfg = cl.ClassifierSettings()
    labels = Counter()
    for lines in _pages():
        for stop in {cl.document_stopwords(lines), frozenset()}:
            for line in lines:
                got = cl._initial(line, stop, cfg)
                assert got == _reference_initial(line, stop, cfg), line
                labels[got] += 1
    assert {lab for lab, _ in labels} == {cl.GOOD, cl.NEAR, cl.SHORT, cl.BAD}
    assert labels[(cl.BAD, "classifier.link_density")] > 0
