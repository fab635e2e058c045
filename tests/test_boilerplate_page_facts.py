"""The boilerplate stage's shared per-page facts and the shortcuts of the bp-10
pass (issue 15), each against the code it replaced (copied here as the
reference), on real text in many scripts (tests/conftest.py
texts_in_many_scripts), pages made of it (lines indented, blank lines of
spaces, a trailing blank) and verdicts drawn at random over them."""

from __future__ import annotations

import random
from itertools import accumulate
from operator import add

import pytest

from ketl.document import Change, Document, apply_changes
from ketl.stages.boilerplate import layout
from ketl.stages.boilerplate.features import PageLines, _whole_line_spans
from ketl.stages.boilerplate.metadata import metadata_changes
from ketl.stages.boilerplate.reprint import NOTICE_HEADS, find_reprint_strength
from ketl.stages.boilerplate.rules import load_rules
from ketl.stages.boilerplate.site_stats import SiteLineStats, site_and_line_keys
from ketl.stages.boilerplate.stage import _Lines, _mark_teasers, BoilerplateSettings

from conftest import texts_in_many_scripts

RULES = load_rules()
TEXTS = texts_in_many_scripts(aeb_limit=120)
REASONS = ["", "", "", "site.repeated_line", "ad.marker", "classifier.low_content"]


def _messy(text: str, rng: random.Random) -> str:
    """``text`` with some lines indented or trailed by spaces, blank lines of
    spaces and tabs, and its final newline dropped or doubled."""
    rows = text.split("\n")
    for _ in range(3):
        at = rng.randrange(len(rows))
        rows[at] = rng.choice(["  ", "\t", "\u00a0"]) + rows[at] + rng.choice(["", " ", "\u3000"])
    rows.insert(rng.randrange(len(rows) + 1), " \t ")
    return "\n".join(rows).rstrip("\n") + rng.choice(["", "\n", "\n\n"])


def _pages() -> list[str]:
    rng = random.Random(10)
    return TEXTS + [_messy(t, rng) for t in TEXTS[::3]]


def test_the_texts_cover_many_scripts_and_both_kinds_of_page():
    stripped = [all(s == s.strip() for s in p.split("\n")) for p in _pages()]
    assert sum(stripped) > 50 and len(stripped) - sum(stripped) > 30
    assert any(ord(c) > 0x3000 for p in TEXTS for c in p) and any("\u0400" <= c <= "\u04ff" for p in TEXTS for c in p)


# ---- PageLines: the facts, as each line alone gives them ----

def test_page_facts_are_each_line_s():
    for text in _pages():
        page = PageLines(text, RULES)
        texts = text.split("\n")
        assert page.texts == texts
        assert page.stripped == [t.strip() for t in texts]
        assert page.low == [t.strip().lower() for t in texts]
        assert page.blank == [not t.strip() for t in texts]
        assert page.low_text() == "\n".join(page.low)
        # the fast path shares the lines only where nothing was stripped
        assert (page.stripped is page.texts) == all(t == t.strip() for t in texts)


def _metadata_cut(text: str) -> tuple[PageLines, Document, set[int], list[Change]]:
    doc = Document.from_source(doc_id="d", source_path="site/d.txt", source_sha256="", source_encoding="utf-8",
                               source=text)
    page = PageLines(doc.text, RULES)
    _, removed, changes = metadata_changes(doc, page.texts, lambda k: page.rule[k] >= 0, "site", page.stripped)
    apply_changes(doc, changes, stage="boilerplate.metadata")
    return page, doc, removed, changes


