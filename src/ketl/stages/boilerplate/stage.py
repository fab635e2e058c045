"""Stage "boilerplate": the article text and nothing else.

Runs after text repair, per batch, in two phases (site headers and footers are
lines repeated across a site's articles, so they need every batch's counts):

* phase A: :func:`site_and_line_keys` per document, folded into a
  :class:`SiteLineStats` by the flow (and persisted);
* phase B: :func:`clean_documents` -- metadata first (title, site, dateline,
  reprint source: stage "boilerplate.metadata"), then every boilerplate line leaves with
  the id of the rule that condemned it (stage "boilerplate").

A line goes when (first reason wins, that is its edit's rule id):
a rule of ``resources/rules.toml`` or a user file matches it; it repeats across
the site (``site.repeated_line``: only in the leading/trailing furniture of the
page, or short, so a republished article is not emptied); it repeats the title
(``title.repeated``); it is a short line in another script (``fragment.stray_script``);
it is the unrelated trailing fragment of another article (``fragment.trailing``);
it is a headline a related-stories box lists below a header a rule removed (``related.list_item``);
it belongs to a teaser list of headlines glued to their summaries
(``classifier.teaser``); it is a later copy of the article's paragraphs, glued
or cut short (``classifier.copy``: structured data); or the line classifier puts it outside the article
(``classifier.*``: the best run of prose, bridged across short interruptions,
never one before the headline printed in the body when a later run is better).
"""

from __future__ import annotations

import re
from collections import Counter
from operator import and_, le, not_, or_
from dataclasses import dataclass, fields
from itertools import compress, repeat
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from ...document import Change, Document, apply_changes
from ..repair.script import script_of
from .classifier import (_SIGNATURE, _TERMINAL_CHARS, ClassifierSettings, classify_stripped, document_stopwords, glued_numbered_list,
                         headline_lists, is_prose, list_lead, teaser_lines)
from .carried import carried_keys
from .copies import copied_lines
from .embeds import tweet_signature
from .layout import STRAY_WORD as _STRAY_WORD, line_changes as _line_changes, stop_en as _stop_en  # noqa: F401 (tests)
from .features import PageLines, has_non_latin_letter, non_ascii, script_counts
from .metadata import STAGE as METADATA_STAGE, metadata_changes, title_key
from .related import RULE as RELATED_ITEM, related_items
from .reprint import agency_copyright
from .rules import CompiledRules, load_rules
from .site_stats import RepetitionSettings, SiteLineStats, doc_site, site_and_line_keys, split_title_suffix

if TYPE_CHECKING:
    from .. import StageResources

__all__ = ["BoilerplateSettings", "clean_documents", "clean_document", "load_rules", "CompiledRules",
           "SiteLineStats", "run", "RepetitionSettings", "site_and_line_keys", "warm_up"]

STAGE = "boilerplate"
_WORDS = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LETTER = re.compile(r"[^\W\d_]")
_OPEN_QUOTES = "\"“«„"


