"""Article language with py3langid (its model ships inside the package)."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["detect_language", "UNDETERMINED"]

UNDETERMINED = "und"  # ISO 639-2 code for "undetermined"
_SAMPLE_CHARS = 2000  # the language shows in a few paragraphs; keeps the cost per article flat
_MIN_LETTERS = 12
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    # norm_probs: a probability in [0, 1] rather than a raw log score.
    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def language_sample(text: str, size: int = _SAMPLE_CHARS) -> str:
    """The longest lines up to ``size`` characters: the article body, not its menus."""
    if len(text) <= size:
        return text
    lines = sorted(text.split("\n"), key=len, reverse=True)
    picked: list[str] = []
    total = 0
    for line in lines:
        if total >= size:
            break
        picked.append(line[: size - total])
        total += len(picked[-1]) + 1
    return "\n".join(picked)


def detect_language(text: str) -> tuple[str, float]:
    """ISO 639-1 code and probability; ``("und", 0.0)`` when there is too little text."""
    sample = language_sample(text)
    if len(_LETTER.findall(sample[:400])) < _MIN_LETTERS and len(_LETTER.findall(sample)) < _MIN_LETTERS:
        return UNDETERMINED, 0.0
    lang, prob = _identifier().classify(sample)
    return str(lang), float(prob)
