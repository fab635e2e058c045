"""The boilerplate stage's shortcuts of the bp-8 pass (issue 15), each against
the code it replaced (copied here as the reference), on real text in many
scripts (tests/conftest.py texts_in_many_scripts) and on verdicts drawn at
random over those pages: _line_changes a pass over the lines that are not
kept, _mark_stray_script's answer for a page whose letters are all Latin, and
PageLines.without by slices."""

from __future__ import annotations

import random
import re
from itertools import accumulate
from operator import add

import pytest

from ketl.document import Change, Document
from ketl.stages.boilerplate import stage
from ketl.stages.boilerplate.features import PageLines
from ketl.stages.boilerplate.metadata import title_key
from ketl.stages.boilerplate.rules import load_rules
from ketl.stages.boilerplate.site_stats import split_title_suffix
from ketl.stages.boilerplate.classifier import _SIGNATURE, list_lead
from ketl.stages.boilerplate.embeds import tweet_signature
from ketl.stages.boilerplate.stage import (_LAYOUT, _OPEN_QUOTES, _REFERENCE, _STRAY_OK, _STRAY_WORD, _WORDS,
                                           BoilerplateSettings, _continues_neighbour, _ends_sentence, _LETTER, _Lines,
                                           _shares_script, _stop_en, dominant_script, has_non_latin_letter)

from conftest import texts_in_many_scripts

RULES = load_rules()
TEXTS = texts_in_many_scripts(aeb_limit=120)
# stray words, trailing blanks, no final newline, a page of blank lines
TEXTS += ["Prices rose since the 1990s. Is.\n\nThe end.  \n\n\nMore text here. Yes.\n",
          "\n\n\n", "One line only. Was.", "Intro.\n\n\n\nOutro. Its.\n\n"]
REASONS = ["", "", "", "site.repeated_line", "ad.marker", "classifier.low_content"]


# ---- the code replaced (5482be4), verbatim ----

def _reference_line_changes(texts: list[str], blank: list[bool],
                  reason: list[str], merge_runs: bool, text_len: int) -> list[Change]:
    """The removals of one document as changes, blank-line layout included:
    between two kept lines at most one blank line stays, none at the top or the
    bottom. Blank lines that go ride along with a neighbouring removal (one
    edit, not two), or leave as ``layout.blank_lines``; with ``merge_runs``
    consecutive lines removed for the same reason are one edit (one block of
    furniture: a menu, a comment thread)."""
    n = len(texts)
    kept = [not b and not r for b, r in zip(blank, reason)]
    last_kept = next((i for i in range(n - 1, -1, -1) if kept[i]), -1)
    # where each line starts: the lengths before it, plus one newline per line
    starts = [0, *map(add, accumulate(map(len, texts[:-1])), range(1, n))]
    changes: list[Change] = []
    run_start = run_stop = -1
    run_rule = ""
    seen_kept = blank_kept = False
    # A removed last line takes the text's final newline too (the kept line
    # before it keeps its own).
    stops = starts[1:] + [text_len]
    for i in range(n):
        if kept[i]:
            if run_start >= 0:
                changes.append(Change(run_start, run_stop, "", run_rule))
                run_start = -1
            seen_kept, blank_kept = True, False
            t = texts[i]
            # The stray word sits in the last few characters: search only there
            # (the look-behind still sees the full stop before them), and only
            # where one could: the stop ending the sentence before it sits
            # between the 17th and the 5th character from the end.
            m = _STRAY_WORD.search(t, max(0, len(t) - 16)) if (t.endswith(".") or t[-1:].isspace()) and (
                "." in (tail := t[-17:-4]) or "!" in tail or "?" in tail) else None
            if m and m.group("w").lower() not in _STRAY_OK and m.group("w").lower() in _stop_en():
                changes.append(Change(starts[i] + m.start(1), starts[i] + len(t), "", "fragment.stray_word"))
            continue
        start, stop = starts[i], stops[i]
        if blank[i]:
            if seen_kept and i < last_kept and not blank_kept:
                blank_kept = True  # the one blank line of this gap stays
                if run_start >= 0:
                    changes.append(Change(run_start, run_stop, "", run_rule))
                    run_start = -1
                continue
            if run_start >= 0:
                run_stop = stop
            else:
                run_start, run_stop, run_rule = start, stop, _LAYOUT
            continue
        rule = reason[i]
        if run_start >= 0 and run_rule == _LAYOUT:
            run_stop, run_rule = stop, rule  # the blank lines before it go with it
        elif run_start >= 0 and merge_runs and run_rule == rule:
            run_stop = stop
        else:
            if run_start >= 0:
                changes.append(Change(run_start, run_stop, "", run_rule))
            run_start, run_stop, run_rule = start, stop, rule
    if run_start >= 0:
        changes.append(Change(run_start, run_stop, "", run_rule))
    return changes



