"""Quoted spans of the curated text and who said them (a pure stage).

Spans: straight, curly and low double quotes, guillemets (both directions),
curly and straight single quotes at the top level (a straight ' opens only after a
gap and before a letter, not before an elision like 'n' or 'em; an s' before a
lower-case word is a possessive when a later ' can close), nested quotes inside
them, with the same mark too (“called it “a disaster” and left”), and quotes
running over paragraphs (the English convention: an unclosed paragraph whose
next paragraph reopens with the same mark). ``Quote.start``/``end`` delimit
the quoted words without the marks; for a multi-paragraph quote ``text`` is
the paragraphs joined by one newline, without the reopening marks. The text
itself is never changed.

Speakers: ``X said``, ``said X``, ``X told``, ``according to X``, ``X: "…"``,
``X, who …, said``, a subject with a speech verb earlier in the sentence
(``Aliyev said it was "very hazardous"``), titles stripped
(``Azerbaijan President Ilham Aliyev`` -> ``Ilham Aliyev``), a surname
expanded to the full name used elsewhere in the article, ``he said``/``she
said`` resolved to the nearest preceding named person, and a quote without
attribution inheriting the speaker of the previous quote in its paragraph.
The word lists are data: ``resources/quotes.toml``.

Each quote also gets a ``kind`` (statement, term, name: :mod:`.kind`) and a
canonical speaker name and id from the article's entity mentions
(:mod:`.speakers`), so one person is one speaker across articles.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from bisect import bisect_left, insort
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Iterable, Iterator

import ahocorasick
import regex

from ...document import Document, Edit, Quote
from .kind import quote_kind
from .speakers import SpeakerResolver, speaker_id

if TYPE_CHECKING:
    from .. import StageResources

__all__ = ["QuoteSettings", "extract_quotes", "find_quotes", "resolve_speakers", "run", "warm_up"]


# Inner-loop steps allowed per quotation mark of a text (see _capped_spans).
WORK_PER_MARK = 8
CAPPED_RULE = "quotes.work_cap"


@dataclass(frozen=True)
class QuoteSettings:
    """Settings of the quote stage (``[quotes]`` in the config)."""

    max_chars: int = 5000  # a longer "quote" is an unmatched mark, not a quote
    max_paragraphs: int = 10  # paragraphs one quote may run over


# Opening mark -> closing marks.
_PAIRS = {
    '"': '"', "“": "”“", "„": "“”", "‟": "”", "«": "»", "»": "«", "‹": "›", "‘": "’",
    "”": "”",  # MT output sometimes opens with a closing mark
    "'": "'",  # straight single quotes: told from apostrophes by _can_open/_can_close
}
# Marks that open a quote nested inside a quote opened by the same mark. Not ” (it
# opens only in MT output, where a nested opener cannot be told from a closer).
_NESTABLE = frozenset('"“„«»‹‘\'')
_ELIDED = regex.compile(r"\p{L}+")  # the word after an opening ' (elided: 'n', 'em)
_MARKS = re.compile(r'["“”„‟«»‹›‘’\']')  # stdlib re: faster than regex on a plain class
# A capitalised word, or an abbreviation ("U.S.", "Dr."); a word ending a sentence
# ("Monday. Later") does not join the next one.
_NAME_TOKEN = r"(?:(?:\p{Lu}\.){2,}|\p{Lu}\p{Ll}{0,2}\.(?!\s+\p{Lu}\p{Ll}{3})|\p{Lu}[\p{L}\p{M}’'\-]*)"
_NAME_RUN = rf"{_NAME_TOKEN}(?:\s+(?:(?:of|de|al|bin|von|van|der|la)\s+)?{_NAME_TOKEN})*"


@dataclass(frozen=True)
class _Lexicon:
    verbs: regex.Pattern
    titles: frozenset[str]
    non_person: frozenset[str]
    stop: frozenset[str]
    pronouns: frozenset[str]
    elisions: frozenset[str]
    tail: regex.Pattern  # the speaker phrase at the end of a string
    head: regex.Pattern  # the speaker phrase at the start of a string
    name_runs: regex.Pattern
    # The speech verbs casefolded, for _verb_from (None when a verb is not plain ASCII letters).
    verb_words: ahocorasick.Automaton | None
    # Per-phrase decisions are pure functions of the phrase: computed once per
    # distinct phrase, not once per occurrence (names recur within and across articles).
    clean_cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    person_cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    mention_cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)


_CACHE_LIMIT = 200_000  # distinct phrases kept per cache; cleared when full (bounded memory)


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    data = tomllib.loads(resources.files("ketl").joinpath("resources/quotes.toml")
                         .read_text(encoding="utf-8"))
    verbs = "|".join(sorted(map(regex.escape, set(data["speech_verbs"])), key=len, reverse=True))
    pron = "|".join(data["pronouns"])
    phrase = rf"(?:(?i:the)\s+(?:{_NAME_TOKEN}\s+)*[\p{{L}}\-]+|{_NAME_RUN}|(?i:{pron}))"
    return _Lexicon(
        verbs=regex.compile(rf"\b(?i:{verbs})\b"),
        titles=frozenset(data["titles"]),
        non_person=frozenset(data["non_person"]),
        stop=frozenset(data["stop_capitals"]),
        pronouns=frozenset(data["pronouns"]),
        elisions=frozenset(data["elisions"]),
        tail=regex.compile(rf"(?<![\p{{L}}\p{{M}}])({phrase})\s*$"),
        head=regex.compile(rf"^\s*({phrase})"),
        name_runs=regex.compile(rf"(?<![\p{{L}}\p{{M}}])({_NAME_RUN})"),
        verb_words=_verb_automaton(set(data["speech_verbs"])),
    )


def _verb_automaton(verbs: set[str]) -> ahocorasick.Automaton | None:
    # Callers read a window of 120 characters for a verb starting at its start (_after_speaker).
    if not all(v.isascii() and v.isalpha() and len(v) <= 100 for v in verbs):
        return None
    auto = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for v in verbs:
        auto.add_word(v.casefold(), len(v))
    auto.make_automaton()
    return auto


def _verb_from(s: str, lex: _Lexicon, lo: int = 0, hi: int | None = None) -> int:
    """A position in ``s[lo:hi]`` no speech verb starts before; -1 when none is there.

    ``lex.verbs`` tries its case-insensitive alternation at every position, and half
    the strings it is asked about hold no verb. The regex matches a verb of ASCII
    letters only where every character casefolds to the verb's letter (``İ`` aside,
    which casefolds to two characters), so the verb is then a substring of the
    casefolded text, which one Aho-Corasick pass (in C) finds."""
    auto = lex.verb_words
    sub = s[lo:hi]
    if auto is None or "İ" in sub:
        return lo
    folded = sub.casefold()
    first = -1
    for end, n in auto.iter(folded):
        if first < 0 or end - n + 1 < first:
            first = end - n + 1
    if first < 0:
        return -1
    # Positions agree only when no character folded to several (ß -> ss).
    return lo + first if len(folded) == len(sub) else lo


def run(docs: list[Document], resources: StageResources) -> list[Document]:
    """The registry's entry point (:data:`ketl.stages.STAGES`): ``[quotes]``."""
    return list(extract_quotes(docs, resources.settings["quotes"]))


