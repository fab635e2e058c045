"""Repair text: encoding, Unicode, spacing, punctuation, glued words, every change recorded.

Public entry points:

* :func:`repair` - one string in, a :class:`RepairResult` (text and edits) out;
* :func:`repair_documents` - the batch stage: Documents in, Documents out, with
  the changes applied through :func:`ketl.document.apply_changes` (edits of stage
  ``repair.encoding`` for ftfy, ``repair.normalize`` for the rest) and ``meta["language"]``.

The passes run in a fixed order and the whole sequence repeats until nothing
changes (a removal can create new work, e.g. a deleted zero-width space leaves
two spaces), so repairing repaired text changes nothing. The last, idle round
is replaced by a look at the spans the previous round rewrote
(:mod:`ketl.stages.repair.settle`) when that look can prove it would change nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from ...document import _SPAN, Change, Document, Edit, apply_changes
from ...text.language import (UNDETERMINED, FirstSample, detect_language, first_sample,
                              first_sample_after_trim, sample_answers)
from .encoding import encoding_changes, may_trigger
from .punctuation import PAREN_LOOKBACK, parenthetical_changes, punctuation_changes
from .scan import TextFacts, scan_text, scan_texts
from .settle import DirtySpans, window_text
from .script import stray_script_changes
from .spacing import BLANK_LINES, BLANKS, spacing_changes
from .tokens import batch_candidate_tokens
from .unicode import REPLACEMENT_CHAR, unicode_changes
from .words import glued_word_changes

if TYPE_CHECKING:
    from .. import StageResources

__all__ = ["RepairSettings", "RepairResult", "repair", "repair_document", "repair_documents",
           "replacement_char_count", "run", "warm_up"]

# edits.stage of the two sub-stages ("encoding" and "normalize" in 0.2 datasets).
ENCODING = "repair.encoding"
NORMALIZE = "repair.normalize"


@dataclass(frozen=True, slots=True)
class RepairSettings:
    """Settings of the repair stage (``[repair]`` in the config)."""

    fix_encoding: bool = True  # ftfy: mojibake, entities, C1 controls, ligatures, width, NFC
    uncurl_quotes: bool = False  # curly quotes carry information: keep them unless asked
    unicode_hygiene: bool = True  # odd spaces, invisible and control characters, NFC
    # U+FFFD marks bytes lost upstream; deleting it glues its neighbours into a wrong word
    drop_replacement_chars: bool = False
    fix_spacing: bool = True  # runs of spaces and tabs, trailing spaces, blank-line runs
    fix_punctuation: bool = True  # "said.." "century. ." " ," and other damage; spacing before ; ! ? in English only
    split_glued_words: bool = True  # "wasagreed" -> "was agreed", English text only
    remove_duplicate_parentheticals: bool = True  # "Vladimir Putin (Vladimir Putin)"
    remove_stray_script_lines: bool = True  # short lines in a script the article hardly uses
    stray_line_max_letters: int = 12  # ... of at most this many letters
    stray_line_max_words: int = 2  # ... and words
    stray_script_max_share: float = 0.05  # ... when their script is at most this share of the letters
    detect_language: bool = True  # set the article's language (articles.language)
    max_rounds: int = 4  # the passes repeat until stable; this bounds pathological input


@dataclass(slots=True)
class RepairResult:
    text: str
    edits: list[Edit] = field(default_factory=list)
    language: str = UNDETERMINED


class _LazyLanguage:
    """The language of the current text, computed only when a rule needs it."""

    def __init__(self, doc: Document, known: dict[str, tuple[str, float]] | None = None,
                 first: FirstSample | None = None) -> None:
        self._doc = doc
        self._known = known  # answers for the batch's samples (language.sample_answers)
        # The text as given and its first sample (language.first_sample: given by
        # the batch, else cut when first needed): asked about that text, or about
        # it without trailing newlines (what repair most often does), the sample
        # is cut once.
        self._original = doc.text
        self._first = first
        self._lang: str | None = None
        self._text: str | None = None
        self.answers: set[str] = set()  # what the rules were told since the last reset

    def __call__(self) -> str:
        # Asked again after a change, it answers for the new text: the rules then
        # decide on the text they see, which keeps repair idempotent.
        if self._lang is None or self._text != self._doc.text:
            self._text = self._doc.text
            self._lang = self._detect(self._text)
        self.answers.add(self._lang)
        return self._lang

    def final(self) -> str:
        """The language of the repaired text (reusing the answer if nothing changed since)."""
        if self._lang is not None and self._text == self._doc.text:
            return self._lang
        return self._detect(self._doc.text)

    def _detect(self, text: str) -> str:
        original = self._original
        first = None
        if text == original:
            first = self._original_first()
        elif len(text) < len(original) and original.startswith(text) \
                and original.count("\n", len(text)) == len(original) - len(text):
            # Only newlines cut (checked before cutting the original's sample)
            first = first_sample_after_trim(text, original, self._original_first())
        return detect_language(text, self._known, first)[0]

    def _original_first(self) -> FirstSample:
        if self._first is None:
            self._first = first_sample(self._original)
        return self._first


def _non_overlapping(changes: list[Change]) -> list[Change]:
    """Sorted changes, dropping any that overlaps an earlier one (it is retried next round)."""
    if len(changes) < 2:  # most calls: nothing to sort or drop
        return list(changes)
    out: list[Change] = []
    end = -1
    for ch in sorted(changes, key=_SPAN):
        if ch.start < end:
            continue
        out.append(ch)
        end = max(end, ch.end)
    return out




@dataclass(frozen=True, slots=True)
class _Given:
    """What the batch found out about a text (its facts, its glued-word candidates,
    None when not looked for), valid while the document's text is that text."""

    text: str
    facts: TextFacts
    candidates: set[str] | None