def _reference_stray_script(lines: _Lines, text: str, settings: BoilerplateSettings) -> str:
    """4. A few letters of another script ("بب" in an English article, "PAGETOP"
    in a Japanese one): none of the line's letters is in the article's script.
    Returns the article's main script ("" when nobody needs it)."""
    stripped, reason, penalty = lines.stripped, lines.reason, lines.penalty
    cap = settings.stray_script_max_chars
    short = [i for i, n in enumerate(map(len, stripped)) if 0 < n <= cap and not reason[i]]
    if not settings.classifier:  # (the classifier wants the main script, whatever the lines)
        short = [i for i in short if _LETTER.search(stripped[i])]
        if not short:
            return ""
    # Most texts hold one script: one scan of the text settles it.
    main = "LATIN" if not has_non_latin_letter(text) else dominant_script(stripped, True)
    if not main:
        return main
    for i in short:
        s = stripped[i]
        # (an ASCII line with a letter has a Latin one: only the others can be strays of a Latin page)
        if (main != "LATIN" or not s.isascii()) and _LETTER.search(s) and not _shares_script(s, main) \
                and not _continues_neighbour(lines, i, cap):
            reason[i], penalty[i] = "fragment.stray_script", 1
    return main


def _reference_without(page: PageLines, text: str, removed: set[int]) -> tuple:
    keep = [k for k in range(len(page.texts)) if k not in removed]
    texts = text.split("\n")
    if [page.texts[k] for k in keep] == texts:
        return (texts, [page.stripped[k] for k in keep], [page.low[k] for k in keep], [page.rule[k] for k in keep],
                [page.keys()[k] for k in keep])
    return None


# ---- the tests ----

def _verdicts(n: int, rng: random.Random, texts: list[str]) -> tuple[list[bool], list[str]]:
    blank = [not t.strip() for t in texts]
    mode = rng.random()
    reason = [("" if b else rng.choice(REASONS)) if mode < 0.7 else ("" if b or rng.random() < 0.9 else "x.y")
              for b in blank]
    return blank, reason


def test_line_changes_are_the_line_by_line_pass_s():
    rng = random.Random(15)
    n_changes = 0
    for text in TEXTS:
        texts = text.split("\n")
        if texts[-1] == "":
            texts = texts[:-1]
        for _ in range(6):
            blank, reason = _verdicts(len(texts), rng, texts)
            for merge in (False, True):
                got = stage._line_changes(texts, blank, reason, merge, len(text))
                want = _reference_line_changes(texts, blank, reason, merge, len(text))
                assert sorted(got, key=lambda c: (c.start, c.end)) == sorted(want, key=lambda c: (c.start, c.end))
                n_changes += len(want)
    assert n_changes > 5000


def test_the_stray_words_are_found_as_before():
    texts = ["Prices rose since the 1990s. Is.", "Kept. Yes.", "A sentence. The.", "Another one!  Its. "]
    changes = stage._line_changes(texts, [False] * 4, [""] * 4, False, len("\n".join(texts)))
    assert [c.rule for c in changes] == ["fragment.stray_word"] * 3  # "Yes" is a word on its own


def _lines(text: str, reasons: list[str] | None = None) -> _Lines:
    lines = _Lines(PageLines(text, RULES))
    if reasons:
        lines.reason[:] = reasons[:lines.n]
    return lines


@pytest.mark.parametrize("classifier", [True, False])
def test_stray_script_gives_the_reference_s_verdicts_and_script(classifier):
    settings = BoilerplateSettings(classifier=classifier)
    rng = random.Random(8)
    latin = strays = 0
    # each text alone, and with short lines of other scripts put among its lines
    extra = ["بب", "PAGETOP", "Ελλάδα", "한국", "Ünïcödé", "Việt", "ª", "²³", "ok"]
    for text in TEXTS:
        rows = text.split("\n")
        for k in range(3):
            at = rng.randrange(len(rows) + 1)
            rows = rows[:at] + [rng.choice(extra)] + rows[at:]
        for page in (text, "\n".join(rows)):
            a, b = _lines(page), _lines(page)
            assert stage._mark_stray_script(a, page, settings) == _reference_stray_script(b, page, settings)
            assert a.reason == b.reason and a.penalty == b.penalty
            latin += not has_non_latin_letter(page)
            strays += a.reason.count("fragment.stray_script")
    assert latin > 50 and strays > 20


