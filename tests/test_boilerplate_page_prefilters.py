"""Page-level shortcuts of the boilerplate stage (bp-9) give the answers of the
per-line paths they replace, on real text in many languages and scripts: the
page lower-cased by bytes, its non-Latin letters noted once, the lines holding
the title's longest word found by str.find, the site-repetition flags in C."""

from __future__ import annotations

import pytest

from conftest import texts_in_many_scripts
from ketl.document import Document

TEXTS = texts_in_many_scripts(aeb_limit=60)

# Notices in the languages reprint.py reads, strong and weak, for the top and the bottom.
NOTICES = [
    "This article was originally published by The Conversation and is reprinted with permission.",
    "Republished with permission from Harbour Weekly",
    "Dieser Artikel erschien zuerst bei Der Spiegel",
    "Cet article a été initialement publié par Le Monde",
    "Статья впервые опубликована на сайте Коммерсант",
    "Source: Daily Planet",
    "Источник: ТАСС",
    "来源：新华社",
    "المصدر: الجزيرة",
    "© 2019 Associated Press. All rights reserved.",
    "Copyright 2024 Harbour Times",
    "DISTRIBUTED BY TRIBUNE CONTENT AGENCY",
]


def _dressed() -> list[str]:
    """The texts, and the texts with notices near the top and at the bottom."""
    out = list(TEXTS)
    for i, text in enumerate(TEXTS[:40]):
        lines = text.split("\n")
        top, bottom = NOTICES[i % len(NOTICES)], NOTICES[(i * 5 + 3) % len(NOTICES)]
        out.append("\n".join([*lines[:2], top, *lines[2:], "", bottom, "Share this article"]) + "\n")
    return out


DRESSED = _dressed()


def _doc(text: str) -> Document:
    return Document.from_source(doc_id="t", source_path="site/t.txt", source_sha256="0",
                                source_encoding="utf-8", source=text)


# Texts whose characters outside ASCII change case, or do not: the byte-level
# lower-casing must give str.lower's text either way.
CASED = [
    "ΟΔΥΣΣΕΑΣ στην Αθήνα\nΤΕΛΟΣ", "İstanbul’da “Kurultay” toplandı", "STRASSE – Straße – GROẞE",
    "Ünïcödé “quotes” — and dashes…", "東京で「会議」が開かれた", "ПРАВИТЕЛЬСТВО одобрило бюджет",
    "plain ascii ONLY", "", "\ud800 lone surrogate – kept", "ǅemal ǈubljana ǋ",
]


def test_the_page_lower_is_str_lower():
    from ketl.stages.boilerplate.features import _lower_page, non_ascii

    fast = 0
    for text in [*TEXTS, *DRESSED, *CASED]:
        low, others = _lower_page(text)
        assert low == text.lower() and others == non_ascii(text)
        fast += bool(others) and others.lower() == others
    assert fast > 20  # (most real texts take the byte path)