def extract_quotes(docs: Iterable[Document], settings: QuoteSettings = QuoteSettings(),
                   ) -> Iterator[Document]:
    """Fill ``doc.quotes`` from the curated ``doc.text`` (no text changes).

    When a hostile text exhausts the work budget, the quotes found before that
    point are kept and an empty edit ``quotes.work_cap`` marks where the search stopped."""
    for doc in docs:
        doc.quotes, stopped = _find_quotes(doc.text, settings, doc.entities)
        if stopped is not None:  # an empty edit (apply_changes drops no-op changes)
            at = doc.source_offset(stopped)
            doc.edits.append(Edit("quotes", CAPPED_RULE, "", "", doc.source_line(at), at, at, len(doc.edits)))
        yield doc


# Reaches every lazily built table: the lexicon (speech verbs, titles, name runs),
# a pronoun resolved through the persons, a surname expanded, "according to", a colon.
_WARM_TEXT = ("“We will not give up,” Azerbaijan President Ilham Aliyev said on Monday.\n"
              "He said: “The talks go on.” According to Aliyev, “it is ‘very hazardous’.”\n")


def warm_up() -> None:
    """Build what the stage builds on first use (the lexicon's patterns, about 7 ms),
    so that a worker pays for it before its first batch. Changes no result."""
    find_quotes(_WARM_TEXT)


def resolve_speakers(quotes: list[Quote], entities) -> list[Quote]:
    """``quotes`` with canonical speaker names and ids (``entities``: the article's mentions)."""
    resolver = SpeakerResolver(entities)
    out = []
    for q in quotes:
        name = resolver.canonical(q.speaker)
        out.append(Quote(q.text, q.speaker, q.start, q.end, q.kind, name, speaker_id(name) if name else None))
    return out


# -- spans ----------------------------------------------------------------------

class _Lines:
    """Newline positions of a text, found once: paragraph bounds by bisection.

    ``str.find("\n", ...)`` per mark or quote is linear in the distance to the next
    newline, so on a text that is one long line (a 20 MB single-line file) every
    lookup scanned to its end and extraction was quadratic."""

    __slots__ = ("nls",)

    def __init__(self, text: str):
        # str.find per newline: no match object per paragraph as re.finditer made.
        nls = []
        i = text.find("\n")
        while i >= 0:
            nls.append(i)
            i = text.find("\n", i + 1)
        self.nls = nls

    def next_nl(self, pos: int) -> int:
        """The first newline at or after ``pos``; -1 when none."""
        i = bisect_left(self.nls, pos)
        return self.nls[i] if i < len(self.nls) else -1

    def para_start(self, pos: int) -> int:
        """Start of the paragraph holding ``pos`` (``text.rfind("\n", 0, pos) + 1``)."""
        i = bisect_left(self.nls, pos)
        return self.nls[i - 1] + 1 if i else 0


