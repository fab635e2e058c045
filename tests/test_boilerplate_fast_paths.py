"""The boilerplate stage's shortcuts give the answers of the long way round, on
real text in many scripts: the caption rules' lookahead for the closing bracket,
the remembered reprint and agency answers, split_title_suffix's separator test,
match_lines' single pass."""

from __future__ import annotations

import re

import pytest

from ketl.stages.boilerplate import reprint
from ketl.stages.boilerplate.reprint import agency_copyright, find_reprint_strength
from ketl.stages.boilerplate.rules import load_rules
from ketl.stages.boilerplate.site_stats import _SUFFIX, _SITE_WORD, split_title_suffix

from test_boilerplate_features import TEXTS

RULES = load_rules()
BY_ID = {r.id: r for r in RULES.rules}

# Lines a caption rule is about: credits in brackets at the end, in several
# scripts, and sentences that hold a bracket elsewhere.
CAPTION_LINES = [
    "Special forces Azerbaijan (WalkerBaku/WikiCommons)",
    "Protesters in front of the parliament on Monday (Photo: AFP).",
    "Protesters in front of the parliament on Monday (AP Photo/Jane Doe)",
    "Президент на встрече с министрами (фото: ТАСС)",
    "서울 시내의 모습 (사진=연합뉴스)",
    "東京の街並み（写真：共同）",
    "東京の街並み（写真：共同）.",
    "The minister (who declined to comment) said the plan would go ahead (Reuters) today.",
    "The ministry (Reuters) said on Tuesday it would appeal.",
    "Officials (AFP) - more to follow",
    "A caption with a trailing space (Photo: AFP) ",
    "(Photo: AFP)",
    "Photo credit: Jane Doe",
    "Courtesy of the museum",
]


def _old_caption_rules(tmp_path):
    """The shipped rules with the two caption patterns as they were before the
    lookahead (a user file replaces a rule by id)."""
    lines = []
    for rid, look in (("caption.credit", r"(?=(?s:.*)\)\.?\Z)"),
                      ("caption.agency", r"(?=(?s:.*)\)\.?\Z|(?s:.*)）\.?\Z)")):
        pattern = BY_ID[rid].pattern
        assert pattern.startswith(look) or look in pattern, rid
        old = pattern.replace(look, "", 1)
        kws = ", ".join("'" + k.replace("'", "\\'") + "'" for k in BY_ID[rid].keywords)
        lines += ["[[rule]]", f'id = "{rid}"', 'category = "caption"', f"pattern = '''{old}'''",
                  f"keywords = [{kws}]", ""]
    path = tmp_path / "old_captions.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return load_rules([path])


def test_the_caption_lookahead_changes_no_verdict(tmp_path):
    old = _old_caption_rules(tmp_path)
    assert [r.id for r in old.rules] == [r.id for r in RULES.rules]  # replaced in place
    assert old._widths == RULES._widths  # the lookahead is zero-width
    lines = [s for t in TEXTS for s in (x.strip().lower() for x in t.split("\n")) if s]
    lines += [c.strip().lower() for c in CAPTION_LINES]
    got = RULES.match_lines(lines)
    assert got == old.match_lines(lines)
    # and the credits are still caught, the sentences still kept
    # the rules' own match() keeps a line's inner newlines: the same answers there too
    for c in CAPTION_LINES:
        two = c.replace(" (", "\n(", 1)
        for line in (two, c):
            assert getattr(RULES.match(line), "id", None) == getattr(old.match(line), "id", None)
    assert RULES.match("Special forces\n(WalkerBaku/WikiCommons)").id == "caption.credit"
    ids = [RULES.rules[k].id if k >= 0 else None for k in got[-len(CAPTION_LINES):]]
    assert ids[0] == "caption.credit" and ids[1] == "caption.credit"
    assert ids[3] == "caption.agency" and ids[4] == "caption.agency" and ids[5] == "caption.agency"
    assert ids[7] is None and ids[8] is None and ids[9] is None