@dataclass(frozen=True)
class BoilerplateSettings:
    """Thresholds of the boilerplate stage (TOML-serialisable fields only)."""

    rule_files: tuple[str, ...] = ()  # user rule files, on top of the shipped rules.toml
    classifier: bool = True  # the line classifier; off = rules, repetition and metadata only
    repeated_min_docs: int = 3  # a site line is furniture when seen in >= this many docs ...
    repeated_min_share: float = 0.25  # ... and >= this share of the site's docs
    repeated_max_chars: int = 70  # repeated lines mid-article go only if shorter (not prose)
    cross_min_sites: int = 4  # a short line printed on this many sites (0 = off) ...
    cross_min_docs: int = 8  # ... and in this many documents is furniture (repeated.cross_site)
    trailing_fragment_max_overlap: float = 0.34  # shared content words with the article, at most
    stray_script_max_chars: int = 12  # a line this short with no letter of the article's script goes
    # One edit per removed line, as the edits table promises; True merges consecutive
    # lines removed by one rule into one edit (faster, fewer rows).
    merge_runs: bool = False
    # Classifier knobs: ClassifierSettings documents the fields both classes share.
    length_low: int = 70
    length_high: int = 200
    stop_low: float = 0.22
    stop_high: float = 0.30
    short_cost: int = 60
    block_bad_penalty: int = 150
    thread_weight: float = 0.25
    earlier_ratio: float = 0.6
    table_min_rows: int = 4
    # Bridging a short interruption of the article (see ClassifierSettings.bridge_*).
    bridge_max_gap: int = 6  # the article continues past at most this many non-blank lines of furniture ...
    bridge_min_chars: int = 120  # ... when prose worth this many characters ...
    bridge_min_lines: int = 2  # ... in at least this many lines follows
    # Teaser lists: this many consecutive lines gluing a headline to its summary
    # (0 = off); each costs teaser_penalty inside the article.
    teaser_min_run: int = 3
    teaser_penalty: int = 150  # cost of keeping a teaser line inside the article
    # Later copies of the article's paragraphs (structured data flattened into
    # the text: copies.py), condemned like teasers.
    page_copies: bool = True
    # Removal needs evidence (see ClassifierSettings): the article reaches out to
    # the nearest line condemned on its own; menus of menu_min_run entries count.
    evidence_bounds: bool = True
    menu_min_run: int = 5
    list_header_penalty: int = 300
    strong_penalty: int = 150
    never_empty: bool = True
    edge_run_max: int = 6
    after_title_min: int = 300
    after_title_gap: int = 8
    teaser_tail: bool = True  # a teaser list below a list header or two condemned lines ends the article

    def classifier_settings(self) -> ClassifierSettings:
        """The classifier's knobs: the fields both settings classes name alike."""
        return ClassifierSettings(**{f.name: getattr(self, f.name) for f in fields(ClassifierSettings)
                                     if hasattr(self, f.name)})

    def repetition_settings(self) -> RepetitionSettings:
        return RepetitionSettings(min_docs=self.repeated_min_docs, min_share=self.repeated_min_share,
                                  cross_min_sites=self.cross_min_sites, cross_min_docs=self.cross_min_docs)


def run(docs: list[Document], resources: StageResources) -> list[Document]:
    """The registry's entry point (:data:`ketl.stages.STAGES`): ``[boilerplate]``, the
    run's rules and its per-site line counts."""
    return list(clean_documents(docs, resources.rules, resources.site_stats, resources.settings["boilerplate"]))


# A page that asks every lazy load of the stage: a headline, an English
# dateline the shipped place list does not settle, prose in two scripts, a notice.
_WARM_TEXT = ("Harbour council approves the new budget\n\nPORT ELLEN (Reuters) - The council of the harbour town "
              "approved the new budget on Tuesday after a long debate about the ferry.\n\nAdvertisement\n\n"
              "Совет города одобрил новый бюджет во вторник после долгих споров о пароме.\n\n"
              "This article was originally published by The Harbour Times.\n")


def warm_up(rules: CompiledRules | None = None, settings: BoilerplateSettings = BoilerplateSettings()) -> None:
    """Load what the stage loads lazily (the gazetteer of place names behind
    datelines, the common-word and stop-word lists, the rules), so that a
    worker process pays for it before its first batch, e.g. as a process
    pool's initializer while the run is still starting. Changes no result
    (the short-line verdicts it caches are the ones any page would cache)."""
    from .metadata import _common_words, _core_places, _place_names

    _core_places(), _common_words(), _place_names(), _stop_en()
    doc = Document.from_source(doc_id="warm-up", source_path="warm-up/0.txt", source_sha256="",
                               source_encoding="utf-8", source=_WARM_TEXT)
    clean_document(doc, rules or load_rules(settings.rule_files), None, settings)


def clean_documents(docs: Iterable[Document], rules: CompiledRules | None = None,
                    stats: SiteLineStats | None = None,
                    settings: BoilerplateSettings = BoilerplateSettings()) -> Iterator[Document]:
    """Phase B over a batch: metadata, then boilerplate removal (edits appended),
    a chunk of documents at a time (see :func:`_clean_chunk`)."""
    if rules is None:
        rules = load_rules(settings.rule_files)
    cfg = settings.classifier_settings()
    chunk: list[Document] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) >= _CHUNK:
            yield from _clean_chunk(chunk, rules, stats, settings, cfg)
            chunk = []
    yield from _clean_chunk(chunk, rules, stats, settings, cfg)


