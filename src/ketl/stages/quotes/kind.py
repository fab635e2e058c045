"""What a quoted span is: a statement someone made, a term, or a quoted name (pure).

A researcher following statements across outlets wants what people *said*;
scare quotes ("dogs", "fascist"), quoted terms ("humanitarian truce") and
quoted names ("Iron Fist") are quotation marks of another kind and, left in,
they lead every cluster list. No model and no network: the span's length in
words, whether it ends like a sentence, and whether it holds a verb or subject
pronoun of a short multilingual list decide. Scripts written without spaces
(Chinese, Japanese, Thai, ...) are measured in characters, about two per word.
"""

from __future__ import annotations

from itertools import repeat

import regex

__all__ = ["STATEMENT", "TERM", "NAME", "KINDS", "quote_kind"]

STATEMENT, TERM, NAME = "statement", "term", "name"
KINDS = (STATEMENT, TERM, NAME)

# At least this many words: a statement whatever its form (nobody scare-quotes a clause).
_LONG = 8
# At most this many words: a term, unless it reads as a whole sentence with a verb.
_SHORT = 2
_CHARS_PER_WORD = 2  # scripts without spaces: a rough word length, for counting only

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}’'\-]+")
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
# A sentence end of any script, possibly followed by closing brackets or marks.
_ENDS = frozenset(".!?…。！？؟۔।॥።፧։")
_CLOSERS = "'\"”’»)]"

# Auxiliaries, copulas, modals and subject pronouns of common news languages: a
# short span holding one is a clause ("We will win", "Es ist vorbei"), not a term.
_CLAUSE_WORDS = frozenset("""
i we you he she they it i'm we're we'll we've it's is are was were be been am will would shall
should can could must may might do does did don't doesn't didn't won't can't has have had
je nous vous il elle ils elles est sont était étaient sera seront ont avait peut doit va
vont fait ich wir du er sie es ist sind waren wird werden hat haben hatte kann muss soll
will yo nosotros ellos ella él es son está están fue era será ha han hay puede debe va van
io noi loro è sono sarà ha hanno può deve eu nós eles é são foi será tem têm pode deve vai
я мы ты вы он она они это есть был была были будет будут может должен должны нужно надо
является ja wy ona oni jest są był będzie może musi ben biz sen onlar
değil olacak ik wij zij is zijn was heeft hebben kan moet zal
""".split())


_EDGE = ".,;:!?\"'()[]{}-–—…*/"


def _words(text: str) -> list[str]:
    if text.isascii():  # most quotes: str.split is several times faster than the regex
        # The words stripped of their edge marks, the empty ones dropped, in C (map, filter).
        return list(filter(None, map(str.strip, text.split(), repeat(_EDGE))))
    return _WORD.findall(text)


def _word_count(text: str, words: list[str]) -> int:
    unspaced = 0 if text.isascii() else len(_UNSPACED.findall(text))
    if not unspaced:
        return len(words)
    spaced = sum(1 for w in words if not _UNSPACED.search(w))
    return spaced + -(-unspaced // _CHARS_PER_WORD)


def _ends_sentence(text: str) -> bool:
    t = text.rstrip().rstrip(_CLOSERS)  # string methods: a regex anchored at $ tries every position
    return bool(t) and t[-1] in _ENDS


def _is_name(words: list[str]) -> bool:
    """Every word capitalised (a cased script) and none a clause word: "Iron Fist", "Operation Dawn"."""
    cased = [w for w in words if w[0].isalpha() and (w[0].isupper() or w[0].islower())]
    if not cased or len(cased) < len(words) - 1:
        return False
    return all(w[0].isupper() or len(w) <= 3 for w in cased) and cased[0][0].isupper() \
        and _CLAUSE_WORDS.isdisjoint(map(str.casefold, cased))


def quote_kind(text: str) -> str:
    """``statement``, ``term`` (a scare quote or a quoted term) or ``name`` for a quote's words."""
    if text.count(" ") >= _LONG + 2:  # most statements: ten gaps hold eight words (a dash or two aside)
        return STATEMENT
    words = _words(text)
    n = _word_count(text, words)
    if n >= _LONG:
        return STATEMENT
    clause = not _CLAUSE_WORDS.isdisjoint(map(str.casefold, words))
    ends = _ends_sentence(text)
    # One capitalised word is no name: a German noun ("Verräter") or a lone "We".
    if not ends and len(words) >= 2 and _is_name(words):
        return NAME
    if n <= _SHORT:
        # "I agree." is a statement; a lone "We" or "dogs" is not.
        return STATEMENT if clause and n == 2 and ends else TERM
    return STATEMENT if ends or clause else TERM
