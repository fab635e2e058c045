"""Gazetteer of named entities: file format, loading, merging and the compiled matcher.

File format (TOML, UTF-8). Every table is optional; a file may hold only entities::

    [countries.AM]                 # words that show an article is about a country
    words = ["Armenia", "Armenian", "Armenians", "Yerevan"]

    [contexts.karabakh]            # a named context, shared by many entities
    countries = ["AM", "AZ"]       # ISO 3166-1 alpha-2 codes (their [countries] words count)
    topics = ["Nagorno-Karabakh", "Karabakh", "Artsakh"]

    [hints]                        # words near an unknown span that tell its type
    place = ["region", "regions", "district", "capital"]
    media = ["News Agency", "Agency"]

    [keep]                         # capitalised words that are right as written
    words = ["Azeri"]

    [[entity]]
    canonical = "Stepanakert"      # required
    type = "place"                 # place | person | organisation | media
    short = "Sarkissian"           # optional: preferred one-word form (surname)
    context = "karabakh"           # a [contexts] name or an inline {countries=[..], topics=[..]}
    variants = ["Khankendi"]       # legitimate other spellings: kept as written by default
    corruptions = ["Steppe cart"]  # known machine-translation damage: corrected
    rejected = ["Martigny"]        # spans that must never be corrected to this entity

Several files merge in order (the default one first): an ``[[entity]]`` with the
same ``canonical`` and ``type`` as an earlier one extends its lists and overrides
``short``/``context`` when given; named contexts, countries and hints merge by
name. ``ketl review`` appends such entries to the user's file, so decisions are
plain, diffable TOML.

An entity's context is *on topic* for an article when the article contains one of
its topic words; it is *near* when only a word of one of its countries occurs.
Known corruptions are corrected and names reported when near; a fuzzy guess is
applied only on topic (so an imported gazetteer without topics only ever makes
suggestions from unknown spans). An entity without a context is always on topic.
"""

from __future__ import annotations

import gzip
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import ahocorasick
import regex

__all__ = [
    "ENTITY_TYPES",
    "Context",
    "Entity",
    "Gazetteer",
    "CompiledGazetteer",
    "Match",
    "default_gazetteer_path",
    "toml_str",
    "entity_toml",
    "ordinary_words",
]

ENTITY_TYPES = ("place", "person", "organisation", "media")

# Surface kinds, in order of trust when one surface belongs to several entities.
KIND_CANONICAL, KIND_VARIANT, KIND_CORRUPTION = 0, 1, 2

_WORD_CHAR = regex.compile(r"[\p{L}\p{M}\p{N}]")
_TOKEN_SPLIT = regex.compile(r"[\s\-‐‑–]+")


@dataclass(frozen=True, slots=True)
class Context:
    countries: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