def clean_document(doc: Document, rules: CompiledRules, stats: SiteLineStats | None = None,
                   settings: BoilerplateSettings = BoilerplateSettings(),
                   cfg: ClassifierSettings | None = None) -> Document:
    return _clean_chunk([doc], rules, stats, settings, cfg or settings.classifier_settings())[0]


# Documents that go through each step together. Every step runs over the whole
# chunk before the next one starts: its code and tables (the rules' automata
# and regexes, the classifier's word lists) stay in the processor's caches
# instead of being evicted by the other steps at every document (the page
# lines alone cost half as much so). A document's steps and their order are
# the same: each one's result is what it was a document at a time. Chunks
# bound the memory a batch's line facts take.
_CHUNK = 64


class _Job:
    """One document on its way through the steps of :func:`_clean_chunk`."""

    __slots__ = ("doc", "site", "page", "lines", "dateline_at", "removed", "n_edits", "spared", "topical", "main",
                 "nonblank_at")

    def __init__(self, doc: Document, rules: CompiledRules) -> None:
        self.doc = doc
        self.site = doc_site(doc)  # before the title (and its suffix) leave the text
        self.page = PageLines(doc.text, rules, carried_keys(doc))  # (phase A's keys, when the text is theirs)
        self.nonblank_at: list[int] | None = None  # the indices of the non-blank lines, once a step has them


def _clean_chunk(docs: list[Document], rules: CompiledRules, stats: SiteLineStats | None,
                 settings: BoilerplateSettings, cfg: ClassifierSettings) -> list[Document]:
    """:func:`clean_document` of each of ``docs``, a step over all of them at a time."""
    jobs: list[_Job] = []
    for doc in docs:
        if doc.text and not doc.text.isspace():  # (no stripped copy of the text to test it)
            jobs.append(_Job(doc, rules))
    metadata = [_metadata_of(job, stats) for job in jobs]
    for job, changes in zip(jobs, metadata):
        _take_metadata(job, changes, rules)
    _mark_lines(jobs, rules, stats, settings)
    if settings.classifier:
        _mark_classified(jobs, rules, settings, cfg)
    removals = [_finish_lines(job, settings) for job in jobs]
    for job, changes in zip(jobs, removals):
        _apply_removals(job, changes)
    return docs


def _metadata_of(job: _Job, stats: SiteLineStats | None) -> list[Change]:
    """Title, site, dateline and reprint notices (metadata.py) into ``doc.meta``;
    the changes that take them out of the text."""
    doc, site, page = job.doc, job.site, job.page
    verdict = page.rule
    if stats is not None and site and stats.n_docs(site):
        # (the site's flags of the page's lines in C, kept with the page for _mark_site_lines)
        rep = page.repeated_flags(stats, site)

        def furniture(k: int) -> bool:
            return verdict[k] >= 0 or rep[k]
    else:
        def furniture(k: int) -> bool:
            return verdict[k] >= 0

    job.dateline_at, job.removed, changes = metadata_changes(doc, page.texts, furniture, site, page.stripped)
    if site and not doc.meta.get("site"):
        doc.meta["site"] = site
    return changes


def _take_metadata(job: _Job, changes: list[Change], rules: CompiledRules) -> None:
    """The metadata leaves the text; the page's line facts follow."""
    doc = job.doc
    apply_changes(doc, changes, stage=METADATA_STAGE)
    if job.removed:
        job.page = job.page.without(doc.text, job.removed, rules, changes)
    job.n_edits = len(doc.edits)


class _Lines:
    """One document's lines and the verdict on each: the first reason found wins."""

    __slots__ = ("texts", "n", "stripped", "low", "blank", "reason", "penalty", "comment")

    def __init__(self, page: PageLines) -> None:
        texts, stripped, low, blank = page.texts, page.stripped, page.low, page.blank
        if texts[-1] == "":
            # the text's final newline ends the last line, it opens none
            texts, stripped, low, blank = texts[:-1], stripped[:-1], low[:-1], blank[:-1]
        self.texts = texts
        self.n = n = len(texts)
        self.stripped = stripped
        self.low = low  # stripped and lower-cased
        self.blank = blank
        self.reason: list[str] = [""] * n
        self.penalty: list[int] = [0] * n
        # the text of comment-marker lines (the classifier wants them varied)
        self.comment: list[str] = [""] * n