@pytest.mark.parametrize("with_changes", [True, False])
def test_without_by_the_changes_is_the_page_of_the_text_left(with_changes):
    """PageLines.without, its lines taken by the metadata changes' offsets (or
    found in the text split again), equals the facts of the text left."""
    rng = random.Random(4)
    cut = 0
    for text in _pages()[:160]:
        # a headline, a reprint notice near the top and at the bottom: lines metadata removes
        rows = text.split("\n")
        rows[:0] = ["Harbour council approves the new budget", ""]
        rows.insert(rng.randrange(2, len(rows) + 1), "This article was originally published by The Harbour Times.")
        page, doc, removed, changes = _metadata_cut("\n".join(rows))
        page.keys()
        out = page.without(doc.text, removed, RULES, changes if with_changes else None)
        fresh = PageLines(doc.text, RULES)
        assert (out.texts, out.stripped, out.low, out.blank, out.rule, out.keys(), out.low_text()) == \
            (fresh.texts, fresh.stripped, fresh.low, fresh.blank, fresh.rule, fresh.keys(), fresh.low_text())
        # (the lines left taken by the changes' offsets, where they could be)
        cut += _whole_line_spans(page.texts, sorted(removed), changes) is not None
    assert cut > 100


def test_whole_line_spans_accept_only_whole_lines():
    texts = ["Title - Site", "", "Body line.", "Last line"]
    start = [0, *map(add, accumulate(map(len, texts[:-1])), range(1, len(texts)))]
    title = [Change(0, 7, "", "metadata.title"), Change(7, 13, "", "metadata.site_suffix")]
    assert _whole_line_spans(texts, [0], title) == [[0, 13]]
    assert _whole_line_spans(texts, [0, 2], title + [Change(start[2], start[3], "", "n")]) == [[0, 13], [14, 25]]
    assert _whole_line_spans(texts, [0], title[:1]) is None  # the suffix is left
    assert _whole_line_spans(texts, [3], [Change(start[3], start[3] + 9, "", "n")]) is None  # a last line
    assert _whole_line_spans(texts, [2], [Change(start[2], start[3], "x", "n")]) is None  # not a removal


# ---- the site's flags, asked once per page ----

def test_repeated_flags_without_the_blank_pass_are_the_flags():
    stats = SiteLineStats()
    docs = [Document.from_source(doc_id=str(q), source_path=f"s{q % 2}/{q}.txt", source_sha256="",
                                 source_encoding="utf-8", source=t) for q, t in enumerate(TEXTS[:60])]
    furniture = "Subscribe to our newsletter\n\nShare this article\n"
    for d in docs:
        d.text = furniture + d.text + "\n" + furniture
        stats.add(*site_and_line_keys(d))
    flagged = 0
    for d in docs:
        page = PageLines(d.text, RULES)
        site = site_and_line_keys(d)[0]
        got = page.repeated_flags(stats, site)
        assert got == [not b and stats.is_repeated(site, k) for k, b in zip(page.keys(), page.blank)]
        assert page.repeated_flags(stats, site) is got  # asked once, kept
        flagged += sum(got)
    assert flagged >= 4 * len(docs)


# ---- metadata's notice scans: the first characters' test inlined ----

def test_lines_the_inline_head_test_skips_are_no_notices():
    lines = [s.strip() for t in TEXTS for s in t.split("\n") if s.strip()]
    lines += ["This article was originally published by The Harbour Times.", "Source: Reuters",
              "© 2024 Harbour Times. All rights reserved.", "Distributed by Tribune Content Agency."]
    skipped = 0
    assert NOTICE_HEADS is not None
    for s in lines:
        head = s[:3]
        if len(head) == 3 and head.isascii() and head.lower() not in NOTICE_HEADS:
            skipped += 1
            assert find_reprint_strength(s) == (None, False)
            assert find_reprint_strength(s, weak=False) == (None, False)
    assert skipped > 1000


# ---- the removals as changes: the gap walk against the line-by-line walk ----