@dataclass(slots=True)
class Entity:
    canonical: str
    type: str
    short: str | None = None
    context: Context | str | None = None  # str: a named context, resolved at compile time
    variants: list[str] = field(default_factory=list)
    corruptions: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def preferred(self, surface: str) -> str:
        """The form a surface is corrected or canonicalised to.

        One-word surfaces of a many-word name (a surname) go to ``short`` when given.
        """
        if self.short and len(surface.split()) == 1 and len(self.canonical.split()) > 1:
            return self.short
        return self.canonical

    def names(self) -> list[str]:
        """Canonical, short and variants: the legitimate surfaces, no duplicates."""
        out = [self.canonical]
        if self.short:
            out.append(self.short)
        out.extend(self.variants)
        return list(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class Match:
    """An exact occurrence of a gazetteer surface in a text."""

    start: int
    end: int
    surface: str
    kind: int
    entities: tuple[int, ...]  # entity indexes sharing this surface and kind


def default_gazetteer_path() -> Path:
    return Path(str(resources.files("ketl") / "resources" / "gazetteer.toml"))


@lru_cache(maxsize=1)
def ordinary_words(rank: int = 12000) -> frozenset[str]:
    """The ``rank`` most frequent lowercase English words (wordninja's list).

    A capitalised word whose lowercase form is this common is taken as an ordinary
    word (a sentence start, a title), never as a damaged name.
    """
    import wordninja

    path = Path(wordninja.__file__).parent / "wordninja" / "wordninja_words.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        words = []
        for i, line in enumerate(fh):
            if i >= rank:
                break
            words.append(line.strip())
    return frozenset(words)


def _str_list(value: Any, where: str, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {key!r} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _context(value: Any, where: str) -> Context | str | None:
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        unknown = set(value) - {"countries", "topics"}
        if unknown:
            raise ValueError(f"{where}: unknown context key(s) {sorted(unknown)}")
        return Context(tuple(c.upper() for c in _str_list(value.get("countries"), where, "countries")),
                       tuple(_str_list(value.get("topics"), where, "topics")))
    raise ValueError(f"{where}: 'context' must be a context name or a table")


_ENTITY_KEYS = {"canonical", "type", "short", "context", "variants", "corruptions", "rejected"}


class Gazetteer:
    """Entities and their contexts, merged from one or more files."""

    def __init__(self) -> None:
        self.entities: list[Entity] = []
        self.contexts: dict[str, Context] = {}
        self.countries: dict[str, list[str]] = {}
        self.hints: dict[str, list[str]] = {}
        self.keep: list[str] = []
        self.sources: list[str] = []
        self._index: dict[tuple[str, str], int] = {}

    # -- loading ---------------------------------------------------------------------
    @classmethod
    def load(cls, paths: Sequence[Path | str] = (), include_default: bool = True) -> "Gazetteer":
        """Load and merge gazetteer files (the shipped default first).

        Raises ValueError naming the file and the entry for a bad file.
        """
        gaz = cls()
        files = ([default_gazetteer_path()] if include_default else []) + [Path(p) for p in paths]
        for path in files:
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ValueError(f"gazetteer file not found: {path}") from None
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ValueError(f"{path}: not a valid TOML gazetteer: {exc}") from None
            gaz.merge(data, origin=str(path))
        gaz.validate()
        return gaz

    def validate(self) -> None:
        """Check what only the merged whole can show (named contexts exist)."""
        for ent in self.entities:
            if isinstance(ent.context, str) and ent.context not in self.contexts:
                raise ValueError(f"entity {ent.canonical!r} ({ent.type}): unknown context "
                                 f"{ent.context!r} (define it in a [contexts.{ent.context}] table); "
                                 f"files: {', '.join(self.sources)}")

    @classmethod
    def from_toml(cls, text: str, origin: str = "<string>", include_default: bool = False) -> "Gazetteer":
        gaz = cls.load((), include_default=include_default)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{origin}: not a valid TOML gazetteer: {exc}") from None
        gaz.merge(data, origin=origin)
        gaz.validate()
        return gaz

    def merge(self, data: Mapping[str, Any], origin: str) -> None:
        """Merge one parsed file into this gazetteer (see the module doc)."""
        unknown = set(data) - {"countries", "contexts", "hints", "keep", "entity", "meta"}
        if unknown:
            raise ValueError(f"{origin}: unknown table(s) {sorted(unknown)}")
        for code, table in (data.get("countries") or {}).items():
            where = f"{origin}: [countries.{code}]"
            if not isinstance(table, Mapping):
                raise ValueError(f"{where} must be a table with 'words'")
            words = self.countries.setdefault(code.upper(), [])
            words.extend(w for w in _str_list(table.get("words"), where, "words") if w not in words)
        for name, table in (data.get("contexts") or {}).items():
            where = f"{origin}: [contexts.{name}]"
            if not isinstance(table, Mapping):
                raise ValueError(f"{where} must be a table")
            ctx = _context(table, where)
            assert isinstance(ctx, Context)
            self.contexts[name] = ctx
        for etype, words in (data.get("hints") or {}).items():
            if etype not in ENTITY_TYPES:
                raise ValueError(f"{origin}: [hints] unknown entity type {etype!r}")
            known = self.hints.setdefault(etype, [])
            known.extend(w for w in _str_list(words, f"{origin}: [hints]", etype) if w not in known)
        keep = data.get("keep") or {}
        self.keep.extend(_str_list(keep.get("words") if isinstance(keep, Mapping) else keep,
                                   f"{origin}: [keep]", "words"))
        entries = data.get("entity") or []
        if not isinstance(entries, list):
            raise ValueError(f"{origin}: 'entity' must be an array of tables ([[entity]])")
        for i, entry in enumerate(entries):
            self._merge_entity(entry, f"{origin}: entity #{i + 1}")
        self.sources.append(origin)
        self.__dict__.pop("compiled", None)

    def _merge_entity(self, entry: Any, where: str) -> None:
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: must be a table")
        canonical = entry.get("canonical")
        if not isinstance(canonical, str) or not canonical.strip():
            raise ValueError(f"{where}: 'canonical' (a non-empty string) is required")
        where = f"{where} ({canonical!r})"
        unknown = set(entry) - _ENTITY_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}")
        etype = entry.get("type", "place")
        if etype not in ENTITY_TYPES:
            raise ValueError(f"{where}: 'type' must be one of {', '.join(ENTITY_TYPES)}, not {etype!r}")
        short = entry.get("short")
        if short is not None and (not isinstance(short, str) or not short.strip()):
            raise ValueError(f"{where}: 'short' must be a non-empty string")
        context = _context(entry.get("context"), where)
        key = (canonical.strip(), etype)
        idx = self._index.get(key)
        if idx is None:
            self._index[key] = len(self.entities)
            ent = Entity(canonical=key[0], type=etype)
            self.entities.append(ent)
        else:
            ent = self.entities[idx]
        if short:
            ent.short = short.strip()
        if context is not None:
            ent.context = context
        for attr in ("variants", "corruptions", "rejected"):
            lst = getattr(ent, attr)
            lst.extend(v for v in _str_list(entry.get(attr), where, attr) if v not in lst)

    # -- queries ---------------------------------------------------------------------
    def find(self, canonical: str, etype: str | None = None) -> Entity | None:
        if etype is not None:
            idx = self._index.get((canonical, etype))
            return None if idx is None else self.entities[idx]
        for t in ENTITY_TYPES:
            idx = self._index.get((canonical, t))
            if idx is not None:
                return self.entities[idx]
        return None

    def entity_for_surface(self, surface: str) -> Entity | None:
        """The entity whose legitimate name is ``surface`` (first one if several)."""
        hit = self.compiled.surfaces.get(surface)
        if not hit:
            return None
        return self.entities[hit[0][1]]

    def protects(self, token: str) -> bool:
        """True when ``token`` is (part of) a gazetteer name or variant (case-insensitive)."""
        token = token.strip()
        return bool(token) and token.casefold() in self.compiled.protected

    @cached_property
    def compiled(self) -> "CompiledGazetteer":
        return CompiledGazetteer(self)

    def __len__(self) -> int:
        return len(self.entities)


class CompiledGazetteer:
    """The matchers built once from a gazetteer: one Aho-Corasick pass per use."""

    def __init__(self, gaz: Gazetteer) -> None:
        self.gaz = gaz
        self.entities = gaz.entities
        # surface -> [(kind, entity index)]
        surfaces: dict[str, list[tuple[int, int]]] = {}
        for i, ent in enumerate(gaz.entities):
            for s in ent.names():
                surfaces.setdefault(s, []).append((KIND_VARIANT if s != ent.canonical else KIND_CANONICAL, i))
            for s in ent.corruptions:
                surfaces.setdefault(s, []).append((KIND_CORRUPTION, i))
        self.surfaces = surfaces
        self.automaton = _automaton({s: s for s in surfaces})

        # Context words: one automaton; each context is (topic word ids, country word ids).
        words: dict[str, int] = {}
        self.entity_context: list[tuple[frozenset[int], frozenset[int]] | None] = []
        ctx_cache: dict[Context, tuple[frozenset[int], frozenset[int]]] = {}
        for ent in gaz.entities:
            ctx = ent.context
            if isinstance(ctx, str):
                if ctx not in gaz.contexts:
                    raise ValueError(f"entity {ent.canonical!r}: unknown context {ctx!r}")
                ctx = gaz.contexts[ctx]
            if ctx is None or (not ctx.countries and not ctx.topics):
                self.entity_context.append(None)
                continue
            ids = ctx_cache.get(ctx)
            if ids is None:
                country_terms = [t for code in ctx.countries
                                 for t in (gaz.countries.get(code) or _country_names(code))]
                ids = (frozenset(words.setdefault(t, len(words)) for t in ctx.topics),
                       frozenset(words.setdefault(t, len(words)) for t in country_terms))
                ctx_cache[ctx] = ids
            self.entity_context.append(ids)
        self.context_automaton = _automaton({w: (w, i) for w, i in words.items()})

        protected: set[str] = set()
        for s, entries in surfaces.items():
            if any(kind != KIND_CORRUPTION for kind, _ in entries):
                folded = s.casefold()
                protected.add(folded)
                parts = _TOKEN_SPLIT.split(folded)
                protected.update(t for t in parts if t)
                protected.add("".join(parts))
        self.protected = frozenset(protected)

        # Words never taken for damaged names: context words, [keep] and hint words.
        self.keep = frozenset(list(words) + gaz.keep)
        self.hints: dict[str, str] = {}
        for etype, hint_words in gaz.hints.items():
            for w in hint_words:
                self.hints.setdefault(w.casefold(), etype)
        self._fuzzy_index: dict[str, tuple[list[str], list[list[int]]]] | None = None

    # -- exact matching --------------------------------------------------------------
    def find_exact(self, text: str) -> list[Match]:
        """Leftmost-longest, whole-word occurrences of every gazetteer surface."""
        if not text or self.automaton is None:
            return []
        found: list[tuple[int, int, str]] = []
        for end_idx, surface in self.automaton.iter(text):
            end = end_idx + 1
            start = end - len(surface)
            if _is_boundary(text, start, end):
                found.append((start, end, surface))
        found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
        out: list[Match] = []
        last = 0
        for start, end, surface in found:
            if start < last:
                continue
            entries = self.surfaces[surface]
            kind = min(k for k, _ in entries)
            out.append(Match(start, end, surface, kind, tuple(i for k, i in entries if k == kind)))
            last = end
        return out

    def context_hits(self, text: str) -> frozenset[int]:
        if not text or self.context_automaton is None:
            return frozenset()
        hits = set()
        for end_idx, (surface, wid) in self.context_automaton.iter(text):
            if _is_boundary(text, end_idx + 1 - len(surface), end_idx + 1):
                hits.add(wid)
        return frozenset(hits)

    def fit(self, entity: int, hits: frozenset[int]) -> int:
        """How well an entity's context fits an article's context hits.

        2 (on topic): no context, or one of its topic words occurs; 1 (near): only
        a word of one of its countries occurs; 0: nothing. Fuzzy corrections need
        2, known corruptions and mentions 1 (see ketl.entities).
        """
        ctx = self.entity_context[entity]
        if ctx is None:
            return 2
        topics, countries = ctx
        if not topics.isdisjoint(hits):
            return 2
        return 0 if countries.isdisjoint(hits) else 1

    # -- fuzzy matching ---------------------------------------------------------------
    @property
    def fuzzy_index(self) -> dict[str, tuple[list[str], list[list[int]]]]:
        """First two letters (casefolded) -> (keys sorted by length, entities per key)."""
        if self._fuzzy_index is None:
            buckets: dict[str, dict[str, list[int]]] = {}
            for s, entries in self.surfaces.items():
                if len(s) < 4:
                    continue
                ents = [i for _, i in entries]
                bucket = buckets.setdefault(s[:2].casefold(), {})
                bucket.setdefault(s, []).extend(e for e in ents if e not in bucket.get(s, ()))
            index = {}
            for letter, bucket in buckets.items():
                keys = sorted(bucket, key=len)
                index[letter] = (keys, [bucket[k] for k in keys])
            self._fuzzy_index = index
        return self._fuzzy_index

    @lru_cache(maxsize=65536)
    def fuzzy_candidates(self, span: str, cutoff: float) -> tuple[tuple[str, float, tuple[int, ...]], ...]:
        """Gazetteer surfaces close to ``span`` (Jaro-Winkler >= cutoff), best first.

        Blocked on the first two letters (machine translation keeps the start of a
        name far more often than the rest, and Jaro-Winkler weighs the prefix) and
        on length (a 30 % length gap caps Jaro-Winkler below any useful cutoff),
        so a 200,000-name gazetteer costs a few hundred comparisons per span;
        results are cached across documents.
        """
        from rapidfuzz import process
        from rapidfuzz.distance import JaroWinkler

        if len(span) < 4:
            return ()
        block = self.fuzzy_index.get(span[:2].casefold())
        if block is None:
            return ()
        keys, ents = block
        n = len(span)
        lo = _bisect_len(keys, n - max(2, n * 3 // 10))
        hi = _bisect_len(keys, n + max(2, n * 3 // 10) + 1)
        if lo >= hi:
            return ()
        found = process.extract(span, keys[lo:hi], scorer=JaroWinkler.normalized_similarity,
                                score_cutoff=cutoff, limit=32)
        return tuple((key, float(score), tuple(ents[lo + idx])) for key, score, idx in found)


def _bisect_len(keys: list[str], length: int) -> int:
    lo, hi = 0, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(keys[mid]) < length:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _automaton(values: Mapping[str, Any]) -> ahocorasick.Automaton | None:
    """An Aho-Corasick automaton over the keys of ``values`` (None when empty)."""
    auto = ahocorasick.Automaton()
    for key, value in values.items():
        if key:
            auto.add_word(key, value)
    if len(auto) == 0:
        return None
    auto.make_automaton()
    return auto


def _is_boundary(text: str, start: int, end: int) -> bool:
    if start > 0 and _WORD_CHAR.match(text[start - 1]) and _WORD_CHAR.match(text[start]):
        return False
    if end < len(text) and _WORD_CHAR.match(text[end]) and _WORD_CHAR.match(text[end - 1]):
        return False
    return True


@lru_cache(maxsize=None)
def _country_names(code: str) -> tuple[str, ...]:
    """Fallback words for a country code without a [countries] table (pycountry, optional)."""
    try:
        import pycountry
    except ImportError:
        return ()
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return ()
    names = {country.name, getattr(country, "common_name", country.name)}
    return tuple(sorted(n for n in names if n))


# -- writing ------------------------------------------------------------------------
def toml_str(value: str) -> str:
    """A TOML basic string."""
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(toml_str(v) for v in values) + "]"


def entity_toml(canonical: str, etype: str, *, short: str | None = None,
                context: str | Context | None = None, variants: Sequence[str] = (),
                corruptions: Sequence[str] = (), rejected: Sequence[str] = (),
                comment: str | None = None) -> str:
    """One ``[[entity]]`` block, ready to append to a gazetteer file."""
    lines = []
    if comment:
        lines.extend(f"# {c}" for c in comment.splitlines())
    lines += ["[[entity]]", f"canonical = {toml_str(canonical)}", f"type = {toml_str(etype)}"]
    if short:
        lines.append(f"short = {toml_str(short)}")
    if isinstance(context, str):
        lines.append(f"context = {toml_str(context)}")
    elif isinstance(context, Context):
        lines.append(f"context = {{ countries = {_toml_list(context.countries)}, "
                     f"topics = {_toml_list(context.topics)} }}")
    for key, values in (("variants", variants), ("corruptions", corruptions), ("rejected", rejected)):
        if values:
            lines.append(f"{key} = {_toml_list(values)}")
    return "\n".join(lines) + "\n"