def _mark_lines(jobs: list[_Job], rules: CompiledRules, stats: SiteLineStats | None,
                settings: BoilerplateSettings) -> None:
    """Steps 1 to 4, before the classifier: rules, site repetition, title, stray
    scripts (each over the chunk, in the order a document takes them)."""
    for job in jobs:
        job.lines = lines = _Lines(job.page)
        _mark_rules(lines, rules, job.page.rule)
        job.spared = _spare_closing_lines(lines, lines.texts)
        job.topical = _topical_calls(lines)
    if stats is not None:
        for job in jobs:
            _mark_site_lines(job.lines, stats, job.site, settings, job.page)
    for job in jobs:
        _mark_repeated_title(job.lines, job.doc.meta.get("title"), job.page)
    for job in jobs:
        job.main = _mark_stray_script(job.lines, job.doc.text, settings, job.page.latin_only)


def _finish_lines(job: _Job, settings: BoilerplateSettings) -> list[Change]:
    """The steps after the classifier; the removals they leave, as changes."""
    lines, spared = job.lines, job.spared
    texts, n = lines.texts, lines.n
    _keep_inner_calls(lines, job.topical)
    # 5b. The headlines a related-stories box lists below the header a rule removed.
    for i in related_items(lines.stripped, lines.reason):
        lines.reason[i] = RELATED_ITEM

    # 6. A trailing fragment of another article.
    blank, reason = lines.blank, lines.reason
    # (the kept lines picked out in C, among the non-blank ones when the classifier listed them)
    if (at := job.nonblank_at) is not None:
        kept = list(compress(at, map(not_, map(reason.__getitem__, at))))
    else:
        kept = list(compress(range(n), map(and_, map(not_, blank), map(not_, reason))))
    last = kept[-1] if kept else None
    if (last is not None and all(i != last for i, _ in spared)
            and _is_trailing_fragment(texts, reason, blank, last, settings)):
        reason[last] = "fragment.trailing"
        kept.pop()

    return _line_changes(texts, blank, reason, settings.merge_runs, len(job.doc.text), kept)


def _apply_removals(job: _Job, changes: list[Change]) -> None:
    doc = job.doc
    apply_changes(doc, changes, stage=STAGE)
    if job.dateline_at is not None and any(e.source_start <= job.dateline_at < e.source_end
                                           for e in doc.edits[job.n_edits:]):
        # The line that held the dateline was furniture (a teaser's "Baku: ..."):
        # its dateline is not the article's.
        doc.meta.pop("dateline", None)


def _mark_rules(lines: _Lines, rules: CompiledRules, verdict: list[int]) -> None:
    """1. Rules (matched once per page: :class:`PageLines`)."""
    reason, penalty, comment = lines.reason, lines.penalty, lines.comment
    by_index = rules.rules
    for i in compress(range(lines.n), map(le, repeat(0), verdict)):  # (the few ruled lines, picked out in C)
        r = by_index[verdict[i]]
        reason[i], penalty[i] = r.id, max(1, r.penalty)
        if r.category == "comment":
            comment[i] = _DIGITS.sub("0", lines.low[i])


def _spare_closing_lines(lines: _Lines, texts: list[str]) -> list[tuple[int, int]]:
    """1b. A wire agency's copyright right below the story's last sentence (an
    ad marker or a share row may sit between) is the wire copy's own closing
    line, not the site's footer (the rules condemn every copyright line).
    Returns ``(line, its sentence)`` pairs: the line stays where the sentence does."""
    reason, penalty = lines.reason, lines.penalty
    out: list[tuple[int, int]] = []
    if "legal.copyright" not in reason:  # (most pages: one scan in C)
        return out
    for i, r in enumerate(reason):
        if r == "legal.copyright" and agency_copyright(texts[i]) is not None:
            prev = next((q for q in range(i - 1, -1, -1) if not lines.blank[q] and not reason[q]), None)
            if prev is not None and is_prose(lines.stripped[prev]):
                reason[i], penalty[i] = "", 0
                out.append((i, prev))
    return out


