"""ketl.language: py3langid on the article body, never on its menus."""

from __future__ import annotations

from pathlib import Path

from ketl.language import UNDETERMINED, detect_language, language_sample

from conftest import SEEDS, shared_path


def test_seeds_are_english():
    for path in sorted(SEEDS.glob("*.txt")):
        lang, prob = detect_language(path.read_text(encoding="utf-8"))
        assert lang == "en" and prob > 0.9, path.name


def test_other_languages():
    assert detect_language("Der Krieg in der Region geht weiter, sagte der Minister am Sonntag.")[0] == "de"
    assert detect_language("La guerra en la región continúa, dijo el ministro el domingo por la tarde.")[0] == "es"


def test_too_little_text_is_undetermined():
    for text in ["", "   ", "12345 !!!", "ok", "\ud800\udc00"]:
        assert detect_language(text) == (UNDETERMINED, 0.0)


def test_sample_prefers_long_lines():
    menu = "\n".join(["Home", "News", "Sport", "Menu"] * 200)
    body = "Dies ist der eigentliche Artikeltext, lang genug, um die Sprache zu erkennen. " * 10
    text = menu + "\n" + body + "\n" + menu
    sample = language_sample(text, size=500)
    assert len(sample) <= 520 and "eigentliche Artikeltext" in sample
    assert detect_language(text)[0] == "de"


def _aeb_pages() -> list[str]:
    import json

    data = json.loads(shared_path("bench", "aeb", "html-text.json").read_text(encoding="utf-8"))
    return [v["articleBody"] for v in data["output"].values()]


def test_vectorised_scorer_equals_py3langid():
    from ketl.language import _classifier, _identifier, _VectorScorer

    ident = _identifier()
    fast = _classifier()
    assert getattr(fast, "__self__", None).__class__ is _VectorScorer  # not the slow fallback
    texts = [language_sample(t) for t in _aeb_pages()[::4]]
    texts += ["", "a", "ÅÄÖ", "x\ud800y", "日本語のテキストです。", "ΚΑΛΗΜΕΡΑ ΚΟΣΜΕ", "مرحبا بالعالم"]
    for text in texts:
        lang, prob = fast(text)
        ref_lang, ref_prob = ident.classify(text)
        assert lang == ref_lang and abs(prob - ref_prob) < 1e-4, text[:60]


def test_first_look_gives_the_full_sample_language():
    from ketl.language import _classifier

    classify = _classifier()
    pages = [t for t in _aeb_pages() if len(t) > 2000]
    assert len(pages) > 100
    for text in pages:
        assert detect_language(text)[0] == classify(language_sample(text))[0]
