"""Issue 15, tenth stop: the classifier's verdicts pass also learns each line's
weight, whether it is condemned on its own, a table-row candidate, a numbered
item's opening and a menu-length line (``_PageFacts``), and pre-tests skip
the ASCII pages' wide-character scan and the signature regex of lines without
"www.". Each answers as the code it
replaces (kept below as references), on real text in many scripts (seeds, the
multilingual texts, the AEB bodies and whole pages) and on pages built to
reach the rare branches (negative penalties, comment threads, tables)."""

from __future__ import annotations

import functools
import json
import random

import pytest

from ketl.stages.boilerplate import classifier as cl
from ketl.stages.boilerplate.prose import _MENU_MAX_CHARS, effective_length, effective_lengths

from conftest import shared_path, texts_in_many_scripts
from test_classifier_fused_paths import _reference_initial_labels, _reference_weights


@functools.cache
def _pages() -> list[list[str]]:
    texts = texts_in_many_scripts()
    aeb = json.loads(shared_path("bench", "aeb", "html-text.json").read_text(encoding="utf-8"))["output"]
    texts += [v["articleBody"] for _, v in sorted(aeb.items())]
    pages = [page for t in texts if (page := [ln.strip() for ln in t.split("\n") if ln.strip()])]
    table = ["Arsenal 3 1 0 10", "Chelsea 2 1 1 7", "Leeds 1 2 1 5", "Spurs 0 3 1 3", "Fulham 0 1 3 1"]
    para = "A paragraph of the article that is long enough to be copied later on, and it is."
    pages += [["An article about football, with a table of the league as it stands.", *table,
               "The season goes on, and the table will change again before the spring."],
              ["Advertisement", para, "Menu", para[:35] + "…", "Home", para[:36] + "..."]]
    return pages


def _penalties(page: list[str], seed: int) -> list[int]:
    """Rule penalties as a page gets them, a few negative ones (a caller's own) too."""
    rng = random.Random(seed)
    return [rng.choice((0,) * 10 + (1, 60, 100, 150, 300, -5)) for _ in page]


def _markers(page: list[str], pen: list[int], seed: int) -> list[str]:
    """Comment markers on rule lines (as the stage gives them: a comment rule
    condemned the line), so that some pages have a comment thread."""
    rng = random.Random(seed)
    return [rng.choice(("", "x says:", "reply", "2 days ago")) if q > len(page) // 2 and pen[q] > 0 else ""
            for q in range(len(page))]


# -- references: the code as it was before (the verdicts and weights: test_classifier_fused_paths) ----

def _reference_classify(lines, stop, penalties, cfg, thread, title_at=-1):
    """_classify before the one pass: verdicts, context, weights, evidence each a pass of its own."""
    m = len(lines)
    labels, reasons = [cl.BAD] * m, ["rule"] * m
    lengths = [effective_length(line) for line in lines]
    _reference_initial_labels(lines, stop, penalties, cfg, lengths, labels, reasons)
    cl._context(labels)
    weights = _reference_weights(lines, labels, penalties, cfg, thread)
    lo, hi = cl._choose_block(weights, cfg, title_at)
    hard = cl._evidence(lines, penalties, reasons, cfg, title_at)
    headers = cl._list_headers(lines, penalties, cfg.list_header_penalty)
    if hi > lo and cfg.teaser_tail:
        cut = cl._teaser_tail(lines, headers, hard, lo, min(thread, m), cfg.bridge_max_gap)
        if cut < m:
            thread = min(thread, cut)
            if hi >= cut:
                hi = cut - 1
                while hi > lo and weights[hi] < 0:
                    hi -= 1
    inside = [lo <= q <= hi for q in range(m)]
    if hi >= lo and cfg.bridge_max_gap > 0:
        seen_through = list(weights)
        for q in range(m):
            if weights[q] < 0 and 0 < penalties[q] and not headers[q]:
                seen_through[q] = 0
        cl._bridge(seen_through, labels, inside, lo, hi, min(thread, m), cfg, title_at + 1 if title_at < lo else 0)
    if hi >= lo and cfg.evidence_bounds:
        weak = [hard[q] and 0 < penalties[q] and not headers[q]
                and (penalties[q] < cfg.strong_penalty or cl._alone(hard, q)) for q in range(m)]
        cl._extend_to_evidence(lines, inside, hard, weak, headers, min(thread, m), cfg.edge_run_max,
                               cfg.bridge_max_gap, cl._ruled_edges(penalties, title_at))
    if cfg.evidence_bounds:
        cl._keep_cited_links(lines, inside, hard, penalties, reasons)
    keep = [False] * m
    for q in range(m):
        lab = labels[q]
        if inside[q]:
            if lab != cl.BAD or (cfg.evidence_bounds and not hard[q]):
                labels[q], keep[q], reasons[q] = cl.GOOD, True, ""
            elif not reasons[q]:
                reasons[q] = "classifier.low_content"
        elif lab != cl.BAD:
            labels[q], reasons[q] = cl.BAD, "classifier.outside_article"
    return keep, labels, reasons


