"""Quoted spans of the curated text and who said them (a pure stage).

Spans: straight, curly and low double quotes, guillemets (both directions),
curly single quotes at the top level, nested quotes inside them, and quotes
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
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable, Iterator

import regex

from ketl.document import Document, Quote

__all__ = ["QuoteSettings", "extract_quotes", "find_quotes"]


@dataclass(frozen=True)
class QuoteSettings:
    max_chars: int = 5000  # a longer "quote" is an unmatched mark, not a quote
    max_paragraphs: int = 10  # paragraphs one quote may run over


# Opening mark -> closing marks.
_PAIRS = {
    '"': '"', "“": "”“", "„": "“”", "‟": "”", "«": "»", "»": "«", "‹": "›", "‘": "’",
    "”": "”",  # MT output sometimes opens with a closing mark
}
_MARKS = regex.compile(r'["“”„‟«»‹›‘’]')
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
    tail: regex.Pattern  # the speaker phrase at the end of a string
    head: regex.Pattern  # the speaker phrase at the start of a string
    name_runs: regex.Pattern


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
        tail=regex.compile(rf"(?<![\p{{L}}\p{{M}}])({phrase})\s*$"),
        head=regex.compile(rf"^\s*({phrase})"),
        name_runs=regex.compile(rf"(?<![\p{{L}}\p{{M}}])({_NAME_RUN})"),
    )


def extract_quotes(docs: Iterable[Document], settings: QuoteSettings = QuoteSettings(),
                   ) -> Iterator[Document]:
    """Fill ``doc.quotes`` from the curated ``doc.text`` (no text changes)."""
    for doc in docs:
        doc.quotes = find_quotes(doc.text, settings)
        yield doc


# -- spans ----------------------------------------------------------------------

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
    return True


def _can_close(text: str, p: int, c: str) -> bool:
    if c == "’":  # an apostrophe when a letter follows
        nxt = text[p + 1] if p + 1 < len(text) else ""
        return not _is_word(nxt)
    return True


def _spans(text: str, settings: QuoteSettings) -> list[_Span]:
    marks = [(m.start(), m.group()) for m in _MARKS.finditer(text)]
    spans: list[_Span] = []
    i = 0
    while i < len(marks):
        p, c = marks[i]
        i += 1
        if c not in _PAIRS or not _can_open(text, p, c):
            continue
        closers = _PAIRS[c]
        seg_start = p + 1
        segments: list[tuple[int, int]] = []
        j = i
        done = None
        while j < len(marks):
            q, d = marks[j]
            nl = text.find("\n", seg_start, q)
            if nl >= 0:
                # A paragraph ended inside the quote: go on only if the next
                # paragraph reopens with the same mark, right at its start.
                k = nl
                while k < q and text[k].isspace():
                    k += 1
                if k == q and d == c and len(segments) + 1 < settings.max_paragraphs:
                    segments.append((seg_start, nl))
                    seg_start = q + 1
                    j += 1
                    continue
                break
            if d in closers and _can_close(text, q, d):
                done = q
                break
            j += 1
        if done is None or done - p > settings.max_chars:
            continue  # unmatched: treat the mark as stray
        segments.append((seg_start, done))
        spans.append(_Span(p, done, segments))
        i = j + 1
    return spans


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


def _clean(phrase: str, lex: _Lexicon) -> str | None:
    """Strip titles and a leading article; None if nothing name-like is left."""
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


def _subject_before(s: str, lex: _Lexicon) -> str | None:
    """Speaker phrase ending ``s`` (the text right before a speech verb)."""
    for _ in range(3):
        stripped = _ADVERB.sub("", s)
        if stripped == s:
            break
        s = stripped
    if _APPOSITIVE_END.search(s):
        # "X, an aide to ..., said" or "President of Armenia, Armen Sarkissian, said"
        inner = s.rstrip()[:-1]
        m = lex.tail.search(inner)
        if m and (name := _clean(m.group(1), lex)) and _is_person(name, lex):
            return name
        comma = inner.rfind(",")
        if comma < 0:
            return None
        s = inner[:comma]
    m = lex.tail.search(s)
    return _clean(m.group(1), lex) if m else None


def _is_person(name: str, lex: _Lexicon) -> bool:
    tokens = name.split()
    if not tokens or not all(t[0].isupper() for t in tokens if t.lower() not in
                             ("of", "de", "al", "bin", "von", "van", "der", "la")):
        return False
    return not any(t.lower().strip(".,") in lex.non_person for t in tokens) \
        and tokens[0].lower() not in lex.stop


def _after_speaker(after: str, lex: _Lexicon) -> str | None:
    """Attribution right after the closing mark: ``, said X`` / ``, X said`` / ``according to X``."""
    m = regex.match(r"^[\s,;:—–-]*", after)
    rest = after[m.end():]
    if not rest or (after[:m.end()].strip(" ") == "" and rest[:1].isupper() and m.end() == 0):
        pass
    m = regex.match(r"(?i:according\s+to)\s+", rest)
    if m:
        h = lex.head.match(rest[m.end():])
        return _clean(h.group(1), lex) if h else None
    v = lex.verbs.match(rest)
    if v:
        h = lex.head.match(rest[v.end():])
        return _clean(h.group(1), lex) if h else None
    v = lex.verbs.search(rest, 0, 120)
    if v and not _SENTENCE_END.search(rest, 0, v.start()) and len(rest[:v.start()].split()) <= 8:
        return _subject_before(rest[:v.start()], lex)
    return None


def _before_speaker(before: str, lex: _Lexicon) -> str | None:
    """Attribution earlier in the sentence: ``X: "``, ``according to X``, ``X said ... "``."""
    m = regex.search(r"(.*?)\s*:\s*$", before)
    if m and "," not in before[-3:]:
        t = lex.tail.search(m.group(1))
        if t and t.end() == len(m.group(1).rstrip()) and (name := _clean(t.group(1), lex)):
            return name
    m = None
    for m in regex.finditer(r"(?i:according\s+to)\s+", before):
        pass
    if m:
        h = lex.head.match(before[m.end():])
        if h and (name := _clean(h.group(1), lex)):
            return name
    verbs = list(lex.verbs.finditer(before))
    for v in reversed(verbs):
        name = _subject_before(before[:v.start()], lex)
        if name:
            return name
    return None


def _person_mentions(text: str, masked: list[tuple[int, int]], lex: _Lexicon,
                     ) -> list[tuple[int, str]]:
    """(position, name) of named persons outside quotes, in text order."""
    out: list[tuple[int, str]] = []
    k = 0
    for m in lex.name_runs.finditer(text):
        pos = m.start()
        while k < len(masked) and masked[k][1] <= pos:
            k += 1
        if k < len(masked) and masked[k][0] <= pos:
            continue
        name = _clean(m.group(1), lex)
        if not name or not _is_person(name, lex):
            continue
        after = text[m.end():m.end() + 40]
        single = len(name.split()) == 1
        if single and not lex.verbs.match(after.lstrip(" ,")) and not regex.match(r"\s*,\s*(?:who|an?|the)\b", after):
            out.append((pos, name + "\x00"))  # a known surname, if it is one: checked later
            continue
        out.append((pos, name))
    return out


def _expand(name: str, full_names: list[str]) -> str:
    if " " in name:
        return name
    for full in reversed(full_names):
        if full.split()[-1] == name:
            return full
    return name


def find_quotes(text: str, settings: QuoteSettings = QuoteSettings()) -> list[Quote]:
    """Quotes of ``text`` with their speakers (None when unknown)."""
    if not text or not _MARKS.search(text):
        return []
    lex = _lexicon()
    spans = _spans(text, settings)
    masked = [(s.open_pos, s.close_pos + 1) for s in spans]
    mentions = _person_mentions(text, masked, lex)
    full_names = [n for _, n in mentions if " " in n and "\x00" not in n]
    surnames = {n.split()[-1] for n in full_names}
    persons = [(p, n.rstrip("\x00")) for p, n in mentions
               if "\x00" not in n or n.rstrip("\x00") in surnames]
    quotes: list[Quote] = []
    prev_close, prev_para, prev_speaker = -1, -1, None
    for span in spans:
        para_start = text.rfind("\n", 0, span.open_pos) + 1
        para_end = text.find("\n", span.close_pos)
        para_end = len(text) if para_end < 0 else para_end
        after = text[span.close_pos + 1:para_end]
        sent = 0
        for m in _SENTENCE_END.finditer(text, para_start, span.open_pos):
            sent = m.end()
        lo = max(para_start, sent, prev_close + 1 if prev_para == para_start else 0)
        before = text[lo:span.open_pos]
        speaker = _after_speaker(after, lex) or _before_speaker(before, lex)
        if speaker in lex.pronouns:
            earlier = [n for p, n in persons if p < span.open_pos]
            speaker = _expand(earlier[-1], full_names) if earlier else None
        elif speaker is None and prev_para == para_start:
            speaker = prev_speaker
        elif speaker is not None:
            speaker = _expand(speaker, full_names)
        if speaker and _is_person(speaker, lex):
            persons.append((span.open_pos, speaker))
            persons.sort()
        pieces = [_strip(text, a, b) for a, b in span.segments]
        pieces = [(a, b) for a, b in pieces if b > a]
        prev_close, prev_para, prev_speaker = span.close_pos, para_start, speaker
        if not pieces:
            continue
        body = "\n".join(text[a:b] for a, b in pieces)
        if not any(ch.isalnum() for ch in body):
            continue
        quotes.append(Quote(text=body, speaker=speaker, start=pieces[0][0], end=pieces[-1][1]))
    return quotes
