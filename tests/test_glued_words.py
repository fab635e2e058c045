"""Glued words (ketl.stages.repair.words) on real text: the seeds, the AEB bodies, other languages."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from ketl.stages.entities.gazetteer import Gazetteer
from ketl.text.language import detect_language
from ketl.stages.repair.stage import repair
from ketl.stages.repair.words import glued_word_changes, split_glued

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "seeds"
AEB = SHARED / "bench" / "aeb"


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def aeb_bodies(english: bool) -> list[str]:
    gt = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    bodies = [v["articleBody"] for _, v in sorted(gt.items())]
    return [b for b in bodies if (detect_language(b)[0] == "en") == english]


@pytest.fixture(scope="module")
def english_bodies() -> list[str]:
    return aeb_bodies(english=True)


def glued_edits(result):
    return [(e.before, e.after) for e in result.edits if e.rule == "words.glued"]


def in_english(sentence: str) -> str:
    """A real English article (seed 003) with ``sentence`` as its last paragraph."""
    return seed("003") + "\n" + sentence


# --- the examples, in a real article ------------------------------------------

@pytest.mark.parametrize("glued, split", [
    ("heavyshelling", "heavy shelling"),
    ("talksresumed", "talks resumed"),
    ("wereinjured", "were injured"),
    ("thepeacekeeping", "the peacekeeping"),  # never "the peace keeping"
    ("wasagreed", "was agreed"),
    ("ofthe", "of the"),  # a web typo wordfreq lists, far rarer than "of the"
    ("militaryoperation", "military operation"),
    ("nationalgeographic", "national geographic"),
])
def test_glued_pairs_split_in_english_text(glued, split):
    sentence = f"Residents said {glued} continued near the town on Sunday, officials said."
    src = in_english(sentence)
    r = repair(src)
    assert r.text.endswith(sentence.replace(glued, split))
    (e,) = [e for e in r.edits if e.rule == "words.glued"]
    assert (e.before, e.after, e.stage) == (glued, split, "repair.normalize")
    assert src[e.source_start:e.source_end] == glued
    assert e.source_line == src.count("\n") + 1
    assert repair(r.text).text == r.text  # the split text is left alone


def test_seed_001_wasagreed_still_split_and_nothing_else():
    r = repair(seed("001"))
    assert glued_edits(r) == [("wasagreed", "was agreed")]
    assert "the truce that was agreed on Sunday" in r.text


def test_seeds_have_no_other_splits():
    for prefix in ("000", "002", "003", "004"):
        assert glued_edits(repair(seed(prefix))) == [], prefix


# --- the choice of the cut --------------------------------------------------------------

@pytest.mark.parametrize("token, parts", [
    ("thepeacekeeping", ("the", "peacekeeping")),
    ("cannotdescribe", ("cannot", "describe")),
    ("areport", ("a", "report")),
    ("anearlier", ("an", "earlier")),
    ("thecheapest", ("the", "cheapest")),
    ("yourworkout", ("your", "workout")),
    ("reportedon", ("reported", "on")),
    ("familiarwith", ("familiar", "with")),
    ("userscan", ("users", "can")),
    ("grewup", ("grew", "up")),
])
def test_the_likeliest_cut(token, parts):
    assert split_glued(token) == parts


@pytest.mark.parametrize("token", [
    # real words the frequency margin keeps ("on"+"to" is 9.6 Zipf above "onto")
    "onto", "theme", "within", "into", "today", "cannot", "another", "thereof", "thereby",
    "whereof", "intake", "ongoing", "inaction", "alike", "behave", "area", "anthem",
    # closed compounds, listed or built on productive heads and tails
    "peacekeeping", "hashtag", "livestream", "blockchain", "ceasefire", "touchscreen",
    "backglass", "smallcaps", "eartips", "earhooks", "cyberstalker", "upsample", "overdrew",
    "underdelivering", "brokeness", "hairlike", "layoff", "checkup",
    # repeated words and fragments
    "toto", "cochair", "unfit",
])
def test_real_words_stay_whole(token):
    assert split_glued(token) is None


def test_a_likelier_cut_that_fails_the_rules_is_not_replaced_by_a_worse_one():
    # "small arms": a compound head; the old splitter then tried "small a rms"
    assert split_glued("smallarms") is None
    assert split_glued("somepeople") == ("some", "people")
    assert split_glued("completedisassembly") is None  # not "completed is assembly"


# --- what must never be split -----------------------------------------------------------

@pytest.mark.parametrize("token", [
    # names and brands: capitalised or camel-cased
    "Heavyshelling", "HeavyShelling", "Wasagreed", "YouTube", "McDonald",
    # handles, hashtags, URLs, paths, e-mail, code
    "#heavyshelling", "@heavyshelling", "https://example.com/heavyshelling",
    "www.heavyshelling.com", "heavyshelling.com", "/var/heavyshelling", "press@heavyshelling.org",
    "heavy_shelling", "heavyShelling", "get_heavyshelling()", "heavyshelling.py",
    "heavyshelling2", "`heavyshelling`", "heavyshelling's", "heavyshelling-style",
])
def test_names_handles_urls_and_code_never_split(token):
    sentence = f"Readers saw {token} in the report on Sunday."
    assert repair(in_english(sentence)).text.endswith(sentence)


def test_gazetteer_names_never_split():
    gaz = Gazetteer.load()
    # Lowercase names (handles, hashtags without '#') whose cuts are English words.
    names = ["hadrut", "askaran", "jabrail", "vladimirputin", "minskgroup"]
    assert all(split_glued(n) is not None for n in names)  # the check is what keeps them
    sentence = "Posts tagged " + ", ".join(names) + " were shared widely on Sunday."
    r = repair(in_english(sentence), protected=gaz.protects)
    assert r.text.endswith(sentence) and glued_edits(r) == []


@pytest.mark.parametrize("word", [
    # German (compounds are capitalised nouns; lowercase words and a compound lowercased)
    "Waffenstillstandsabkommen", "waffenstillstandsabkommen", "verhandlungen", "mein", "sobald",
    "ebenso", "wieso", "somit", "vorher", "daraus",
    # French
    "tous", "soit", "doit", "hein", "forme", "mesure",
    # Spanish and Portuguese
    "todo", "problema", "muchas", "programa", "lista", "desaparecidos", "isso", "dois",
    # Italian
    "alla", "sono", "andare", "ammaccato", "letto",
    # Turkish, ASCII-folded and not
    "cumhurbaskani", "anlasma", "ateskes", "herkes", "hemen", "veya", "devam", "askeri",
    "ateşkes", "kardeşlik",
    # Azerbaijani names, as written and lowercased
    "Ağdam", "Xankəndi", "Şuşa", "Füzuli", "ağdam", "şuşa", "Azərbaycan", "azerbaycan",
])
def test_words_of_other_languages_never_split_in_english_text(word):
    sentence = f"The local press used the word {word} in its report on Sunday."
    assert repair(in_english(sentence)).text.endswith(sentence)


def test_articles_in_other_languages_get_no_splits():
    for body in aeb_bodies(english=False):
        assert glued_edits(repair(body)) == []


def test_few_words_of_other_languages_look_glued():
    """The lowercase words of the non-English AEB bodies (Portuguese, Italian,
    German, Indonesian...), each as if quoted in English text."""
    words = {m.group(0) for body in aeb_bodies(english=False)
             for m in re.finditer(r"(?<![\w'’-])[a-z]{3,}(?![\w'’-])", body)}
    split = sorted(w for w in words if split_glued(w) is not None)
    assert len(words) > 1000
    assert len(split) <= 0.01 * len(words), split


def test_user_names_and_labels_on_short_lines_stay():
    text = in_english("joetoronto says:\nNovember 19, 2019 at 6:44 am\n\nicon nomuted\n")
    assert glued_edits(repair(text)) == []


# --- measured on the clean English AEB bodies -------------------------------------------

def test_clean_text_is_almost_never_split(english_bodies):
    words = sum(len(b.split()) for b in english_bodies)
    false = [(b, c) for b in english_bodies for c in glued_word_changes(b)]
    assert words > 100_000
    assert len(false) * 100_000 / words <= 1, [b[c.start:c.end] for b, c in false]


def test_recall_on_pairs_glued_at_random(english_bodies):
    """A smaller version of benchmarks/bench_glued.py: adjacent lowercase words
    (letters only, one space apart) glued, one pair per article at a time."""
    rng = random.Random(5)
    pair = re.compile(r"(?<![^\s(“\"])([a-z]+) ([a-z]+)(?=[,.;:!?)”\"]*(?:\s|$))")
    found = exact = tried = 0
    for body in english_bodies[::2]:
        matches = list(pair.finditer(body))
        for m in rng.sample(matches, min(6, len(matches))):
            a, b = m.group(1), m.group(2)
            if body[m.end():m.end() + 2][:1] == "." and body[m.end() + 1:m.end() + 2].isalpha():
                continue  # "example.com"
            glued = body[:m.start()] + a + b + body[m.end():]
            changes = [c for c in glued_word_changes(glued) if c.start == m.start()]
            tried += 1
            found += bool(changes)
            exact += bool(changes) and changes[0].replacement == f"{a} {b}"
    assert tried > 400
    assert found / tried >= 0.88, found / tried
    assert exact / found >= 0.98


# --- robustness ----------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["", "a", "ab", "a" * 41, "zzzzzzzzzz", "aaaa", "thethe",
                                   "é", "x" * 200, "the\ud800"])
def test_odd_tokens_never_raise(token):
    assert split_glued(token) is None or all(split_glued(token))


def _regex_tokens(text: str, min_len: int) -> set[str]:
    # The regex candidate_tokens replaced (ASCII word boundaries).
    return set(re.findall(r"\b[a-z]{%d,}\b" % min_len, text, re.ASCII))


def test_candidate_tokens_are_the_regex_tokens_on_real_text_in_many_scripts():
    from ketl.stages.repair.words import candidate_tokens

    folder = Path(__file__).parent / "data" / "multilingual"
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    gt = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    texts += [v["articleBody"] for _, v in sorted(gt.items())]
    texts += ["", "abc", "Wasagreed wasagreed_x x_wasagreed 3abc abc3 abc\x00def abc\ud800def ab",
              "café caféteria naïveté e\u0301tude ｆｕｌｌ ｗｉｄｔｈ\tfoo\x1cbar\x0bbaz quux"]
    known = frozenset({"the", "and", "said"})
    found = 0
    for text in texts:
        for min_len in (1, 3, 5):
            expected = _regex_tokens(text, min_len)
            assert candidate_tokens(text, min_len) == expected
            assert candidate_tokens(text, min_len, known) == expected - known
            found += len(expected)
    assert found > 10_000


def test_candidate_tokens_on_random_characters():
    from ketl.stages.repair.words import candidate_tokens

    rng = random.Random(15)
    alphabet = "abcxyzABZ019_ -'.,\n\t\x00\x1f\x7féßЖ中\u200b\ud800😀"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert candidate_tokens(text, 3) == _regex_tokens(text, 3), repr(text)


def test_the_common_words_taken_out_first_change_no_candidate():
    # lex.common is looked up before the big safe set, for speed only: it must be a
    # subset of it holding the everyday words, and leave every candidate set as it was.
    from ketl.stages.repair.words import _lexicon, candidate_tokens

    lex = _lexicon()
    assert lex.common <= lex.safe and {"the", "said", "government", "minister"} <= lex.common
    folder = Path(__file__).parent / "data" / "multilingual"
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    texts += ["Wasagreed wasagreed the THE thé x_the 3the the3 ofthe", ""]
    found = 0
    for text in texts:
        for min_len in (1, 3, 5):
            expected = _regex_tokens(text, min_len) - lex.safe
            assert candidate_tokens(text, min_len, lex.safe, lex.common) == expected
            found += len(expected)
    assert found > 50


def test_the_gazetteer_is_asked_only_about_tokens_standing_in_running_text():
    # A site's name glued in its furniture (a domain, a label) is split by no
    # rule there, so the protected-name check, costly per call, is not asked.
    text = ("valleyherald.com | newsletter\n"
            "The truce that wasagreed on Sunday held for a week, the minister said.\n")
    asked = []

    def protected(token: str) -> bool:
        asked.append(token)
        return False

    changes = glued_word_changes(text, protected)
    assert split_glued("valleyherald") is not None  # the rule would split it in running text
    assert [(text[c.start:c.end], c.replacement) for c in changes] == [("wasagreed", "was agreed")]
    assert asked == ["wasagreed"]
    assert glued_word_changes(text, {"wasagreed"}.__contains__) == []
    assert glued_word_changes("Read the valleyherald here every day of the week.", protected)[0].replacement \
        == "valley herald"