# -- the one pass and the pre-tests against them -----------------------------------------------------

def test_page_facts_equal_the_passes_they_replace():
    cfg = cl.ClassifierSettings()
    rows = numbered = negative = 0
    for seed, page in enumerate(_pages()):
        stop = cl.document_stopwords(page)
        pen = _penalties(page, seed)
        lengths = effective_lengths(page)
        got = ([cl.BAD] * len(page), ["rule"] * len(page))
        facts = cl._initial_labels(page, stop, pen, cfg, lengths, *got)
        want = ([cl.BAD] * len(page), ["rule"] * len(page))
        _reference_initial_labels(page, stop, pen, cfg, lengths, *want)
        assert got == want
        no_tables = cl.ClassifierSettings(table_min_rows=0)
        assert facts.weights == _reference_weights(page, want[0], pen, no_tables, len(page))
        assert facts.hard == [pen[q] > 0 or want[1][q] in cl._HARD_REASONS for q in range(len(page))]
        assert facts.rows == [q for q, line in enumerate(page)
                              if want[0][q] == cl.SHORT and cl._TWO_NUMBERS.search(line)]
        assert facts.short == [q for q, line in enumerate(page) if len(line) <= _MENU_MAX_CHARS]
        assert facts.numbered == len(cl._DIGIT_OR_SPACE.findall("".join(line[0] for line in page)))
        rows += len(facts.rows)
        numbered += facts.numbered >= cl._ITEM_MIN_RUN
        negative += any(p < 0 and want[0][q] == cl.BAD for q, p in enumerate(pen))
    assert rows > 20 and numbered > 20 and negative > 20  # every fact had work to do


def test_whole_classifier_equals_the_passes_one_by_one():
    cfg = cl.ClassifierSettings()
    removed = threads = 0
    for seed, page in enumerate(_pages()):
        stop = cl.document_stopwords(page)
        pen = _penalties(page, seed)
        markers = _markers(page, pen, seed)
        title_at = seed % 4 - 1
        thread = cl._thread_start(markers, cfg)
        try:
            want = _reference_classify(page, stop, pen, cfg, thread, title_at)
            if stop and not any(want[0]):
                want = _reference_classify(page, frozenset(), pen, cfg, thread, title_at)
        except IndexError:
            # A run chosen past a thread's start with evidence below it: the
            # edges' walks below start past their end (a known bug, left as it
            # is because mending it changes output; the stage records such an
            # article as a stage_error reject). Same pages, same failure.
            with pytest.raises(IndexError):
                cl.classify_stripped(page, stop, pen, cfg, markers, title_at)
            continue
        got = cl.classify_stripped(page, stop, pen, cfg, markers, title_at)
        if not any(want[0]):
            cl._keep_best_run(page, pen, *want)
        assert got == want
        removed += sum(not k for k in got[0])
        threads += thread < len(page)
    assert removed > 1000 and threads > 50


def test_effective_lengths_of_ascii_and_other_pages_equal_each_lines():
    kinds = set()
    for page in _pages() + [["ASCII only", "and more"], ["中文的句子。", "한국어 문장"], ["Ünïcödé but narrow"]]:
        assert effective_lengths(page) == [effective_length(line) for line in page]
        kinds.add("".join(page).isascii())
    assert kinds == {True, False}



def test_a_run_chosen_past_a_threads_start_is_not_extended_below_it():
    """An article run that already reaches past the comment thread's start
    (``last >= stop``) with no condemned line under it: the walk for evidence
    below used to run off the page (IndexError in ``_next_hard``, found with
    the test above's generator). Nothing below such a run is the article's;
    the walk upwards still happens. (With a condemned line below, the old
    walk did not fail there and its output is kept as it was.)"""
    from ketl.stages.boilerplate.edges import _extend_edges
    lines = ["Menu", "The council met on Monday and voted.", "It passed the budget.",
             "Comments (3)", "Reader one says this is great news for the town.", "Another reply here."]
    m = len(lines)
    for hard_above in (False, True):
        inside = [False, True, True, True, True, False]
        hard = [hard_above] + [False] * (m - 1)
        _extend_edges(lines, inside, hard, [False] * m, [False] * m, 3, 8, 2, (0, 0), 1, 4)
        assert inside[1:5] == [True] * 4 and inside[5] is False  # nothing taken below the run
        assert inside[0] is not hard_above  # above it: taken unless condemned