def _round(doc: Document, s: RepairSettings, protected: Callable[[str], bool] | None,
           language: _LazyLanguage, dirty: DirtySpans | None = None,
           given: _Given | None = None) -> bool:
    """One pass of every rule; True when something changed.

    ``dirty`` collects the spans of the resulting text that the pass rewrote;
    ``given``: what the batch found out about the document's text as given.
    """
    before = len(doc.edits)
    if given is not None and doc.text != given.text:
        given = None  # an earlier round changed the text
    # What the text holds, looked at once; looked at again only after a change.
    facts = given.facts if given is not None else scan_text(doc.text)

    def apply(changes: list[Change], stage: str = NORMALIZE) -> None:
        nonlocal facts
        if changes:
            if dirty is not None:
                dirty.update(doc.text, changes)
            apply_changes(doc, changes, stage=stage)
            facts = scan_text(doc.text)

    if s.fix_encoding:
        # encoding_changes' own first test, kept for _only_tail_trimmed.
        idle = facts.nfc and not may_trigger(doc.text, s.uncurl_quotes, facts)
        if dirty is not None:
            dirty.encoding_idle = idle
        if not idle:
            apply(encoding_changes(doc.text, s.uncurl_quotes, facts, screened=True), stage=ENCODING)
    if s.unicode_hygiene:
        apply(_non_overlapping(unicode_changes(doc.text, facts, s.drop_replacement_chars)))
    if s.remove_stray_script_lines:
        apply(stray_script_changes(doc.text, s.stray_line_max_letters, s.stray_line_max_words,
                                   s.stray_script_max_share, facts))
    token_changes: list[Change] = []
    text = doc.text
    if s.fix_punctuation:
        # French and others space "; ! ?" on purpose: that rule is for English only.
        token_changes += punctuation_changes(text, lambda: language() == "en", facts)
    if s.remove_duplicate_parentheticals:
        token_changes += parenthetical_changes(text)
    # Glued words are split in English only. A text unlikely to be English
    # (written mostly outside ASCII, or without " the ") is asked its language
    # first: the scan for candidates costs more than that answer, which the
    # stage needs at the end anyway. Either order gives the same changes.
    if s.split_glued_words and (_likely_english(text, facts) or language() == "en"):
        # The batch's candidates hold while the earlier passes left the text as given.
        unknown = given.candidates if given is not None and text == given.text else None
        token_changes += glued_word_changes(text, protected, lambda: language() == "en", unknown)
    apply(_non_overlapping(token_changes))
    if s.fix_spacing:
        changes = _non_overlapping(spacing_changes(doc.text, facts))
        if changes and dirty is not None:
            dirty.update(doc.text, changes)
        apply_changes(doc, changes, stage=NORMALIZE)
    if dirty is not None:
        # Spacing rewrites only spaces, tabs and newlines: the non-ASCII
        # characters the facts list are still the text's.
        dirty.facts = facts
    return len(doc.edits) > before


def _likely_english(text: str, facts: TextFacts) -> bool:
    """Written mostly in ASCII, with a " the ": the glued-word rule looks for
    candidates before asking the language (see _round)."""
    return len(facts.nonascii) * 2 <= len(text) and " the " in text