@dataclass
class _Span:
    open_pos: int  # the opening mark
    close_pos: int  # the closing mark
    segments: list[tuple[int, int]]  # content of each paragraph


def _is_word(ch: str) -> bool:
    return ch.isalnum()


def _can_open(text: str, p: int, c: str) -> bool:
    nxt = text[p + 1] if p + 1 < len(text) else ""
    prev = text[p - 1] if p > 0 else ""
    if not nxt or nxt.isspace():
        return False
    if c in "‘”»":  # also an apostrophe / closer / opener: only before a word, after a gap
        return (not prev or not _is_word(prev)) and _is_word(nxt)
    if c == "'":  # mostly an apostrophe: a quote only before a letter, after a gap, not 'n'
        if (prev and _is_word(prev)) or not nxt.isalpha():
            return False
        m = _ELIDED.match(text, p + 1)
        return not (m and m.group().lower() in _lexicon().elisions)
    return True


def _can_close(text: str, p: int, c: str) -> bool:
    if c in "’'":  # an apostrophe when a letter follows
        nxt = text[p + 1] if p + 1 < len(text) else ""
        if _is_word(nxt):
            return False
        return c == "’" or (p > 0 and not text[p - 1].isspace())
    return True


def _nested_open(text: str, q: int) -> bool:
    """The opening mark of a quote itself opens a nested quote: after a gap, before a word."""
    return (q == 0 or text[q - 1].isspace() or text[q - 1] in "([—–") and q + 1 < len(text) \
        and _is_word(text[q + 1])


class _Ahead:
    """For each mark, the next mark of the same straight kind (" or ') that could close:
    built once per text on first use, so the look-aheads below cost O(1) each instead
    of a scan over the rest of the marks (quadratic on a long text)."""

    def __init__(self, text: str, marks: list[tuple[int, str]]):
        self.text, self.marks = text, marks
        self._next: dict[str, list[int]] = {}

    def next_closer(self, j: int, c: str) -> int:
        """Index of the first mark after ``marks[j]`` that is ``c`` and can close; -1 if none."""
        nxt = self._next.get(c)
        if nxt is None:
            nxt, k = [-1] * len(self.marks), -1
            for i in range(len(self.marks) - 1, -1, -1):
                nxt[i] = k
                r, d = self.marks[i]
                if d == c and _can_close(self.text, r, d):
                    k = i
            self._next[c] = nxt
        return nxt[j]


def _closers_ahead(text: str, marks: list[tuple[int, str]], j: int, c: str, lines: _Lines,
                   ahead: _Ahead) -> int:
    """Marks ``c`` after ``marks[j]`` in its paragraph that could close (at most 2 counted).

    A straight mark opens a nested quote only if both that quote and the outer one can
    still close: otherwise it is the opener of the next quote after a missed closer."""
    nl = lines.next_nl(marks[j][0])
    n, k = 0, j
    while n < 2:
        k = ahead.next_closer(k, c)
        if k < 0 or (nl >= 0 and marks[k][0] > nl):
            break
        n += 1
    return n


def _possessive(text: str, q: int, marks: list[tuple[int, str]], j: int, lines: _Lines,
                ahead: _Ahead) -> bool:
    """A straight ' after an s before a lower-case word ("the leaders' talks") is a possessive
    when a later ' in the same paragraph can close the quote instead."""
    if text[q - 1] not in "sS" or not text[q + 1:q + 3].startswith(" ") or not text[q + 2:q + 3].islower():
        return False
    nl = lines.next_nl(q)
    k = ahead.next_closer(j, "'")
    return k >= 0 and not (nl >= 0 and marks[k][0] > nl)


def _spans(text: str, settings: QuoteSettings, lines: _Lines | None = None) -> list[_Span]:
    return _capped_spans(text, settings, lines or _Lines(text))[0]


def _capped_spans(text: str, settings: QuoteSettings, lines: _Lines) -> tuple[list[_Span], int | None]:
    """The spans, and where the search stopped when it ran out of work (else None).

    Every unmatched opening mark scans the marks of up to ``max_chars`` after it; text
    made of nothing but stray marks would cost marks x window. The budget
    (``WORK_PER_MARK`` steps per mark) is far above what prose needs (tested on
    the benchmarks: never reached), so extraction stays linear in the text's length."""
    marks = _marks_of(text)
    ahead = _Ahead(text, marks)
    spans: list[_Span] = []
    budget = WORK_PER_MARK * len(marks) + 10_000
    i = 0
    while i < len(marks):
        p, c = marks[i]
        i += 1
        if c not in _PAIRS or not _can_open(text, p, c):
            continue
        closers = _PAIRS[c]
        nestable = c in _NESTABLE
        seg_start = p + 1
        segments: list[tuple[int, int]] = []
        j = i
        done = None
        depth = 0  # quotes nested inside with the same mark ("He called it "a disaster" and left")
        nl = lines.next_nl(seg_start)  # looked up again only when seg_start moves
        while j < len(marks):
            budget -= 1
            if budget < 0:
                return spans, p
            q, d = marks[j]
            if q - p > settings.max_chars:
                break  # too long for a quote: unmatched (scanning on would be quadratic)
            if 0 <= nl < q:
                # A paragraph ended inside the quote: go on only if the next
                # paragraph reopens with the same mark, right at its start.
                k = nl
                while k < q and text[k].isspace():
                    k += 1
                if k == q and d == c and not depth and len(segments) + 1 < settings.max_paragraphs:
                    segments.append((seg_start, nl))
                    seg_start = q + 1
                    nl = lines.next_nl(seg_start)
                    j += 1
                    continue
                break
            if d == c and nestable and _nested_open(text, q) and (
                    c not in "\"'" or _closers_ahead(text, marks, j, c, lines, ahead) >= 2):
                depth += 1
            elif d in closers and _can_close(text, q, d):
                if depth:
                    depth -= 1
                elif d == "'" and _possessive(text, q, marks, j, lines, ahead):
                    pass
                else:
                    done = q
                    break
            j += 1
        if done is None or done - p > settings.max_chars:
            continue  # unmatched: treat the mark as stray
        segments.append((seg_start, done))
        spans.append(_Span(p, done, segments))
        i = j + 1
    return spans, None


