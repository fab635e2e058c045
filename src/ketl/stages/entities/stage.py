"""The entity stage: repair machine-translated names from a gazetteer.

Per document, in this order:

1. one Aho-Corasick pass finds every known surface (names, variants, known
   corruptions) and one more finds the context words (countries, topics);
2. a known corruption whose entity's context fits the article (a topic or a
   country word) is corrected
   (rule ``entity.corruption``); a variant is kept as written unless
   ``canonicalize_variants`` is set (rule ``entity.canonicalize``);
3. unknown capitalised spans are scored against gazetteer names with
   Jaro-Winkler, adjusted by context: ``+hint_bonus`` when a neighbouring word
   tells the entity's type ("regions", "News Agency", "President"),
   ``+mention_bonus`` for a person named elsewhere in the article (a surname
   after the full name), ``-context_penalty / 2`` when the entity's context fits
   only by country. Entities whose context does not fit at all are never
   candidates; one that fits only by country needs a type hint
   (``near_needs_hint``); an on-topic candidate beats a closer near one, and a
   hinted one a closer one of another type. At or above ``threshold``, and when a topic word of the entity's
   context occurs in the article, the fix is applied (rule ``entity.fuzzy``);
   from ``suggest_threshold`` a :class:`~ketl.document.Suggestion` is recorded
   for ``ketl review`` instead. Spans made of common English words (sentence
   starts, titles) are never corrected, at most suggested.
4. mentions of gazetteer names are located in the text as it leaves the stage.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

import pyarrow as pa
import regex
from rapidfuzz.distance import JaroWinkler

from ...document import Change, Document, EntityMention, Suggestion, apply_changes
from ...schemas import ENTITIES, SUGGESTIONS, items_table
from .gazetteer import KIND_CORRUPTION, CompiledGazetteer, Gazetteer, TextRuns, ordinary_words

if TYPE_CHECKING:
    import numpy as np

    from .. import StageResources

__all__ = [
    "EntitySettings",
    "resolve_entities",
    "resolve_document",
    "run",
    "ENTITIES_SCHEMA",
    "SUGGESTIONS_SCHEMA",
    "entities_table",
    "suggestions_table",
    "warm_up",
]

STAGE = "entities"  # "entity" in 0.2 datasets


@dataclass(frozen=True)
class EntitySettings:
    """Settings of the entity stage (``[entities]`` in the config)."""

    threshold: float = 0.88  # fuzzy score at or above which a correction is applied
    suggest_threshold: float = 0.80  # from here up to threshold: a suggestion for review
    canonicalize_variants: bool = False  # rewrite legitimate variants to the canonical form
    fuzzy: bool = True  # score unknown capitalised spans against the gazetteer
    hint_bonus: float = 0.05  # added when a neighbouring word tells the type ("regions", "President")
    mention_bonus: float = 0.10  # added for a person named in full elsewhere in the article
    context_penalty: float = 0.20  # half of it off a candidate whose context fits only by country
    near_needs_hint: bool = True  # a candidate that fits only by country needs a type hint too
    ordinary_rank: int = 12000  # words among the N most frequent English words are ordinary
    min_span_length: int = 4  # shorter spans are never candidates
    min_fix_length: int = 6  # shorter spans are at most suggested (Imran/Iran, Turki/Turkey)
    context_chars: int = 60  # characters each side kept in a suggestion's context
    gazetteers: tuple[str, ...] = ()  # user gazetteer files, merged after the default one
    include_default: bool = True  # load ketl's own gazetteer besides the user's


# The table contracts live with the others in ketl.schemas.
ENTITIES_SCHEMA = ENTITIES
SUGGESTIONS_SCHEMA = SUGGESTIONS


# A capitalised word: letters, inner apostrophes or hyphens ("Ter-Petrosyan").
_CAP = r"\p{Lu}[\p{L}\p{M}]*(?:['’\-][\p{L}][\p{L}\p{M}]*)*(?![\p{L}\p{M}\p{N}])"
_CAP_TOKEN = regex.compile(r"(?<![\p{L}\p{M}\p{N}])" + _CAP)
# A whole run of capitalised words joined by single spaces, in one match: the
# Python loop then sees runs (most of them one ordinary word), not tokens.
_CAP_RUN = regex.compile(r"(?<![\p{L}\p{M}\p{N}])" + _CAP + r"(?: " + _CAP + r")*")
_WORD = regex.compile(r"[\p{L}\p{M}]+")
_MAX_RUN = 4


def run(docs: list[Document], resources: StageResources) -> list[Document]:
    """The registry's entry point (:data:`ketl.stages.STAGES`): ``[entities]`` and the
    run's gazetteer."""
    return list(resolve_entities(docs, resources.gazetteer, resources.settings["entities"]))