# What a link-call points the reader to when it is no part of the article.
_CALL = re.compile(r"\b(?:click|tap)\s+(?:here|to)\b(?P<rest>.*)", re.IGNORECASE)
_CALL_WORDS = frozenset("""more information info details here click read full story article articles subscribe
newsletter newsletters download app apps sign join follow share print email watch video videos learn latest news
updates free visit website site page link links below above continue reading view find check today offer offers
deal deals shop order register login account notifications alerts support donate contact listen podcast gallery
photos pictures results list tickets comment comments channel coverage stories version copy skip""".split())


def _topical_calls(lines: _Lines) -> list[int]:
    """1c. "Click here to get more information or download this game." in an
    article about the game is a sentence of the article, not a link-call: the
    click-here lines that read as prose and point to the article's own subject
    (a word of what they point to that the rest of the article uses twice,
    beyond the words every link-call uses). They still bound the article for
    the classifier (a weak line); see :func:`_keep_inner_calls`."""
    reason, stripped = lines.reason, lines.stripped
    if "cta.click" not in reason:
        return []
    calls = [i for i, r in enumerate(reason) if r == "cta.click" and is_prose(stripped[i])]
    if not calls:
        return []
    stop = _stop_en()
    counts = Counter(w for i, s in enumerate(stripped) if s and not reason[i] for w in _WORDS.findall(s.lower()))
    out = []
    for i in calls:
        m = _CALL.search(stripped[i])
        words = [w for w in _WORDS.findall(m.group("rest").lower()) if len(w) > 3] if m else []
        if any(counts[w] >= 2 for w in words if w not in _CALL_WORDS and w not in stop):
            out.append(i)
    return out


def _keep_inner_calls(lines: _Lines, calls: list[int]) -> None:
    """A topical click-here sentence between two kept lines of the article stays."""
    reason, blank = lines.reason, lines.blank
    for i in calls:
        above = next((q for q in range(i - 1, -1, -1) if not blank[q]), None)
        below = next((q for q in range(i + 1, lines.n) if not blank[q]), None)
        if above is not None and below is not None and not reason[above] and not reason[below]:
            reason[i] = ""


def _keep_closing_lines(lines: _Lines, spared: list[tuple[int, int]]) -> None:
    """The spared closing lines stay with the story's sentence above them
    (the classifier sees a short line after the article's last sentence)."""
    for i, prev in spared:
        if not lines.reason[prev] and lines.reason[i].startswith("classifier."):
            lines.reason[i] = ""


def _mark_site_lines(lines: _Lines, stats: SiteLineStats, site: str, settings: BoilerplateSettings,
                     page: PageLines) -> None:
    """2. Lines repeated across the site: the page's leading and trailing furniture,
    plus short repeated lines anywhere (a long repeated line mid-page may be a
    republished article's text).

    2b. Short lines printed on many sites (ad markers, syndication furniture),
    unless the text around them is shared as widely: then the whole passage is
    a reprinted article, and its subheadings are its own."""
    n, stripped, blank = lines.n, lines.stripped, lines.blank
    reason, penalty = lines.reason, lines.penalty
    keys = page.keys()[:n]
    if site and stats.n_docs(site) and any(rep := page.repeated_flags(stats, site)[:n]):
        own = any(not r and not b and not why for r, b, why in zip(rep, blank, reason))
        # Nothing of its own: a republished article, not a page of furniture.
        edge = _edge_runs(rep, blank, reason) if own else set()
        for i in compress(range(n), rep):  # (a few lines of the page, picked out in C)
            if not reason[i] and (i in edge or len(stripped[i]) < settings.repeated_max_chars):
                reason[i], penalty[i] = "site.repeated_line", 150
    if settings.cross_min_sites > 0:
        shared = stats.shared_flags(keys, blank)
        if any(shared):
            body = [i for i in range(n) if not blank[i]]
            for q, i in enumerate(body):
                if (shared[i] and not reason[i] and len(stripped[i]) <= settings.repeated_max_chars
                        and not is_prose(stripped[i])
                        and not all(shared[body[r]] for r in (q - 1, q + 1) if 0 <= r < len(body))):
                    reason[i], penalty[i] = "repeated.cross_site", 60