_MARK_CHARS = '"“”„‟«»‹›‘’\''


def _marks_of(text: str) -> list[tuple[int, str]]:
    """``(position, mark)`` of every quotation mark, in text order: what
    ``_MARKS.finditer`` gives, found with ``str.find`` per mark (C, memchr-like),
    about three times faster than the regex scanning every character."""
    out = []
    for c in _MARK_CHARS:
        i = text.find(c)
        while i >= 0:
            out.append((i, c))
            i = text.find(c, i + 1)
    out.sort()
    return out


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# -- speakers ---------------------------------------------------------------------

_APPOSITIVE_END = regex.compile(r",\s*$")
_ADVERB = regex.compile(r"(?:\s+|,\s*)(?:\w+ly|also|earlier|later|then|however|again|previously|once|"
                        r"has|have|had|was|is|will|would)\s*,?\s*$", regex.IGNORECASE)
_SENTENCE_END = regex.compile(r"[.!?](?=\s+\p{Lu})|\n")
# The last sentence end before a quote, searched backwards from the quote: the same
# one-character match a forward pass over the paragraph would find last.
_LAST_SENTENCE_END = regex.compile(r"(?r)[.!?](?=\s+\p{Lu})|\n")
_LEAD = regex.compile(r"^[\s,;:—–-]*")
_ACCORDING = regex.compile(r"(?i:according\s+to)\s+")
_COLON_END = regex.compile(r"(.*?)\s*:\s*$")
_APPOSITION_NEXT = regex.compile(r"\s*,\s*(?:who|an?|the)\b")


def _memo(cache: dict, key: str, compute, *args):
    """``compute(*args)`` cached in ``cache`` under ``key``; the cache is emptied when full."""
    try:
        return cache[key]
    except KeyError:
        pass
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    out = cache[key] = compute(*args)
    return out


def _clean(phrase: str, lex: _Lexicon) -> str | None:
    """Strip titles and a leading article; None if nothing name-like is left."""
    return _memo(lex.clean_cache, phrase, _clean_uncached, phrase, lex)


def _clean_uncached(phrase: str, lex: _Lexicon) -> str | None:
    tokens = phrase.split()
    if not tokens:
        return None
    if tokens[0].lower() in lex.pronouns and len(tokens) == 1:
        return tokens[0].lower()
    last_title = -1
    for k, t in enumerate(tokens):
        if t.lower().strip(".") in lex.titles or t.lower() in lex.titles:
            last_title = k
    rest = tokens[last_title + 1:]
    if rest and rest[0][0].isupper() and _is_person(" ".join(rest), lex):
        tokens = rest
    elif tokens[0].lower() == "the":
        tokens = tokens[1:]
    while (len(tokens) > 1 and tokens[0].lower() in lex.stop and tokens[0][0].isupper()
           and tokens[0].lower() not in lex.titles and _is_person(" ".join(tokens[1:]), lex)):
        tokens = tokens[1:]
    if not tokens:
        return None
    name = " ".join(tokens).strip(" ,.;:")
    if not name or name.lower() in lex.stop:
        return None
    return name


# A character no speaker phrase holds (phrases are letters, marks, spaces, ’ ' - and
# the dots of abbreviations). Searched backwards: where the last one stands.
_NOT_PHRASE = regex.compile(r"(?r)[^\p{L}\p{M}\s’'\-.]")
_PHRASE_STOP = regex.compile(r"[^\p{L}\p{M}\s’'\-.]")  # the same, searched forwards


def _tail(s: str, lex: _Lexicon):
    """``lex.tail.search(s)``, started after the last character no phrase can hold.

    The tail match runs to the end of ``s``, so it cannot start before that
    character; the search from 0 tried the phrase at every position before it
    (most of a long sentence) only to fail at each."""
    m = _NOT_PHRASE.search(s)
    return lex.tail.search(s, m.end()) if m else lex.tail.search(s)


# Every ending _ADVERB can strip, lower-case ASCII (\w+ly covers "previously").
_ADVERB_ENDS = ("ly", "also", "earlier", "later", "then", "however", "again", "once",
                "has", "have", "had", "was", "is", "will", "would")