def resolve_entities(docs: Iterable[Document], gaz: Gazetteer,
                     settings: EntitySettings = EntitySettings()) -> Iterator[Document]:
    """The stage: correct names, fill ``doc.entities`` and ``doc.suggestions``."""
    compiled = gaz.compiled
    ordinary = ordinary_words(settings.ordinary_rank)
    for chunk in _chunks(docs):
        # The texts' word runs, cut for a chunk at a time (TextRuns.of_batch: the same runs).
        for doc, runs in zip(chunk, TextRuns.of_batch([d.text for d in chunk], compiled.key_screen)):
            resolve_document(doc, compiled, settings, ordinary, runs)
            yield doc


# Characters of text whose word runs are cut together: arrays of a few MB, in cache.
_CHUNK_CHARS = 1 << 18


def _chunks(docs: Iterable[Document]) -> Iterator[list[Document]]:
    """``docs`` in lists of about ``_CHUNK_CHARS`` characters of text (a longer text alone)."""
    chunk: list[Document] = []
    size = 0
    for doc in docs:
        chunk.append(doc)
        size += len(doc.text)
        if size >= _CHUNK_CHARS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def warm_up(gaz: Gazetteer, settings: EntitySettings = EntitySettings()) -> None:
    """Build what the stage builds lazily (the compiled gazetteer, its fuzzy index and
    protected names, the ordinary words) before a worker's first batch. Changes no result."""
    cg = gaz.compiled
    _ordinary_forms(ordinary_words(settings.ordinary_rank))
    cg.fuzzy_index  # noqa: B018 - a lazy property: built here
    cg.protected_hashes  # noqa: B018


def resolve_document(doc: Document, cg: CompiledGazetteer, settings: EntitySettings,
                     ordinary: frozenset[str] | None = None, runs: TextRuns | None = None) -> Document:
    """One document (``runs``: its text's :class:`TextRuns`, when the caller has them)."""
    text = doc.text
    if not text or text.isspace():
        return doc
    if ordinary is None:
        ordinary = ordinary_words(settings.ordinary_rank)
    if runs is None:
        runs = TextRuns(text)  # the word runs, cut once for the context words and the names
    levels = cg.context_levels(cg.context_hits(text, runs))
    fit_cache: dict[int, int] = {}

    def fit(i: int) -> int:
        level = fit_cache.get(i)
        if level is None:
            level = fit_cache[i] = cg.entity_level(i, levels)
        return level

    entities = cg.entities
    changes: list[Change] = []
    blocked: list[tuple[int, int]] = []  # spans the fuzzy pass must not touch
    mentioned: set[int] = set()
    matches = cg.find_exact(text, levels, runs)
    for m in matches:
        fitting = [i for i in m.entities if fit(i) and m.surface not in entities[i].rejected]
        if m.kind == KIND_CORRUPTION:
            blocked.append((m.start, m.end))  # a known corruption out of context stays as written
            if fitting:
                ent = entities[max(fitting, key=fit)]
                changes.append(Change(m.start, m.end, ent.preferred(m.surface), "entity.corruption"))
            continue
        if not fitting:
            continue  # a name from another part of the world may still be a damaged local one
        blocked.append((m.start, m.end))
        mentioned.update(fitting)
        if settings.canonicalize_variants and fit(fitting[0]) == 2:
            pref = entities[fitting[0]].preferred(m.surface)
            if pref != m.surface:
                changes.append(Change(m.start, m.end, pref, "entity.canonicalize"))

    if settings.fuzzy:
        scope = _Scope(doc, cg, settings, ordinary, mentioned, fit, levels)
        fuzzy_changes, suggestions = _fuzzy(scope, blocked)
        changes.extend(fuzzy_changes)
        doc.suggestions.extend(suggestions)

    if changes:
        apply_changes(doc, changes, stage=STAGE)
        text = doc.text
        runs = TextRuns(text)
        levels = cg.context_levels(cg.context_hits(text, runs))
        fit_cache.clear()
        matches = cg.find_exact(text, levels, runs)
    for m in matches:
        if m.kind == KIND_CORRUPTION:
            continue
        fitting = [i for i in m.entities if fit(i)]
        if fitting:
            ent = entities[fitting[0]]
            doc.entities.append(EntityMention(m.start, m.end, m.surface, ent.canonical, ent.type))
    return doc


