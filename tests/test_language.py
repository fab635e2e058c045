"""ketl.language: py3langid on the article body, never on its menus."""

from __future__ import annotations

from pathlib import Path

from ketl.language import UNDETERMINED, detect_language, language_sample

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


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