# What str.isspace() strips and the regex's \s does not match.
_NOT_REGEX_SPACE = "\x1c\x1d\x1e\x1f"


def _may_end_with_adverb(s: str) -> bool:
    """False only when ``_ADVERB`` cannot match ``s``: its word must end ``s`` but for
    spaces and a comma, and its end must be one of ``_ADVERB_ENDS`` (or not ASCII, where
    case folding may join other letters). The regex, anchored at $, tried every gap
    of the sentence; most have no such ending (qe-10)."""
    k = _space_before(s, len(s))
    if k and s[k - 1] == ",":
        k = _space_before(s, k - 1)
    tail = s[max(0, k - 8):k]
    return not tail.isascii() or tail.lower().endswith(_ADVERB_ENDS)


def _space_before(s: str, k: int) -> int:
    """Where the run of spaces ending at ``k`` starts (``len(s[:k].rstrip())``, without
    copying a long ``s``)."""
    while k and s[k - 1].isspace():
        k -= 1
    return k


def _ends_with_comma(s: str) -> bool:
    """``_APPOSITIVE_END.search(s)`` (a comma and then only spaces) with string methods."""
    k = _space_before(s, len(s))
    return k > 0 and s[k - 1] == "," and (k == len(s) or not any(c in _NOT_REGEX_SPACE for c in s[k:]))


def _subject_before(s: str, lex: _Lexicon) -> str | None:
    """Speaker phrase ending ``s`` (the text right before a speech verb)."""
    for _ in range(3):
        if not _may_end_with_adverb(s):
            break
        stripped = _ADVERB.sub("", s)
        if stripped == s:
            break
        s = stripped
    if _ends_with_comma(s):
        # "X, an aide to ..., said" or "President of Armenia, Armen Sarkissian, said"
        inner = s.rstrip()[:-1]
        m = _tail(inner, lex)
        if m and (name := _clean(m.group(1), lex)) and _is_person(name, lex):
            return name
        comma = inner.rfind(",")
        if comma < 0:
            return None
        s = inner[:comma]
    m = _tail(s, lex)
    return _clean(m.group(1), lex) if m else None


def _is_person(name: str, lex: _Lexicon) -> bool:
    return _memo(lex.person_cache, name, _is_person_uncached, name, lex)


_PARTICLES = frozenset(("of", "de", "al", "bin", "von", "van", "der", "la"))


def _is_person_uncached(name: str, lex: _Lexicon) -> bool:
    tokens = name.split()
    if not tokens or not all(t[0].isupper() for t in tokens if t.lower() not in _PARTICLES):
        return False
    return not any(t.lower().strip(".,") in lex.non_person for t in tokens) \
        and tokens[0].lower() not in lex.stop


def _after_speaker(after: str, lex: _Lexicon) -> str | None:
    """Attribution right after the closing mark: ``, said X`` / ``, X said`` / ``according to X``."""
    if not after:  # a quote closing its paragraph (one in five): nothing follows it
        return None
    rest = after[_LEAD.match(after).end():]
    if not rest:
        return None
    m = _ACCORDING.match(rest)
    if m:
        h = lex.head.match(rest[m.end():])
        return _clean(h.group(1), lex) if h else None
    # No verb can start before ``at`` (-1: none in the first 120 characters, which hold
    # any verb starting at 0): the match at 0 is tried only when one may start there.
    at = _verb_from(rest, lex, 0, 120)
    v = lex.verbs.match(rest) if at == 0 else None
    if v:
        tail = rest[v.end():]
        h = lex.head.match(tail)
        return (_titled_name(tail, h.end(), lex) or _clean(h.group(1), lex)) if h else None
    v = lex.verbs.search(rest, at, 120) if at >= 0 else None
    if v and not _SENTENCE_END.search(rest, 0, v.start()) and len(rest[:v.start()].split()) <= 8:
        return _subject_before(rest[:v.start()], lex)
    return None


_TITLE_WORDS = regex.compile(r"\s+((?:[\p{Ll}\-]+\s+){1,3})")


def _titled_name(s: str, pos: int, lex: _Lexicon) -> str | None:
    """The name after an organisation and a lower-case title: ``UN spokesman Daniel Okafor``,
    ``German diplomat Helena Brandt`` (the run before the title is not the speaker)."""
    m = _TITLE_WORDS.match(s, pos)
    if not m or not any(w in lex.titles for w in m.group(1).split()):
        return None
    h = lex.head.match(s[m.end():])  # ^ anchors at the string's start, not at pos
    if not h:
        return None
    name = _clean(h.group(1), lex)
    return name if name and _is_person(name, lex) else None


