"""ketl.repair on the seed articles, the ftfy test cases and hostile input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import ftfy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketl.document import Document
from ketl.repair import RepairSettings, repair, repair_documents
from ketl.repair_encoding import encoding_changes, fix_encoding_text

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "seeds"
FTFY_CASES = SHARED / "bench" / "ftfy-cases"


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def seed_doc(prefix: str) -> Document:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return Document.from_source(doc_id=prefix, source_path=path.name, source_sha256="",
                                source_encoding="utf-8", source=path.read_text(encoding="utf-8"))


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def edits_for(result, rule: str):
    return [e for e in result.edits if e.rule == rule]


# --- the seeds: each damage kind fixed, its edit on the right source line -------------

def test_glued_word_seed_001():
    src = seed("001")
    r = repair(src)
    assert "truce that was agreed on Sunday" in r.text and "wasagreed" not in r.text
    (e,) = edits_for(r, "words.glued")
    assert (e.before, e.after, e.stage) == ("wasagreed", "was agreed", "normalize")
    assert e.source_line == line_of(src, "wasagreed")
    assert src[e.source_start:e.source_end] == "wasagreed"


def test_double_period_seed_001():
    src = seed("001")
    r = repair(src)
    assert "he said.." not in r.text and "he said.\n" in r.text
    (e,) = edits_for(r, "punct.double_period")
    assert e.source_line == line_of(src, "he said..")


def test_nbsp_seeds_001_003():
    for prefix in ("001", "003"):
        src = seed(prefix)
        r = repair(src)
        assert "\xa0" not in r.text
        nbsp = edits_for(r, "unicode.nbsp")
        assert len(nbsp) == src.count("\xa0")
        for e in nbsp:
            assert src[e.source_start] == "\xa0"
            assert e.source_line == src[: e.source_start].count("\n") + 1
    # "conflict,\xa0 but": the NBSP and the space collapse to a single space
    assert "deadly conflict, but its efforts" in repair(seed("001")).text


def test_stray_closing_quotes_seed_002_and_possessive_001_stays():
    src = seed("002")
    r = repair(src)
    for bad, good in [("biased’ in favor", "biased in favor"), ("have been’ killed", "have been killed"),
                      ("raised’ during", "raised during")]:
        assert bad not in r.text and good in r.text
    lines = sorted(e.source_line for e in edits_for(r, "punct.stray_closing_quote"))
    assert lines == sorted(line_of(src, s) for s in ("biased’", "been’", "raised’"))
    assert "third parties’ involvement" in repair(seed("001")).text
    assert "Armenia’s goal" in repair(seed("001")).text


def test_duplicate_parenthetical_seed_000():
    src = seed("000")
    r = repair(src)
    assert "President Vladimir Putin has stated" in r.text
    (e,) = edits_for(r, "paren.duplicate")
    assert e.before == " (Vladimir Putin)" and e.source_line == line_of(src, "(Vladimir Putin)")


def test_punctuation_seed_004():
    src = seed("004")
    r = repair(src)
    assert "since the decade 1990." in r.text
    assert "quarter of a century.\n" in r.text and "century. ." not in r.text
    (stray,) = edits_for(r, "punct.stray_period")
    assert stray.source_line == line_of(src, "decade. 1990.")
    (lone,) = edits_for(r, "punct.double_period")
    assert lone.source_line == line_of(src, "century. .")


def test_stray_script_line_seed_004():
    src = seed("004")
    r = repair(src)
    assert "بب" not in r.text
    (e,) = edits_for(r, "script.stray_line")
    assert e.source_line == line_of(src, "بب") and e.before.strip() == "بب"
    # no blank-line run is left where the line was
    assert "\n\n\n" not in r.text


def test_clean_seed_gets_no_wording_edits():
    # 003 has only NBSPs: nothing else may change
    r = repair(seed("003"))
    assert {e.rule for e in r.edits} == {"unicode.nbsp"}


def test_repair_documents_stage_and_language():
    docs = [seed_doc(p) for p in ("000", "001", "002", "003", "004")]
    out = list(repair_documents(docs))
    assert [d.doc_id for d in out] == ["000", "001", "002", "003", "004"]
    for d in out:
        assert d.meta["language"] == "en"
        assert all(e.stage in ("encoding", "normalize") for e in d.edits)
        assert [e.seq for e in d.edits] == list(range(len(d.edits)))
        assert d.text == repair(d.source).text
        # each edit's source span still says what it claims to have replaced
        for e in d.edits:
            if e.rule in ("unicode.nbsp", "words.glued", "punct.stray_closing_quote"):
                assert d.source[e.source_start:e.source_end] == e.before


def test_language_of_other_languages():
    assert repair("Ceci est un article de presse sur la guerre et la paix dans la région.").language == "fr"
    assert repair("Это статья о войне и мире в регионе, написанная журналистом.").language == "ru"
    assert repair("").language == "und"


# --- encoding: ftfy where needed, same result as ftfy ----------------------------------

def _cases(name: str) -> list[dict]:
    return json.loads((FTFY_CASES / name).read_text(encoding="utf-8"))


def _unquote(text: str) -> str:
    return ftfy.fixes.uncurl_quotes(text)


def _ours_hygiene(text: str) -> str:
    """What our Unicode and spacing rules do to any text (U+FFFD, controls, NBSPs, runs of spaces)."""
    text = re.sub(r"[\ufffd\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text)
    text = re.sub(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]", " ", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


PASS_FILES = ["in-the-wild.json", "synthetic.json", "language-names.json"]


@pytest.mark.parametrize("name", PASS_FILES)
def test_ftfy_pass_cases_are_fixed(name):
    cases = [c for c in _cases(name) if c["expect"] == "pass"]
    assert cases
    for c in cases:
        got = repair(c["original"]).text
        assert _unquote(got) == _unquote(_ours_hygiene(c["fixed"])), c["label"]


def test_ftfy_negative_cases_come_through_unchanged():
    cases = _cases("negative.json")
    assert len(cases) > 20
    for c in cases:
        got = repair(c["original"]).text
        # unchanged apart from what ftfy itself fixes (`fixed`) and our declared
        # whitespace hygiene; no punctuation, word or line rule may touch them
        assert _unquote(got) == _unquote(_ours_hygiene(c["fixed"])), c["label"]


def test_encoding_pass_equals_ftfy_fix_text_on_page_text():
    pages = json.loads((SHARED / "bench" / "aeb" / "html-text.json").read_text(encoding="utf-8"))
    texts = [v["articleBody"] for v in pages["output"].values()]
    changed = 0
    for t in texts:
        expected = ftfy.fix_text(t, uncurl_quotes=False)
        assert fix_encoding_text(t) == expected
        changed += expected != t
    assert changed > 0  # the set holds text ftfy changes, so the comparison means something


def test_encoding_edits_record_ftfy_steps():
    src = "Plain line.\nThe cafÃ© said â€œhelloâ€\u009d &amp; left.\nAnother plain line."
    r = repair(src)
    assert "The café said “hello” & left." in r.text
    enc = [e for e in r.edits if e.stage == "encoding"]
    assert enc and all(e.source_line == 2 for e in enc)
    assert {e.rule for e in enc} <= {"ftfy.fix_encoding", "ftfy.unescape_html"}
    assert "ftfy.fix_encoding" in {e.rule for e in enc}


def test_clean_text_skips_ftfy():
    assert encoding_changes(seed("000")) == []
    assert encoding_changes("Straße, “quoted”, naïve café — fine…") == []


def test_curly_quotes_kept_by_default_and_uncurled_on_request():
    text = "He said “yes” and ‘no’."
    assert repair(text).text == text
    assert repair(text, RepairSettings(uncurl_quotes=True)).text == "He said \"yes\" and 'no'."


# --- Unicode, spacing and rule boundaries ---------------------------------------------

def test_unicode_hygiene():
    r = repair("a\u200bb soft\u00adhyphen \ufeffbom ctrl\x07x bad\ufffdchar e\u0301")
    assert r.text == "ab softhyphen bom ctrlx badchar é"
    # a zero-width non-joiner inside Persian stays
    persian = "می\u200cخواهم"
    assert repair(persian).text == persian


def test_spacing():
    r = repair("  a  b\t c  \n\n\n\n  d \n\n")
    assert r.text == "a b c\n\nd"
    assert {e.rule for e in r.edits} <= {"space.runs", "space.trim", "space.blank_lines"}


def test_rules_leave_valid_text_alone():
    keep = [
        "Wait... what?! Really?",
        "The Kaepernick Saga Drags On . . . off the Field",
        "He paid 3.5 dollars, i.e. less.",
        "Sales rose on Dec. 6.\nNext line.",
        "2. Take inventory. 3. Live below your means.",
        "She called it ‘Oxy Pure’. Then left.",
        "The ‘so-called’ deal and the players’ union.",
        "Rock ’n’ roll and goin’ home.",
        "Suomi (suomi) and ไทย (ไทย) in a language menu.",
        "A hashtag, a cochair and a canner on linkedin.",
        "Bonjour ! Comment allez-vous ? Très bien ; merci.",
    ]
    for text in keep:
        assert repair(text).text == text, text


def test_glued_words_never_split_names_or_protected():
    assert "Wasagreed" in repair("Wasagreed is a name here.").text
    protected = {"wasagreed"}.__contains__
    r = repair("The truce that wasagreed on Sunday held.", protected=protected)
    assert "wasagreed" in r.text
    assert "was agreed" in repair("The truce that wasagreed on Sunday held.").text
    # not English: no split
    it = "Con il corpo e lo spirito ammaccato, è come se nel cuore avessi un vetro conficcato."
    assert repair(it).text == it


def test_foreign_sentence_is_kept():
    english = "This is a long English article about the conflict in the region, " * 5
    arabic = "هذه جملة عربية حقيقية طويلة في المقال"
    r = repair(f"{english}\n\n{arabic}\n\n{english}")
    assert arabic in r.text


def test_bad_input_never_raises():
    for text in ["", " ", "\n\n\n", "\r\n\r", "\x00\x01", "\ud800", "\udfff\ud800x", "(", "()",
                 "’", "..", ". .", "\u200d", "\ufeff", "a" * 200, "\u0301", "Ã", "&amp", "&#0;"]:
        r = repair(text)
        assert repair(r.text).text == r.text


# --- properties ------------------------------------------------------------------------

_alphabet = st.sampled_from(list("ab zZ.,;:!?'’‘“”()\n\t\xa0\u200b\u00ad\ufeffÃ©â€™é\u0301بΩ&;#0x9") + ["amp", "the", "was", "agreed"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_alphabet, max_size=40).map("".join))
def test_property_never_raises_and_idempotent_on_noisy_text(text):
    once = repair(text)
    twice = repair(once.text)
    assert twice.text == once.text
    assert twice.edits == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_property_never_raises_and_idempotent_on_any_text(text):
    once = repair(text)
    assert repair(once.text).text == once.text