def _reference_line_changes(texts, blank, reason, merge_runs, text_len):
    """stage._line_changes as it was (adb0d40)."""
    n = len(texts)
    kept = [not b and not r for b, r in zip(blank, reason)]
    last_kept = next((i for i in range(n - 1, -1, -1) if kept[i]), -1)
    starts = [0, *map(add, accumulate(map(len, texts[:-1])), range(1, n))]
    changes = []
    run_start = run_stop = -1
    run_rule = ""
    seen_kept = blank_kept = False
    stops = starts[1:] + [text_len]
    for i in range(n):
        if kept[i]:
            if run_start >= 0:
                changes.append(Change(run_start, run_stop, "", run_rule))
                run_start = -1
            seen_kept, blank_kept = True, False
            t = texts[i]
            m = layout.STRAY_WORD.search(t, max(0, len(t) - 16)) if (t.endswith(".") or t[-1:].isspace()) and (
                "." in (tail := t[-17:-4]) or "!" in tail or "?" in tail) else None
            if m and m.group("w").lower() not in layout._STRAY_OK and m.group("w").lower() in layout.stop_en():
                changes.append(Change(starts[i] + m.start(1), starts[i] + len(t), "", "fragment.stray_word"))
            continue
        start, stop = starts[i], stops[i]
        if blank[i]:
            if seen_kept and i < last_kept and not blank_kept:
                blank_kept = True
                if run_start >= 0:
                    changes.append(Change(run_start, run_stop, "", run_rule))
                    run_start = -1
                continue
            if run_start >= 0:
                run_stop = stop
            else:
                run_start, run_stop, run_rule = start, stop, layout.LAYOUT
            continue
        rule = reason[i]
        if run_start >= 0 and run_rule == layout.LAYOUT:
            run_stop, run_rule = stop, rule
        elif run_start >= 0 and merge_runs and run_rule == rule:
            run_stop = stop
        else:
            if run_start >= 0:
                changes.append(Change(run_start, run_stop, "", run_rule))
            run_start, run_stop, run_rule = start, stop, rule
    if run_start >= 0:
        changes.append(Change(run_start, run_stop, "", run_rule))
    return changes


@pytest.mark.parametrize("merge_runs", [False, True])
def test_line_changes_are_the_line_by_line_walk_s(merge_runs):
    rng = random.Random(11)
    pages = _pages() + ["Prices rose since the 1990s. Is.\n\nThe end.  \n\n\nMore text here. Yes.\n",
                        "\n\n\n", "One line only. Was.", "Intro.\n\n\n\nOutro. Its.\n\n", " \n"]
    total = 0
    for text in pages:
        lines = _Lines(PageLines(text, RULES))
        for _ in range(3):
            mode = rng.random()
            reason = [("" if b else rng.choice(REASONS)) if mode < 0.7 else
                      ("" if b or rng.random() < 0.9 else "x.y") for b in lines.blank]
            args = (lines.texts, lines.blank, reason, merge_runs, len(text))
            want = _reference_line_changes(*args)
            assert layout.line_changes(*args) == want
            total += len(want)
    assert total > 3000


# ---- the teaser step's page test ----

def test_teasers_with_the_page_test_are_the_teasers_without():
    """A page none of whose lines opens "1 " and with nothing flagged returns
    early; the verdicts are those of the walk over every line."""
    settings = BoilerplateSettings()
    stop = frozenset({"the", "a", "of", "and", "to", "in"})
    extra = ["1 In Harbour Town today the council approved. 2 The ferry runs again. 3 Fares rise.",
             "1 dead in crash", "Top stories", "Council approves budget after long debate on the harbour ferry"]
    rng = random.Random(5)
    teasers = 0
    for text in _pages()[:200]:
        rows = text.split("\n")
        for _ in range(2):
            rows.insert(rng.randrange(len(rows) + 1), rng.choice(extra))
        page = PageLines("\n".join(rows), RULES)
        a, b = _Lines(page), _Lines(page)
        nonblank = [not x for x in a.blank]
        idx = [i for i, x in enumerate(nonblank) if x]
        body = [a.stripped[i] for i in idx]
        _mark_teasers(a, nonblank, idx, body, stop, settings, page.low_text())
        _mark_teasers(b, nonblank, idx, body, stop, settings, None)
        assert a.reason == b.reason and a.penalty == b.penalty
        teasers += a.reason.count("classifier.teaser")
    assert teasers > 0
