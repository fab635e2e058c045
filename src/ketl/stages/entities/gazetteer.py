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
same ``canonical`` and ``type`` as an earlier one extends its lists, overrides
``short`` and *adds* its ``context`` (the entity then fits where any of its
contexts fits, so an imported place list never strips a curated entry of its
topic words); named contexts, countries and hints merge by name. ``ketl review`` appends such entries to the user's file, so decisions are
plain, diffable TOML.

An entity's context is *on topic* for an article when the article contains one of
its topic words; it is *near* when only a word of one of its countries occurs.
Known corruptions are corrected and names reported when near; a fuzzy guess is
applied only on topic (so an imported gazetteer without topics only ever makes
suggestions from unknown spans). An entity without a context is always on topic.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import pickle
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import ahocorasick
import numpy as np
import regex
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from ...atomic import atomic_path
from ...text.cache import cache_root

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
_TOKEN_SPLIT_NUL = regex.compile(r"[\s\-‐‑–\x00]+")
_TOKEN_SEP = regex.compile(r"[\s\-‐‑–]+")


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
    # Contexts given by later files for the same entity: it fits where any fits.
    more_contexts: list[Context | str] = field(default_factory=list)

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


# -- caches -----------------------------------------------------------------------
_CACHE_VERSION = 1  # bump when the cached form changes
DISK_CACHE_MIN_BYTES = 1 << 20  # smaller sets of files parse faster than a cache loads
_LOADED: dict[tuple, "Gazetteer"] = {}
_LOADED_MAX = 4


def cache_dir() -> Path:
    """Where parsed gazetteers are kept: the ``gazetteer`` folder of :func:`ketl.text.cache.cache_root`."""
    return cache_root() / "gazetteer"


def _cache_path(key: tuple) -> Path:
    return cache_dir() / (hashlib.sha256(repr(key).encode("utf-8", "surrogatepass")).hexdigest()[:32] + ".pickle")


def _write_disk_cache(gaz: "Gazetteer", key: tuple) -> None:
    """Columns of plain tuples and strings: they unpickle many times faster than TOML parses."""
    state = {
        "key": key,
        "entities": [(e.canonical, e.type, e.short, e.context, tuple(e.variants), tuple(e.corruptions),
                      tuple(e.rejected), tuple(e.more_contexts)) for e in gaz.entities],
        "contexts": gaz.contexts, "countries": gaz.countries, "hints": gaz.hints,
        "keep": gaz.keep, "sources": gaz.sources,
    }
    path = _cache_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:
        pass  # a cache that cannot be written only costs time