def _cap_runs(text: str, ordinary: frozenset[str],
              blocked: Sequence[tuple[int, int]]) -> list[list[tuple[int, int, str]]]:
    """Runs of capitalised words (start, end, word) not all ordinary, split at known names."""
    blocked = sorted(blocked)
    block_starts = [b[0] for b in blocked]
    # The furthest end of the blocked spans up to each one: a run none of them reaches
    # into is cut into tokens without the per-token walk over them (qe-10).
    reach = list(accumulate((b[1] for b in blocked), max))
    runs: list[list[tuple[int, int, str]]] = []
    forms = _ordinary_forms(ordinary)
    for rm in _CAP_RUN.finditer(text):
        group = rm.group()
        # Cheap fast path: a run of common words only (sentence starts, titles)
        # has an empty core whatever else is found, so its tokens are never built.
        if " " not in group:
            if group in forms or group.casefold() in ordinary:
                continue
            words = [group]
        else:
            words = group.split(" ")
            if all(w in forms or w.casefold() in ordinary for w in words):
                continue
        s = rm.start()
        last = bisect.bisect_left(block_starts, rm.end())  # the spans starting before the run ends
        if _unreached(reach, last, s):
            runs.extend(_tokens(s, words))
        else:
            runs.extend(_walked(s, words, blocked, block_starts))
    return runs


def _unreached(reach: list[int], last: int, s: int) -> bool:
    """No blocked span of the first ``last`` (those starting before a run ends) reaches past ``s``."""
    return not last or reach[last - 1] <= s


def _walked(s: int, words: list[str], blocked: list[tuple[int, int]],
            block_starts: list[int]) -> list[list[tuple[int, int, str]]]:
    """:func:`_tokens` of a run a blocked span may reach into: each token walked over the
    spans, and a known name breaks the run."""
    runs: list[list[tuple[int, int, str]]] = []
    run: list[tuple[int, int, str]] = []
    bi = bisect.bisect_left(block_starts, s)
    if bi and blocked[bi - 1][1] > s:
        bi -= 1
    for w in words:
        e = s + len(w)
        while bi < len(blocked) and blocked[bi][1] <= s:
            bi += 1
        if bi < len(blocked) and blocked[bi][0] < e:
            if run:
                runs.append(run)  # a known name breaks the run
                run = []
        else:
            if len(run) == _MAX_RUN:
                runs.append(run)
                run = []
            run.append((s, e, w))
        s = e + 1
    if run:
        runs.append(run)
    return runs


def _tokens(s: int, words: list[str]) -> list[list[tuple[int, int, str]]]:
    """``(start, end, word)`` of a run's ``words`` (the first starting at ``s``), in runs
    of at most ``_MAX_RUN``."""
    tokens = []
    for w in words:
        tokens.append((s, s + len(w), w))
        s += len(w) + 1
    if len(tokens) <= _MAX_RUN:
        return [tokens]
    return [tokens[k:k + _MAX_RUN] for k in range(0, len(tokens), _MAX_RUN)]


@dataclass(frozen=True)
class _Scope:
    """What the fuzzy pass knows about one document before it looks at its names:
    the gazetteer, the settings, the ordinary words, the entities named exactly
    (``mentioned``) and how well each entity fits the article (``fit``, ``levels``)."""

    doc: Document
    cg: CompiledGazetteer
    settings: EntitySettings
    ordinary: frozenset[str]
    mentioned: set[int]
    fit: Callable[[int], int]
    levels: np.ndarray