def _before_speaker(before: str, lex: _Lexicon) -> str | None:
    """Attribution earlier in the sentence: ``X: "``, ``according to X``, ``X said ... "``."""
    if not before:  # a quote opening its sentence: no colon, no "according to", no verb
        return None
    # The lazy pattern is quadratic when it fails: try it only if the text ends with a colon.
    if (k := _space_before(before, len(before))) and before[k - 1] == ":" and "," not in before[-3:]:
        m = _COLON_END.search(before)
        if m:
            head = m.group(1)
            t = _tail(head, lex)
            if t and t.end() == len(head.rstrip()) and (name := _clean(t.group(1), lex)):
                # "X told the meeting:": the listener is not the speaker, X is.
                # Only the few characters before the phrase: the verb must end right there.
                lo = max(0, t.start() - 24)
                told = None
                for told in lex.verbs.finditer(head, lo, t.start()):
                    pass
                if told is not None and not head[told.end():t.start()].strip() and (
                        told.start() == 0 or not head[told.start() - 1].isalpha()):
                    return _subject_before(head[:told.start()], lex)
                return name
    m = None
    for m in _ACCORDING.finditer(before):
        pass
    if m:
        h = lex.head.match(before[m.end():])
        if h and (name := _clean(h.group(1), lex)):
            return name
    at = _verb_from(before, lex)
    for v in reversed(list(lex.verbs.finditer(before, at)) if at >= 0 else []):
        name = _subject_before(before[:v.start()], lex)
        if name:
            return name
    return None


# How far from a quote its speaker is looked for (characters): far more than any
# attribution ("…," the Foreign Minister of the Republic of Azerbaijan, X, said).
_AFTER_WINDOW = 1000
_BEFORE_WINDOW = 3000

_TOKEN_CHAR = regex.compile(r"[\p{L}\p{M}’'\-]")


def _runs_outside(text: str, masked: list[tuple[int, int]], runs: regex.Pattern) -> Iterator:
    """Name runs that start outside the masked spans, scanning only the gaps between them.

    A span closed by ’ or ' right after a letter is scanned too: a run starting inside
    it can take the mark as part of a word ("Who’") and go on past the span, swallowing
    what follows, and the gap scan must find exactly what one whole-text scan would.
    Likewise a span opened by ' right after a name character ("Anna-'…").
    """
    for lo, hi, inside in _cuts(text, masked):
        if lo >= hi:
            continue
        if not inside:
            yield from runs.finditer(text, lo, hi)
            continue
        k, n = 0, len(inside)
        for m in runs.finditer(text, lo, hi):
            pos = m.start()
            while k < n and inside[k][1] <= pos:
                k += 1
            if k < n and inside[k][0] <= pos:
                continue
            yield m


def _cuts(text: str, masked: list[tuple[int, int]]) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """The ranges :func:`_runs_outside` scans: ``(from, to, masked spans scanned through)``."""
    a = 0
    cuts = []
    inside: list[tuple[int, int]] = []
    for start, end in masked:
        if (text[end - 1] in "’'" and end >= 2 and _TOKEN_CHAR.match(text, end - 2)) or (
                text[start] == "'" and start and _TOKEN_CHAR.match(text, start - 1)):
            inside.append((start, end))
            continue
        cuts.append((a, start, inside))
        a, inside = end, []
    cuts.append((a, len(text), inside))
    return cuts


def _stretch(text: str, cuts: list, cut_starts: list[int], at: int) -> tuple[int, int, list] | None:
    """The stretch of text around ``at`` that no name run crosses, within the range
    :func:`_runs_outside` scans there: ``(from, to, masked spans scanned through)``;
    None when ``at`` is in a quote no run is taken from.

    A run holds only letters, marks, spaces, ’ ' - and dots, so none crosses another
    character (``_NOT_PHRASE``): the whole-text scan, reaching one, starts afresh
    after it, as a scan of the stretch does; a run starting in the stretch ends there,
    and what the scan's look-aheads read stops there too (they read run characters)."""
    c = bisect_left(cut_starts, at + 1) - 1
    if c < 0:
        return None
    lo, hi, inside = cuts[c]
    if at >= hi:
        return None
    before = _NOT_PHRASE.search(text, lo, at)
    after = _PHRASE_STOP.search(text, at, hi)
    return (before.end() if before else lo), (after.start() if after else hi), inside


def _runs_in(text: str, stretch: tuple[int, int, list], runs: regex.Pattern) -> Iterator:
    """The runs of :func:`_runs_outside` that start in ``stretch`` (see :func:`_stretch`)."""
    lo, hi, inside = stretch
    if not inside:  # most stretches: the scan's own iterator, no generator frame per run
        return runs.finditer(text, lo, hi)
    return (m for m in runs.finditer(text, lo, hi) if not any(a <= m.start() < b for a, b in inside))


def _person_mentions(text: str, masked: list[tuple[int, int]], lex: _Lexicon,
                     ) -> tuple[list[tuple[int, str]], list[tuple[int, str, int]]]:
    """Named persons outside quotes, in text order, in one pass: ``(position, name)``
    of names of several words, and ``(position, name, end)`` of one-word names.

    Whether a one-word name is a person is decided by :meth:`_Persons._find`: it
    is when it is the surname of a longer name of the text, and otherwise only
    when a speech verb or an apposition follows it, which is looked at only then.
    """
    fulls: list[tuple[int, str]] = []
    singles: list[tuple[int, str, int]] = []
    for m in _runs_outside(text, masked, lex.name_runs):
        hit = _mention(m.group(1), lex)
        if hit is None:
            continue
        name, single = hit
        if single:
            singles.append((m.start(), name, m.end()))
        else:
            fulls.append((m.start(), name))
    return fulls, singles