def test_match_lines_equals_one_line_at_a_time():
    one_by_one, paged = load_rules(), load_rules()
    for text in TEXTS:
        low = [x.strip().lower() for x in text.split("\n")]
        low = low + low[:5]  # lines seen twice in a page
        paged._cache.clear()  # no verdict known before the page
        one = [one_by_one.match_lower(s) if s else None for s in low]
        assert paged.match_lines(low) == [RULES.rules.index(r) if r else -1 for r in one]


NOTICES = [
    "This article was originally published by The Conversation and is reprinted with permission.",
    "Source: Daily Planet",
    "Source: Daily Planet",
    "© 2019 Associated Press. All rights reserved.",
    "© 2019 Associated Press. All rights reserved.",
    "Copyright 2024 The Associated Press.",
    "Dieser Artikel erschien zuerst bei Zeit Online.",
    "Статья впервые опубликована на сайте Коммерсантъ",
    "The story goes on, and nobody was published.",
]


def test_remembered_reprint_answers_follow_weak_and_site():
    reprint._strength.cache_clear()
    first = [find_reprint_strength(s, site="") for s in NOTICES]
    again = [find_reprint_strength("  " + s + " ", site="") for s in NOTICES]
    assert first == again
    assert first[0] == ("The Conversation", True) and first[1] == ("Daily Planet", False)
    # the site and the strength asked are part of the question
    assert find_reprint_strength("Source: Daily Planet", site="Daily Planet") == (None, False)
    assert find_reprint_strength("Source: Daily Planet", weak=False) == (None, False)
    assert find_reprint_strength("Source: Daily Planet", site="") == ("Daily Planet", False)
    # the short lines are remembered (the first notice is longer than that)
    assert reprint._strength.cache_info().hits >= len(NOTICES) - 1
    assert reprint._strength.cache_info().currsize == len({s for s in NOTICES if len(s) <= 80}) + 2
    assert find_reprint_strength("x" * 301) == (None, False) and find_reprint_strength("   ") == (None, False)


def test_remembered_agency_answers():
    reprint._agency.cache_clear()
    assert agency_copyright(NOTICES[3]) == "Associated Press" == agency_copyright(" " + NOTICES[3])
    assert agency_copyright("© 2024 Daily Planet. All rights reserved.") is None
    assert agency_copyright("© 2024 Daily Planet. All rights reserved.") is None
    assert reprint._agency.cache_info().hits == 2


def _suffix_the_long_way(line: str) -> tuple[str, str | None]:
    s = line.strip()
    m = _SUFFIX.match(s)
    if not m:
        return s, None
    title, site = m.group("title").strip(), m.group("site").strip()
    if not site:
        return title, ""
    words = site.split()
    if len(words) > 6 or not all(_SITE_WORD.match(w) for w in words) or not _SITE_WORD.match(words[0]):
        return s, None
    if len(title.split()) < 2:
        return s, None
    return title, site


@pytest.mark.parametrize("line", [
    "Harbour council approves the new budget - Harbour Times",
    "Harbour council approves the new budget -- Harbour Times",
    "Harbour council approves the new budget – Harbour Times",
    "Harbour council approves the new budget — Harbour Times",
    "Harbour council approves the new budget | Harbour Times",
    "Harbour council approves the new budget |",
    "Harbour council approves the new budget",
    "Совет одобрил бюджет — Новости",
    "COVID-19 cases rise again in the north",
])
def test_split_title_suffix_separators(line):
    assert split_title_suffix(line) == _suffix_the_long_way(line)


def test_split_title_suffix_on_every_line_of_the_texts():
    lines = [x for t in TEXTS for x in t.split("\n") if x.strip()]
    assert sum(1 for x in lines if split_title_suffix(x)[1] is not None) > 0
    assert [split_title_suffix(x) for x in lines] == [_suffix_the_long_way(x) for x in lines]