def _fuzzy(scope: _Scope, blocked: Sequence[tuple[int, int]]) -> tuple[list[Change], list[Suggestion]]:
    doc, cg, settings, ordinary = scope.doc, scope.cg, scope.settings, scope.ordinary
    mentioned, fit, levels = scope.mentioned, scope.fit, scope.levels
    text = doc.text
    changes: list[Change] = []
    suggestions: list[Suggestion] = []
    # The index is searched from the lowest score a hint can lift to the
    # threshold; the mention bonus only ever helps the few persons named in
    # this article, so their surnames are compared directly.
    cutoff = settings.suggest_threshold - settings.hint_bonus
    low_cutoff = cutoff - settings.mention_bonus
    entities = cg.entities
    contexts = cg.fitting_contexts(levels)
    if not contexts:
        # Nothing in the gazetteer fits this article (two thirds of a general
        # news corpus): its capitalised runs are not even collected.
        return changes, suggestions
    # Without a type hint only on-topic entities can win (near_needs_hint): most
    # spans of an off-topic page then search nothing at all.
    on_topic = cg.fitting_contexts(levels, 2) if settings.near_needs_hint else contexts
    surnames = _surnames(cg, mentioned)
    # Substring hits, no word boundaries: a superset of what _hint_and_core reads.
    hint_at = cg.hint_starts(text)
    suggested: set[tuple[str, int]] = set()
    for run in _cap_runs(text, ordinary, blocked):
        hint, core = _hint_and_core(text, run, cg, ordinary, hint_at)
        if not core:
            continue
        searched = contexts if hint is not None else on_topic
        if not searched and not surnames:
            continue
        spans = [(core[0][0], core[-1][1])]
        if len(core) > 1:
            spans += [(s, e) for s, e, w in core if w.casefold() not in ordinary]
        for s, e in spans:
            span = text[s:e]
            if len(span) < settings.min_span_length or span in cg.keep:
                continue
            words = span.split()
            if len(words) == 1 and span.casefold() in ordinary:
                continue
            if span.endswith(("'s", "’s")):  # a possessive of a word or a name known as written
                base = span[:-2]
                if base.casefold() in ordinary or base in cg.surfaces or base in cg.keep:
                    continue
            candidates = cg.fuzzy_candidates(span, cutoff, contexts=searched) if searched else ()
            if surnames and len(words) == 1:
                candidates = _with_surnames(span, candidates, surnames, low_cutoff)
            best = _best_candidate(span, candidates, hint, cg, settings, mentioned, fit,
                                   len(words) == 1)
            if best is None:
                continue
            score, ent_idx = best
            ent = entities[ent_idx]
            target = ent.preferred(span)
            if target == span:
                continue
            has_ordinary = any(w.casefold() in ordinary for w in words)
            if (score >= settings.threshold and fit(ent_idx) == 2 and not has_ordinary
                    and len(span) >= settings.min_fix_length):
                changes.append(Change(s, e, target, "entity.fuzzy"))
            elif score >= settings.suggest_threshold:
                if (span, ent_idx) in suggested:
                    break  # one row per document for a repeated span: review groups them anyway
                suggested.add((span, ent_idx))
                src_start, src_end = doc.source_offset(s), doc.source_offset(e)
                ctx = text[max(0, s - settings.context_chars):e + settings.context_chars]
                suggestions.append(Suggestion(span=span, candidate=target, score=round(score, 4),
                                              context=" ".join(ctx.split()),
                                              canonical=ent.canonical, type=ent.type,
                                              source_line=doc.source_line(src_start),
                                              source_start=src_start, source_end=src_end))
            else:
                continue
            break  # one decision per run: the whole core, else its first good word
    return changes, suggestions


@lru_cache(maxsize=8)
def _ordinary_forms(ordinary: frozenset[str]) -> frozenset[str]:
    """Capitalised and upper-case spellings of the ordinary words: a set hit, no casefold.

    Cached on the set itself: a frozenset keeps its hash, and the same object
    comes back for every document, so a lookup costs an identity check."""
    return frozenset(f for w in ordinary for f in (w.capitalize(), w.upper()) if f.casefold() == w)


def _surnames(cg: CompiledGazetteer, mentioned: set[int]) -> list[tuple[str, int]]:
    """One-word forms (``short``, last words) of the persons named in an article."""
    out = []
    for i in sorted(mentioned):
        ent = cg.entities[i]
        if ent.type != "person":
            continue
        forms = [ent.short] if ent.short else []
        forms += [n.split()[-1] for n in ent.names() if n.split()]
        out.extend((f, i) for f in dict.fromkeys(forms) if len(f) >= 4)
    return out