def _mention(phrase: str, lex: _Lexicon) -> tuple[str, bool] | None:
    """``(name, one word)`` when a name run's phrase names a person, else None."""
    cache = lex.mention_cache
    try:
        return cache[phrase]
    except KeyError:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        name = _clean(phrase, lex)
        hit = cache[phrase] = ((name, len(name.split()) == 1)
                               if name and _is_person(name, lex) else None)
        return hit


def _said_after(text: str, end: int, lex: _Lexicon) -> bool:
    """A speech verb or an apposition ("X, who ...") right after a name ending at ``end``."""
    after = text[end:end + 40]
    return bool(lex.verbs.match(after.lstrip(" ,")) or _APPOSITION_NEXT.match(after))


# How far back _may_end_name looks for the word before a surname; past it, it answers yes.
_WORD_BEFORE_LIMIT = 64


def _may_end_name(text: str, name: str) -> bool:
    """False only when no name run of several words can end with ``name`` as its last
    token (or that token with dots stripped), wherever the scan would start its runs.

    Such a last token follows whitespace, and before that whitespace a particle or the
    end of a name token: a run of letters, marks, ’ ' - . holding a capital. Most
    one-word speakers ("Aliyev said") are then told apart by a few ``str.find`` calls,
    without the name-run scan of the whole text (a third of the stage's time)."""
    at = text.find(name, 1)  # at 0 it follows nothing
    while at >= 0:
        if text[at - 1].isspace():
            j = at - 1
            while j > 0 and text[j - 1].isspace():
                j -= 1
            k = j
            while k > 0 and j - k < _WORD_BEFORE_LIMIT and _name_char(text[k - 1]):
                k -= 1
            word = text[k:j]
            if word and (j - k >= _WORD_BEFORE_LIMIT or word in _PARTICLES or not word.islower()):
                return True
        at = text.find(name, at + 1)
    return False


def _name_char(ch: str) -> bool:
    """A character a name token holds (``[\\p{L}\\p{M}’'\\-.]``)."""
    return ch.isalpha() or ch in "’'-." or unicodedata.category(ch)[0] == "M"


def _expand(name: str, full_names: list[str]) -> str:
    if " " in name:
        return name
    for full in reversed(full_names):
        if full.split()[-1] == name:
            return full
    return name


class _Persons:
    """Named persons of one document, found on first use (many documents never need them).

    A quote's one-word speaker needs only the full names (:meth:`expand`); the
    one-word mentions are sorted out only once a pronoun asks who spoke last
    (:meth:`last_before`), which most documents never do, and then only those the
    question reaches, walking back from the pronoun (a one-word mention is a person
    when it is a known surname or a speech verb or apposition follows it).
    """

    __slots__ = ("text", "masked", "lex", "_found", "full_names", "_fulls", "_singles", "_mentions", "_jump",
                 "_added", "by_surname", "_owners", "_cuts")

    def __init__(self, text: str, masked: list[tuple[int, int]], lex: _Lexicon):
        self.text, self.masked, self.lex = text, masked, lex
        self._found = False
        self.full_names: list[str] = []
        self.by_surname: dict[str, str] = {}  # the last full name with each surname
        self._fulls: list[tuple[int, str]] = []
        self._singles: list[tuple[int, str, int]] = []
        # Every mention, sorted: (position, name, -1) for a person, (position, name,
        # end) for a one-word mention not yet known to be one.
        self._mentions: list[tuple[int, str, int]] | None = None
        # Index of a mention -> index of the nearest person at or before it (-1: none),
        # filled as walks pass: each mention is judged once, however many pronouns ask.
        self._jump: dict[int, int] = {}
        self._added: list[tuple[int, str]] = []  # the speakers found, sorted
        self._owners: dict[str, str] = {}  # surname -> full name, found before (or without) _find
        self._cuts: tuple[list, list[int]] | None = None

    def _find(self) -> None:
        self._found = True
        self._fulls, self._singles = _person_mentions(self.text, self.masked, self.lex)
        self.full_names = [n for _, n in self._fulls]
        self.by_surname = {n.split()[-1]: n for n in self.full_names}

    def expand(self, name: str) -> str:
        if " " in name:
            return name
        if not self._found:
            # Both answers are kept: a speaker named in several quotes ("Aliyev said" five
            # times) searched the whole text for the name once per quote.
            owner = self._owners.get(name)
            if owner is None:
                # No full name of the text can end with it: the scan would find none.
                owner = self._owners[name] = self._surname_owner(name) if _may_end_name(self.text, name) else name
            return owner
        return self.by_surname.get(name, name)  # as _expand, in O(1): names recur in long texts

    def _surname_owner(self, name: str) -> str:
        """``by_surname.get(name, name)`` without :meth:`_find`'s scan of the whole text.

        A full name ending with ``name`` is a run whose last word starts where ``name``
        stands in the text: only the runs through those places are read (most of
        a long article is not)."""
        if self._cuts is None:
            cuts = _cuts(self.text, self.masked)
            self._cuts = (cuts, [lo for lo, _, _ in cuts])
        cuts, cut_starts = self._cuts
        text, lex, runs = self.text, self.lex, self.lex.name_runs
        seen: dict[int, str] = {}
        # The end of the last stretch read: a name twice in one stretch reads it once, so the
        # stretches read are disjoint and the work stays within one scan of the text.
        done = -1
        at = text.find(name)
        while at >= 0:
            stretch = _stretch(text, cuts, cut_starts, at) if at >= done else None
            if stretch is not None:
                done = stretch[1]
                for m in _runs_in(text, stretch, runs):
                    seen[m.start()] = m.group(1)
            at = text.find(name, at + 1)
        owner = name
        for pos in sorted(seen):
            hit = _mention(seen[pos], lex)
            if hit is not None and not hit[1] and hit[0].split()[-1] == name:
                owner = hit[0]
        return owner

    def _last_mention(self, pos: int) -> tuple[int, str, int] | None:
        """The last mention before ``pos`` that is a person."""
        if self._mentions is None:
            if not self._found:
                self._find()
            self._mentions = sorted([(p, n, -1) for p, n in self._fulls] + self._singles)
        mentions, jump = self._mentions, self._jump
        i = bisect_left(mentions, (pos,)) - 1
        passed = []
        while i >= 0:
            to = jump.get(i)
            if to is not None:
                i = to
                break
            _, name, end = mentions[i]
            if end < 0 or name in self.by_surname or _said_after(self.text, end, self.lex):
                break
            passed.append(i)
            i -= 1
        if i >= 0:
            jump[i] = i
        for k in passed:
            jump[k] = i
        return mentions[i] if i >= 0 else None

    def last_before(self, pos: int) -> str | None:
        found = self._last_mention(pos)
        i = bisect_left(self._added, (pos,))
        speaker = self._added[i - 1] if i else None
        # The later of the two; at one position, the larger name, as one sorted list gives.
        if found is None or (speaker is not None and speaker > found[:2]):
            return speaker[1] if speaker else None
        return found[1]

    def add(self, pos: int, name: str) -> None:
        insort(self._added, (pos, name))


