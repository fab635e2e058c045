"""The classifier's page-level shortcuts of issue 15 (eighth stop) answer as the
passes they skip or replace, on real text in many scripts (seeds, the
multilingual texts, the AEB bodies and pages) and on pages built to reach
each branch: each reference below is the code as it was before."""

from __future__ import annotations

import functools
import json
import random

import pytest

from ketl.stages.boilerplate import classifier as cl
from ketl.stages.boilerplate import edges
from ketl.stages.boilerplate.copies import copied_lines
from ketl.stages.boilerplate.prose import _ITEM_NUMBER, _MENU_MAX_CHARS, _menu_item

from conftest import shared_path, texts_in_many_scripts


@functools.cache  # read in a test, not at import: collection works without ../shared
def _pages() -> list[list[str]]:
    texts = texts_in_many_scripts()
    aeb = json.loads(shared_path("bench", "aeb", "html-text.json").read_text(encoding="utf-8"))["output"]
    texts += [v["articleBody"] for _, v in sorted(aeb.items())]  # whole pages, furniture and all
    return [page for t in texts if (page := [ln.strip() for ln in t.split("\n") if ln.strip()])]


def _penalties(page: list[str], seed: int) -> list[int]:
    """Rule penalties as a page gets them: list headers, ad markers, a few lines at random."""
    rng = random.Random(seed)
    out = []
    for line in page:
        low = line.lower()
        if len(line) <= 40 and any(w in low for w in ("related", "read more", "most read", "more from", "trending")):
            out.append(300)
        elif low in ("advertisement", "ad", "share", "share this", "comments"):
            out.append(100)
        else:
            out.append(rng.choice((0,) * 12 + (100, 150, 300)))
    return out


def test_the_pages_cover_many_scripts_and_furniture():
    text = "\n".join("\n".join(p) for p in _pages())
    for ch in "дع中한กλשन":
        assert ch in text, ch
    assert len(_pages()) > 150
    assert sum(len(p) for p in _pages()) > 20000


# -- references: the passes as written before -------------------------------------------------------

def _reference_context(labels: list[str]) -> list[int]:
    m = len(labels)
    orig = labels[:]
    prev = [cl.BAD] * m
    last = cl.BAD
    for q in range(m):
        prev[q] = last
        if orig[q] == cl.GOOD or orig[q] == cl.BAD:
            last = orig[q]
    last = cl.BAD
    for q in range(m - 1, -1, -1):
        if orig[q] == cl.NEAR and (prev[q] == cl.GOOD or last == cl.GOOD):
            labels[q] = cl.GOOD
        if orig[q] == cl.GOOD or orig[q] == cl.BAD:
            last = orig[q]
    return [q for q in range(m) if labels[q] != orig[q]]  # the lines turned


def _reference_table_rows(lines, labels, weights, cfg, *_) -> None:
    m = len(lines)
    q = 0
    while q < m:
        if labels[q] != cl.SHORT or not cl._TWO_NUMBERS.search(lines[q]):
            q += 1
            continue
        k = q
        while k < m and labels[k] == cl.SHORT and cl._TWO_NUMBERS.search(lines[k]):
            k += 1
        if k - q >= cfg.table_min_rows:
            for r in range(q, k):
                weights[r] = len(lines[r]) // cfg.table_row_divisor
        q = k