def _with_surnames(span: str, candidates, surnames: list[tuple[str, int]], cutoff: float):
    """``candidates`` plus the article's surnames close to ``span`` (same blocking as the index)."""
    extra = []
    n = len(span)
    gap = max(2, n * 3 // 10)
    prefix = span[:2].casefold()
    for name, i in surnames:
        if name[:2].casefold() != prefix or abs(len(name) - n) > gap:
            continue
        score = JaroWinkler.normalized_similarity(span, name, score_cutoff=cutoff)
        if score:
            extra.append((name, float(score), (i,)))
    if not extra:
        return candidates
    return tuple(sorted((*candidates, *extra), key=lambda t: -t[1]))


def _near(positions: list[int], lo: int, hi: int) -> bool:
    """Whether a sorted list holds a value in ``[lo, hi)``."""
    i = bisect.bisect_left(positions, lo)
    return i < len(positions) and positions[i] < hi


def _hint_and_core(text: str, run: list[tuple[int, int, str]], cg: CompiledGazetteer,
                   ordinary: frozenset[str], hint_at: list[int] | None = None
                   ) -> tuple[str | None, list[tuple[int, int, str]]]:
    """Strip type-hint and ordinary words off a run's edges; read hints around it.

    ``hint_at`` (starts of every hint word in the text, as substrings) lets a run
    with no hint word near it skip reading its neighbours.
    """
    hint = None
    core = list(run)
    # Two-word hints first ("News Agency", "Prime Minister").
    while len(core) >= 2:
        pair = f"{core[-2][2]} {core[-1][2]}".casefold()
        if pair in cg.hints:
            hint = cg.hints[pair]
            core = core[:-2]
        elif core[-1][2].casefold() in cg.hints:
            hint = cg.hints[core[-1][2].casefold()]
            core = core[:-1]
        else:
            break
    while core and core[0][2].casefold() in cg.hints:
        hint = hint or cg.hints[core[0][2].casefold()]
        core = core[1:]
    while core and core[0][2].casefold() in ordinary:
        core = core[1:]
    while core and core[-1][2].casefold() in ordinary:
        core = core[:-1]
    if hint is None and core and (hint_at is None or _near(hint_at, run[0][0] - 30, run[-1][1] + 40)):
        before = _WORD.findall(text[max(0, run[0][0] - 30):run[0][0]])[-2:]
        after = _WORD.findall(text[run[-1][1]:run[-1][1] + 40])[:3]
        for w in after + before[::-1]:
            h = cg.hints.get(w.casefold())
            if h:
                hint = h
                break
    return hint, core


def _best_candidate(span: str, candidates, hint: str | None, cg: CompiledGazetteer,
                    settings: EntitySettings, mentioned: set[int], fit,
                    one_word: bool) -> tuple[float, int] | None:
    """The candidate entity for ``span``: ``(adjusted score, entity index)`` or None.

    Only entities whose context fits the article at least at country level are
    considered, and only from ``suggest_threshold`` up. Among those, an entity on
    the article's topic beats one that is merely near (a closer name from a
    country the article mentions in passing), and within a fit level a type hint
    ("News Agency", "regions") beats a closer name of another type.
    """
    best: tuple[float, int] | None = None
    best_rank: tuple[int, bool, float] | None = None
    for key, jw, ents in candidates:
        # An inflected name ("Armenians", "Russia's") is not a corruption of it.
        if key == span or span.startswith(key):
            continue
        for i in ents:
            level = fit(i)
            if level == 0:
                continue
            ent = cg.entities[i]
            if span in ent.rejected:
                continue
            hinted = hint is not None and ent.type == hint
            if level < 2 and settings.near_needs_hint and not hinted:
                continue  # a page that names a country in passing is not about its villages
            score = jw
            if hinted:
                score += settings.hint_bonus
            if one_word and ent.type == "person" and i in mentioned:
                score += settings.mention_bonus  # a surname after the full name
            if level < 2:  # a country word alone half-fits: fewer suggestions off topic
                score -= settings.context_penalty / 2
            score = min(score, 1.0)
            if score < settings.suggest_threshold:
                continue
            rank = (level, hinted, score)
            if best_rank is None or rank > best_rank:
                best_rank, best = rank, (score, i)
    return best


def entities_table(docs: Iterable[Document], run_id: str | None = None) -> pa.Table:
    """The ``entities`` rows of ``docs`` (offsets into their final text)."""
    return items_table(docs, "entities", ENTITIES_SCHEMA, run_id=run_id)


def suggestions_table(docs: Iterable[Document], run_id: str | None = None) -> pa.Table:
    """The ``suggestions`` rows of ``docs`` (status ``pending``)."""
    return items_table(docs, "suggestions", SUGGESTIONS_SCHEMA, run_id=run_id, status="pending")