def _settled_or_window(doc: Document, s: RepairSettings, language: _LazyLanguage,
                       dirty: DirtySpans, edits: list[Edit]) -> bool | str:
    """True when another round would provably change nothing, False when it might
    (see :mod:`ketl.stages.repair.settle`), else the text a look round must read.

    The look round covers the rewritten spans with their context; what it cannot
    see is checked on the whole text: the stray-script rule, the language the
    rules were told (a page's language can change with its text), and a '<'
    (ftfy stops decoding entities after the first one).
    """
    if any("<" in e.before or "<" in e.after for e in edits):
        return False
    if language.answers and any(a != language() for a in language.answers):
        return False
    text = doc.text
    if _only_tail_trimmed(text, s, dirty, edits):
        return True
    if s.remove_stray_script_lines and stray_script_changes(
            text, s.stray_line_max_letters, s.stray_line_max_words, s.stray_script_max_share, dirty.facts):
        return False
    if _only_blank_lines_cut(text, s, dirty):
        return True
    return window_text(text, dirty.spans)


def _look(window: str, s: RepairSettings, protected: Callable[[str], bool] | None,
          language: _LazyLanguage, given: _Given | None) -> bool:
    """The look round over ``window``: True when it changes nothing."""
    look = Document.from_source(doc_id="", source_path="", source_sha256="",
                                source_encoding="utf-8", source=window)
    # The language is the whole text's, as in a full round.
    return not _round(look, _look_settings(s), protected, language, given=given)


def _only_tail_trimmed(text: str, s: RepairSettings, dirty: DirtySpans, edits: list[Edit]) -> bool:
    """True when the round only cut the blank tail of the text (three articles in
    four: the final newline) and that cut provably gives no rule new work.

    Every other rule found nothing in the text before the cut, which is this text
    plus blanks starting with a newline. The cut text ends where that newline
    was: the punctuation rules' lookaheads (whitespace, a newline or the end:
    not a space, "decade. 1990.\\t\\n"), the quote and joiner rules' next character
    and the glued-word rule's line and boundary tests answer as they did; the
    text's tokens, brackets, non-ASCII characters and marks are the same or
    fewer; the spacing pattern's leftmost match was the tail, and a match before
    it would have been one in the longer text too. The encoding rule is the one
    whose whole lines (ftfy's segments) change: its prefilter must have proved
    it had nothing to look at (``encoding_idle``). The stray-script rule found
    nothing in the round's text (it made no edit) and finds nothing here: the cut
    began at a newline after the last line with text, so it took only lines of
    spaces and tabs, which that rule never cuts nor counts (no letters). The
    language was checked on the whole text by the caller.
    """
    n = len(text)
    if len(edits) != 1 or edits[0].rule != _BLANK_LINES or edits[0].before[:1] != "\n" \
            or any(span != (n, n) for span in dirty.spans):
        return False
    # The round's text was this one plus the blanks: the same non-ASCII
    # characters, controls and entities, so the encoding rule's first test
    # answers as it did there.
    return not s.fix_encoding or dirty.encoding_idle or _last_line_settled(text, s)


def _last_line_settled(text: str, s: RepairSettings) -> bool:
    """True when the encoding rule, which found nothing in the round's text, finds
    nothing here either, this text being the round's without its blank tail.

    ftfy reads a line at a time with its newline: all the lines are the round's
    but the last, which lost its newline, so that line alone is asked (cheaper
    than a look round). ftfy decodes no entities from the first '<' of the text
    on, which the line alone cannot know: a line with an '&' then declines.
    """
    last = text[text.rfind("\n") + 1:]
    if "&" in last and "<" in text:
        return False
    return not encoding_changes(last, s.uncurl_quotes)


_BLANK_LINES = BLANK_LINES