def _reference_weights(lines, labels, penalties, cfg, thread):
    """The block search's weights, line by line from the labels after the context pass."""
    out = [0] * len(labels)
    for q, lab in enumerate(labels):
        line = lines[q]
        if lab == cl.GOOD:
            w = cl.effective_length(line)
        elif lab == cl.NEAR:
            w = cl.effective_length(line) // 3
        elif lab == cl.SHORT:
            w = 0 if cfg.short_prose_free and line[-1] in cl._TERMINAL_CHARS and cl.is_prose(line) else -cfg.short_cost
        else:
            w = -max(penalties[q] or cfg.block_bad_penalty, len(line) // 2)
        if q >= thread and w > 0:
            w = int(w * cfg.thread_weight)
        out[q] = w
    if cfg.table_min_rows > 0:
        _reference_table_rows(lines, labels, out, cfg)
    return out


def _reference_menu_runs(lines, hard, min_run, *_) -> None:
    if min_run <= 0:
        return
    items = [q for q, line in enumerate(lines) if len(line) <= _MENU_MAX_CHARS and _menu_item(line)]
    if len(items) < min_run:
        return
    run = [items[0]]
    for q in items[1:] + [-2]:
        if q == run[-1] + 1 or run[-1] < q <= run[-1] + cl._FILLERS_MAX + 1 and all(
                cl._filler(lines[r]) for r in range(run[-1] + 1, q)):
            run.append(q)
            continue
        if len(run) >= min_run:
            for r in run:
                hard[r] = True
        run = [q]


def _reference_headers(lines, penalties, min_penalty):
    return [p >= min_penalty and len(lines[q]) <= cl._HEADER_MAX_CHARS and not cl._inline_teaser(lines[q])
            for q, p in enumerate(penalties)]


def _reference_describes_prose(lines, stop, min_chars=80, min_density=0.25, lengths=None) -> bool:
    densities = []
    for line in lines:
        if len(line) >= min_chars and cl.is_prose(line):
            words = cl._line_words(line)
            densities.append(sum(map(stop.__contains__, words)) / max(1, len(words)))
            if len(densities) >= 12:
                break
    if len(densities) < 2:
        return True
    densities.sort()
    return densities[(3 * len(densities)) // 4] >= min_density


def _reference_extend(lines, inside, hard, weak, headers, stop, max_run=6, max_gap=6, ruled=(0, 0)) -> None:
    """The gap pass of _extend_to_evidence over every line, then the edges."""
    if True not in inside:
        return
    first = inside.index(True)
    last = len(inside) - 1 - inside[::-1].index(True)
    listed = False
    for q in range(first + 1, last):
        if inside[q] or cl.is_prose(lines[q]):
            listed = False
        elif headers[q]:
            listed = True
        if hard[q] and not listed and edges._SIGNATURE.fullmatch(lines[q]):
            hard[q] = False
        if not hard[q] and not listed:
            inside[q] = True
    edges._extend_edges(lines, inside, hard, weak, headers, stop, max_run, max_gap, ruled, first, last)


# -- each shortcut against its reference --------------------------------------------------------------

def _labels_of(page: list[str], stop: frozenset[str]) -> list[str]:
    cfg = cl.ClassifierSettings()
    return [cl._initial(line, stop, cfg)[0] for line in page]


def test_context_scan_equals_the_two_sweeps():
    turned = 0
    pools = [_labels_of(page, cl.document_stopwords(page)) for page in _pages()]
    rng = random.Random(7)
    pools += [[rng.choice((cl.GOOD, cl.NEAR, cl.SHORT, cl.BAD)) for _ in range(rng.randint(1, 40))]
              for _ in range(2000)]
    pools += [[cl.NEAR], [cl.NEAR, cl.GOOD], [cl.GOOD, cl.SHORT, cl.NEAR], [cl.NEAR, cl.SHORT, cl.BAD]]
    for labels in pools:
        got, want = labels[:], labels[:]
        assert cl._context(got) == _reference_context(want)
        assert got == want, labels
        turned += sum(a != b for a, b in zip(labels, got))
    assert turned > 100  # the pass did turn lines: the comparison is not of two no-ops


def test_table_rows_among_short_lines_equal_the_full_scan():
    cfg = cl.ClassifierSettings()
    table = ["Arsenal 3 1 0 10", "Chelsea 2 1 1 7", "Leeds 1 2 1 5", "Spurs 0 3 1 3", "Fulham 0 1 3 1"]
    pages = _pages() + [["An article about football, with a table.", *table, "The season goes on."],
                        table[:3] + ["A sentence between.", *table]]
    changed = 0
    for page in pages:
        labels = _labels_of(page, frozenset())
        weights = [len(line) for line in page]
        got, want = weights[:], weights[:]
        cl._table_rows(page, labels, got, cfg)
        _reference_table_rows(page, labels, want, cfg)
        assert got == want
        changed += got != weights
    assert changed >= 2


def test_menu_runs_from_short_lines_equal_the_full_scan():
    menu = ["Home", "News", "Sport", "<p>&nbsp;</p>", "Weather", "Culture", "Contact"]
    pages = _pages() + [menu + ["A sentence of the article, long enough to be one."], menu[:4]]
    marked = 0
    for page in pages:
        for min_run in (0, 3, 5):
            got, want = [False] * len(page), [False] * len(page)
            cl._mark_menu_runs(page, got, min_run)
            _reference_menu_runs(page, want, min_run)
            assert got == want
            marked += sum(got)
    assert marked > 50


def test_list_headers_from_rule_lines_equal_every_line():
    found = 0
    for seed, page in enumerate(_pages()):
        pen = _penalties(page, seed)
        for bound in (300, 150, 0, -5):
            got = cl._list_headers(page, pen, bound)
            assert got == _reference_headers(page, pen, bound)
            found += sum(got)
        assert cl._list_headers(page, [0] * len(page), 300) == [False] * len(page)
    assert found > 100


def test_numbered_item_pretest_never_skips_a_list():
    pages = _pages() + [["1. First", "2) Second", " 3. Third", "4.", "Next", "12.x", "999. Big", "1000. No"],
                        ["1) Lego Star Wars", "http://amzn.to/abc", "2) Lego City", "http://amzn.to/def",
                         "3) Lego Friends", "http://amzn.to/ghi"]]
    numbered = skipped = 0
    for page in pages:
        want = sum(_ITEM_NUMBER.match(line) is not None for line in page)
        opening = len(cl._DIGIT_OR_SPACE.findall("".join(map(cl._FIRST, page))))
        assert opening >= want
        numbered += want
        skipped += opening < cl._ITEM_MIN_RUN
    assert numbered > 50 and skipped > 20


def _reference_evidence(lines, penalties, reasons, cfg, title_at, *_):
    hard = [penalties[q] > 0 or reasons[q] in cl._HARD_REASONS for q in range(len(lines))]
    cl._clear_item_links(lines, hard, penalties, reasons)
    cl.clear_tweet_text(lines, hard, penalties)
    if 0 <= title_at < len(lines):
        hard[title_at] = True
    _reference_menu_runs(lines, hard, cfg.menu_min_run)
    return hard


def test_describes_prose_from_remembered_hits_equals_counting_words():
    lists = cl._stop_index()[0]
    seen = set()
    for k, page in enumerate(_pages()):
        cl._GROUPS.clear() if k % 2 else None  # half the pages with their sample's hits remembered, half not
        cl.document_stopwords(page)
        for stop in {cl.document_stopwords(page), lists[k % len(lists)], frozenset(lists[0] | {"x"})}:
            got = cl._describes_prose(page, stop)
            assert got == _reference_describes_prose(page, stop)
            seen.add(got)
    assert seen == {True, False}


def test_packed_hits_equal_hits_per_list():
    lists, group, _ = cl._stop_index()
    for page in _pages()[::5]:
        for line in page[:20]:
            n, _, packed = cl._line_groups(line)
            words = cl._line_words(line)
            assert n == len(words)
            for k in range(len(lists)):
                assert (packed >> (cl._FIELD_BITS * k)) & cl._FIELD_MASK == sum(w in lists[k] for w in words)


def test_extending_a_whole_run_equals_the_gap_pass():
    cfg = cl.ClassifierSettings()
    compared = moved = 0
    for seed, page in enumerate(_pages()):
        pen = _penalties(page, seed)
        stop = cl.document_stopwords(page)
        labels = _labels_of(page, stop)
        weights = _reference_weights(page, labels, pen, cfg, len(page))
        lo, hi = cl._choose_block(weights, cfg)
        if hi < lo:
            continue
        reasons = ["rule" if p > 0 else "" for p in pen]
        hard = cl._evidence(page, pen, reasons, cfg, -1)
        headers = cl._list_headers(page, pen, cfg.list_header_penalty)
        weak = [hard[q] and 0 < pen[q] and not headers[q] for q in range(len(page))]
        for inside in ([lo <= q <= hi for q in range(len(page))],
                       [lo <= q <= hi and q != (lo + hi) // 2 for q in range(len(page))]):
            got_in, got_hard = inside[:], hard[:]
            want_in, want_hard = inside[:], hard[:]
            edges._extend_to_evidence(page, got_in, got_hard, weak, headers, len(page), ruled=(0, 0))
            _reference_extend(page, want_in, want_hard, weak, headers, len(page), ruled=(0, 0))
            assert (got_in, got_hard) == (want_in, want_hard)
            compared += 1
            moved += got_in != inside
    assert compared > 200 and moved > 20


def test_a_signature_inside_a_whole_run_is_still_the_articles():
    page = ["A first paragraph of the article, long enough to be prose here.",
            "www.autoracing.com.br",
            "A second paragraph of the article, long enough to be prose too."]
    inside, hard = [True, True, True], [False, True, False]
    edges._extend_to_evidence(page, inside, hard, [False] * 3, [False] * 3, 3)
    assert hard == [False, False, False]


def test_copied_lines_with_repeated_short_lines_still_find_cut_copies():
    para = "A paragraph of the article that is long enough to be copied later on."
    page = ["Advertisement", para, "Advertisement", para[:35] + "…"]
    assert copied_lines(page) == [False, False, False, True]
    assert copied_lines(["Advertisement", para, "Advertisement"]) == [False, False, False]


@pytest.mark.parametrize("shortcut", ["_context", "_table_rows", "_mark_menu_runs", "_list_headers",
                                      "_describes_prose", "_evidence"])
def test_whole_classifier_equals_the_reference_passes(monkeypatch, shortcut):
    """Each shortcut swapped for its reference: the classifier's verdicts on
    every page (its own stop words, rule penalties, a printed headline) are the same."""
    ref = {"_context": _reference_context, "_table_rows": _reference_table_rows,
           "_mark_menu_runs": _reference_menu_runs, "_list_headers": _reference_headers,
           "_describes_prose": _reference_describes_prose, "_evidence": _reference_evidence}[shortcut]
    pages = _pages()
    runs = []
    for patched in (False, True):
        if patched:
            monkeypatch.setattr(cl, shortcut, ref)
        out = []
        for seed, page in enumerate(pages):
            pen = _penalties(page, seed)
            stop = cl.document_stopwords(page)
            out.append(cl.classify_stripped(page, stop, pen, title_at=seed % 3 - 1))
        runs.append(out)
    assert runs[0] == runs[1]
    assert sum(not k for keep, _, _ in runs[0] for k in keep) > 1000  # lines were removed: real decisions


def test_remembered_list_leads_equal_fresh_ones():
    from ketl.stages.boilerplate.prose import list_lead

    list_lead.cache_clear()
    lines = [line for page in _pages() for line in page] + ["1) Lego", "• item", "June 9 – City, ST @ Venue"]
    leads = set()
    for line in lines + lines:  # the second time from the cache
        got = list_lead(line)
        assert got == list_lead.__wrapped__(line)
        leads.add(got)
    assert list_lead.cache_info().hits >= len(lines) and {"", "#", "-"} <= leads and len(leads) > 20


def _reference_initial_labels(lines, stop, penalties, cfg, lengths, labels, reasons):
    for q, line in enumerate(lines):
        if penalties[q] <= 0:
            labels[q], reasons[q] = cl._initial(line, stop, cfg, lengths[q])
    # (the weights as the labels stand: no table rows, no thread yet)
    return _reference_weights(lines, labels, penalties, cl.ClassifierSettings(table_min_rows=0), len(lines))


def test_verdicts_looked_up_at_once_equal_judging_each_line(monkeypatch):
    cfg = cl.ClassifierSettings()
    judged = []
    real = cl._initial
    monkeypatch.setattr(cl, "_initial", lambda line, *a: judged.append(line) or real(line, *a))
    pages = _pages() + [["Advertisement", "A sentence printed twice on the page, long enough to be prose.",
                         "Advertisement", "A sentence printed twice on the page, long enough to be prose."]]
    for seed, page in enumerate(pages):
        stop = cl.document_stopwords(page)
        lengths = cl.effective_lengths(page)
        for pen in (_penalties(page, seed), [0] * len(page)):
            cl._VERDICTS.clear()
            judged.clear()
            got = ([cl.BAD] * len(page), ["rule"] * len(page))
            got_weights = cl._initial_labels(page, stop, pen, cfg, lengths, *got).weights
            assert len(judged) == len(set(judged))  # a line printed twice is judged once
            want = ([cl.BAD] * len(page), ["rule"] * len(page))
            want_weights = _reference_initial_labels(page, stop, pen, cfg, lengths, *want)
            assert got == want and got_weights == want_weights
    assert cl._VERDICT_STATS[0] > 0


def test_packed_hits_of_long_lines_count_every_word():
    lists = cl._stop_index()[0]
    words = "the of and to in a is that for on with as by at from".split()
    for n in (1, 16, 17, 200):
        line = " ".join(words[k % len(words)] for k in range(n))
        cl._GROUPS.pop(line, None)
        _, stop_words, packed = cl._line_groups(line)
        assert stop_words == n
        en = next(k for k, w in enumerate(lists) if "the" in w and "of" in w and "with" in w)
        assert (packed >> (cl._FIELD_BITS * en)) & cl._FIELD_MASK == sum(w in lists[en] for w in line.split())
