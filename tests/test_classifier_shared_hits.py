"""Issue 15, ninth stop: the classifier reads a line's stop-word hits where the
language guess already counted them (``_GROUPS``) instead of counting its words
again, and skips the menu pass on pages without five short lines close
together. Each shortcut answers as the code it replaces, on real text in many
scripts (seeds, the multilingual texts, the AEB bodies and pages)."""

from __future__ import annotations

import functools
import json

from ketl.stages.boilerplate import classifier as cl
from ketl.stages.boilerplate.prose import _menu_item

from conftest import shared_path, texts_in_many_scripts


@functools.cache
def _pages() -> list[list[str]]:
    texts = texts_in_many_scripts()
    aeb = json.loads(shared_path("bench", "aeb", "html-text.json").read_text(encoding="utf-8"))["output"]
    texts += [v["articleBody"] for _, v in sorted(aeb.items())]
    return [page for t in texts if (page := [ln.strip() for ln in t.split("\n") if ln.strip()])]


def _reference_sample(lines):
    """The sample as the loop before the fast paths took it (also test_classifier_speed_paths's reference)."""
    sample, size = [], 0
    for line in lines:
        if len(line) >= 60:
            sample.append(line)
            size += len(line)
            if size >= cl._SAMPLE_CHARS:
                break
    return sample, size


def test_sample_equals_the_line_by_line_loop():
    pages = _pages() + [["x" * 60] * 50, ["x" * 1500, "y" * 1500, "z" * 70], ["x" * 1500, "y" * 1499, "z" * 70],
                        ["short"] * 3, [], ["x" * 59, "y" * 3000]]
    for page in pages:
        assert cl._sample([line for line in page if len(line) >= cl._SAMPLE_MIN]) == _reference_sample(page)
    # both ways out of the loop were taken: the bound reached, and the page's end
    assert any(_reference_sample(p)[1] >= cl._SAMPLE_CHARS for p in pages)
    assert any(0 < _reference_sample(p)[1] < cl._SAMPLE_CHARS for p in pages)


def test_verdicts_from_remembered_hits_equal_counting_words():
    cfg = cl.ClassifierSettings()
    packed = counted = 0
    for page in _pages():
        stop = cl.document_stopwords(page)  # (remembers the hits of the lines it reads)
        number = cl._stop_number(stop)
        if not stop or number is None:
            continue
        shift = cl._FIELD_BITS * number
        for line in page:
            got = cl._initial(line, stop, cfg, None, shift)
            assert got == cl._initial(line, stop, cfg), line
            if line in cl._GROUPS:
                packed += 1
            else:
                counted += 1
    assert packed > 1000 and counted > 1000  # both paths taken, in earnest


def test_verdicts_of_a_turkish_line_under_an_english_list():
    """The packed hits are the list's own field: another list's hits never leak in."""
    cfg = cl.ClassifierSettings()
    english = cl._stop_lists()["english"]
    line = "Türkiye'nin en büyük şehri olan İstanbul, tarih boyunca birçok medeniyete ev sahipliği yapmıştır ve bu da onu eşsiz kılar."
    cl._line_groups(line)
    number = cl._stop_number(english)
    assert cl._initial(line, english, cfg, None, cl._FIELD_BITS * number) == cl._initial(line, english, cfg)


def _reference_menu_runs(lines, hard, min_run):
    items = [q for q, line in enumerate(lines) if len(line) <= cl._MENU_MAX_CHARS and _menu_item(line)]
    run = items[:1]
    for q in items[1:] + [-2]:
        if run and (q == run[-1] + 1 or run[-1] < q <= run[-1] + cl._FILLERS_MAX + 1 and all(
                cl._filler(lines[r]) for r in range(run[-1] + 1, q))):
            run.append(q)
            continue
        if len(run) >= min_run:
            for r in run:
                hard[r] = True
        run = [q]


def test_menu_runs_with_the_window_pre_test_equal_the_reference():
    spaced = []
    for k in range(5):  # entries two fillers apart: the widest a run spans
        spaced += [f"Section {k}", "<p>&nbsp;</p>", "&nbsp;"]
    wider = []
    for k in range(5):  # three fillers apart: no run
        wider += [f"Section {k}", "<p>", "<br>", "&nbsp;"]
    built = [spaced, wider, ["Home", "News", "Sport", "Weather", "Travel"], ["Home", "News", "A sentence.", "Sport"]]
    marked = 0
    for page in _pages() + built:
        got, want = [False] * len(page), [False] * len(page)
        cl._mark_menu_runs(page, got, 5)
        _reference_menu_runs(page, want, 5)
        assert got == want
        marked += sum(got)
    g = [False] * len(spaced)
    cl._mark_menu_runs(spaced, g, 5)
    assert sum(g) == 5
    g = [False] * len(wider)
    cl._mark_menu_runs(wider, g, 5)
    assert sum(g) == 0
    assert marked > 20


def test_remembered_headlines_and_menu_entries_equal_fresh_ones():
    """headline_like and _menu_item are remembered by line (a site's teasers and
    menu entries come back on its pages): the remembered answer is the fresh one."""
    from ketl.stages.boilerplate import prose

    lines = [line for page in _pages() for line in page]
    lines += ["Why Movies Went From 15 Minutes To Two Hours Long", "Home", "12 votes", "%165 голосов", "<p>", "a"]
    for f in (cl.headline_like, prose._menu_item):
        f.cache_clear()
        answers = set()
        for line in lines + lines:  # the second time from the cache
            got = f(line)
            assert got == f.__wrapped__(line), (f.__name__, line)
            answers.add(got)
        assert answers == {True, False} and f.cache_info().hits >= len(lines), f.__name__
