"""Per-site line statistics: which lines repeat across a site's articles.

Site headers and footers ("World News", "Back to top button", the site's
copyright) are the lines a site prints on every page. Phase A of the
boilerplate flow hashes every normalised line of every document
(:func:`site_and_line_keys`); the integrator folds those into a
:class:`SiteLineStats` that is persisted as Parquet and merged across
incremental runs; phase B asks :meth:`SiteLineStats.is_repeated`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import compress, repeat
from operator import and_, le, not_
from typing import Callable, Iterable, Sequence

import numpy as np
import pyarrow as pa
import xxhash

from ...document import Document

__all__ = ["line_key", "line_key_lower", "doc_site", "site_and_line_keys", "site_and_page_keys", "SiteLineStats", "RepetitionSettings",
           "split_title_suffix"]

_DIGITS = re.compile(r"\d+")
_DIGIT = re.compile(r"\d")
# "Headline - Site Name", "Headline | Site", "Headline — Site", or a bare trailing " |".
_SUFFIX = re.compile(r"^(?P<title>.+?)\s+(?:[|–—]|-{1,2})\s*(?P<site>[^|–—]{0,60}?)\s*$")
_SITE_WORD = re.compile(r"^(?:[A-Z0-9][\w'&.!-]*|[a-z0-9-]+\.[a-z]{2,}|of|the|and|for|de|la|el|al|&)$")


@dataclass(frozen=True)
class RepetitionSettings:
    """When a line counts as a site header/footer."""

    min_docs: int = 3  # seen in at least this many documents of the site
    min_share: float = 0.25  # and in at least this share of the site's documents
    # Syndication furniture and ad markers repeat across sites: a line seen on
    # at least this many sites (0 = off) ...
    cross_min_sites: int = 4
    cross_min_docs: int = 8  # ... in at least this many documents in all


def line_key(line: str) -> int:
    """Stable signed 64-bit key of a line: case, spacing and numbers ignored
    (so "© 2019 Site" and "© 2020 Site" are one footer). Signed so it fits int64."""
    return line_key_lower(line.lower())


def line_key_lower(s: str, _search=_DIGIT.search, _sub=_DIGITS.sub, _hash=xxhash.xxh64_intdigest) -> int:
    """:func:`line_key` of a line already lower-cased, stripped or not (the
    stage has the lines so for its rules: no second lower-casing)."""
    if _search(s):  # most lines hold no number: no substitution to pay for
        s = _sub("0", s)
    # split/join strips and collapses the same whitespace as re's \s (str.isspace)
    return _hash(" ".join(s.split()).encode("utf-8", "surrogatepass")) - (1 << 63)


def _least_count(min_docs: int, min_share: float, total: int) -> int | None:
    """The smallest count ``c`` with ``c >= min_docs`` and ``c / total >= min_share``
    (float division is monotonic in ``c``: a count passes both exactly when it is
    at least this one); None for thresholds a count of 0 or less may pass."""
    if min_docs < 1 or min_share <= 0:
        return None
    c = max(min_docs, int(min_share * total) - 1)
    while c / total < min_share:
        c += 1
    return c


def split_title_suffix(line: str) -> tuple[str, str | None]:
    """``("Headline", "Site")`` for a headline with a site suffix, else ``(line, None)``.

    A bare trailing ``|`` gives ``("Headline", "")``. The suffix must look like a
    name (capitalised words or a domain, at most six words), so "Talks - day two"
    is left alone.
    """
    s = line.strip()
    # (no separator, no suffix: most lines, answered without the regex's
    # backtracking over the whole line)
    m = _SUFFIX.match(s) if "|" in s or "-" in s or "–" in s or "—" in s else None
    if not m:
        return s, None
    title, site = m.group("title").strip(), m.group("site").strip()
    if not site:
        return title, ""
    words = site.split()
    if len(words) > 6 or not all(_SITE_WORD.match(w) for w in words) or not _SITE_WORD.match(words[0]):
        return s, None
    if len(title.split()) < 2:
        return s, None
    return title, site


def doc_site(doc: Document) -> str:
    """The document's site: JSONL ``site`` field, else the title suffix, else the
    first folder of its source path; "" when none is known."""
    site = doc.meta.get("site")
    if isinstance(site, str) and site.strip():
        return site.strip()
    for line in doc.text.split("\n", 5)[:5]:
        if line.strip():
            _, suffix = split_title_suffix(line)
            if suffix:
                return suffix
            break
    path = doc.source_path.split("#", 1)[0]
    if "/" in path:
        return path.split("/", 1)[0]
    return ""


def site_and_line_keys(doc: Document) -> tuple[str, set[int]]:
    """Phase A: the document's site and the keys of its distinct non-blank lines."""
    return site_and_page_keys(doc)[:2]