def _only_blank_lines_cut(text: str, s: RepairSettings, dirty: DirtySpans) -> bool:
    """True when the round only cut runs of blank lines (to one blank line inside
    the text, to none at its ends) and that provably gives no rule new work: one
    round in eight on the bench corpus, which then needs no look round.

    Every other rule found nothing in the round's text, which is this one with
    the blank lines back. Each decides from the line it acts on, and from the
    character after the line's end (a newline or the text's end, answering as
    before: the cut runs start at a newline, ``dirty.only_blank_lines``, and a
    line that now starts the text was preceded by a newline, which the rules
    treat as the start) - but for the parenthetical rule, which reads up to
    PAREN_LOOKBACK characters before a bracket across lines: no bracket may read
    back to a cut. The spacing rule's matches are made of spaces, tabs and
    newlines only, so one touching a cut lies in the blanks around it: a kept
    "\n\n" between two other characters, or an end of the text next to another
    character, holds none. The encoding rule reads whole lines with their
    newline: only a cut at the end changes one (see _last_line_settled); the
    stray-script rule and the language were checked on the whole text by the caller.
    """
    n = len(text)
    if not dirty.only_blank_lines or not dirty.spans or not n:
        return False
    # A cut inside the text leaves ftfy's lines (each with its newline) as they
    # were; one at its end takes the last line's newline.
    if s.fix_encoding and not dirty.encoding_idle and (n, n) in dirty.spans and not _last_line_settled(text, s):
        return False
    for p, q in dirty.spans:
        if p == q:  # a cut at an end of the text
            if not ((p == 0 and text[0] not in BLANKS) or (p == n and text[-1] not in BLANKS)):
                return False
        elif not (0 < p and q < n and text[p:q] == "\n\n" and text[p - 1] not in BLANKS
                  and text[q] not in BLANKS):
            return False
    if s.remove_duplicate_parentheticals and "(" in text:
        for _, q in dirty.spans:
            start = text.find("(", q)  # the first bracket after the cut: later ones read less far back
            while start > 0 and text[start - 1] in " \t":
                start -= 1
            if start >= 0 and start - PAREN_LOOKBACK <= q:
                return False
    return True


@lru_cache(maxsize=8)
def _look_settings(s: RepairSettings) -> RepairSettings:
    """The settings of the look round (the stray-script rule is checked on the whole
    text instead); built once, not per article: dataclasses.replace is slow."""
    return dataclasses.replace(s, remove_stray_script_lines=False)


def repair_document(doc: Document, settings: RepairSettings | None = None,
                    protected: Callable[[str], bool] | None = None,
                    known_languages: dict[str, tuple[str, float]] | None = None,
                    first: FirstSample | None = None, given: _Given | None = None) -> Document:
    """Repair one document in place (edits appended) and set ``meta["language"]``.

    ``known_languages``: the language identifier's answers for samples of the
    batch, given beforehand (:func:`ketl.text.language.sample_answers`);
    ``first``: :func:`ketl.text.language.first_sample` of ``doc.text`` as given;
    ``given``: the text's scan and glued-word candidates, found for the whole
    batch (:func:`repair_documents`)."""
    for _ in _repair_steps(doc, settings or RepairSettings(), protected, known_languages, first, given):
        pass  # each look round's window: scanned by the rules themselves
    return doc


def _repair_steps(doc: Document, s: RepairSettings, protected: Callable[[str], bool] | None,
                  known_languages: dict[str, tuple[str, float]] | None, first: FirstSample | None,
                  given: _Given | None) -> Iterator[str]:
    """:func:`repair_document`'s rounds, stopping at each look round to yield its
    window: the caller may send back what the batch found out about it (a
    ``_Given``; None: the rules scan it themselves)."""
    language = _LazyLanguage(doc, known_languages, first)
    rounds = max(1, s.max_rounds)
    for r in range(rounds):
        language.answers.clear()
        dirty = DirtySpans()
        edits_before = len(doc.edits)
        if not _round(doc, s, protected, language, dirty, given):
            break
        if r + 1 < rounds:
            settled = _settled_or_window(doc, s, language, dirty, doc.edits[edits_before:])
            if isinstance(settled, str):
                window = settled
                settled = _look(window, s, protected, language, (yield window))
            if settled:
                break  # the next round would change nothing: skip it
    if s.detect_language:
        doc.meta["language"] = language.final()


def repair(text: str, settings: RepairSettings | None = None,
           protected: Callable[[str], bool] | None = None) -> RepairResult:
    """Repair ``text``; edits are located in ``text`` itself (line, offsets).

    Line endings are normalised to ``\\n`` first (as for every Document).
    Never raises on a ``str``; repairing the result again changes nothing.
    """
    s = settings or RepairSettings()
    doc = Document.from_source(doc_id="", source_path="", source_sha256="",
                               source_encoding="utf-8", source=text)
    repair_document(doc, s, protected)
    return RepairResult(text=doc.text, edits=list(doc.edits),
                        language=doc.meta.get("language", UNDETERMINED))


def run(docs: list[Document], resources: StageResources) -> list[Document]:
    """The registry's entry point (:data:`ketl.stages.STAGES`): ``[repair]``, names
    of the run's gazetteers protected from word splitting."""
    return list(repair_documents(docs, resources.settings["repair"], protected=resources.gazetteer.protects))