def _mark_repeated_title(lines: _Lines, title: object, page_lines: PageLines | None = None) -> None:
    """3. The title printed again in the body (only lines of a fitting length
    are compared). ``page_lines``: the page ``lines`` are of (its lines as one
    lower-cased text, when it has it)."""
    tk = title_key(title) if isinstance(title, str) else ""
    if not tk:
        return
    reason, penalty = lines.reason, lines.penalty
    lo, hi = len(tk) // 2, 2 * len(tk) + 80
    words = tk.split(" ")
    # Every word of the key is in a line that repeats the title (lower-cased,
    # its suffix cut or not): the longest one rules out most lines at once.
    first_word, longest = words[0], max(words, key=len)
    low = lines.low
    # (a final blank line the lines lack holds no word: the same lines hold each word)
    page = "\n".join(low) if page_lines is None else page_lines.low_text()
    if longest not in page or first_word not in page:
        return  # (most pages: two scans in C instead of a test per line)
    rest = [w for w in dict.fromkeys(words) if w != first_word and w != longest]
    stripped = lines.stripped
    for i in _lines_holding(page, longest):
        s = stripped[i]
        if s and not reason[i] and lo <= len(s) <= hi and first_word in (t := low[i]) \
                and all(w in t for w in rest) \
                and (title_key(s) == tk or title_key(split_title_suffix(s)[0]) == tk):
            reason[i], penalty[i] = "title.repeated", 1


def _lines_holding(page: str, word: str) -> list[int]:
    """Indices of the lines of ``page`` (lines joined by newlines) holding
    ``word`` (no newline in it), in order: found by str.find, the lines
    between counted by str.count, in C."""
    out: list[int] = []
    line = pos = 0
    while (at := page.find(word, pos)) >= 0:
        line += page.count("\n", pos, at)
        out.append(line)
        pos = page.find("\n", at + len(word)) + 1  # (the next line's start)
        if pos == 0:
            break
        line += 1
    return out


def _mark_stray_script(lines: _Lines, text: str, settings: BoilerplateSettings, latin_only: bool = False) -> str:
    """4. A few letters of another script ("بب" in an English article, "PAGETOP"
    in a Japanese one): none of the line's letters is in the article's script.
    Returns the article's main script ("" when nobody needs it). ``latin_only``:
    the caller knows the text has no letter of another script (PageLines)."""
    stripped, reason, penalty = lines.stripped, lines.reason, lines.penalty
    mixed = not latin_only and has_non_latin_letter(text)
    if settings.classifier and not mixed:
        # Every letter of the page is Latin (most pages): its main script, and
        # no stray (a line with a letter shares the page's script).
        return "LATIN"
    cap = settings.stray_script_max_chars
    short = [i for i, n in enumerate(map(len, stripped)) if 0 < n <= cap and not reason[i]]
    if not settings.classifier:  # (the classifier wants the main script, whatever the lines)
        short = [i for i in short if _LETTER.search(stripped[i])]
        if not short:
            return ""
    # Most texts hold one script: one scan of the text settles it.
    main = "LATIN" if not mixed else dominant_script(stripped, True)
    if not main:
        return main
    for i in short:
        s = stripped[i]
        # (an ASCII line with a letter has a Latin one: only the others can be strays of a Latin page)
        if (main != "LATIN" or not s.isascii()) and _LETTER.search(s) and not _shares_script(s, main) \
                and not _continues_neighbour(lines, i, cap):
            reason[i], penalty[i] = "fragment.stray_script", 1
    return main


def _continues_neighbour(lines: _Lines, i: int, cap: int) -> bool:
    """Short line ``i`` ends (or opens) a longer line of its own script next to
    it: the last word of a verse quoted in Arabic in an Indonesian sermon, not
    a stray fragment (those sit among the article's own lines)."""
    stripped, reason = lines.stripped, lines.reason
    for step in (-1, 1):
        j = i + step
        while 0 <= j < lines.n and not stripped[j]:
            j += step
        if 0 <= j < lines.n and not reason[j] and len(stripped[j]) > 2 * cap \
                and _shares_script(stripped[i], dominant_script([stripped[j]], True)):
            return True
    return False