def test_no_line_without_a_separator_has_a_suffix():
    # the shortcut's premise: the regex needs one of | - – —
    assert not _SUFFIX.match("Harbour council approves the new budget Harbour Times")
    assert re.search(r"\[\|–—\]", _SUFFIX.pattern) and "-{1,2}" in _SUFFIX.pattern


def _stats_over_sites(n_sites: int, line: str, settings=None):
    from ketl.stages.boilerplate.site_stats import RepetitionSettings, SiteLineStats, line_key

    stats = SiteLineStats(settings or RepetitionSettings())
    for k in range(n_sites):
        for d in range(2):
            stats.add(f"site{k}.example", [line_key(line), line_key(f"own line of site {chr(97 + k)} page {chr(97 + d)}")])
    return stats


def test_shared_flags_equal_is_shared_and_follow_new_counts():
    from ketl.stages.boilerplate.site_stats import SiteLineStats, line_key

    stats = _stats_over_sites(4, "Advertisement")
    page = ["Advertisement", "own line of site a page a", "", "Reklam"]
    keys = [line_key(s) if s else 0 for s in page]
    blank = [not s for s in page]
    want = [not b and stats.is_shared(k) for k, b in zip(keys, blank)]
    assert stats.shared_flags(keys, blank) == want == [True, False, False, False]
    # a line printed on a fifth site's pages now too: the answer follows the counts
    more = _stats_over_sites(4, "Reklam")
    assert stats.shared_flags(keys, blank)[3] is False
    stats.merge(more)
    assert stats.shared_flags(keys, blank) == [True, False, False, True]
    stats.add("site9.example", [line_key("own line of site a page a")] * 1)
    assert stats.shared_flags(keys, blank) == [not b and stats.is_shared(k) for k, b in zip(keys, blank)]
    # a blank line is never shared, whatever its key
    assert stats.shared_flags([keys[0]], [True]) == [False]
    assert SiteLineStats().shared_flags([], []) == []


@pytest.mark.parametrize("main", ["LATIN", "CYRILLIC", "HAN", "JAPANESE", "HANGUL", "ARABIC", "GREEK", ""])
def test_shares_script_looks_at_the_letters_outside_ascii_only(main):
    from ketl.stages.boilerplate.stage import _COMPATIBLE, _LATIN, _shares_script
    from ketl.stages.repair.script import script_of

    def char_by_char(line: str) -> bool:
        ok = _COMPATIBLE.get(main, {main})
        if "LATIN" in ok and _LATIN.search(line):
            return True
        return any(script_of(ch) in ok for ch in line if ch.isalpha() and not ch.isascii())

    lines = [x.strip() for t in TEXTS for x in t.split("\n") if x.strip()]
    got = [_shares_script(s, main) for s in lines]
    assert got == [char_by_char(s) for s in lines]
    if main not in ("LATIN", ""):
        assert any(got) and not all(got)  # the texts hold lines of this script and others


def test_stray_word_prefilter_keeps_every_match():
    """_line_changes asks _STRAY_WORD only of kept lines with a stop between the
    17th and the 5th character from the end: every line it matches has one."""
    from ketl.stages.boilerplate.stage import _STRAY_WORD

    lines = [x for t in TEXTS for x in t.split("\n") if x.strip()]
    lines += ["It rose since the 1990s. Is.", "It rose. Is. ", "x! Yes.", "Ok? Why.", "ab. Cd.", "Hi. Abcd.   ",
              "word.\tIs.", "a.\u00a0Is.", "long sentence here.          Is.", "Is."]
    found = 0
    for t in lines:
        m = _STRAY_WORD.search(t, max(0, len(t) - 16)) if t.endswith(".") or t[-1:].isspace() else None
        if m:
            found += 1
            tail = t[-17:-4]
            assert "." in tail or "!" in tail or "?" in tail, t
    assert found >= 8