def find_quotes(text: str, settings: QuoteSettings = QuoteSettings()) -> list[Quote]:
    """Quotes of ``text`` with their speakers (None when unknown)."""
    return _find_quotes(text, settings)[0]


def _find_quotes(text: str, settings: QuoteSettings, entities=()) -> tuple[list[Quote], int | None]:
    if not text or not _MARKS.search(text):
        return [], None
    lines = _Lines(text)
    spans, stopped = _capped_spans(text, settings, lines)
    return _attributed(text, spans, lines, entities), stopped


def _attributed(text: str, spans: list[_Span], lines: _Lines, entities=()) -> list[Quote]:
    """Quotes of ``spans`` with their speakers."""
    lex = _lexicon()
    if not spans:
        return []
    persons = _Persons(text, [(s.open_pos, s.close_pos + 1) for s in spans], lex)
    resolver = SpeakerResolver(entities)
    quotes: list[Quote] = []
    prev_close, prev_para, prev_speaker = -1, -1, None
    for span in spans:
        para_start = lines.para_start(span.open_pos)
        para_end = lines.next_nl(span.close_pos)
        para_end = len(text) if para_end < 0 else para_end
        # Attribution is looked for in a window around the quote, not the whole
        # paragraph: on a text that is one huge line that was quadratic.
        after = text[span.close_pos + 1:min(para_end, span.close_pos + 1 + _AFTER_WINDOW)]
        floor = max(para_start, span.open_pos - _BEFORE_WINDOW)
        m = _LAST_SENTENCE_END.search(text, floor, span.open_pos)
        sent = m.end() if m else 0
        lo = max(floor, sent, prev_close + 1 if prev_para == para_start else 0)
        before = text[lo:span.open_pos]
        speaker = _after_speaker(after, lex) or _before_speaker(before, lex)
        if speaker in lex.pronouns:
            earlier = persons.last_before(span.open_pos)
            speaker = persons.expand(earlier) if earlier else None
        elif speaker is None and prev_para == para_start:
            speaker = prev_speaker
        elif speaker is not None:
            speaker = persons.expand(speaker)
        if speaker and _is_person(speaker, lex):
            persons.add(span.open_pos, speaker)
        pieces = [_strip(text, a, b) for a, b in span.segments]
        pieces = [(a, b) for a, b in pieces if b > a]
        prev_close, prev_para, prev_speaker = span.close_pos, para_start, speaker
        if not pieces:
            continue
        body = text[pieces[0][0]:pieces[0][1]] if len(pieces) == 1 else "\n".join(text[a:b] for a, b in pieces)
        if not any(ch.isalnum() for ch in body):
            continue
        name = resolver.canonical(speaker)
        quotes.append(Quote(body, speaker, pieces[0][0], pieces[-1][1], quote_kind(body), name,
                            speaker_id(name) if name else None))
    return quotes