def repair_documents(docs: Iterable[Document], settings: RepairSettings | None = None,
                     protected: Callable[[str], bool] | None = None) -> Iterator[Document]:
    """The repair stage over a batch (the Prefect task calls this).

    The documents' languages are identified a chunk at a time, before their
    repair (one automaton walk for the chunk: :func:`ketl.text.language.sample_answers`);
    the rules and ``meta["language"]`` get the answers they would get one by one.
    """
    s = settings or RepairSettings()
    asks = s.detect_language or s.fix_punctuation or s.split_glued_words
    it = iter(docs)
    while chunk := list(islice(it, _LANGUAGE_CHUNK)):
        # A run hands the stage whole batches; a lone document (a batch's
        # one-at-a-time fallback after an error, the CLI's text command) is asked
        # as before: a walk for one text costs more than classify's own (the
        # batch bookkeeping, the samples cut twice) and misses its cache.
        texts = [d.text for d in chunk]
        walk = asks and len(chunk) > 1
        # Cut once: the batch's walk reads them, and so does the final language
        # of a text whose repair only cut its final newlines.
        firsts = [first_sample(t) for t in texts] if walk else [None] * len(chunk)
        known = sample_answers(texts, firsts) if walk else None
        if len(chunk) == 1:
            yield repair_document(chunk[0], s, protected, known, firsts[0])
            continue
        yield from _repair_chunk(chunk, s, protected, known, firsts)


def _repair_chunk(chunk: list[Document], s: RepairSettings, protected: Callable[[str], bool] | None,
                  known: dict[str, tuple[str, float]] | None, firsts: list) -> list[Document]:
    """The documents' first rounds, then their first look rounds: the texts and
    the windows each scanned for the whole chunk at once (_batch_givens). The
    documents share no state, so the order of their steps changes no result."""
    steps = [_repair_steps(doc, s, protected, known, first, given)
             for doc, first, given in zip(chunk, firsts, _batch_givens([d.text for d in chunk], s))]
    looking = [(step, window) for step in steps if (window := next(step, None)) is not None]
    for (step, _), given in zip(looking, _batch_givens([w for _, w in looking], s)):
        try:
            step.send(given)
        except StopIteration:
            continue
        for _ in step:  # a later look round: scanned by the rules themselves
            pass
    return chunk


def _batch_givens(texts: list[str], s: RepairSettings) -> list[_Given]:
    """The first scan of each text and its glued-word candidates, found for the
    whole chunk with numpy (several times cheaper than one text at a time; a
    lone document is scanned by the rules themselves, as cheaply)."""
    datas = [t.encode("utf-8", "surrogatepass") for t in texts]  # encoded once for both
    facts = scan_texts(texts, datas)
    candidates: list[set[str] | None] = [None] * len(texts)
    if s.split_glued_words:
        # Only for the texts the rule looks at before their language is known: a
        # text unlikely to be English is asked first, and most are not English.
        likely = [i for i, (t, f) in enumerate(zip(texts, facts)) if _likely_english(t, f)]
        for i, found in zip(likely, batch_candidate_tokens([texts[i] for i in likely], [datas[i] for i in likely])):
            candidates[i] = found
    return [_Given(t, f, c) for t, f, c in zip(texts, facts, candidates)]


# Documents whose languages are identified together: enough to spread the walk's
# numpy calls thin, few enough that a stream of documents still flows.
_LANGUAGE_CHUNK = 256


# Reaches every lazily built table: mojibake, odd spacing, a glued pair, an English text.
_WARM_TEXT = ("The talks wasagreed on Sunday ,  the minister said.\n\n\n"
              "CafÃ© owners in Baku said the\ttalks would go on after the heavyshelling.\n")


def warm_up(settings: RepairSettings | None = None,
            protected: Callable[[str], bool] | None = None) -> None:
    """Load what the passes load lazily (language tables, glued-word lists, compiled
    patterns), so that a worker process pays for it before its first batch: for
    instance as a process pool's initializer while the run is still starting.
    Changes no result."""
    from .tokens import warm_token_table
    from .words import warm_word_lists

    warm_word_lists()
    warm_token_table()
    repair(_WARM_TEXT, settings, protected)


def replacement_char_count(doc: Document) -> int:
    """U+FFFD in the document: those in its text and those the repair removed
    (``drop_replacement_chars``), so the count flags damaged articles either way."""
    removed = sum(e.before.count(REPLACEMENT_CHAR) for e in doc.edits if e.rule == "unicode.replacement")
    return doc.text.count(REPLACEMENT_CHAR) + removed


def settings_from_mapping(values: dict) -> RepairSettings:
    """Settings from a TOML table, ignoring unknown keys."""
    names = {f.name for f in dataclasses.fields(RepairSettings)}
    return RepairSettings(**{k: v for k, v in values.items() if k in names})
