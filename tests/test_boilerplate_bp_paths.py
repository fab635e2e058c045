"""The boilerplate stage's shortcuts of the bp-8 pass (issue 15), each against
the code it replaced (copied here as the reference), on real text in many
scripts (tests/conftest.py texts_in_many_scripts) and on verdicts drawn at
random over those pages: _mark_stray_script's answer for a page whose letters
are all Latin and PageLines.without by slices."""

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
from ketl.stages.boilerplate.stage import (_OPEN_QUOTES, _REFERENCE, _STRAY_WORD, _WORDS,
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