def _mark_classified(jobs: list[_Job], rules: CompiledRules, settings: BoilerplateSettings,
                     cfg: ClassifierSettings) -> None:
    """5. The line classifier decides what is left (each of its steps over the chunk)."""
    inputs = [_classifier_input(job.lines, rules, job.main) for job in jobs]
    if settings.teaser_min_run > 0:
        for job, (nonblank, idx, body, stop) in zip(jobs, inputs):
            _mark_teasers(job.lines, nonblank, idx, body, stop, settings, job.page.low_text())
    if settings.page_copies:
        for job, (_, idx, body, _) in zip(jobs, inputs):
            reason, penalty = job.lines.reason, job.lines.penalty
            flags = copied_lines(body)
            for q in compress(range(len(flags)), flags):  # (the few copies, picked out in C)
                if not reason[idx[q]]:
                    reason[idx[q]], penalty[idx[q]] = "classifier.copy", settings.teaser_penalty
    for job, (nonblank, idx, body, stop) in zip(jobs, inputs):
        job.nonblank_at = idx
        lines = job.lines
        reason = lines.reason
        # (where the repeated title is among the non-blank lines; most pages have none: one scan in C)
        title_at = list(compress(reason, nonblank)).index("title.repeated") if "title.repeated" in reason else -1
        keep, _, why = classify_stripped(body, stop, list(compress(lines.penalty, nonblank)), cfg,
                                         list(compress(lines.comment, nonblank)), title_at)
        for q in compress(range(len(keep)), map(not_, keep)):
            i = idx[q]
            if not reason[i]:
                reason[i] = why[q] or "classifier.low_content"
        _keep_closing_lines(lines, job.spared)


def _classifier_input(lines: _Lines, rules: CompiledRules,
                      main: str) -> tuple[list[bool], list[int], list[str], frozenset[str]]:
    """The non-blank lines (which, where, their text) and the page's stop words."""
    # (the non-blank lines picked out in C: no test per line in Python)
    nonblank = list(map(bool, lines.stripped))
    idx = list(compress(range(lines.n), nonblank))
    body = list(compress(lines.stripped, nonblank))
    # The stop words of the article's language, guessed from the lines in
    # its script (an English menu must not make a Turkish article's
    # sentences look like furniture).
    own = [b for b in body if _shares_script(b, main)] if main and main != "LATIN" else body
    stop = document_stopwords(own or body)
    if rules.stopwords:  # (a union copies the whole list: only when a rule file adds words)
        stop = rules.stopwords | stop
    return nonblank, idx, body, stop


def _mark_teasers(lines: _Lines, nonblank: list[bool], idx: list[int], body: list[str], stop: frozenset[str],
                  settings: BoilerplateSettings, page: str | None = None) -> None:
    """Teaser lists: headlines glued to their summaries, lists of headlines.
    ``page``: the lines joined by newlines (PageLines.low_text), to see at
    once whether one opens a numbered list."""
    reason, penalty = lines.reason, lines.penalty
    judged = list(map(bool, compress(reason, nonblank)))
    glued = teaser_lines(body, stop, settings.teaser_min_run, judged)
    listed = headline_lists(body, settings.teaser_min_run, skip=judged)
    flagged = map(or_, glued, listed)
    if page is None or page.startswith("1 ") or "\n1 " in page:  # a line may open a numbered list
        flagged = map(or_, flagged, map(str.startswith, body, repeat("1 ")))
    elif True not in glued and True not in listed:
        return  # (most pages: nothing flagged, found by scans in C)
    for q in compress(range(len(body)), flagged):  # (the lines flagged or opening a numbered list)
        i = idx[q]
        if not reason[i] and (glued[q] or listed[q] or glued_numbered_list(body[q])):
            reason[i], penalty[i] = "classifier.teaser", settings.teaser_penalty


def _edge_runs(rep: list[bool], blank: list[bool], reason: list[str]) -> set[int]:
    """Repeated lines at the top or bottom of the page, before the first (after
    the last) line that is neither repeated, blank nor already condemned."""
    out: set[int] = set()
    for order in (range(len(rep)), range(len(rep) - 1, -1, -1)):
        for i in order:
            if blank[i] or reason[i]:
                continue
            if not rep[i]:
                break
            out.add(i)
    return out


# Scripts written together: a Japanese text mixes kana and kanji, a Korean one
# may hold hanja.
_COMPATIBLE = {"JAPANESE": {"JAPANESE", "HAN"}, "HAN": {"HAN", "JAPANESE"}, "HANGUL": {"HANGUL", "HAN"}}