def site_and_page_keys(doc: Document) -> tuple[str, set[int], list[int]]:
    """:func:`site_and_line_keys` and the key of every line of ``doc.text.split("\\n")``
    (0 for a blank one): the keys the stage's ``PageLines`` asks for, which a run's
    prepare step lends to its finish step (``carried.py``)."""
    from .features import line_keys  # (features builds on this module)

    # One lower() for the text: each line's lower() and strip(), as line_key takes it.
    low = list(map(str.strip, doc.text.lower().split("\n")))
    keys = line_keys(low)
    return doc_site(doc), set(compress(keys, low)), keys


class SiteLineStats:
    """Per-site counts of documents containing each line key, plus documents per site."""

    def __init__(self, settings: RepetitionSettings = RepetitionSettings()) -> None:
        self.settings = settings
        # (Counters: add_all counts a document's keys with Counter.update, in C)
        self._lines: dict[str, Counter[int]] = defaultdict(Counter)
        self._docs: dict[str, int] = defaultdict(int)
        self._across: dict[int, tuple[int, int]] | None = None  # key -> (sites, docs), built on demand
        self._shared: frozenset[int] | None = None  # the keys is_shared says yes to, built on demand

    def add(self, site: str, keys: Iterable[int]) -> None:
        """Count one document of ``site`` holding ``keys`` (sites "" are not tracked)."""
        if not site:
            return
        self._across = self._shared = None
        self._docs[site] += 1
        counts = self._lines[site]
        for k in set(keys):
            counts[int(k)] += 1

    def add_all(self, found: Iterable[tuple[str, Iterable[int]]]) -> "SiteLineStats":
        """:meth:`add` of each ``(site, keys)`` of ``found`` (as phase A gives them:
        Python ints), the keys counted by ``Counter.update`` in C rather than a
        Python step per key (a batch's prepare step counts every line of every
        document); returns self."""
        self._across = self._shared = None
        docs, lines = self._docs, self._lines
        for site, keys in found:
            if site:  # sites "" are not tracked
                docs[site] += 1
                lines[site].update(set(keys))
        return self

    def add_documents(self, docs: Iterable[Document]) -> None:
        for doc in docs:
            self.add(*site_and_line_keys(doc))

    def merge(self, other: "SiteLineStats") -> "SiteLineStats":
        """Add ``other``'s counts into this one (in place); returns self."""
        self._across = self._shared = None
        for site, n in other._docs.items():
            self._docs[site] += n
        for site, counts in other._lines.items():
            mine = self._lines[site]
            for k, c in counts.items():
                mine[k] += c
        return self

    def n_docs(self, site: str) -> int:
        return self._docs.get(site, 0)

    def count(self, site: str, key: int) -> int:
        counts = self._lines.get(site)
        return counts.get(key, 0) if counts else 0

    def is_repeated(self, site: str, key: int) -> bool:
        """Is this line a header/footer of ``site`` (thresholds from the settings)?"""
        return self.repeated_test(site)(key)

    def repeated_test(self, site: str) -> Callable[[int], bool]:
        """:meth:`is_repeated` of ``site`` as a function of the key alone (the
        thresholds and the site's counts looked up once, for a page's lines)."""
        counts = self._lines.get(site) if site else None
        total = self._docs.get(site, 0)
        if not counts or total <= 0:
            return lambda key: False
        get, min_docs, min_share = counts.get, self.settings.min_docs, self.settings.min_share
        return lambda key: (c := get(key, 0)) >= min_docs and c / total >= min_share

    def repeated_flags(self, site: str, keys: Sequence[int], blank: Sequence[bool],
                       zero_blank: bool = False) -> list[bool]:
        """:meth:`is_repeated` of each key (False for blank lines), in one pass in C:
        each key's count against the smallest count that passes both thresholds.
        ``zero_blank``: the caller's blank lines have the key 0 (as line_keys gives them)."""
        counts = self._lines.get(site) if site else None
        total = self._docs.get(site, 0)
        if not counts or total <= 0:
            return [False] * len(keys)
        get, min_docs, min_share = counts.get, self.settings.min_docs, self.settings.min_share
        least = _least_count(min_docs, min_share, total)
        if least is None:  # (thresholds any count passes: as they are written)
            return [not b and (c := get(k, 0)) >= min_docs and c / total >= min_share for k, b in zip(keys, blank)]
        if zero_blank and 0 not in counts and len(keys) == len(blank):
            # The blank lines' key 0 is never counted (phase A counts the
            # non-blank lines' keys): its count 0 fails the threshold, so the
            # blank lines need no pass of their own.
            return list(map(le, repeat(least), map(get, keys, repeat(0))))
        return list(map(and_, map(le, repeat(least), map(get, keys, repeat(0))), map(not_, blank)))

    def shared_flags(self, keys: Sequence[int], blank: Sequence[bool]) -> list[bool]:
        """:meth:`is_shared` of each key (False for blank lines), in one pass in C."""
        st = self.settings
        if st.cross_min_sites <= 0:
            return [False] * len(keys)
        if self._shared is None:
            if self._across is None:
                self._across = self._count_across()
            min_sites, min_docs = st.cross_min_sites, st.cross_min_docs
            self._shared = frozenset(k for k, (sites, docs) in self._across.items()
                                     if sites >= min_sites and docs >= min_docs)
        shared = self._shared
        if shared.isdisjoint(keys):  # most pages: one set pass in C
            return [False] * len(keys)
        return list(map(and_, map(shared.__contains__, keys), map(not_, blank)))

    def is_shared(self, key: int) -> bool:
        """Is this line printed on many sites (``cross_min_sites`` sites and
        ``cross_min_docs`` documents)? Furniture of syndication and ad networks
        is; so is every line of an article reprinted that widely, which is why
        the stage asks for more than this."""
        st = self.settings
        if st.cross_min_sites <= 0:
            return False
        if self._across is None:
            self._across = self._count_across()
        sites, docs = self._across.get(key, (0, 0))
        return sites >= st.cross_min_sites and docs >= st.cross_min_docs

    def _count_across(self) -> dict[int, tuple[int, int]]:
        across: dict[int, tuple[int, int]] = {}
        for counts in self._lines.values():
            for k, c in counts.items():
                sites, docs = across.get(k, (0, 0))
                across[k] = (sites + 1, docs + c)
        return across

    # Arrow round trip: one row per (site, line_key); documents per site as rows
    # with line_key null, so a single Parquet file holds the whole state.
    SCHEMA = pa.schema([("site", pa.string()), ("line_key", pa.int64()), ("n_docs", pa.int64())])

    def to_arrow(self) -> pa.Table:
        """Each site, sorted: its document count (a null key), then its keys as
        first counted. Columns built in bulk (numpy), not three appends per row."""
        sites: list[str] = []
        keys: list[np.ndarray] = []
        n_docs: list[int] = []
        site_rows: list[int] = []  # where each site's row (its document count, a null key) is
        for site, total in sorted(self._docs.items()):
            counts = self._lines.get(site, {})
            site_rows.append(len(sites))
            sites.extend([site] * (len(counts) + 1))
            keys += [np.zeros(1, np.int64), np.fromiter(counts.keys(), np.int64, len(counts))]
            n_docs.append(total)
            n_docs.extend(counts.values())
        null = np.zeros(len(sites), bool)
        null[site_rows] = True
        return pa.table({"site": pa.array(sites, pa.string()),
                         "line_key": pa.array(np.concatenate(keys) if keys else np.zeros(0, np.int64), mask=null),
                         "n_docs": pa.array(n_docs, pa.int64())}, schema=self.SCHEMA)

    @classmethod
    def from_arrow(cls, table: pa.Table, settings: RepetitionSettings = RepetitionSettings()) -> "SiteLineStats":
        missing = {"site", "line_key", "n_docs"} - set(table.column_names)
        if missing:
            raise ValueError(f"site line stats table lacks column(s) {sorted(missing)}")
        out = cls(settings)
        for site, key, n in zip(table.column("site").to_pylist(), table.column("line_key").to_pylist(),
                                table.column("n_docs").to_pylist()):
            if site is None or n is None:
                continue
            if key is None:
                out._docs[site] += int(n)
            else:
                out._lines[site][int(key)] += int(n)
        return out

    def __len__(self) -> int:
        return sum(len(c) for c in self._lines.values())
