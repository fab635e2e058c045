"""Reprint and syndication notices: the publisher a notice line names.

Two strengths of evidence:

* strong phrasings name a reprint in so many words (``This article was
  originally published by X``, ``Originally published at X``, ``This story
  first appeared in X``, ``Republished with permission from X``, ``This
  article is republished from X under a Creative Commons license``,
  ``Distributed by X``, and the same in German, French, Spanish, Portuguese,
  Italian and Russian); metadata.py looks for them at the top and the bottom
  of the article;
* weak ones only name a holder (``Source: X``, ``(c) X 2024``, ``Copyright
  2024 X``, ``© 2024 X. All rights reserved.``): they count only at the
  bottom, when the holder looks like a name and is not the site itself (a
  site's own footer names the site).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import ahocorasick
from re import _constants as _C, _parser as _sre_parse

__all__ = ["find_reprint", "find_reprint_strength", "clean_source", "agency_copyright", "NOTICE_HEADS"]

_SUBJECT = (r"(?:(?:this|the) (?:article|story|piece|post|report|item|content|interview|essay|column|op-ed|analysis)"
            r"|a version of this (?:article|story|piece|post)|(?:article|story|content))")
_VERB = r"(?:published|appeared|posted|ran|produced)"
_STRONG = [re.compile(p, re.IGNORECASE) for p in (
    # This article was originally published by X (and is reprinted with permission).
    rf"^(?:{_SUBJECT} )?(?:was |is |has been |were )?(?:originally|first|initially) {_VERB}"
    r"(?: online)? (?:by|in|on|at|with|as part of) (?P<src>.+)$",
    # This story first appeared on X / This piece was first published by X.
    rf"^{_SUBJECT} (?:was |has )?(?:first |originally )?(?:appeared|ran) (?:first |originally )?(?:in|on|at) (?P<src>.+)$",
    # Republished with permission from X / Reprinted with the kind permission of X.
    r"^(?:re(?:printed|published|posted)|reproduced|shared|used|published) (?:here )?with (?:the )?(?:kind |express )?"
    r"permission (?:of|from|by) (?P<src>.+)$",
    # This article is republished from X under a Creative Commons license.
    rf"^{_SUBJECT} (?:is|was|has been) (?:re)?(?:published|posted) (?:here )?(?:from|by|courtesy of) (?P<src>.+?)"
    r" under (?:a|the) creative commons.*$",
    # Distributed by X / Syndicated by X / Courtesy of X (as a whole line, after the article).
    r"^(?:distributed|syndicated|provided) by (?P<src>.+)$",
    # This article was produced by X and is republished with permission.
    rf"^{_SUBJECT} (?:was|has been|is) (?:produced|written|reported) (?:by|for) (?P<src>.+?),? and (?:is |has been )?"
    r"(?:re)?(?:published|printed|posted|reproduced)\b.*$",
    # German, French, Spanish, Portuguese, Italian, Russian.
    r"^(?:dieser (?:artikel|beitrag|text) )?(?:erschien|ist) (?:zuerst|ursprünglich|erstmals) (?:erschienen )?"
    r"(?:bei|in|auf|im) (?P<src>.+?)(?:\s+erschienen)?$",
    r"^(?:erstveröffentlichung|zuerst erschienen (?:bei|in|auf))\s*:?\s*(?P<src>.+)$",
    r"^(?:cet article |article )?(?:a (?:été )?)?(?:initialement|d'abord|originellement) (?:été )?publié (?:par|sur|dans) (?P<src>.+)$",
    r"^(?:este (?:artículo|texto) )?(?:fue |se )?publicado (?:originalmente|primero|inicialmente) (?:en|por) (?P<src>.+)$",
    r"^(?:este (?:artigo|texto) )?(?:foi )?publicado (?:originalmente|inicialmente) (?:em|no|na|pelo|pela|por) (?P<src>.+)$",
    r"^(?:questo articolo )?(?:è stato )?pubblicato (?:originariamente|originalmente|per la prima volta) (?:su|da|in) (?P<src>.+)$",
    r"^(?:статья|материал|текст) (?:был[аo]? )?(?:впервые|изначально|первоначально) опубликован[аоы]? (?:на сайте|в|на) (?P<src>.+)$",
)]
_WEAK = [re.compile(p, re.IGNORECASE) for p in (
    r"^(?:source|sources|quelle|fuente|fonte|источник|джерело|źródło|kaynak|bron|المصدر|منبع|מקור|स्रोत|来源|出典|출처)"
    r"\s*[:：]\s*(?P<src>.+)$",
    r"^(?:copyright\s*)?(?:©|\(c\)|copyright)\s*(?:©\s*)?(?P<year>\d{4}(?:\s*[-–]\s*\d{4})?)?,?\s*(?P<src>.+?)"
    r"(?:,?\s*(?P<year2>\d{4}))?\.?(?:\s*all rights reserved\.?.*)?$",
)]
# Tails of a source name that are not the name.
_TAILS = [re.compile(p, re.IGNORECASE) for p in (
    r"\s*[.!]?\s*read the original (?:article|story|post|version)(?: here)?\.?$",
    r",?\s+and (?:is|has been|was) (?:re)?(?:printed|published|posted|produced|reproduced|shared)\b.*$",
    r",?\s+(?:is |has been )?(?:re)?(?:printed|published|posted|reproduced) (?:here )?with\b.*$",
    r"\s+under (?:a|the) creative commons.*$",
    r",?\s+(?:on|in) (?:\w+day,? )?(?:\d{1,2}(?:st|nd|rd|th)? )?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
    r"(?: \d{1,2}(?:st|nd|rd|th)?)?,?(?: \d{4})?\.?$",
    r",?\s+(?:on|in) \d{4}\.?$",
    r"\s*[.;]\s*(?:all rights reserved|this material may not be|used (?:here )?(?:with|by) permission)\b.*$",
    r"\s*\((?:link|opens in a new (?:window|tab))\)$",
    r"\s+(?:here|online)$",
)]
# Every notice holds one of these (a cheap test, on the lower-cased line,
# before the phrasings are tried).
_HINT = re.compile(r"publi|appeared|posted|\bran\b|permission|distributed|syndicated|provided by|produced|erschien|"
                   r"erstveröffentlichung|опубликован|source|quelle|fuente|fonte|источник|джерело|źródło|kaynak|"
                   r"bron|المصدر|منبع|מקור|स्रोत|来源|出典|출처|©|\(c\)|copyright")


def _hint_automaton() -> Any:
    """The literals of ``_HINT`` ("ran" standing for ``\bran\b``): one
    Aho-Corasick pass finds the rare line worth the alternation (an
    alternation of literals tries each of them at every position)."""
    auto = ahocorasick.Automaton()
    for word in _HINT.pattern.replace(r"\b", "").replace(r"\(", "(").replace(r"\)", ")").split("|"):
        auto.add_word(word, word)
    auto.make_automaton()
    return auto


_HINT_WORDS = _hint_automaton()


def _hinted(low: str) -> bool:
    """``_HINT.search(low)``, asked only of lines holding one of its literals."""
    for _ in _HINT_WORDS.iter(low):
        return _HINT.search(low) is not None
    return False


# Every phrasing, strong or weak, in one alternation: a line none of them
# matches names no source, settled in one call (the metadata scan asks it of a
# page's first and last lines, nearly all of them prose or furniture).
_ANY_NOTICE = re.compile("|".join(f"(?:{re.sub(r'[(][?]P<[a-z0-9]+>', '(?:', p.pattern)})" for p in (*_STRONG, *_WEAK)),
                         re.IGNORECASE).match


_PREFIX = 3  # characters of a line's start the notice test looks at


def _prefixes(items: Any, k: int = _PREFIX) -> tuple[set[str], set[str]] | None:
    """The lower-cased starts of the strings the parsed pattern ``items`` matches:
    ``(ends, starts)``, the whole strings shorter than ``k`` characters, and the
    first ``k`` characters of the others (fewer where what follows cannot be
    listed: a class, ``.``, a long repeat); None when its first character cannot be."""
    out = {""}  # what the items so far match, shorter than k and whole
    starts: set[str] = set()
    for op, av in items:
        if op is _C.AT:
            continue  # (zero-width)
        step = _item_prefixes(op, av, k)
        if step is None:  # not listable: every string so far is a start, open-ended
            if "" in out:
                return None
            return set(), starts | out
        ends, opened = step
        nxt: set[str] = set()
        for p in out:
            for q in opened:
                starts.add((p + q)[:k])
            for q in ends:
                (starts if len(p + q) >= k else nxt).add((p + q)[:k])
        out = nxt
        if not out:
            break
    return out, starts


def _item_prefixes(op: Any, av: Any, k: int) -> tuple[set[str], set[str]] | None:
    if op is _C.LITERAL:
        return {chr(av).lower()}, set()
    if op is _C.IN:
        chars: set[str] = set()
        for sub, val in av:
            if sub is _C.LITERAL:
                chars.add(chr(val).lower())
            elif sub is _C.RANGE and val[1] - val[0] < 64:
                chars.update(chr(c).lower() for c in range(val[0], val[1] + 1))
            else:
                return None
        return chars, set()
    if op is _C.SUBPATTERN and not (av[1] or av[2]):
        return _prefixes(av[3], k)
    if op is _C.BRANCH:
        parts = [_prefixes(p, k) for p in av[1]]
        if any(p is None for p in parts):
            return None
        return set().union(*(e for e, _ in parts)), set().union(*(o for _, o in parts))
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT) and av[1] <= 3:
        # (a short repeat as 0 to 3 copies of its item in a row)
        return _repeat(av, k)
    return None


def _repeat(av: Any, k: int) -> tuple[set[str], set[str]] | None:
    lo, hi, item = av
    ends: set[str] = {""} if lo == 0 else set()
    starts: set[str] = set()
    for n in range(1, hi + 1):
        got = _prefixes([(_C.SUBPATTERN, (None, 0, 0, item))] * n, k)
        if got is None:
            return None
        if n >= lo:
            ends |= got[0]
        starts |= got[1]
    return ends, starts


def _start_test(patterns: list[re.Pattern[str]]) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """(the k-character starts, the shorter open-ended ones) of every string one of
    ``patterns`` (anchored, case-insensitive) matches; None when they cannot be listed."""
    starts: set[str] = set()
    for p in patterns:
        got = _prefixes(_sre_parse.parse(p.pattern, p.flags))
        if got is None:
            return None
        starts |= got[0] | got[1]
    if any(not c.isascii() for s in starts for c in s if c.lower() in "sk" or c in "\u017f\u212a\u0130\u0131"):
        return None  # (case-insensitive matches across ASCII and not: left to the regex)
    return (frozenset(s for s in starts if len(s) == _PREFIX),
            tuple(sorted(s for s in starts if len(s) < _PREFIX)))


# The starts every notice has (a test of a line's first characters before the
# whole alternation: ~0.2 instead of ~1.2 us for a line of prose).
_NOTICE_STARTS = _start_test([*_STRONG, *_WEAK])


# The three-character starts of every notice, lower-cased, for a caller's own
# test of a line whose first three characters are ASCII (no shorter start is
# ASCII: such a line is a notice only if its start is among these); None when
# the starts cannot be listed (then every line may be one).
NOTICE_HEADS: frozenset[str] | None = (
    _NOTICE_STARTS[0] if _NOTICE_STARTS is not None and all(not p.isascii() for p in _NOTICE_STARTS[1]) else None)


def _may_be_notice(s: str) -> bool:
    """False only for a stripped line no phrasing of _STRONG or _WEAK matches
    (its first characters start none of them); lines whose first characters
    are not ASCII go to the regex (case-insensitive matching of other
    characters is left to it)."""
    head = s[:_PREFIX]
    if _NOTICE_STARTS is None or len(head) < _PREFIX or not head.isascii():
        return True
    head = head.lower()
    full, short = _NOTICE_STARTS
    return head in full or head.startswith(short)


_LEAD = re.compile(r"^(?:the (?:website|site|blog|magazine|newspaper|journal) )", re.IGNORECASE)
_NAME_WORD = re.compile(r"^[\w&'’./+:-]+$")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_ALNUM = re.compile(r"[\W_]+")


def clean_source(src: str) -> str | None:
    """The publisher's name out of the rest of a notice, or None when what is
    left does not look like a name (too long, a sentence)."""
    s = src.strip().strip("\"“”'«»")
    for _ in range(3):
        before = s
        for tail in _TAILS:
            s = tail.sub("", s).strip()
        if s == before:
            break
    s = _LEAD.sub("", s).strip().rstrip(".,;:!").strip().strip("\"“”'«»").strip()
    words = s.split()
    if not words or len(words) > 10 or len(s) > 90:
        return None
    if any(c in s for c in "!?") or re.search(r"\. [a-z]|, (?!(?:llc|inc|ltd|gmbh|s\.a)\b)[a-z]", s):
        return None  # a sentence goes on: not a name
    if s[0].isdigit() or _lower_cased(words[0]):
        return None  # "1851 by Harper", "the ministry": a year or a common noun, no publisher
    return s


_CONNECTORS = frozenset({"of", "the", "and", "for", "de", "la", "del", "der", "des", "du", "di", "&", "y", "et", "und",
                         "dpa", "epd", "apa", "kna"})  # the last: agencies that write their names in lower case


def _lower_cased(word: str) -> bool:
    """A word of a cased script written in lower case (not a name's word)."""
    c = word[0]
    return c.islower() and word.lower() not in _CONNECTORS and not re.match(r"[a-z0-9-]+\.[a-z]{2,}", word)


def _same_site(src: str, site: str) -> bool:
    a, b = _ALNUM.sub("", src.lower()), _ALNUM.sub("", site.lower())
    return bool(a and b) and (a in b or b in a)


def find_reprint(line: str, *, weak: bool = True, site: str = "") -> str | None:
    """The source a reprint notice line names, or None.

    ``weak`` also accepts ``Source: X`` and copyright lines, when X looks like a
    publisher's name and is not ``site``; a bare ``© Reuters`` (a photo
    credit: no year, no rights reserved) is not a notice."""
    src, strong = find_reprint_strength(line, weak=weak, site=site)
    return src


def find_reprint_strength(line: str, *, weak: bool = True, site: str = "") -> tuple[str | None, bool]:
    """``(source, strong)``: :func:`find_reprint` and whether the phrasing was a strong one."""
    s = line.strip()
    if not s or len(s) > 300:
        return None, False
    # (_may_be_notice, inlined: asked of every line near a page's top and bottom)
    head = s[:_PREFIX]
    if _NOTICE_STARTS is not None and len(head) == _PREFIX and head.isascii():
        head = head.lower()
        if head not in _NOTICE_STARTS[0] and not head.startswith(_NOTICE_STARTS[1]):
            return None, False
    return _strength(s, weak, site) if len(s) <= _REMEMBERED_CHARS else _strength.__wrapped__(s, weak, site)


# The short lines of a page's edges repeat across a site's pages (its footer,
# share rows, copyright): their answers are remembered, per process, the most
# recent ones only. Longer ones are mostly the article's own first and last
# paragraphs, seen once.
_REMEMBERED = 8192
_REMEMBERED_CHARS = 80


@lru_cache(maxsize=_REMEMBERED)
def _strength(s: str, weak: bool, site: str) -> tuple[str | None, bool]:
    """:func:`find_reprint_strength` of the stripped line ``s`` (1 to 300 characters)."""
    if not _ANY_NOTICE(s) or not _hinted(s.lower()):
        return None, False
    for pat in _STRONG:
        m = pat.match(s)
        if m:
            src = clean_source(m.group("src"))
            if src:
                return src, True
    if not weak:
        return None, False
    return _weak_source(s, site), False


def _weak_source(s: str, site: str) -> str | None:
    for k, pat in enumerate(_WEAK):
        m = pat.match(s)
        if not m:
            continue
        src = clean_source(_YEAR.sub("", m.group("src")).strip(" ,.-–"))
        if not src or not all(_NAME_WORD.match(w) for w in src.split()) or len(src.split()) > 6:
            continue
        if k == 1 and not (m.group("year") or m.group("year2") or re.search(r"all rights reserved", s, re.I)
                           or s.lower().startswith("copyright")):
            continue
        if any(_lower_cased(w) for w in src.split()):
            continue  # "Source: company reports": a description, not a publisher
        if site and _same_site(src, site):
            continue
        return src
    return None


# Wire agencies: their copyright line closing a story is the wire copy's own
# last line (the AEB annotators keep "© 2019 Associated Press. All Rights
# Reserved. This material may not be published..." below an AP story as its
# text), unlike a site's copyright in its footer.
_AGENCIES = frozenset({
    "associated press", "ap", "reuters", "thomson reuters", "agence france-presse", "agence france presse", "afp",
    "dpa", "deutsche presse-agentur", "xinhua", "xinhua news agency", "tass", "ria novosti", "interfax", "ansa",
    "efe", "agencia efe", "kyodo", "kyodo news", "yonhap", "yonhap news agency", "press trust of india", "pti",
    "united press international", "upi", "canadian press", "australian associated press", "aap",
    "anadolu agency", "anadolu", "europa press", "apa", "bernama", "antara", "pa media", "press association",
    "ani", "ians", "bloomberg", "bloomberg news", "ntb", "tt", "sda", "belga", "ctk", "pap", "mti", "bta",
})


def agency_copyright(line: str) -> str | None:
    """The wire agency a copyright line names ("© 2019 Associated Press. All
    Rights Reserved.", "Copyright 2024 The Associated Press."), or None."""
    s = line.strip()
    if not s or len(s) > 300:
        return None
    return _agency(s)


@lru_cache(maxsize=1024)  # a site's copyright footer, on every page of the site
def _agency(s: str) -> str | None:
    """:func:`agency_copyright` of the stripped line ``s`` (1 to 300 characters)."""
    if not _COPYRIGHT_HINT.search(s):
        return None
    m = _WEAK[1].match(s)
    if not m:
        return None
    src = clean_source(_YEAR.sub("", m.group("src")).strip(" ,.-–"))
    if not src:
        return None
    name = re.sub(r"^the\s+", "", src.lower()).rstrip(".")
    return src if name in _AGENCIES else None


_COPYRIGHT_HINT = re.compile(r"©|\(c\)|copyright", re.IGNORECASE)