def test_latin_only_is_has_non_latin_letter_and_survives_removals():
    from ketl.stages.boilerplate.features import PageLines, has_non_latin_letter
    from ketl.stages.boilerplate.rules import load_rules

    rules = load_rules()
    kinds = set()
    for text in [*TEXTS, *CASED]:
        page = PageLines(text, rules)
        assert page.latin_only == (not has_non_latin_letter(text))
        kinds.add(page.latin_only)
        n = len(page.texts)
        left = page.without("\n".join(t for k, t in enumerate(page.texts) if k not in {0, n // 2}), {0, n // 2}, rules)
        assert left.latin_only == page.latin_only
        assert not has_non_latin_letter("\n".join(left.texts)) or not left.latin_only
    assert kinds == {True, False}


def test_lines_holding_a_word_are_those_a_test_per_line_finds():
    from ketl.stages.boilerplate.stage import _lines_holding

    asked = found = 0
    for text in [*TEXTS[:80], *CASED]:
        low = [t.strip() for t in text.lower().split("\n")]
        page = "\n".join(low)
        words = {w for t in low[:12] for w in t.split(" ") if w} | {"the", "a", "zzz-not-there", "ان", "的"}
        for w in sorted(words):
            want = [i for i, t in enumerate(low) if w in t]
            assert _lines_holding(page, w) == want, w
            asked += 1
            found += len(want)
    assert asked > 500 and found > 2000


@pytest.mark.parametrize("min_docs,min_share", [(3, 0.25), (3, 0.3), (1, 0.1), (5, 0.07), (2, 1 / 3), (0, 0.25), (3, 0.0)])
def test_repeated_and_shared_flags_are_the_per_key_answers(min_docs, min_share):
    """At the thresholds' edges (0.3 * 10 is 3.0000000000000004 in floats) and on
    real pages' keys: the flags in C are is_repeated / is_shared of each key."""
    from ketl.stages.boilerplate.site_stats import RepetitionSettings, SiteLineStats, site_and_page_keys

    stats = SiteLineStats(RepetitionSettings(min_docs=min_docs, min_share=min_share, cross_min_sites=2,
                                             cross_min_docs=3))
    pages = []
    for i, text in enumerate(DRESSED[-90:]):  # (the dressed ones last: a footer line they share)
        doc = _doc(text)
        doc.meta["site"] = f"site-{i % 3}"
        site, distinct, keys = site_and_page_keys(doc)
        pages.append((site, keys, [not t.strip() for t in text.split("\n")]))
        for _ in range(1 + i % 4):  # counts of 1 to 4 per document, totals from 30 to 120
            stats.add(site, distinct)
    for total in (7, 10, 12, 30, 40):  # every count from 0 to 16 against each total
        stats._docs[f"edge-{total}"] = total
        stats._lines[f"edge-{total}"].update({k: k for k in range(1, 17)})
        pages.append((f"edge-{total}", list(range(17)), [False] * 17))
    flagged = shared = 0
    for site, keys, blank in pages:
        got = stats.repeated_flags(site, keys, blank)
        assert got == [not b and stats.is_repeated(site, k) for k, b in zip(keys, blank)]
        assert all(type(f) is bool for f in got)
        flagged += sum(got)
        got = stats.shared_flags(keys, blank)
        assert got == [not b and stats.is_shared(k) for k, b in zip(keys, blank)]
        shared += sum(got)
    assert flagged > 20 and shared > 50


def test_trailing_fragment_verdicts_are_those_of_a_findall_per_line(monkeypatch):
    """_is_trailing_fragment's words of the rest of the article from one findall
    over the kept lines joined: the verdicts of a findall per line, on pages
    whose last line is cut short (a fragment, or a line of the article's own)."""
    from ketl.stages.boilerplate import stage

    def per_line(texts, reason, blank, last, settings):
        # the reference: the words a findall per line finds, checked against the joined ones
        rest = {w.lower() for i, t in enumerate(texts) if i != last and not blank[i] and not reason[i]
                for w in stage._WORDS.findall(t)}
        joined = set(map(str.lower, stage._WORDS.findall("\n".join(
            [t for i, t in enumerate(texts) if i != last and not blank[i] and not reason[i]]))))
        assert joined == rest
        return original(texts, reason, blank, last, settings)

    original = stage._is_trailing_fragment
    verdicts = set()
    settings = stage.BoilerplateSettings()
    for text in TEXTS:
        texts = text.rstrip("\n").split("\n")
        for tail in ("Subscribe to our newsletter for more stories about", texts[0][:40].rstrip(" .")):
            page = [*texts, "", tail]
            blank = [not t.strip() for t in page]
            reason = [""] * len(page)
            verdicts.add(per_line(page, reason, blank, len(page) - 1, settings))
    assert verdicts == {True, False}


def test_the_notice_start_test_lets_every_notice_through():
    """reprint's test of a line's first characters (from the phrasings' parsed
    patterns) never turns away a line the phrasings match, in any case, and turns
    away most prose; find_reprint_strength's answers are those without it."""
    from ketl.stages.boilerplate import reprint

    assert reprint._NOTICE_STARTS is not None
    variants = []
    for n in NOTICES:
        variants += [n, n.upper(), n.lower(), n.title(), "  " + n + "  "]
    lines = [t.strip() for text in DRESSED for t in text.split("\n") if t.strip()] + variants
    matched = turned_away = 0
    for s in lines:
        s = s.strip()
        if reprint._ANY_NOTICE(s):
            matched += 1
            assert reprint._may_be_notice(s), s
        turned_away += not reprint._may_be_notice(s)
    assert matched >= 60 and turned_away > len(lines) // 3
    plain = reprint._strength.__wrapped__
    for s in lines:
        for weak in (True, False):
            s = s.strip()
            want = plain(s, weak, "Harbour Times") if s and len(s) <= 300 else (None, False)
            assert reprint.find_reprint_strength(s, weak=weak, site="Harbour Times") == want, s


def test_the_notice_starts_follow_the_patterns():
    """The starts are computed, not listed: a phrasing added with a new first word
    is let through; one that may start with anything turns the test off."""
    import re

    from ketl.stages.boilerplate import reprint

    got = reprint._start_test([re.compile(r"^(?:nachgedruckt|re(?:printed|posted)) (?:mit|with) (?P<src>.+)$", re.I)])
    assert got == (frozenset({"nac", "rep"}), ())
    got = reprint._start_test([re.compile(r"^(?:©|\(c\))\s*(?P<src>.+)$", re.I), re.compile(r"^a?b (?P<src>.+)$", re.I)])
    assert got == (frozenset({"(c)", "ab "}), ("b ", "©"))
    assert reprint._start_test([re.compile(r"^\s*source: (?P<src>.+)$", re.I)]) is None