def dominant_script(lines: Sequence[str], mixed: bool = False) -> str:
    """The script most of the article's prose is written in: LATIN, CYRILLIC,
    ARABIC, HAN, JAPANESE (kana among kanji), HANGUL, THAI, MYANMAR, ...; ""
    without letters. Counted over the lines that read as sentences (an English
    menu around a Korean article is not its script), a CJK or Hangul letter
    counting as the 2.5 Latin ones it is worth, over at most 5,000 characters.
    ``mixed``: the caller knows a letter of another script than Latin is there."""
    if not mixed and not any(map(has_non_latin_letter, lines)):
        # One script only (most texts): no need to weigh the prose.
        return "LATIN" if any(_LATIN.search(line) for line in lines) else ""
    prose: list[str] = []
    size = 0
    for line in lines:
        if line and is_prose(line):
            prose.append(line)
            size += len(line)
            if size > 5000:
                break
    counts = script_counts(prose)
    if not counts:  # no sentence anywhere: every line has a say
        counts = script_counts(lines[:200])
    if counts.get("JAPANESE", 0) >= max(20, counts.get("HAN", 0) / 10):
        counts["JAPANESE"] += counts.pop("HAN", 0)  # kana among kanji: Japanese
    if not counts:
        return ""
    return max(counts, key=counts.__getitem__)


def _shares_script(line: str, main: str) -> bool:
    ok = _COMPATIBLE.get(main, {main})
    if "LATIN" in ok and _LATIN.search(line):
        return True
    # (the letters outside ASCII only, cut out in C: an English line of a
    # Russian page is not walked a character at a time)
    return not line.isascii() and any(script_of(ch) in ok for ch in non_ascii(line) if ch.isalpha())


# The article's own closing lines that carry no final stop: a footnote ("[2] ...",
# "2. ..."), a labelled reference ("More information: G. Petit et al. ...",
# "Source: ...").
_REFERENCE = re.compile(r"\[\d{1,3}\]|\d{1,3}\.\s|[^\W\d][\w’'-]*(?: [\w’'-]+){0,2}:\s")


def _ends_sentence(line: str) -> bool:
    """Ends as a sentence does in its script, or as a clause that introduces
    what follows ("... confused by the campaign:")."""
    return bool(line) and line[-1] in _TERMINAL_CHARS


def _is_trailing_fragment(texts: list[str], reason: list[str], blank: list[bool], last: int,
                          settings: BoilerplateSettings) -> bool:
    """The last kept line is a fragment of some other article: no final
    punctuation, and (an unclosed opening quote, or) few words shared with the rest."""
    s = texts[last].strip()
    if _ends_sentence(s) or _REFERENCE.match(s) or _SIGNATURE.fullmatch(s) or tweet_signature(s):
        return False  # (an embedded tweet's signature closing the article is the article's)
    words = [w.lower() for w in _WORDS.findall(s) if len(w) > 3]
    if all(w.isdigit() for w in words):
        return False  # numbers only ("02-751-1500", a listing's phone): no other article's words
    # A missing full stop is evidence only where the article's lines have one
    # (Thai, for one, ends sentences with a space).
    ends = [_ends_sentence(texts[i].rstrip()) for i in range(last)
            if not blank[i] and not reason[i] and len(texts[i]) > 40]
    if not ends or sum(ends) < 0.6 * len(ends):
        return False
    prev = max((i for i in range(last) if not blank[i] and not reason[i]), default=None)
    if prev is not None and list_lead(s) and list_lead(texts[prev].strip()) == list_lead(s):
        return False  # the last item of the article's own list
    # (one findall over the other kept lines joined: no word spans their newlines)
    rest = set(map(str.lower, _WORDS.findall("\n".join(
        [t for i, t in enumerate(texts) if i != last and not blank[i] and not reason[i]]))))
    if not rest:
        return False  # a one-line article is the article
    overlap = sum(1 for w in words if w in rest) / len(words)
    unclosed = s[0] in _OPEN_QUOTES and not any(q in s[1:] for q in "\"”»")
    return overlap <= settings.trailing_fragment_max_overlap or (unclosed and overlap < 0.5)