def test_without_gives_the_kept_lines_facts():
    rng = random.Random(3)
    for text in TEXTS[:80]:
        page = PageLines(text, RULES)
        page.keys()
        n = len(page.texts)
        for _ in range(4):
            removed = set(rng.sample(range(n + 2), min(n, rng.randint(0, 4))))
            lines = text.split("\n")
            kept_text = "\n".join(t for k, t in enumerate(lines) if k not in removed)
            out = page.without(kept_text, removed, RULES)
            want = _reference_without(page, kept_text, removed)
            if want is not None:
                assert (out.texts, out.stripped, out.low, out.rule, out.keys()) == want
            fresh = PageLines(kept_text, RULES)
            assert (out.texts, out.stripped, out.low, out.rule, out.keys()) == \
                (fresh.texts, fresh.stripped, fresh.low, fresh.rule, fresh.keys())


def _reference_site_lines(lines: _Lines, stats, site: str, settings: BoilerplateSettings, page_keys: list[int]) -> None:
    """_mark_site_lines's first half as it was (5482be4), with SiteLineStats.repeated_flags."""
    n, stripped, blank = lines.n, lines.stripped, lines.blank
    reason, penalty = lines.reason, lines.penalty
    keys = page_keys[:n]
    if site and stats.n_docs(site) and any(rep := stats.repeated_flags(site, keys, blank)):
        own = any(not r and not b and not why for r, b, why in zip(rep, blank, reason))
        edge = stage._edge_runs(rep, blank, reason) if own else set()
        for i in [i for i, r in enumerate(rep) if r]:
            if not reason[i] and (i in edge or len(stripped[i]) < settings.repeated_max_chars):
                reason[i], penalty[i] = "site.repeated_line", 150


def _dressed(text: str, site: int) -> str:
    """A page of site ``site``: its header and footer lines around the text (one short, one long)."""
    return (f"Harbour Times {site} daily edition\n\n{text}\n\nThe Harbour Times {site} is printed in Port Ellen "
            f"by the harbour cooperative and delivered to the islands every morning before dawn, rain or shine.\n")


@pytest.mark.parametrize("min_docs,min_share", [(3, 0.25), (1, 0.0), (2, 0.5), (5, 0.1), (0, 0.3333333333333333),
                                                (3, 1.0), (4, 2.0), (3, float("inf")), (3, float("nan"))])
def test_repeated_site_lines_are_the_flags_lines(min_docs, min_share):
    from ketl.stages.boilerplate.site_stats import RepetitionSettings, SiteLineStats, site_and_line_keys

    rng = random.Random(min_docs)
    rep_settings = RepetitionSettings(min_docs=min_docs, min_share=min_share, cross_min_sites=0)
    settings = BoilerplateSettings(repeated_min_docs=min_docs, repeated_min_share=min_share, cross_min_sites=0)
    docs = [Document.from_source(doc_id=str(i), source_path=f"s{i % 3}/{i}.txt", source_sha256="",
                                 source_encoding="utf-8", source=_dressed(t, i % 3)) for i, t in enumerate(TEXTS * 2)]
    stats = SiteLineStats(rep_settings)
    for d in docs:
        stats.add(*site_and_line_keys(d))
    marked = 0
    for d in docs[: len(TEXTS)]:
        page = PageLines(d.text, RULES)
        site = d.source_path.split("/")[0]
        a, b = _lines(d.text), _lines(d.text)
        for x in (a, b):  # the same condemned lines in both, some drawn at random
            for i in range(x.n):
                if page.rule[i] >= 0 or (x.stripped[i] and rng.random() < 0.1):
                    x.reason[i] = "ad.marker"
        b.reason[:] = a.reason
        # the flags of every line equal repeated_lines's indices
        flags = stats.repeated_flags(site, page.keys()[:a.n], a.blank)
        assert stats.repeated_lines(site, page.keys()[:a.n], a.blank) == [i for i, f in enumerate(flags) if f]
        stage._mark_site_lines(a, stats, site, settings, page.keys())
        _reference_site_lines(b, stats, site, settings, page.keys())
        assert a.reason == b.reason and a.penalty == b.penalty
        marked += a.reason.count("site.repeated_line")
    assert marked > 50 or not (min_share <= 1)


def test_the_least_repeated_count_is_the_test_s_edge():
    from ketl.stages.boilerplate.site_stats import RepetitionSettings, SiteLineStats

    for min_docs in (0, 1, 3, 7):
        for min_share in (0.0, 0.1, 0.25, 1 / 3, 0.5, 0.7, 1.0, 1.5):
            stats = SiteLineStats(RepetitionSettings(min_docs=min_docs, min_share=min_share))
            for total in range(1, 120):
                need = stats._least_repeated(total)
                passes = [c >= min_docs and c / total >= min_share for c in range(0, 2 * total + 10)]
                assert passes.index(True) == need and all(passes[need:])