def _read_disk_cache(cls, key: tuple) -> "Gazetteer | None":
    path = _cache_path(key)
    try:
        with open(path, "rb") as fh:
            state = pickle.load(fh)
        if state.get("key") != key:
            return None
        gaz = cls()
        gaz.entities = [Entity(c, t, sh, ctx, list(v), list(co), list(r), list(m))
                        for c, t, sh, ctx, v, co, r, m in state["entities"]]
        gaz._index = {(e.canonical, e.type): i for i, e in enumerate(gaz.entities)}
        for attr in ("contexts", "countries", "hints", "keep", "sources"):
            setattr(gaz, attr, state[attr])
        return gaz
    except Exception:  # missing, truncated or from another version: parse the files
        return None


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
        # A gazetteer returned by load() shares its state (and compiled matcher)
        # with the per-process cache until something merges into it.
        self._template: Gazetteer | None = None

    # -- loading ---------------------------------------------------------------------
    @classmethod
    def load(cls, paths: Sequence[Path | str] = (), include_default: bool = True,
             cache: bool = True) -> "Gazetteer":
        """Load and merge gazetteer files (the shipped default first).

        Files are identified by path and sha256 of their bytes. With ``cache``,
        the merged gazetteer and its compiled matcher are kept per process, and a
        large set of files (``DISK_CACHE_MIN_BYTES``) is also kept parsed on disk
        (:func:`cache_dir`), so a 200,000-name gazetteer is parsed once, not per
        run. Raises ValueError naming the file and the entry for a bad file.
        """
        files = ([default_gazetteer_path()] if include_default else []) + [Path(p) for p in paths]
        blobs = []
        for path in files:
            try:
                blobs.append(path.read_bytes())
            except FileNotFoundError:
                raise ValueError(f"gazetteer file not found: {path}") from None
            except OSError as exc:
                raise ValueError(f"gazetteer file unreadable: {path}: {exc}") from None
        key = (cls.__name__, _CACHE_VERSION,
               tuple((str(p), hashlib.sha256(b).hexdigest()) for p, b in zip(files, blobs)))
        if cache:
            hit = _LOADED.get(key)
            if hit is not None:
                return hit._share()
        big = cache and sum(len(b) for b in blobs) >= DISK_CACHE_MIN_BYTES
        gaz = _read_disk_cache(cls, key) if big else None
        if gaz is None:
            gaz = cls()
            for path, blob in zip(files, blobs):
                try:
                    data = tomllib.loads(blob.decode("utf-8"))
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                    raise ValueError(f"{path}: not a valid TOML gazetteer: {exc}") from None
                gaz.merge(data, origin=str(path))
            gaz.validate()
            if big:
                _write_disk_cache(gaz, key)
        if not cache:
            return gaz
        while len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = gaz
        return gaz._share()

    def _share(self) -> "Gazetteer":
        """A new gazetteer over this one's state, compiled once for both."""
        twin = type(self)()
        for attr in ("entities", "contexts", "countries", "hints", "keep", "sources", "_index"):
            setattr(twin, attr, getattr(self, attr))
        twin.sources = list(self.sources)
        twin._template = self
        return twin

    def _unshare(self) -> None:
        """Copy the shared state before changing it (copy on write)."""
        if self._template is None:
            return
        self.entities = [Entity(e.canonical, e.type, e.short, e.context, list(e.variants),
                                list(e.corruptions), list(e.rejected), list(e.more_contexts))
                         for e in self.entities]
        self.contexts = dict(self.contexts)
        self.countries = {k: list(v) for k, v in self.countries.items()}
        self.hints = {k: list(v) for k, v in self.hints.items()}
        self.keep = list(self.keep)
        self._index = dict(self._index)
        self._template = None

    def validate(self) -> None:
        """Check what only the merged whole can show (named contexts exist)."""
        for ent in self.entities:
            for ctx in (ent.context, *ent.more_contexts):
                if isinstance(ctx, str) and ctx not in self.contexts:
                    raise ValueError(f"entity {ent.canonical!r} ({ent.type}): unknown context "
                                     f"{ctx!r} (define it in a [contexts.{ctx}] table); "
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
        self._unshare()
        self.__dict__.pop("compiled", None)
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
            # A later file adds its context instead of replacing the first: an
            # imported place list ("Martuni, Armenia") must not take the topic
            # words off a curated entry of the same name.
            if ent.context is None:
                ent.context = context
            elif context != ent.context and context not in ent.more_contexts:
                ent.more_contexts.append(context)
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
        return bool(token) and self.compiled.is_protected(token.casefold())

    @cached_property
    def compiled(self) -> "CompiledGazetteer":
        if self._template is not None:
            return self._template.compiled
        return CompiledGazetteer(self)

    def __len__(self) -> int:
        return len(self.entities)


def _collect_surfaces(gaz: Gazetteer) -> dict[str, list[tuple[int, int]]]:
    """Every name, variant and known corruption -> [(kind, entity index)]."""
    surfaces: dict[str, list[tuple[int, int]]] = {}
    get = surfaces.get
    for i, ent in enumerate(gaz.entities):
        canonical = ent.canonical
        lst = get(canonical)
        if lst is None:
            surfaces[canonical] = [(KIND_CANONICAL, i)]
        else:
            lst.append((KIND_CANONICAL, i))
        if ent.short or ent.variants:
            for s in ent.names()[1:]:
                lst = get(s)
                if lst is None:
                    surfaces[s] = [(KIND_VARIANT, i)]
                else:
                    lst.append((KIND_VARIANT, i))
        for s in ent.corruptions:
            lst = get(s)
            if lst is None:
                surfaces[s] = [(KIND_CORRUPTION, i)]
            else:
                lst.append((KIND_CORRUPTION, i))
    return surfaces


class CompiledGazetteer:
    """The matchers built once from a gazetteer: one Aho-Corasick pass per use.

    Everything a document needs per hit is a numpy array indexed by surface id,
    so the exact pass filters the automaton's hits (word boundaries, context
    fit) in bulk and the Python loop only sees the few hits that matter.
    """

    def __init__(self, gaz: Gazetteer) -> None:
        self.gaz = gaz
        self.entities = gaz.entities
        # surface -> [(kind, entity index)]
        self.surfaces = surfaces = _collect_surfaces(gaz)
        words: dict[str, int] = {}
        self._resolve_entity_contexts(gaz, words)
        self._merge_entity_contexts()
        self._index_context_words(words)
        self._index_surfaces(surfaces)
        # Surfaces are found from the text's words, not by scanning it with an
        # automaton: its short keys ("A", "Po", "Nov") hit inside most capitalised
        # words, those hits all fail the boundary check, and walking a million-node
        # trie costs more than the few dict lookups per capitalised word. A surface
        # that starts with a word character can only match where the text's
        # word equals its first word, and then its first two words (with what lies
        # between them) are the text's too: one-word surfaces are looked up whole,
        # the others by that two-word prefix (see _word_hits). The automaton keeps
        # the rare surfaces that start with punctuation.
        self._index_words()
        # Words never taken for damaged names: context words, [keep] and hint words.
        self.keep = frozenset(list(words) + gaz.keep)
        self.hints: dict[str, str] = {}
        for etype, hint_words in gaz.hints.items():
            for w in hint_words:
                self.hints.setdefault(w.casefold(), etype)
        # One-word hints, casefolded, for a substring pre-check (see hint_starts).
        self._hint_automaton = _automaton({w: len(w) for w in self.hints if " " not in w})
        self._fuzzy: _FuzzyIndex | None = None
        self._fuzzy_cache: dict[tuple[str, int, float], tuple] = {}

    def _resolve_entity_contexts(self, gaz: Gazetteer, words: dict[str, int]) -> None:
        """Context atoms of every entity; fills ``words`` (context word -> id).

        Contexts: one id per distinct context a file gave (an "atom"); an entity
        merged from several files has several and fits where any fits. The slot
        after the last id (``free``) stands for "fits everywhere" and is always 2.
        """
        ctx_ids: dict[Context, int] = {}
        self.context_words: list[tuple[frozenset[int], frozenset[int]]] = []
        atoms_of: list[tuple[int, ...]] = []
        # Most entities share a named context ("geo-am"): resolve each distinct one once.
        resolved_atoms: dict[tuple, tuple[int, ...]] = {}
        for ent in gaz.entities:
            rkey = (ent.context, *ent.more_contexts) if ent.more_contexts else ent.context
            known = resolved_atoms.get(rkey)
            if known is not None:
                atoms_of.append(known)
                continue
            resolved = _resolve_contexts(gaz, ent)
            if resolved is None:
                atoms_of.append(resolved_atoms.setdefault(rkey, ()))
                continue
            ids = []
            for ctx in resolved:
                cid = ctx_ids.get(ctx)
                if cid is None:
                    country_terms = [t for code in ctx.countries
                                     for t in (gaz.countries.get(code) or _country_names(code))]
                    cid = ctx_ids[ctx] = len(self.context_words)
                    self.context_words.append(
                        (frozenset(words.setdefault(t, len(words)) for t in ctx.topics),
                         frozenset(words.setdefault(t, len(words)) for t in country_terms)))
                if cid not in ids:
                    ids.append(cid)
            atoms_of.append(resolved_atoms.setdefault(rkey, tuple(ids)))
        self.n_contexts = free = len(self.context_words)
        self.entity_atoms = [atoms or (free,) for atoms in atoms_of]
        self.entity_ctx = np.fromiter((atoms[0] for atoms in self.entity_atoms), dtype=np.int32,
                                      count=len(self.entity_atoms))
        self._multi = {i: atoms for i, atoms in enumerate(self.entity_atoms) if len(atoms) > 1}

    def _merge_entity_contexts(self) -> None:
        """The words of each entity's contexts, for :meth:`fit` (None: fits everywhere)."""
        free = self.n_contexts
        self.entity_context: list[tuple[frozenset[int], frozenset[int]] | None] = []
        merged_context: dict[tuple[int, ...], tuple[frozenset[int], frozenset[int]] | None] = {}
        for atoms in self.entity_atoms:
            ctx = merged_context.get(atoms)
            if ctx is None and atoms not in merged_context:
                if atoms[0] == free:
                    ctx = None
                elif len(atoms) == 1:
                    ctx = self.context_words[atoms[0]]
                else:
                    ctx = (frozenset().union(*(self.context_words[a][0] for a in atoms)),
                           frozenset().union(*(self.context_words[a][1] for a in atoms)))
                merged_context[atoms] = ctx
            self.entity_context.append(ctx)

    def _index_context_words(self, words: dict[str, int]) -> None:
        # word id -> contexts it puts on topic / near
        self._topic_of: dict[int, list[int]] = {}
        self._country_of: dict[int, list[int]] = {}
        for cid, (topics, countries) in enumerate(self.context_words):
            for w in topics:
                self._topic_of.setdefault(w, []).append(cid)
            for w in countries:
                self._country_of.setdefault(w, []).append(cid)
        self.context_automaton = _automaton({w: (w, i) for w, i in words.items()})
        # Context words found from the text's word runs, as surfaces are (see _word_hits):
        # a word that starts and ends with a word character matches, on word boundaries,
        # only where a run of the text is its first run. The others keep an automaton.
        self._ctx_by_first: dict[str, list[tuple[str, int]]] = {}
        rest = {}
        for w, i in words.items():
            flags = _word_flags(w)[1:-1] if w else np.zeros(0, dtype=bool)
            if not len(flags) or not (flags[0] and flags[-1]):
                rest[w] = (w, i)
                continue
            first = int(np.argmin(flags)) if not flags.all() else len(w)
            self._ctx_by_first.setdefault(w[:first], []).append((w, i))
        self._ctx_keys = _lookup_keys(list(self._ctx_by_first))
        self._ctx_rest = _automaton(rest)

    def _index_surfaces(self, surfaces: dict[str, list[tuple[int, int]]]) -> None:
        """Per surface id: its text, length, the kind it counts as and the entities
        of that kind, and the set of their contexts (CSR over distinct sets)."""
        self.surface_list = list(surfaces)
        n_surf = len(self.surface_list)
        self.surface_len = np.fromiter((len(s) for s in self.surface_list), dtype=np.int32, count=n_surf)
        kinds = bytearray(n_surf)
        self.surface_entities: list[tuple[int, ...]] = []
        cset_ids: dict[tuple[int, ...], int] = {}
        csets: list[int] = []
        entity_atoms = self.entity_atoms
        ents_append, csets_append = self.surface_entities.append, csets.append
        for sid, entries in enumerate(surfaces.values()):
            if len(entries) == 1:
                kind, i = entries[0]
                ents: tuple[int, ...] = (i,)
                key = entity_atoms[i]
            else:
                kind = min(k for k, _ in entries)
                ents = tuple(dict.fromkeys(i for k, i in entries if k == kind))
                key = tuple(sorted({a for i in ents for a in entity_atoms[i]}))
            kinds[sid] = kind
            ents_append(ents)
            cs = cset_ids.get(key)
            if cs is None:
                cs = cset_ids[key] = len(cset_ids)
            csets_append(cs)
        self._kinds = bytes(kinds)  # each surface's kind, read per hit as Python ints
        self._surface_csets = csets
        flat, offsets = [], []
        for key in cset_ids:  # dicts keep insertion order: cset id == position
            offsets.append(len(flat))
            flat.extend(key)
        self._cset_flat = np.asarray(flat, dtype=np.int32)
        self._cset_offsets = np.asarray(offsets, dtype=np.int64)
        # A small gazetteer's context sets as lists (None past _FEW): read in Python per article.
        self._cset_lists = list(cset_ids) if len(flat) <= _FEW else None

    def _index_words(self) -> None:
        surface_list = self.surface_list
        word = _word_flags("\x00".join(surface_list))[1:-1] if surface_list else np.zeros(0, dtype=bool)
        self.word_sids: dict[str, int] = {}  # one-word surface -> id
        self._by_first: dict[str, list[int]] = {}  # first word -> ids of word + punctuation ("St.")
        self._by_two: dict[str, list[int]] = {}  # first two words -> ids of longer surfaces
        self._first_words: set[str] = set()  # first words of surfaces that are not one word
        rest = [""] * len(surface_list)
        if len(word):
            # Word runs of all surfaces at once: the run at each surface's start,
            # where it ends, and where the next run (the second word) ends.
            lens = np.fromiter(map(len, surface_list), dtype=np.int64, count=len(surface_list))
            off = np.concatenate(([0], np.cumsum(lens + 1)[:-1]))
            padded = np.concatenate(([False], word, [False]))
            edges = np.flatnonzero(padded[1:] != padded[:-1])
            rs, re_ = edges[0::2], edges[1::2]
            starts_word = word[np.minimum(off, len(word) - 1)] & (lens > 0)
            j0 = np.minimum(np.searchsorted(rs, off), max(len(rs) - 1, 0))
            end1 = (re_[j0] - off) if len(rs) else np.zeros_like(off)
            nxt = np.minimum(j0 + 1, max(len(rs) - 1, 0))
            has2 = (j0 + 1 < len(rs)) & (rs[nxt] < off + lens) if len(rs) else np.zeros_like(starts_word)
            end2 = np.where(has2, (re_[nxt] - off) if len(rs) else 0, 0)
            for sid, surface, sw, e1, h2, e2 in zip(range(len(surface_list)), surface_list, starts_word.tolist(),
                                                    end1.tolist(), has2.tolist(), end2.tolist()):
                if not sw:
                    rest[sid] = surface  # empty, or starts with punctuation: the automaton's
                    continue
                if e1 == len(surface):
                    self.word_sids[surface] = sid
                    continue
                w1 = surface[:e1]
                self._first_words.add(w1)
                if h2:
                    self._by_two.setdefault(surface[:e2], []).append(sid)
                else:
                    self._by_first.setdefault(w1, []).append(sid)
        # One lookup per word of the text: 2 * id + 1 when it is also a first
        # word, 2 * id when it is only a one-word surface, -1 when only a first word.
        self._run_lookup: dict[str, int] = {w: 2 * sid + (w in self._first_words)
                                            for w, sid in self.word_sids.items()}
        for w in self._first_words:
            self._run_lookup.setdefault(w, -1)
        # Their keys (see _run_keys), sorted: a text's words are screened in bulk.
        self._run_keys = _lookup_keys(list(self._run_lookup))
        self.automaton = _automaton(rest, ints=True)

    def hint_starts(self, text: str) -> list[int] | None:
        """Sorted starts of every one-word hint in ``text`` as a substring, any case.

        A superset of the hint words a run's neighbours can hold; None when it
        cannot be told cheaply (case folding changed the text's length).
        """
        if self._hint_automaton is None:
            return []
        folded = text.casefold()
        if len(folded) != len(text):
            return None
        return sorted(end + 1 - n for end, n in self._hint_automaton.iter(folded))

    @cached_property
    def key_screen(self) -> "KeyScreen":
        """The surfaces' words (:data:`_RUN_BIT`) and the context words (:data:`_CTX_BIT`)
        in one table, so that a text's runs are screened for both with one gather."""
        return KeyScreen({_RUN_BIT: self._run_keys, _CTX_BIT: self._ctx_keys})

    @cached_property
    def protected_hashes(self) -> np.ndarray:
        """Sorted hashes of the casefolded names and variants, their words and their
        words run together.

        Built on first use (the glued-word splitter asks), in bulk: one casefold
        and one split over all names joined. Hashes in a numpy array, not a set of
        a million strings: ~10 MB instead of ~120 MB for a 200,000-name gazetteer
        (str hashes are stable within a process, which is all this lives for).
        """
        names = [s for s, entries in self.surfaces.items()
                 if any(kind != KIND_CORRUPTION for kind, _ in entries) and "\x00" not in s]
        if not names:
            return np.zeros(0, dtype=np.int64)
        folded = "\x00".join(names).casefold()
        del names
        parts = (folded.split("\x00"), _TOKEN_SPLIT_NUL.split(folded),
                 _TOKEN_SEP.sub("", folded).split("\x00"))
        hashes = np.unique(np.concatenate([np.fromiter(map(hash, p), dtype=np.int64, count=len(p))
                                           for p in parts]))
        return hashes[hashes != hash("")]  # an empty token is never protected

    def is_protected(self, folded: str) -> bool:
        """Whether a casefolded token is a name, a variant, or a word of one."""
        arr = self.protected_hashes
        h = hash(folded)
        i = int(np.searchsorted(arr, h))
        return i < len(arr) and int(arr[i]) == h

    # -- context -----------------------------------------------------------------------
    def context_hits(self, text: str, runs: "TextRuns | None" = None) -> frozenset[int]:
        """Ids of the context words in ``text`` on word boundaries (``runs``: its
        :class:`TextRuns`, when the caller has them)."""
        if not text or self.context_automaton is None:
            return frozenset()
        hits = set()
        if self._ctx_by_first:
            runs = runs or TextRuns(text)
            word, by_first, rs, re_ = runs.word, self._ctx_by_first, runs.starts.item, runs.ends.item
            for i in runs.screened(self.key_screen, _CTX_BIT).tolist():
                s = rs(i)
                for w, wid in by_first.get(text[s:re_(i)], ()):
                    e = s + len(w)
                    if text.startswith(w, s) and not (word[e] and word[e + 1]):
                        hits.add(wid)
        if self._ctx_rest is not None:
            for end_idx, (surface, wid) in self._ctx_rest.iter(text):
                if _is_boundary(text, end_idx + 1 - len(surface), end_idx + 1):
                    hits.add(wid)
        return frozenset(hits)

    def context_levels(self, hits: frozenset[int]) -> np.ndarray:
        """Fit level (0, 1, 2) of every context id for an article's hits.

        The last slot stands for "no context" and is always 2 (on topic).
        """
        levels = np.zeros(self.n_contexts + 1, dtype=np.int8)
        levels[-1] = 2
        for w in hits:
            for c in self._country_of.get(w, ()):
                if levels[c] == 0:
                    levels[c] = 1
        for w in hits:
            for c in self._topic_of.get(w, ()):
                levels[c] = 2
        return levels

    def fit(self, entity: int, hits: frozenset[int]) -> int:
        """How well an entity's context fits an article's context hits.

        2 (on topic): no context, or one of its topic words occurs; 1 (near): only
        a word of one of its countries occurs; 0: nothing. Fuzzy corrections need
        2, known corruptions and mentions 1 (see ketl.stages.entities.stage).
        """
        ctx = self.entity_context[entity]
        if ctx is None:
            return 2
        topics, countries = ctx
        if not topics.isdisjoint(hits):
            return 2
        return 0 if countries.isdisjoint(hits) else 1

    def entity_level(self, entity: int, levels: np.ndarray) -> int:
        """:meth:`fit` read from :meth:`context_levels` (no set operations)."""
        atoms = self._multi.get(entity)
        if atoms is None:
            return int(levels[self.entity_ctx[entity]])
        return int(max(levels[a] for a in atoms))

    # -- exact matching --------------------------------------------------------------
    def _word_hits(self, text: str, runs: "TextRuns") -> tuple[list[int], list[int], list[int]]:
        """Whole words of ``text`` that are one-word surfaces: (starts, ends, surface ids).

        A one-word surface passes the boundary check exactly where it is a whole
        run of word characters, so the runs are cut in bulk and only those whose
        key (:func:`_run_keys`) is a surface's or a first word's are looked up.
        """
        if not self.word_sids and not self._first_words:
            return [], [], []
        # Most words are no surface: their keys, looked up in bulk, leave the dict lookups
        # below to the few (3 of 640 words an article) that can be one.
        idx = runs.screened(self.key_screen, _RUN_BIT).tolist()
        rs, re_, word = runs.starts.item, runs.ends.item, runs.word
        get = self._run_lookup.get
        hs, he, hid = [], [], []
        later = []
        for i in idx:
            s, e = rs(i), re_(i)
            w = text[s:e]
            code = get(w)
            if code is None:
                continue
            if code >= 0:
                hs.append(s)
                he.append(e)
                hid.append(code >> 1)
            if code & 1 or code == -1:
                later.append((i, s, w))
        if later:
            # Surfaces of several words: candidates by the text's first two words,
            # then the whole surface compared in place, and its end boundary checked.
            surface_list, by_first, by_two = self.surface_list, self._by_first, self._by_two
            last = len(runs.starts) - 1
            for i, s, w in later:
                cands = by_first.get(w, ())
                if i < last:
                    two = by_two.get(text[s:re_(i + 1)])
                    if two:
                        cands = [*cands, *two]
                for sid in cands:
                    surface = surface_list[sid]
                    e = s + len(surface)
                    if text.startswith(surface, s) and not (word[e] and word[e + 1]):
                        hs.append(s)
                        he.append(e)
                        hid.append(sid)
        return hs, he, hid

    def find_exact(self, text: str, levels: np.ndarray | None = None,
                   runs: "TextRuns | None" = None) -> list[Match]:
        """Leftmost-longest, whole-word occurrences of every gazetteer surface.

        With ``levels`` (see :meth:`context_levels`), only known corruptions and
        names of an entity whose context fits the article are kept, *before* the
        leftmost-longest choice: a name from another part of the world never
        hides a shorter local one. ``runs``: the text's :class:`TextRuns`, when the caller has them.
        """
        if not text or not self.surface_list:
            return []
        runs = runs or TextRuns(text)
        word = runs.word
        starts, ends, sids = self._word_hits(text, runs)
        raw = list(self.automaton.iter(text)) if self.automaton is not None else ()
        if raw:
            arr = np.asarray(raw, dtype=np.int64)
            a_sids = arr[:, 1]
            a_ends = arr[:, 0] + 1
            a_starts = a_ends - self.surface_len[a_sids]
            ok = _boundaries(word, a_starts, a_ends)
            starts = starts + a_starts[ok].tolist()
            ends = ends + a_ends[ok].tolist()
            sids = sids + a_sids[ok].tolist()
        if not sids:
            return []
        # A few hits an article: plain Python, where numpy's per-call cost was most of it.
        kinds = self._kinds
        if levels is not None:
            fits = self._cset_fits(levels)
            csets = self._surface_csets
            hits = [(s, s - e, k) for k, (s, e, sid) in enumerate(zip(starts, ends, sids))
                    if fits[csets[sid]] or kinds[sid] == KIND_CORRUPTION]
        else:
            hits = [(s, s - e, k) for k, (s, e) in enumerate(zip(starts, ends))]
        # Leftmost, then longest, then in the order found (what a stable lexsort gave).
        hits.sort()
        out: list[Match] = []
        last = 0
        surface_list, ents = self.surface_list, self.surface_entities
        for start, neg_len, k in hits:
            if start < last:
                continue
            sid = sids[k]
            last = start - neg_len
            out.append(Match(start, last, surface_list[sid], kinds[sid], ents[sid]))
        return out

    def _cset_fits(self, levels: np.ndarray) -> list[bool]:
        """Per context set: whether any of its contexts fits (level > 0) for ``levels``."""
        if self._cset_lists is not None:
            # A few context sets (ketl's own gazetteer has two): numpy's per-call cost was most of it.
            lv = levels.tolist()
            return [any(lv[c] for c in key) for key in self._cset_lists]
        return (np.maximum.reduceat(levels[self._cset_flat], self._cset_offsets) > 0).tolist()

    # -- fuzzy matching ---------------------------------------------------------------
    @property
    def fuzzy_index(self) -> "_FuzzyIndex":
        if self._fuzzy is None:
            self._fuzzy = _FuzzyIndex(self)
        return self._fuzzy

    def fitting_contexts(self, levels: np.ndarray, min_level: int = 1) -> list[int]:
        """Context ids of the fuzzy index that fit an article at ``min_level`` or better."""
        index = self.fuzzy_index
        if len(index.contexts) <= _FEW:  # as in _cset_fits: a few contexts are read in Python
            lv = levels.tolist()
            return [c for c in index.contexts if lv[c] >= min_level]
        return index.contexts_arr[levels[index.contexts_arr] >= min_level].tolist()

    def fuzzy_candidates(self, span: str, cutoff: float, levels: np.ndarray | None = None,
                         contexts: Sequence[int] | None = None
                         ) -> tuple[tuple[str, float, tuple[int, ...]], ...]:
        """Gazetteer surfaces close to ``span`` (Jaro-Winkler >= cutoff), best first.

        Blocked on context, on the first two letters (machine translation keeps
        the start of a name far more often than the rest, and Jaro-Winkler weighs
        the prefix) and on length (a 30 % length gap caps Jaro-Winkler below any
        useful cutoff). With ``levels`` only entities whose context fits the
        article (level >= 1) are searched, so a 200,000-name gazetteer costs a
        few dozen comparisons per span. Results are cached per (span, context).
        """
        if len(span) < 4:
            return ()
        index = self.fuzzy_index
        if contexts is None:
            contexts = index.contexts if levels is None else self.fitting_contexts(levels)
        prefix = span[:2].casefold()
        blocks = index.blocks
        cache = self._fuzzy_cache
        hits = []
        for c in contexts:
            if (c, prefix) not in blocks:
                continue
            key = (span, c, cutoff)
            hit = cache.get(key)
            if hit is None:
                if len(cache) > 500_000:
                    cache.clear()
                hit = cache[key] = index.search(span, c, cutoff)
            if hit:
                hits.append(hit)
        if not hits:
            return ()
        if len(hits) == 1:
            return hits[0]
        # The same name may sit in several contexts' blocks: one row per name.
        merged: dict[str, tuple[float, tuple[int, ...]]] = {}
        for hit in hits:
            for name, score, ents in hit:
                old = merged.get(name)
                merged[name] = (score, ents if old is None else tuple(dict.fromkeys(old[1] + ents)))
        return tuple(sorted(((k, sc, e) for k, (sc, e) in merged.items()), key=lambda t: -t[1]))


class _FuzzyIndex:
    """Names of length >= 4, sorted by (context, first two letters, length).

    ``blocks[(context, prefix)]`` is the (lo, hi) range of those rows; the keys,
    their lengths and entities are parallel sequences. Context ``-1`` of the
    gazetteer maps to ``n_contexts`` here, like the fit-level arrays.
    """

    def __init__(self, cg: CompiledGazetteer) -> None:
        # Flat columns and one numpy sort: no per-row tuples to build and compare.
        ctx_col: list[int] = []
        keys: list[str] = []
        ents_col: list[tuple[int, ...]] = []
        entity_atoms = cg.entity_atoms
        for s, entries in cg.surfaces.items():
            if len(s) < 4:
                continue
            if len(entries) == 1:
                i = entries[0][1]
                atoms = entity_atoms[i]
                if len(atoms) == 1:
                    ctx_col.append(atoms[0])
                    keys.append(s)
                    ents_col.append((i,))
                    continue
            by_ctx: dict[int, list[int]] = {}
            for _, i in entries:
                for c in entity_atoms[i]:
                    lst = by_ctx.setdefault(c, [])
                    if i not in lst:
                        lst.append(i)
            for c, ents in by_ctx.items():
                ctx_col.append(c)
                keys.append(s)
                ents_col.append(tuple(ents))
        prefix_ids: dict[str, int] = {}
        pfx = np.fromiter((prefix_ids.setdefault(k[:2].casefold(), len(prefix_ids)) for k in keys),
                          dtype=np.int64, count=len(keys))
        lens = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
        ctx = np.asarray(ctx_col, dtype=np.int64)
        order = np.lexsort((lens, pfx, ctx))
        self.keys = [keys[i] for i in order.tolist()]
        self.lengths = lens[order].tolist()  # bisect on a list beats numpy for one value
        self.entities = [ents_col[i] for i in order.tolist()]
        ctx, pfx = ctx[order], pfx[order]
        self.blocks: dict[tuple[int, str], tuple[int, int]] = {}
        if len(order):
            cut = np.flatnonzero((ctx[1:] != ctx[:-1]) | (pfx[1:] != pfx[:-1])) + 1
            starts = np.concatenate(([0], cut)).tolist()
            ends = np.concatenate((cut, [len(order)])).tolist()
            prefixes = list(prefix_ids)
            for lo, hi, c, p in zip(starts, ends, ctx[starts].tolist(), pfx[starts].tolist()):
                self.blocks[(c, prefixes[p])] = (lo, hi)
        self.contexts = np.unique(ctx).tolist()
        self.contexts_arr = np.asarray(self.contexts, dtype=np.int64)

    def search(self, span: str, context: int, cutoff: float) -> tuple[tuple[str, float, tuple[int, ...]], ...]:
        block = self.blocks.get((context, span[:2].casefold()))
        if block is None:
            return ()
        lo, hi = block
        n = len(span)
        gap = max(2, n * 3 // 10)
        lens = self.lengths
        a = bisect.bisect_left(lens, n - gap, lo, hi)
        b = bisect.bisect_right(lens, n + gap, lo, hi)
        if a >= b:
            return ()
        found = process.extract(span, self.keys[a:b], scorer=JaroWinkler.normalized_similarity,
                                score_cutoff=cutoff, limit=32)
        return tuple((key, float(score), self.entities[a + idx]) for key, score, idx in found)


def _resolve_contexts(gaz: Gazetteer, ent: Entity) -> list[Context] | None:
    """The entity's contexts, resolved; None when it fits everywhere."""
    found: list[Context] = []
    for ctx in (ent.context, *ent.more_contexts):
        if isinstance(ctx, str):
            if ctx not in gaz.contexts:
                raise ValueError(f"entity {ent.canonical!r}: unknown context {ctx!r}")
            ctx = gaz.contexts[ctx]
        if ctx is None or (not ctx.countries and not ctx.topics):
            return None  # fits everywhere, whatever else it was given
        found.append(ctx)
    return found


@lru_cache(maxsize=1)
def _word_table() -> np.ndarray:
    """Whether each BMP code point is a word character (letter, mark or digit)."""
    table = np.zeros(0x10000, dtype=bool)
    bmp = "".join(chr(c) if not 0xD800 <= c < 0xE000 else " " for c in range(0x10000))
    for m in regex.finditer(r"[\p{L}\p{M}\p{N}]+", bmp):
        table[m.start():m.end()] = True
    return table


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _word_flags(text: str, cps: np.ndarray | None = None) -> np.ndarray:
    """Whether each character of ``text`` is a word character, padded with False
    on both sides (``flags[k + 1]`` is ``text[k]``)."""
    if cps is None:
        cps = _code_points(text)
    table = _word_table()
    word = np.zeros(len(cps) + 2, dtype=bool)
    # The method: np.take's wrapper layers cost more than the gather. "clip" reads an
    # astral code point as U+FFFF (no word character), answered below: a plain gather
    # still, where a mask of the BMP ones took twice as long (qe-10).
    table.take(cps, out=word[1:-1], mode="clip")
    if len(cps) and cps.max() >= 0x10000:
        # Astral characters: letters of other scripts or emoji; ask the regex for them.
        for i in np.flatnonzero(cps >= 0x10000).tolist():
            word[i + 1] = bool(_WORD_CHAR.match(text[i]))
    return word


class TextRuns:
    """The runs of word characters of one text, cut once for the context words and the
    surfaces: ``word`` (:func:`_word_flags`), run ``starts`` and ``ends`` and their
    :func:`_run_keys` (arrays: a text's few candidate runs are read with ``.item``)."""

    __slots__ = ("word", "starts", "ends", "keys", "_flags", "_flags_of", "_hits")

    def __init__(self, text: str) -> None:
        cps = _code_points(text)
        self.word = word = _word_flags(text, cps)
        # .nonzero()[0] of a 1-D array is np.flatnonzero without its ravel and wrapper calls
        edges = (word[1:] != word[:-1]).nonzero()[0]
        self.starts, self.ends = edges[0::2], edges[1::2]
        self.keys = _run_keys(cps, self.starts, self.ends)
        self._flags: np.ndarray | None = None
        self._flags_of: KeyScreen | None = None
        self._hits: dict[int, np.ndarray] | None = None  # screened() answers, when cut in a batch

    @classmethod
    def of_batch(cls, texts: Sequence[str], screen: "KeyScreen | None" = None) -> list["TextRuns"]:
        """``[TextRuns(t) for t in texts]``, cut in one pass over the texts joined by NULs
        (``screen``: the key screen whose :meth:`screened` answers are cut then too).

        A NUL is no word character, so no run crosses from one text to the next and each
        text's runs, keys and flags are its slice of the joined ones. It saves the fixed
        cost of some twenty numpy calls per text: about a tenth of building them one
        text at a time (2,000 bench articles: 0.034-0.037 against 0.039-0.040 ms each, qe-10)."""
        if not texts:
            return []
        lens = [len(t) for t in texts]
        joined = "\x00".join(texts)
        cps = _code_points(joined)
        word = _word_flags(joined, cps)
        edges = (word[1:] != word[:-1]).nonzero()[0]
        starts, ends = edges[0::2], edges[1::2]
        keys = _run_keys(cps, starts, ends)
        offsets = [0] * len(texts)
        for i in range(1, len(texts)):
            offsets[i] = offsets[i - 1] + lens[i - 1] + 1
        bounds = np.searchsorted(starts, offsets).tolist() + [len(starts)]
        flags, hits, cuts = None, {}, {}
        if screen is not None:
            flags = screen.flags(keys)
            for bit in (_RUN_BIT, _CTX_BIT):
                hits[bit] = (flags & bit).nonzero()[0]
                cuts[bit] = np.searchsorted(hits[bit], bounds).tolist()
        out = []
        for i, at in enumerate(offsets):
            a, b = bounds[i], bounds[i + 1]
            runs = cls.__new__(cls)
            runs.word = word[at:at + lens[i] + 2]
            runs.starts, runs.ends, runs.keys = starts[a:b] - at, ends[a:b] - at, keys[a:b]
            runs._flags_of = screen
            runs._flags = None if flags is None else flags[a:b]
            runs._hits = {bit: h[cuts[bit][i]:cuts[bit][i + 1]] - a for bit, h in hits.items()} or None
            out.append(runs)
        return out

    def screen(self, keys: np.ndarray) -> np.ndarray:
        """Indices of the runs whose key is in the sorted ``keys``: every run equal to
        one of the words ``keys`` were made from, and rarely another."""
        at = np.minimum(np.searchsorted(keys, self.keys), len(keys) - 1)
        return (keys[at] == self.keys).nonzero()[0]

    def screened(self, screen: "KeyScreen", bit: int) -> np.ndarray:
        """Indices of the runs that may be in ``screen``'s word set ``bit``: every run
        equal to one of its words, and a few others (a superset of :meth:`screen`'s,
        the caller's dict lookup decides). The table is read once per text for
        every set: the context words and the surfaces cost one gather, not two
        binary searches of every run (a fifth of the stage)."""
        if self._flags_of is not screen:
            self._flags, self._flags_of, self._hits = screen.flags(self.keys), screen, None
        elif self._hits is not None and bit in self._hits:
            return self._hits[bit]
        return (self._flags & bit).nonzero()[0]


# Context ids up to which per-article context reads are plain Python, not numpy calls.
_FEW = 64
_RUN_BIT, _CTX_BIT = 1, 2  # the word sets of CompiledGazetteer.key_screen
_SLOT_MIX = np.uint64(0xD6E8FEB86659FD93)  # odd: spreads the structured keys over the slots


class KeyScreen:
    """Word sets as one table of bit flags, indexed by a hash of the :func:`_run_keys` key:
    a run whose slot has a set's bit may be in that set, one whose slot lacks it is not.

    About 64 slots a key (at most 2**22 slots, 4 MB): few runs pass that are in no set."""

    __slots__ = ("shift", "table")

    def __init__(self, sets: dict[int, np.ndarray]) -> None:
        n = sum(len(k) for k in sets.values())
        bits = min(max(12, (n * 64).bit_length()), 22)
        self.shift = np.uint64(64 - bits)
        self.table = np.zeros(1 << bits, dtype=np.uint8)
        for bit, keys in sets.items():
            self.table[self._slots(keys)] |= np.uint8(bit)

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        # Arrays wrap silently (only numpy scalars warn): no np.errstate, whose context
        # switch cost more per text than the product itself.
        slots = keys * _SLOT_MIX
        slots >>= self.shift
        return slots

    def flags(self, keys: np.ndarray) -> np.ndarray:
        """The set bits of each key's slot."""
        return self.table[self._slots(keys)]


_KEY_MIX = np.uint64(0x9E3779B97F4A7C15)
_SHIFT21 = np.uint64(21)


def _run_keys(cps: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A uint64 key per non-empty run ``cps[start:end]``: its first, second and last code
    points and its length. Equal runs have equal keys (unequal ones rarely do)."""
    # (c0 << 42 | c1 << 21 | cl) ^ (length * _KEY_MIX), built in one array: code points
    # hold 21 bits, so the shifted fields never overlap. Array products wrap silently.
    key = cps[starts].astype(np.uint64)
    key <<= _SHIFT21
    key |= cps[np.minimum(starts + 1, ends - 1)]
    key <<= _SHIFT21
    key |= cps[ends - 1]
    n = (ends - starts).astype(np.uint64)
    n *= _KEY_MIX
    key ^= n
    return key


def _lookup_keys(words: list[str]) -> np.ndarray:
    """Sorted :func:`_run_keys` of non-empty ``words`` (at least one key)."""
    if not words:
        return np.zeros(1, dtype=np.uint64)  # searchsorted needs one key; a run keyed 0 costs one dict miss
    cps = _code_points("\x00".join(words))
    lens = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    starts = np.concatenate(([0], np.cumsum(lens + 1)[:-1]))
    return np.unique(_run_keys(cps, starts, starts + lens))


def _boundaries(word: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_is_boundary` for many (start, end) pairs, over :func:`_word_flags`."""
    bad_start = word[starts] & word[starts + 1]
    bad_end = word[ends] & word[ends + 1]
    return ~(bad_start | bad_end)


def _automaton(values: Mapping[str, Any] | Sequence[str], ints: bool = False) -> ahocorasick.Automaton | None:
    """An Aho-Corasick automaton over the keys of ``values`` (None when empty).

    With ``ints``, ``values`` is a sequence and each key's value its position,
    stored as a plain integer (less memory, faster to build).
    """
    if ints:
        auto = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        add = auto.add_word
        for sid, key in enumerate(values):
            if key:
                add(key, sid)
    else:
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
