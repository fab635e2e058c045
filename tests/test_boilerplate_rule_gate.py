"""The rules' keyword gate scanned a page at a time (rules.py ``_page_masks``,
issue 15): one DFA scan of a page's uncached lines gives each line the gated
rules the per-band automata give it, so every line gets the verdict of the
line-at-a-time path, on real text in many scripts and on lines built to sit
at the edges (band limits, keywords at line ends, lone surrogates, non-ASCII)."""

from __future__ import annotations

import dataclasses

import pytest

from ketl.stages.boilerplate import rules as rules_mod
from ketl.stages.boilerplate.rules import _GATE_TIERS, load_rules

from conftest import texts_in_many_scripts

pytest.importorskip("ahocorasick_rs")

RULES = load_rules()


def _per_line(rules):
    """The same rules without the page scan (as without ahocorasick_rs), and a cache of their own."""
    return dataclasses.replace(rules, _page=None, _cache={})


def _pages() -> list[list[str]]:
    pages = [list(map(str.strip, t.lower().split("\n"))) for t in texts_in_many_scripts()]
    # every keyword of every gated rule, alone, inside prose, at both ends of lines
    # of each band's length (a keyword counts only where its rule can match a line that long)
    keywords = sorted({kw for i in RULES._gated for kw in RULES.rules[i].keywords})
    built = []
    for kw in keywords:
        for n in (1, *(t - 1 for t in _GATE_TIERS), *_GATE_TIERS, *(t + 1 for t in _GATE_TIERS), 500):
            pad = ("the council met on tuesday " * 40)[: max(0, n - len(kw))]
            built += [kw, (kw + " " + pad)[:n].strip(), (pad + " " + kw)[-n:].strip()]
    pages.append([s for s in built if s])
    pages.append(["© 2024 daily planet. all rights reserved.", "\ud800 lone surrogate © 2024 the times",
                  "подписывайтесь на наш telegram-канал", "مشاركة عبر whatsapp", "", "share this article"])
    return pages


PAGES = _pages()


def test_the_page_scan_is_on_where_ahocorasick_rs_is():
    assert RULES._page is not None
    assert sum(map(len, PAGES)) > 20000


def test_every_line_gets_the_verdict_of_the_per_line_path():
    page_rules, line_rules = dataclasses.replace(RULES, _cache={}), _per_line(RULES)
    fired = set()
    for lines in PAGES:
        got = page_rules.match_lines(lines)
        assert got == line_rules.match_lines(lines), lines[:3]
        fired.update(k for k in got if k >= 0)
    gated_fired = fired & set(RULES._gated)
    assert len(gated_fired) > 20  # the gate let most gated rules through somewhere


def test_masks_equal_the_band_automata_s(monkeypatch):
    lines = [s for page in PAGES for s in page if s]
    for start in range(0, len(lines), 97):  # pages of ~97 lines, keywords across their joins
        chunk = lines[start:start + 97]
        assert RULES._page_masks(chunk) == [RULES._mask(s) for s in chunk]
    assert any(RULES._page_masks(lines[:500]))


def test_user_rules_with_keywords_take_the_page_scan_too(tmp_path):
    user = tmp_path / "mine.toml"
    user.write_text('[[rule]]\nid = "promo.mine"\ncategory = "promo"\npattern = ".{0,300}\\\\bbuy our mugs\\\\b.*"\n'
                    'keywords = ["buy our mugs"]\n', encoding="utf-8")
    rules = load_rules([user])
    assert rules._page is not None
    lines = ["you should buy our mugs today", "x " * 200 + "buy our mugs", "we sell no mugs", "ein Satz über Tassen."]
    assert rules.match_lines(lines) == _per_line(rules).match_lines(lines)
    assert rules.rules[rules.match_lines(lines)[0]].id == "promo.mine"


def test_a_keyword_with_a_newline_keeps_the_per_line_scans(monkeypatch):
    rule = dataclasses.replace(RULES.rules[RULES._gated[0]], keywords=("two\nlines",))
    assert rules_mod._page_gate([rule], [100], [0]) is None
    assert rules_mod._page_gate([dataclasses.replace(rule, keywords=("one line",))], [100], [0]) is not None


def test_without_ahocorasick_rs_the_rules_scan_line_by_line(monkeypatch):
    monkeypatch.setattr(rules_mod, "ahocorasick_rs", None)
    rules = load_rules()
    assert rules._page is None
    lines = PAGES[0]
    assert rules.match_lines(lines) == RULES.match_lines(lines)


class _Forgetful(rules_mod._Memo):
    """A memo that keeps nothing: every line's verdict computed."""

    def __setitem__(self, key, value):
        pass


def test_long_line_verdicts_remembered_are_the_computed_ones(monkeypatch):
    monkeypatch.setattr(rules_mod, "_MEMO_BUDGET", 400_000)  # (filled and emptied on the way)
    memo = dataclasses.replace(RULES, _cache=rules_mod._Memo())
    plain = dataclasses.replace(RULES, _cache=_Forgetful())
    pages = PAGES + PAGES[:20]  # the second time, the long lines' verdicts come from the memo
    assert [memo.match_lines(p) for p in pages] == [plain.match_lines(p) for p in pages]
    long_lines = {s for p in PAGES for s in p if 80 < len(s) <= rules_mod._MEMO_MAX_CHARS}
    assert sum(map(len, long_lines)) > rules_mod._MEMO_BUDGET  # the memo was full and emptied on the way
    assert any(len(s) > 80 for s in memo._cache) and not plain._cache
    assert all(len(s) <= rules_mod._MEMO_MAX_CHARS for s in memo._cache)
    assert memo._cache.chars == sum(map(len, memo._cache))


def test_the_line_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(rules_mod, "_MEMO_BUDGET", 5000)
    memo = dataclasses.replace(RULES, _cache=rules_mod._Memo())
    lines = [f"line {k} of a long paragraph that the council printed on the harbour notice board, "
             f"with more words so that it is longer than eighty characters" for k in range(140)]
    lines.append("x" * (rules_mod._MEMO_MAX_CHARS + 1))
    memo.match_lines(lines)
    assert 0 < memo._cache.chars < 5000 + 200 and "x" * (rules_mod._MEMO_MAX_CHARS + 1) not in memo._cache
    monkeypatch.setattr(rules_mod, "_CACHE_MAX_ENTRIES", 30)
    memo.match_lines([f"share {k}" for k in range(100)])
    assert 0 < len(memo._cache) <= 30


def test_compiled_rules_pickle_and_deepcopy_with_their_page_scan(tmp_path):
    """The DFA does not pickle (ahocorasick_rs): compiled rules, public API, still travel to
    other processes and copy, the page scan rebuilt, the verdicts the same."""
    import copy
    import pickle

    user = tmp_path / "extra.toml"
    user.write_text('[[rule]]\nid = "ad.flash_sale"\ncategory = "ad"\npattern = "flash sale.*"\n'
                    'description = "a user rule"\n', encoding="utf-8")
    for rules in (RULES, load_rules(extra_files=[user])):
        for other in (pickle.loads(pickle.dumps(rules)), copy.deepcopy(rules)):
            assert other._page is not None and other == rules
            for lines in PAGES[-2:]:
                assert other.match_lines(lines) == _per_line(rules).match_lines(lines)