def _reference_repeated_title(lines: _Lines, title: object) -> None:
    """3. The title printed again in the body (only lines of a fitting length are compared)."""
    tk = title_key(title) if isinstance(title, str) else ""
    if not tk:
        return
    reason, penalty = lines.reason, lines.penalty
    lo, hi = len(tk) // 2, 2 * len(tk) + 80
    words = tk.split(" ")
    # Every word of the key is in a line that repeats the title (lower-cased,
    # its suffix cut or not): the longest one rules out most lines at once.
    first_word, longest = words[0], max(words, key=len)
    low = lines.low
    page = "\n".join(low)
    if longest not in page or first_word not in page:
        return  # (most pages: two scans in C instead of a test per line)
    rest = [w for w in dict.fromkeys(words) if w != first_word and w != longest]
    for i, s in enumerate(lines.stripped):
        if s and not reason[i] and lo <= len(s) <= hi and first_word in (t := low[i]) and longest in t \
                and all(w in t for w in rest) \
                and (title_key(s) == tk or title_key(split_title_suffix(s)[0]) == tk):
            reason[i], penalty[i] = "title.repeated", 1


def test_the_repeated_title_is_found_on_the_lines_it_was_found_on():
    rng = random.Random(5)
    found = 0
    for text in TEXTS:
        rows = [r for r in text.split("\n") if r.strip()]
        titles = [rows[0], rng.choice(rows), rows[0] + " - Daily Planet", "No such title anywhere at all"] if rows else []
        for title in titles:
            # the title printed again in the body, once as it is and once with a site suffix
            page = text + f"\n\n{title}\n\nSome more text.\n{title} | The Times\n"
            a, b = _lines(page), _lines(page)
            stage._mark_repeated_title(a, title)
            _reference_repeated_title(b, title)
            assert a.reason == b.reason and a.penalty == b.penalty
            found += a.reason.count("title.repeated")
    assert found > 300


def test_lines_holding_a_word_are_every_line_that_does():
    for text in TEXTS[:60]:
        low = [s.strip() for s in text.lower().split("\n")]
        page = "\n".join(low)
        for word in {w for s in low[:5] for w in s.split(" ") if w} | {"the", "zzzq"}:
            assert stage._lines_holding(page, low, word) == [i for i, s in enumerate(low) if word in s]


def _reference_trailing_fragment(texts: list[str], reason: list[str], blank: list[bool], last: int,
                          settings: BoilerplateSettings) -> bool:
    """The last kept line is a fragment of some other article: no final
    punctuation, and (an unclosed opening quote, or) few words shared with the rest."""
    s = texts[last].strip()
    if _ends_sentence(s) or _REFERENCE.match(s) or _SIGNATURE.fullmatch(s) or tweet_signature(s):
        return False  # (an embedded tweet's signature closing the article is the article's)
    words = [w.lower() for w in _WORDS.findall(s) if len(w) > 3]
    if all(w.isdigit() for w in words):
        return False  # numbers only ("02-751-1500", a listing's phone): no other article's words
    # A missing full stop is evidence only where the article's lines have one
    # (Thai, for one, ends sentences with a space).
    ends = [_ends_sentence(texts[i].rstrip()) for i in range(last)
            if not blank[i] and not reason[i] and len(texts[i]) > 40]
    if not ends or sum(ends) < 0.6 * len(ends):
        return False
    prev = max((i for i in range(last) if not blank[i] and not reason[i]), default=None)
    if prev is not None and list_lead(s) and list_lead(texts[prev].strip()) == list_lead(s):
        return False  # the last item of the article's own list
    rest = {w.lower() for i, t in enumerate(texts) if i != last and not blank[i] and not reason[i]
            for w in _WORDS.findall(t)}
    if not rest:
        return False  # a one-line article is the article
    overlap = sum(1 for w in words if w in rest) / len(words)
    unclosed = s[0] in _OPEN_QUOTES and not any(q in s[1:] for q in "\"”»")
    return overlap <= settings.trailing_fragment_max_overlap or (unclosed and overlap < 0.5)


def test_the_trailing_fragment_test_answers_as_before():
    rng = random.Random(21)
    settings = BoilerplateSettings()
    asked = said = 0
    tails = ["Read more about the harbour", "«Il a dit que", "02-751-1500", "Subscribe to our daily briefing today",
             "the council approved the harbour budget after the ferry debate"]
    for text in TEXTS:
        for tail in ("", *rng.sample(tails, 2)):
            page = text.rstrip("\n") + ("\n\n" + tail if tail else "")
            lines = _lines(page)
            blank, reason = _verdicts(lines.n, rng, lines.texts)
            last = next((i for i in range(lines.n - 1, -1, -1) if not blank[i] and not reason[i]), None)
            if last is None:
                continue
            got = stage._is_trailing_fragment(lines.texts, reason, blank, last, settings)
            assert got == _reference_trailing_fragment(lines.texts, reason, blank, last, settings)
            asked += 1
            said += got
    assert asked > 300 and said > 20
