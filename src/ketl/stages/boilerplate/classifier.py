"""Line classifier for plain text: is a line part of the article or page furniture?

Plain-text cousin of jusText (Pomikálek) and boilerpipe (Kohlschütter): with no
HTML we only see lines, so each non-blank line is a "paragraph" described by
its length, stop-word density, final punctuation and separator density, then
re-judged by its neighbours, and finally the article is taken as the best
contiguous run of content (a maximum-sum segment, so islands of prose far from
the article -- "most popular" teasers, comments -- go too).

Pure functions over lists of strings; the stage decides what to do with the
verdicts. What a line reads as by itself is ``prose``'s; how far the article
reaches past the chosen run, on evidence, is ``edges``' and ``resume``'s.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from bisect import bisect_left
from itertools import accumulate, chain, compress, islice, repeat
from operator import is_, itemgetter, sub
from typing import Callable, NamedTuple, Sequence

import numpy as np
from stop_words import AVAILABLE_LANGUAGES, get_stop_words

from .edges import _SIGNATURE, _extend_to_evidence, _ruled_edges  # noqa: F401  (_SIGNATURE: stage.py's, from here)
from .embeds import clear_tweet_text
from .prose import (_ITEM_NUMBER, _LETTER, _MENU_MAX_CHARS, _NO_SPACE_SCRIPT, _SPACELESS, _TERMINAL_CHARS,
                    _cut_short, _menu_item, _words, effective_length, effective_lengths, is_prose, list_lead)
from .resume import _BARE_LINK, _RESUMED_MIN_CHARS, _own_lines_resume

__all__ = ["ClassifierSettings", "LineVerdict", "classify_lines", "classify_stripped", "teaser_lines",
           "GOOD", "BAD", "SHORT", "NEAR"]

GOOD, NEAR, SHORT, BAD = "good", "near", "short", "bad"


@dataclass(frozen=True)
class ClassifierSettings:
    length_low: int = 70  # below: too short to judge alone (jusText's length_low)
    length_high: int = 200  # above: long enough to be good on its own
    stop_low: float = 0.22  # stop-word density of near-good prose
    stop_high: float = 0.30  # stop-word density of good prose
    max_separator_density: float = 0.12  # "Home | News | Sport" menus
    short_cost: int = 60  # cost of keeping a short line (heading, list item) inside the article
    block_bad_penalty: int = 150  # cost, in characters, of keeping a bad line inside the article
    adaptive_stopwords: int = 0  # how many of the document's own most frequent short words count as stop words
    # A comment thread (several comment markers close together: "X says:", "2 days ago",
    # "Reply") weighs this share of its length: a long thread must not outweigh the article.
    thread_weight: float = 0.25
    thread_min_markers: int = 3  # markers within thread_window lines that open a thread
    thread_window: int = 30
    # An earlier run worth at least this share of the best one is the article (pages put
    # the article first; what outweighs it further down is teasers, comments, footers).
    earlier_ratio: float = 0.6
    # Runs of at least this many short lines with two or more numbers each are a
    # table or a schedule (standings, fixtures, recipes): content, not menus.
    table_min_rows: int = 4
    table_row_divisor: int = 2  # a table row weighs its length divided by this
    # An article interrupted by a box ("READ MORE: ...", related links, an embedded
    # tweet, a caption) continues past it: the chosen run is extended across at most
    # bridge_max_gap non-blank lines of furniture when at least bridge_min_lines
    # prose lines worth bridge_min_chars follow (a lone teaser summary does not).
    bridge_max_gap: int = 6
    bridge_min_chars: int = 120
    bridge_min_lines: int = 2
    # Removal needs evidence: the article extends from its best run up to the
    # nearest line condemned on its own (see _extend_to_evidence).
    evidence_bounds: bool = True
    menu_min_run: int = 5  # this many short entries in a row are a menu (evidence)
    list_header_penalty: int = 300  # a rule line this costly heads a list of links
    # A rule line cheaper than this (an ad marker, a share button) bounds the
    # article only where no prose follows it.
    strong_penalty: int = 150
    never_empty: bool = True  # the classifier alone never removes every line
    # Short lines between the article's last sentence and the evidence beyond are
    # the page's footer (or header) run only up to this many: longer, a list.
    edge_run_max: int = 6
    short_prose_free: bool = True  # a short sentence costs the article nothing
    after_title_min: int = 300  # a run of prose this heavy right below the headline ...
    after_title_gap: int = 8  # ... starting within this many lines of it, is the article
    # A list header or a menu inside the chosen run, followed by nothing but a
    # teaser list (headlines, each with one blurb at most), ends the article.
    teaser_tail: bool = True


@dataclass(frozen=True, slots=True)
class LineVerdict:
    label: str  # GOOD / NEAR / SHORT / BAD (final: only GOOD or BAD)
    keep: bool
    reason: str  # rule-ish id for why a line went, "" when kept


_SEPARATORS = re.compile(r"[|»›•·>/\\→←]|\s-\s")
_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+")
# Cheap pre-tests (a plain character class scans at C speed; an alternation does not).
_SEPARATOR_CHAR = re.compile(r"[|»›•·>/\\→←@]")
_SPACED_DASH = re.compile(r"\s-\s")


@lru_cache(maxsize=1)
def _stop_lists() -> dict[str, frozenset[str]]:
    """The stop-word lists of the ``stop-words`` package (33 languages), loaded once."""
    out = {}
    for lang in AVAILABLE_LANGUAGES:
        try:
            out[lang] = frozenset(w.lower() for w in get_stop_words(lang))
        except Exception:  # a list the package lacks: skip it, others remain
            continue
    return out


@lru_cache(maxsize=1)
def _stop_index() -> tuple[list[frozenset[str]], dict[str, int], np.ndarray]:
    """The lists; for every stop word the number of its group, the words held
    by the same lists (1 and up); and which lists hold each group's words
    (``member[g, k]``, row 0: none). A line's hits per list are then the sum
    of its groups' packed fields (:func:`_packed_groups`)."""
    lists = list(_stop_lists().values())
    index: dict[str, list[int]] = {}
    for k, words in enumerate(lists):
        for w in words:
            index.setdefault(w, []).append(k)
    numbers: dict[tuple[int, ...], int] = {(): 0}
    group = {w: numbers.setdefault(tuple(ks), len(numbers)) for w, ks in index.items()}
    member = np.zeros((len(numbers), len(lists)))
    for ks, g in numbers.items():
        member[g, list(ks)] = 1
    return lists, group, member


@lru_cache(maxsize=4096)
def _line_words(line: str) -> list[str]:
    """The lower-cased words of a line (shared: do not modify). Cached because
    the language guess and the line classifier both split the long lines."""
    return _words(line.lower())


_SAMPLE_CHARS = 3_000  # enough text to tell the language, bounded cost on huge pages


def document_stopwords(lines: Sequence[str], n_adaptive: int = 0,
                       min_coverage: float = 0.08) -> frozenset[str]:
    """Stop words of the document's language.

    The language is the one whose list covers most of the page's tokens (a
    stop-word language guess, as jusText does per language), plus optionally
    the document's own most frequent short words for languages without a list.
    An empty set when no list covers ``min_coverage`` of the tokens: the
    language has no usable list, and lines are then judged without stop words.
    """
    # The language shows in the prose-length lines; menus only dilute it.
    long = [line for line in lines if len(line) >= _SAMPLE_MIN]
    sample, size = _sample(long)
    lists = _stop_index()[0]
    words: list[str] | None = None
    if size >= 200:
        # Word by word as "\n".join(sample) would give them; line by line, each
        # line's hits per list remembered (_line_groups).
        facts = list(map(_GROUPS.get, sample))
        if None in facts:  # (a line new to the memo; a hit is a look-up in C)
            facts = list(map(_line_groups, sample))
        n_words = sum(map(itemgetter(0), facts))
        total = sum(map(itemgetter(2), facts))
    else:
        words = _words("\n".join(lines)[:_SAMPLE_CHARS].lower())
        n_words = len(words)
        # (One look-up per word, at C speed.)
        total = sum(filter(None, map(_word_packed().get, words)))
    # The page's hits per list, unpacked from their fields (_packed_groups) in C.
    hits = np.frombuffer(total.to_bytes(4 * len(lists), "little"), "<u4").tolist()
    best_hits = max(hits, default=0)
    # (The first list wins ties, as before; none when no list has a hit.)
    best = lists[hits.index(best_hits)] if best_hits > 0 else frozenset()
    if best_hits < min_coverage * max(1, n_words):
        best = frozenset()
    elif not _describes_prose(long, best):  # (its lines of 80 characters or more are long ones)
        best = frozenset()
    if n_adaptive > 0:
        if words is None:
            words = list(chain.from_iterable(map(_line_words, sample)))
        counts = Counter(words)
        extra = {w for w, c in counts.most_common(n_adaptive) if c >= 3 and len(w) <= 4 and not w.isdigit()}
        best = best | extra
    return best


_SAMPLE_MIN = 60  # characters of a line the sample takes


def _sample(long: list[str]) -> tuple[list[str], int]:
    """The lines (of ``_SAMPLE_MIN`` characters or more) up to the first that
    brings their size to ``_SAMPLE_CHARS``, and that size (summed in C)."""
    sizes = list(accumulate(map(len, long)))
    cut = bisect_left(sizes, _SAMPLE_CHARS)
    return long[:cut + 1], sizes[min(cut, len(sizes) - 1)] if sizes else 0


# Hits of every list in one integer: list k's count in bits [32k, 32k + 32) (a
# page's sample holds far fewer than 2**32 words, so no field overflows into
# the next). Lines' and pages' hits per list are then sums of plain integers.
_FIELD_BITS = 32
_FIELD_MASK = (1 << _FIELD_BITS) - 1


@lru_cache(maxsize=1)
def _packed_groups() -> list[int]:
    """For each stop-word group, one in the field of every list holding its words."""
    member = _stop_index()[2]
    return [sum(1 << (_FIELD_BITS * k) for k in np.flatnonzero(row).tolist()) for row in member]


@lru_cache(maxsize=1)
def _word_packed() -> dict[str, int]:
    """For each stop word, its group's packed hits (:func:`_packed_groups`): a
    line's hits per list are the sum of its words' (one look-up per word)."""
    packed = _packed_groups()
    return {w: packed[g] for w, g in _stop_index()[1].items()}


_GROUPS: dict[str, tuple[int, int, int]] = {}


def _line_groups(line: str) -> tuple[int, int, int]:
    """A line's number of words, how many of them are stop words of some list
    (:func:`_stop_index`), and its hits per list packed in one integer
    (:func:`_packed_groups`), remembered by line (pure; bounded like the
    verdicts): a page's sample then sums integers, not words."""
    v = _GROUPS.get(line)
    if v is None:
        if len(_GROUPS) >= _VERDICTS_MAX:
            _GROUPS.clear()
        words = _line_words(line)
        hits = list(filter(None, map(_word_packed().get, words)))
        v = _GROUPS[line] = (len(words), len(hits), sum(hits))
    return v


def _describes_prose(lines: Sequence[str], stop: frozenset[str], min_chars: int = 80,
                     min_density: float = 0.25, lengths: Sequence[int] | None = None) -> bool:
    """Does the list describe this page's long lines? In agglutinative
    languages (Korean, Turkish, Finnish...) particles stick to the words, so
    even prose has few stop words, and the density thresholds would condemn
    every paragraph: better judge such a page without stop words."""
    if lengths is None:
        lengths = list(map(len, lines))
    # The first 12 prose lines of min_chars or more, picked out in C (is_prose: a cache).
    prose = list(islice(filter(is_prose, compress(lines, map(min_chars.__le__, lengths))), 12))
    if len(prose) < 2:
        return True
    k = _stop_number(stop)
    # A shared list: the hits of a line the sample counted are remembered
    # (_line_groups), in the list's field: no look-up per word.
    shift = _FIELD_BITS * k if k is not None and k >= 0 else -1
    if shift >= 0:
        # (A line past the sample is remembered too: the next page that prints it reads its hits.)
        densities = [((v[2] >> shift) & _FIELD_MASK) / max(1, v[0]) for v in map(_line_groups, prose)]
    else:
        densities = list(map(_density, prose, repeat(stop)))
    densities.sort()
    # The upper quartile: keyword clouds and menus are long lines too.
    return densities[(3 * len(densities)) // 4] >= min_density


def _density(line: str, stop: frozenset[str]) -> float:
    words = _line_words(line)
    return sum(map(stop.__contains__, words)) / max(1, len(words))


def _has_separator(line: str) -> bool:
    """``_SEPARATOR_CHAR.search(line) or "www." in line or _SPACED_DASH.search(line)``:
    in an ASCII line by substring tests (a memchr each, where the character
    class takes a regex step per character); a dash by its neighbours
    (``\\s`` is ``str.isspace``)."""
    if line.isascii():
        if "/" in line or "|" in line or ">" in line or "@" in line or "\\" in line:
            return True
    elif _SEPARATOR_CHAR.search(line):
        return True
    if "www." in line:
        return True
    if "-" not in line:
        return False
    if " - " in line:
        return True
    i = line.find("-", 1)
    while i > 0:
        if line[i - 1].isspace() and line[i + 1:i + 2].isspace():
            return True
        i = line.find("-", i + 1)
    return False


def _few_words(line: str, n_words: int | list[str]) -> bool:
    """``len(_WORD.findall(line)) < len(line) / 8`` given ``len(_line_words(line))``
    (or those words): lower-casing keeps the runs of word characters but for
    "İ" ("i" and a combining dot, no word character)."""
    if not isinstance(n_words, int):
        n_words = len(n_words)
    n = n_words if "\u0130" not in line else len(_words(line))
    return n < len(line) / 8


def _initial(line: str, stop: frozenset[str], cfg: ClassifierSettings,
             n_chars: int | None = None, shift: int = -1) -> tuple[str, str]:
    """A line's verdict by itself. ``shift``: where ``stop``'s hits lie in the
    packed hits of :func:`_line_groups` (``stop`` is that shared list), -1: counted here."""
    if n_chars is None:
        n_chars = effective_length(line)
    if not _LETTER.search(line):
        return (SHORT, "") if n_chars < cfg.length_low else (BAD, "classifier.no_letters")
    words: list[str] | None = None
    if _has_separator(line):  # most lines have none: skip the counting
        sep = len(_SEPARATORS.findall(line))
        if "://" in line or "www." in line or "@" in line:
            # (Each of _URL's branches needs one of these: without them its
            # "\S+@" would try every position of every long token.)
            sep += 3 * len(_URL.findall(line))
        words = _line_words(line)
        if words and sep / len(words) > cfg.max_separator_density * 4 and len(words) > 3:
            return BAD, "classifier.link_density"
    if n_chars < cfg.length_low:
        # A short sentence is a paragraph too: its neighbours decide, it never
        # costs the article like a menu entry does.
        return SHORT, ""
    terminal = line[-1] in _TERMINAL_CHARS
    spaceless = False
    hits = -1
    if stop:
        # A line the stop-word guess sampled: its words' count and hits remembered.
        v = _GROUPS.get(line) if shift >= 0 else None
        if v is not None:
            n_words, hits = v[0], (v[2] >> shift) & _FIELD_MASK
        else:
            if words is None:
                words = _line_words(line)
            n_words = len(words)
        # (The word count first: a character class would scan every line.)
        spaceless = not line.isascii() and _few_words(line, n_words) and _NO_SPACE_SCRIPT.search(line)
    if not stop or spaceless:
        # No stop words to count: judge by length and punctuation alone.
        if terminal or n_chars >= cfg.length_high or is_prose(line):
            return GOOD, ""
        return NEAR, ""
    if hits < 0:
        hits = sum(map(stop.__contains__, words))
    density = hits / max(1, n_words)
    if density >= cfg.stop_high and (n_chars >= cfg.length_high or terminal):
        return GOOD, ""
    if density >= cfg.stop_low:
        return NEAR, ""
    if terminal and density >= cfg.stop_low / 2 and n_words >= 4:
        # A sentence, if a terse one ("X accused Baku of “aggressive and destructive”."):
        # its neighbours decide.
        return NEAR, ""
    if is_prose(line):
        # A sentence with few of these stop words: another language's prose
        # (a Turkish article under an English menu), never condemned for it.
        return NEAR, ""
    return BAD, "classifier.low_content"


def classify_lines(lines: Sequence[str], stopwords: frozenset[str] = frozenset(),
                   rule_penalties: Sequence[int] | None = None,
                   cfg: ClassifierSettings = ClassifierSettings()) -> list[LineVerdict]:
    """One verdict per entry of ``lines`` (blank lines get ``keep=True``, label SHORT).

    ``rule_penalties`` is > 0 for lines already condemned by a rule: they count
    as bad context for their neighbours, and the value is what keeping them
    inside the article costs (a "Related stories" header costs a lot).
    """
    stripped = [ln.strip() for ln in lines]
    idx = [i for i, s in enumerate(stripped) if s]
    keep, labels, reasons = classify_stripped([stripped[i] for i in idx], stopwords or None,
                                              [rule_penalties[i] for i in idx] if rule_penalties else None,
                                              cfg)
    out = [LineVerdict(SHORT, True, "")] * len(lines)
    for q, i in enumerate(idx):
        out[i] = LineVerdict(labels[q], keep[q], reasons[q])
    return out


def classify_stripped(lines: Sequence[str], stopwords: frozenset[str] | None = None,
                      penalties: Sequence[int] | None = None,
                      cfg: ClassifierSettings = ClassifierSettings(),
                      comment_markers: Sequence[bool | str] | None = None,
                      title_at: int = -1) -> tuple[list[bool], list[str], list[str]]:
    """The hot path of :func:`classify_lines`, over non-blank stripped lines:
    ``(keep, label, reason)`` lists, no per-line objects. ``stopwords`` None:
    guessed from the lines; an empty set: judge without stop words.
    ``comment_markers`` flags lines of comment furniture ("X says:", "Reply"):
    where they cluster a comment thread starts, and its prose weighs less."""
    stop = stopwords if stopwords is not None else document_stopwords(lines, cfg.adaptive_stopwords)
    pen = penalties or [0] * len(lines)
    thread = _thread_start(comment_markers, cfg) if comment_markers else len(lines)
    out = _classify(lines, stop, pen, cfg, thread, title_at)
    if stop and not any(out[0]):
        # Nothing looked like prose in this language (score tables, lists):
        # judge again by length and punctuation alone rather than drop it all.
        out = _classify(lines, frozenset(), pen, cfg, thread, title_at)
    if not any(out[0]) and cfg.never_empty:
        _keep_best_run(lines, pen, *out)
    return out


def _list_headers(lines: Sequence[str], penalties: Sequence[int], min_penalty: int) -> list[bool]:
    """A list header ("Related", "More from UK"): a rule line this costly and short."""
    out = [False] * len(lines)
    if not penalties or max(penalties) < min_penalty:  # (most pages: no such rule line, one C scan)
        return out
    # (A line without a penalty heads nothing, unless the bound is 0 or less.)
    for q in compress(range(len(lines)), penalties) if min_penalty > 0 else range(len(lines)):
        out[q] = penalties[q] >= min_penalty and len(lines[q]) <= _HEADER_MAX_CHARS and not _inline_teaser(lines[q])
    return out


def _keep_best_run(lines: Sequence[str], penalties: Sequence[int], keep: list[bool],
                   labels: list[str], reasons: list[str]) -> None:
    """The classifier alone never empties an article (a one-line article, a
    list, a page of short lines): keep the longest run of lines that no rule
    or verdict of their own condemns."""
    best, best_run, run, size = 0, (0, -1), [], 0
    for q, line in enumerate(lines):
        if penalties[q] > 0 or reasons[q] in _HARD_REASONS:
            run, size = [], 0
            continue
        run.append(q)
        size += effective_length(line)
        if size > best:
            best, best_run = size, (run[0], q)
    for q in range(best_run[0], best_run[1] + 1):
        keep[q], labels[q], reasons[q] = True, GOOD, ""


def _thread_start(markers: Sequence[bool | str], cfg: ClassifierSettings) -> int:
    """Index of the first comment marker followed closely by enough others, else len."""
    pos = [q for q, f in enumerate(markers) if f]
    k = cfg.thread_min_markers
    for j in range(len(pos) - k + 1):
        if pos[j + k - 1] - pos[j] < cfg.thread_window:
            # Markers given as texts: one marker repeated ("Report" under every
            # embedded tweet) is a widget, a thread mixes them ("X says:", "2 days ago").
            window = [markers[q] for q in pos[j:j + k]]
            if isinstance(window[0], str) and len(set(window)) < 2:
                continue
            return pos[j]
    return len(markers)


def _classify(lines: Sequence[str], stop: frozenset[str], penalties: Sequence[int],
              cfg: ClassifierSettings, thread: int, title_at: int = -1) -> tuple[list[bool], list[str], list[str]]:
    m = len(lines)
    labels: list[str] = [BAD] * m
    reasons: list[str] = ["rule"] * m
    lengths = effective_lengths(lines)
    facts = _initial_labels(lines, stop, penalties, cfg, lengths, labels, reasons)
    weights = facts.weights
    _weigh_context(labels, weights, lengths, cfg, thread)
    if cfg.table_min_rows > 0:
        _table_rows(lines, labels, weights, cfg, facts.rows)
    lo, hi = _choose_block(weights, cfg, title_at)
    hard = _evidence(lines, penalties, reasons, cfg, title_at, facts)
    headers = _list_headers(lines, penalties, cfg.list_header_penalty)
    if hi > lo and cfg.teaser_tail:
        cut = _teaser_tail(lines, headers, hard, lo, min(thread, m), cfg.bridge_max_gap)
        if cut < m:  # the article ends before the box: nothing reaches past it
            thread = min(thread, cut)
            if hi >= cut:
                hi = cut - 1
                while hi > lo and weights[hi] < 0:
                    hi -= 1
    inside = [False] * m
    if hi >= lo:
        inside[lo:hi + 1] = [True] * (hi + 1 - lo)
    if hi >= lo and cfg.bridge_max_gap > 0:
        # An ad marker or a share button between two paragraphs costs nothing
        # when measuring the prose beyond a gap: the article goes on past it.
        _bridge(_seen_through(weights, penalties, headers), labels, inside, lo, hi, min(thread, m), cfg,
                title_at + 1 if title_at < lo else 0)
    if hi >= lo and cfg.evidence_bounds:
        # An interruption: a rule line standing alone (an ad marker, a caption's
        # credit, one "Related: <headline>" link), not a list header, not part of
        # a run of furniture. The article goes on past it where prose follows.
        weak = [False] * m
        for q in compress(range(m), hard):  # (only condemned lines can be weak)
            weak[q] = (0 < penalties[q] and not headers[q]
                       and (penalties[q] < cfg.strong_penalty or _alone(hard, q)))
        _extend_to_evidence(lines, inside, hard, weak, headers, min(thread, m), cfg.edge_run_max,
                            cfg.bridge_max_gap, _ruled_edges(penalties, title_at))
    if cfg.evidence_bounds:
        _keep_cited_links(lines, inside, hard, penalties, reasons)
    return _final(labels, reasons, inside, hard, cfg.evidence_bounds)


def _seen_through(weights: list[int], penalties: Sequence[int], headers: Sequence[bool]) -> list[int]:
    """The weights with every rule line but a list header at 0."""
    out = list(weights)
    for q in compress(range(len(weights)), penalties):  # (only rule lines change: most lines have no penalty)
        if weights[q] < 0 and 0 < penalties[q] and not headers[q]:
            out[q] = 0
    return out


def _final(labels: list[str], reasons: list[str], inside: Sequence[bool], hard: Sequence[bool],
           evidence_bounds: bool) -> tuple[list[bool], list[str], list[str]]:
    """``(keep, label, reason)``: inside the article a line stays unless it is
    bad and (with evidence bounds) condemned on its own; outside it goes."""
    keep = [False] * len(labels)
    for q, lab in enumerate(labels):
        if inside[q]:
            if lab != BAD or (evidence_bounds and not hard[q]):
                labels[q], keep[q], reasons[q] = GOOD, True, ""
            elif not reasons[q]:
                reasons[q] = "classifier.low_content"
        elif lab != BAD:
            labels[q], reasons[q] = BAD, "classifier.outside_article"
    return keep, labels, reasons


# Verdicts of _initial by line, per settings and stop-word list (a pure
# function of the three): a line a site prints on many pages (a dateline, a
# byline, a boxed sentence the rules do not know) or an article printed again
# is judged once. Bounded: cleared when full.
_VERDICTS: dict[tuple[ClassifierSettings, int], dict[str, tuple[str, str]]] = {}
_VERDICTS_MAX = 32768
_VERDICT_STATS = [0, 0]  # hits, misses (benchmarks report the hit rate)


def _stop_number(stop: frozenset[str]) -> int | None:
    """Which shared list ``stop`` is (-1: none), or None for a set of the
    caller's own (a union with a rule file's words): not remembered by."""
    if not stop:
        return -1
    k = _stop_numbers().get(id(stop))
    # (An id is only a list's while the list lives: checked, so a set of the
    # caller's own never takes a freed list's verdicts.)
    return k if k is not None and _stop_index()[0][k] is stop else None


@lru_cache(maxsize=1)
def _stop_numbers() -> dict[int, int]:
    # (The lists live as long as the process: their ids stay theirs.)
    return {id(words): k for k, words in enumerate(_stop_index()[0])}


def _memo(memos: dict, key: object) -> dict:
    """The memo of ``key`` in ``memos``, all of them cleared when together they
    hold ``_VERDICTS_MAX`` lines: one bound per kind of memo, however many
    languages and settings a long-lived worker meets (each memo keeps whole lines)."""
    if sum(map(len, memos.values())) >= _VERDICTS_MAX:
        memos.clear()
    memo = memos.get(key)
    if memo is None:
        memo = memos[key] = {}
    return memo


class _PageFacts(NamedTuple):
    """What the verdicts pass learns of a page's lines on the way (each a test
    per line the later passes would otherwise make in a pass of their own)."""

    weights: list[int]  # each line's weight in the block search as its label stands
    hard: list[bool]  # condemned on its own: a rule line, a link menu, no letters
    rows: list[int]  # short lines with two numbers (table rows, if they run)
    short: list[int]  # lines short enough to be menu entries
    numbered: int  # lines that open with a digit or a space (a numbered list's items)


def _initial_labels(lines: Sequence[str], stop: frozenset[str], penalties: Sequence[int], cfg: ClassifierSettings,
                    lengths: Sequence[int], labels: list[str], reasons: list[str]) -> _PageFacts:
    """``_initial`` of every line no rule condemned, into ``labels`` and ``reasons``
    (a ruled line's stay as they are), and the page's facts (:class:`_PageFacts`),
    in one pass: a line's verdict and facts are remembered together."""
    m = len(lines)
    number = _stop_number(stop)
    memo = _memo(_VERDICTS, (cfg, number)) if number is not None else {}
    known = memo.get
    shift = _FIELD_BITS * number if number is not None and number >= 0 else -1
    weights, hard = [0] * m, [True] * m
    rows: list[int] = []
    short: list[int] = []
    numbered = ruled = misses = 0
    for q, line in enumerate(lines):
        p = penalties[q]
        if p <= 0:
            v = known(line)
            if v is None:  # (a line printed twice on the page is judged once)
                v = memo[line] = _line_facts(line, stop, cfg, lengths[q], shift)
                misses += 1
            labels[q], reasons[q], weights[q], hard[q], row, lead = v
            if row:
                rows.append(q)
            if p and labels[q] == BAD:  # (a negative penalty: the caller's own)
                weights[q] = -max(p, len(line) // 2)
        else:
            ruled += 1
            label = labels[q]
            weights[q] = -max(p, len(line) // 2) if label == BAD else _line_weight(line, label, lengths[q], cfg)
            if label == SHORT and _TWO_NUMBERS.search(line):  # (a label of the caller's own)
                rows.append(q)
            lead = line[0].isdecimal() or line[0].isspace()
        if lead:
            numbered += 1
        if len(line) <= _MENU_MAX_CHARS:
            short.append(q)
    if number is not None:
        _VERDICT_STATS[0] += m - ruled - misses
        _VERDICT_STATS[1] += misses
    return _PageFacts(weights, hard, rows, short, numbered)


def _line_facts(line: str, stop: frozenset[str], cfg: ClassifierSettings, length: int,
                shift: int) -> tuple[str, str, int, bool, bool, bool]:
    """A line's verdict (:func:`_initial`), its weight by it, whether it is
    condemned on its own, a table row if short, and opens with a digit or a space."""
    label, reason = _initial(line, stop, cfg, length, shift)
    return (label, reason, _line_weight(line, label, length, cfg), reason in _HARD_REASONS,
            label == SHORT and _TWO_NUMBERS.search(line) is not None, line[0].isdecimal() or line[0].isspace())


def _line_weight(line: str, label: str, length: int, cfg: ClassifierSettings) -> int:
    """A line's weight in the block search by its own verdict: good prose
    +length, near-good +length/3, short -short_cost (a short sentence costs
    nothing with ``short_prose_free``), bad -max(block_bad_penalty, length/2)."""
    if label == GOOD:
        return length
    if label == NEAR:
        return length // 3
    if label == SHORT:
        return 0 if cfg.short_prose_free and line[-1] in _TERMINAL_CHARS and is_prose(line) else -cfg.short_cost
    return -max(cfg.block_bad_penalty, len(line) // 2)


def _weigh_context(labels: list[str], weights: list[int], lengths: Sequence[int], cfg: ClassifierSettings,
                   thread: int) -> None:
    """The context pass (:func:`_context`), the lines it turns good weighing
    their length; prose inside a comment thread counts ``thread_weight`` of it."""
    for q in _context(labels):
        weights[q] = lengths[q]
    for q in range(thread, len(weights)):
        if weights[q] > 0:
            weights[q] = int(weights[q] * cfg.thread_weight)


def _teaser_tail(lines: Sequence[str], headers: Sequence[bool], hard: list[bool],
                 lo: int, end: int, max_gap: int) -> int:
    """Where the article that starts at ``lo`` ends, before ``end``: at a
    list header, or a run of condemned lines (a menu, a share row and a
    newsletter call), when what follows it, up to the next one, is a teaser
    list (items of a headline with a byline, a time stamp, one blurb at most;
    never two sentences in a row). An article goes on in paragraphs after a
    box; a list of other articles does not. The header's index, or
    ``len(lines)`` when there is no such end."""
    bounds = []  # (first line, line after) of each run of condemned lines that is a header or a cluster
    q = lo + 1
    while q < end:
        try:
            start = hard.index(True, q, end)  # (a C scan: most lines are not condemned)
        except ValueError:
            break
        q = start + 1
        while q < end and hard[q]:
            q += 1
        if q - start >= _FURNITURE_RUN or any(headers[start:q]):
            bounds.append((start, q))
    for k, (start, after) in enumerate(bounds):
        stop = bounds[k + 1][0] - 1 if k + 1 < len(bounds) else end - 1
        if _teaser_items(lines, hard, after, stop) and _own_lines_resume(
                lines, hard, after - 1, end, max_gap, (lo, start - 1)) is None \
                and not _prose_after_led_items(lines, hard, after, stop):
            return start
    return len(lines)


def _prose_after_led_items(lines: Sequence[str], hard: Sequence[bool], a: int, b: int) -> bool:
    """Lines ``a..b`` (below a list header): the box's items, led alike ("›
    Beauty stock coty could surge..."), and after them, led otherwise, an
    article's worth of sentences (two or more, ``_RESUMED_MIN_CHARS``): the
    box was dropped into the article (a diet's lists go on below it), not
    appended to its end."""
    r = a
    while r <= b and hard[r]:
        r += 1
    lead = list_lead(lines[r]) if r <= b else ""
    if not lead or lead == "W:":
        return False
    items = 0
    while r <= b and (hard[r] or list_lead(lines[r]) == lead):
        items += not hard[r]
        r += 1
    size = n = 0
    for k in range(r, b + 1):
        if not hard[k] and is_prose(lines[k]) and not _cut_short(lines[k]):
            size, n = size + len(lines[k]), n + 1
    return items >= 2 and n >= 2 and size >= _RESUMED_MIN_CHARS


# Condemned lines in a row that bound a teaser list below them (one alone, an ad
# marker, sits between an article's paragraphs as often as anywhere).
_FURNITURE_RUN = 2


def _teaser_items(lines: Sequence[str], hard: Sequence[bool], a: int, b: int, min_items: int = 3) -> bool:
    """Lines ``a..b`` read as a list of teasers (see :func:`_teaser_tail`):
    at least ``min_items`` headlines (four words or more, no full stop), no
    fewer than the sentences, never two sentences in a row (condemned lines,
    an ad marker, between them change nothing), not led alike."""
    items = sentences = 0
    prev_sentence = False
    leads: dict[str, int] = {}
    for q in range(a, b + 1):
        if hard[q]:
            continue
        line = lines[q]
        # A short question is as often a headline ("What made Joker so popular?").
        sentence = _full_stop(line) and is_prose(line) and (len(line) >= 60 or line[-1] not in "?!？！")
        if sentence:
            if prev_sentence:
                return False
            sentences += 1
        elif effective_length(line) >= 20 and (line.count(" ") >= 3 or _headline_without_spaces(line)):
            # a headline (not a byline, a time stamp)
            items += 1
            lead = list_lead(line)
            leads[lead] = leads.get(lead, 0) + 1
        prev_sentence = sentence
    # Items led alike ("June 23 – City, ST @ Venue", "1. ...") are the article's own
    # list; a word and a colon alone ("Flights: ...") is how headlines open, too.
    shared = max((n for lead, n in leads.items() if lead and lead != "W:"), default=0)
    return items >= min_items and items >= sentences and 2 * shared < items


def _headline_without_spaces(line: str) -> bool:
    """A line in a script written without spaces (Chinese, Japanese, Thai...),
    where a headline's words cannot be counted."""
    return not line.isascii() and bool(_NO_SPACE_SCRIPT.search(line) or _SPACELESS.search(line))


_FULL_STOPS = frozenset(".!?。！？…\u104b\u0964\u0965\u061f\u06d4\u1362\u1367\u0589\u0f0d\uff0e\uff61")


def _full_stop(line: str) -> bool:
    """Ends with a full stop, inside a closing quote or bracket or not. (A
    headline may end with a quoted word: "... ‘top-secret super missile’".)"""
    c = line[-1]
    if c in _FULL_STOPS:
        return True
    return len(line) > 1 and c in _TERMINAL_CHARS and line[-2] in _FULL_STOPS


# Verdicts a line earns by itself, whatever its neighbours: a menu of links, a
# line without letters. Rule, repetition and title lines count too (penalty > 0).
_HARD_REASONS = frozenset({"classifier.link_density", "classifier.no_letters"})


def _evidence(lines: Sequence[str], penalties: Sequence[int], reasons: Sequence[str],
              cfg: ClassifierSettings, title_at: int, facts: _PageFacts | None = None) -> list[bool]:
    """Lines condemned on their own, which bound the article: a rule or
    repetition (penalty > 0), a link menu, a line without letters, a run of
    menu entries, the headline printed in the body. ``facts``: the verdicts
    pass's (:func:`_initial_labels`), which made the per-line tests."""
    if facts is None:
        hard = [penalties[q] > 0 or reasons[q] in _HARD_REASONS for q in range(len(lines))]
        # (The lines' first characters taken in C, tested by one scan.)
        numbered, short = len(_DIGIT_OR_SPACE.findall("".join(map(_FIRST, lines)))), None
    else:
        hard, numbered, short = list(facts.hard), facts.numbered, facts.short
    # An item's number opens its line (_ITEM_NUMBER): with fewer lines opening
    # with a digit (or a space) than a list's items, there is none to clear.
    if numbered >= _ITEM_MIN_RUN:
        _clear_item_links(lines, hard, penalties, reasons)
    clear_tweet_text(lines, hard, penalties)
    if 0 <= title_at < len(lines):
        hard[title_at] = True
    _mark_menu_runs(lines, hard, cfg.menu_min_run, short)
    return hard


_FIRST = itemgetter(0)
_DIGIT_OR_SPACE = re.compile(r"[\d\s]")  # what a line _ITEM_NUMBER matches opens with
# Lines allowed between item n and item n + 1: the item's link, an ad slot.
_ITEM_GAP = 2
_ITEM_MIN_RUN = 3


def _clear_item_links(lines: Sequence[str], hard: list[bool], penalties: Sequence[int],
                      reasons: Sequence[str]) -> None:
    """A numbered list whose items each carry a bare link ("1) Lego Star Wars",
    "http://amzn.to/..", "2) ...") is an article's list (a shopping guide, a
    reading list), not a link menu: numbers counting up 1, 2, 3 are the
    evidence. Its link lines, condemned by link density alone (no rule, no
    repetition), are no evidence of furniture and are kept with their items."""
    # (A match starts with a digit or a space: ``str.isdigit`` holds for every ``\d``.)
    numbered = [(q, int(m.group(1))) for q, line in enumerate(lines)
                if (line[0].isdigit() or line[0].isspace()) and (m := _ITEM_NUMBER.match(line)) is not None]
    run: list[int] = []
    for (q, n), nxt in zip(numbered, [*numbered[1:], (-1, -1)]):
        run.append(q)
        # Between two items: the item's link, and lines a rule condemns (an ad
        # slot dropped into the list), which stay condemned.
        follows = nxt[1] == n + 1 and 0 < nxt[0] - q <= _ITEM_GAP + 1 and all(
            penalties[r] > 0 or reasons[r] == "classifier.link_density" for r in range(q + 1, nxt[0]))
        if follows:
            continue
        if len(run) >= _ITEM_MIN_RUN:
            last = run[-1] + 1  # the last item's own link
            if last < len(lines) and reasons[last] == "classifier.link_density" and penalties[last] <= 0:
                run.append(last)
            for r in range(run[0], run[-1] + 1):
                if penalties[r] <= 0:
                    hard[r] = False
        run = []


_IMAGE_LINK = re.compile(r"\.(?:png|jpe?g|gif|svg|webp)(?:[?#]\S*)?\s*$", re.IGNORECASE)


def _keep_cited_links(lines: Sequence[str], inside: list[bool], hard: list[bool], penalties: Sequence[int],
                      reasons: Sequence[str]) -> None:
    """A bare link between two lines the article keeps (the source a quoted
    statement or a heading cites, "http://www.ipabionline.com/2013/02/...") is
    the article's: link density alone condemned it (no rule, no repetition).
    A link next to furniture or at the article's edge, or to an image file
    (a page's logo), stays condemned."""
    q = 0
    while True:
        try:  # (C scans from one link-density line to the next: most lines are none)
            q = reasons.index("classifier.link_density", q + 1)
        except ValueError:
            return
        if (q + 1 < len(lines) and hard[q] and penalties[q] <= 0
                and inside[q - 1] and inside[q + 1] and not hard[q - 1] and not hard[q + 1]
                and _BARE_LINK.match(lines[q]) and not _IMAGE_LINK.search(lines[q])):
            hard[q], inside[q] = False, True


# A list header is short ("Related", "Most read"); "Related: <a headline>" is
# one teaser inside the article, not the head of a list.
_HEADER_MAX_CHARS = 40
# "RELATED: Latest news report": a label, a colon and the headline it links.
_INLINE_TEASER = re.compile(r"[^:：]{2,20}[:：]\s*\S+(?:\s+\S+){2,}")


def _inline_teaser(line: str) -> bool:
    """One teaser link with its label, however short the headline: it sits
    between an article's paragraphs (the article goes on past it); a list's
    header ("Related", "More from UK", "READ MORE:") has no headline after it."""
    return (":" in line or "：" in line) and _INLINE_TEASER.fullmatch(line) is not None


def _filler(line: str) -> bool:
    """A markup remnant ("<p>&nbsp;</p>") or a lone letter (a stray "ก"): no
    link text. It neither counts as a menu entry nor breaks a run of them, so
    it does not join a fact check's four box rows into a five-entry menu."""
    return line[0] in "<&{[" or len(line) < 2 and line.isalpha()


_FILLERS_MAX = 2  # fillers in a row a menu run spans


def _mark_menu_runs(lines: Sequence[str], hard: list[bool], min_run: int, short: list[int] | None = None) -> None:
    """Runs of at least ``min_run`` navigation entries in a row (fillers between
    them aside) are a menu: evidence of furniture, so the article does not
    reach across them."""
    if min_run <= 0:
        return
    # (The short lines picked out in C, unless the caller knows them: only they can be entries.)
    if short is None:
        short = list(compress(range(len(lines)), map(_MENU_MAX_CHARS.__ge__, map(len, lines))))
    if len(short) < min_run:
        return
    # A run's entries lie at most _FILLERS_MAX + 1 lines apart: without min_run
    # short lines that close together there is none (their spans taken in C).
    if min(map(sub, short[min_run - 1:], short)) > (min_run - 1) * (_FILLERS_MAX + 1):
        return
    items = [q for q in short if _menu_item(lines[q])]
    if len(items) < min_run:
        return
    run = [items[0]]
    for q in items[1:] + [-2]:
        if q == run[-1] + 1 or run[-1] < q <= run[-1] + _FILLERS_MAX + 1 and all(
                _filler(lines[r]) for r in range(run[-1] + 1, q)):
            run.append(q)
            continue
        if len(run) >= min_run:
            for r in run:
                hard[r] = True
        run = [q]


def _alone(hard: Sequence[bool], q: int) -> bool:
    """No other condemned line right before or after line ``q``."""
    return not (q > 0 and hard[q - 1]) and not (q + 1 < len(hard) and hard[q + 1])


def _bridge(weights: Sequence[int], labels: Sequence[str], inside: list[bool], lo: int, hi: int,
            stop: int, cfg: ClassifierSettings, floor: int = 0) -> None:
    """Extend the article run ``[lo, hi]`` across short interruptions, both ways:
    the interruption stays outside, the prose beyond it comes in. Never into a
    comment thread (``stop``), never above ``floor`` (below the headline)."""
    for step in (1, -1):
        edge = hi if step == 1 else lo
        while True:
            run = _prose_after_gap(weights, labels, edge, step, stop, cfg, floor)
            if run is None:
                break
            a, b = run  # a: first line of the prose beyond the gap, b: its last
            for q in range(min(a, b), max(a, b) + 1):
                inside[q] = True
            edge = b


def _prose_after_gap(weights: Sequence[int], labels: Sequence[str], edge: int, step: int, stop: int,
                     cfg: ClassifierSettings, floor: int = 0) -> tuple[int, int] | None:
    m = min(len(weights), stop)
    q = edge + step
    gap = 0
    while floor <= q < m and weights[q] <= 0:
        gap += 1
        if gap > cfg.bridge_max_gap:
            return None
        q += step
    if gap == 0 or not floor <= q < m:
        return None
    # The prose beyond: the best-sum stretch starting at q, going away from the run.
    start, total, best, best_end, lines, best_lines = q, 0, 0, -1, 0, 0
    while floor <= q < m:
        total += weights[q]
        if total <= 0:
            break
        if labels[q] == GOOD:
            lines += 1
        if total > best:
            best, best_end, best_lines = total, q, lines
        q += step
    if best < cfg.bridge_min_chars or best_lines < cfg.bridge_min_lines:
        return None
    return start, best_end


def _context(labels: list[str]) -> list[int]:
    """jusText's context pass for near-good lines: next to good prose they are prose.
    A near-good line's neighbours are the nearest good or bad lines before and
    after it (page edges are bad): it turns good when either is good, so a run
    of near and short lines turns when a good line bounds it, found by one
    scan of the page's labels as letters. Returns the lines turned."""
    turned: list[int] = []
    if NEAR not in labels:  # (a C scan: nothing to turn)
        return turned
    for match in _NEAR_GOOD.finditer("".join(map(_LABEL_LETTER.__getitem__, labels))):
        for q in range(*match.span()):
            if labels[q] == NEAR:
                labels[q] = GOOD
                turned.append(q)
    return turned


_LABEL_LETTER = {GOOD: "g", NEAR: "n", SHORT: "s", BAD: "b"}
# A run of near and short lines with a good line right before or right after it.
_NEAR_GOOD = re.compile(r"(?<=g)[ns]+|(?<![ns])[ns]+(?=g)")


_TWO_NUMBERS = re.compile(r"\d\D+\d")  # two numbers or more (digit runs apart)


def _table_rows(lines: Sequence[str], labels: list[str], weights: list[int], cfg: ClassifierSettings,
                rows: list[int] | None = None) -> None:
    """Short lines in a run of numeric rows weigh like near-good prose.
    ``rows``: the short lines with two numbers, when the caller knows them."""
    if rows is None:  # (only short lines can be rows: picked out in C)
        rows = [q for q in compress(range(len(labels)), map(SHORT.__eq__, labels))
                if _TWO_NUMBERS.search(lines[q])]
    if len(rows) < cfg.table_min_rows:
        return
    start = 0
    for k in range(1, len(rows) + 1):
        if k < len(rows) and rows[k] == rows[k - 1] + 1:
            continue
        if k - start >= cfg.table_min_rows:  # a run of consecutive rows
            for r in rows[start:k]:
                weights[r] = len(lines[r]) // cfg.table_row_divisor
        start = k


def _choose_block(weights: Sequence[int], cfg: ClassifierSettings, title_at: int = -1) -> tuple[int, int]:
    """The article's run of lines: the maximum-sum run, or an earlier run
    worth ``earlier_ratio`` of it (the article comes before what follows it),
    but not one before the headline printed in the body (``title_at``): what
    precedes the headline is the page's header, teasers included."""
    best, lo, hi = _best_block(weights, 0, len(weights))
    floor = title_at + 1 if 0 <= title_at < lo else 0
    while lo > floor:
        s0, lo0, hi0 = _best_block(weights, floor, lo)
        if s0 <= 0 or s0 < cfg.earlier_ratio * best:
            break
        best, lo, hi = s0, lo0, hi0
    if 0 <= title_at < lo:
        # The headline printed in the body opens the article: a run of prose
        # right below it is the article even when a longer run (a legal
        # disclaimer, comments) lies further down.
        s0, lo0, hi0 = _best_block(weights, title_at + 1, lo)
        if (s0 >= cfg.after_title_min and lo0 - title_at <= cfg.after_title_gap
                and not any(w <= -cfg.list_header_penalty for w in weights[title_at + 1:lo0])):
            lo, hi = lo0, hi0
    elif lo < title_at <= hi:
        # The run takes in what precedes the headline (a "most commented" box,
        # its headlines ending in their comment counts): the article starts
        # below the headline when prose enough follows it closely.
        s0, lo0, _ = _best_block(weights, title_at + 1, hi + 1)
        if s0 >= cfg.after_title_min and lo0 - title_at <= cfg.after_title_gap:
            lo = lo0
    return lo, hi


def _best_block(weights: Sequence[int], start: int, stop: int) -> tuple[int, int, int]:
    """``(sum, lo, hi)`` of the maximum-sum run within ``weights[start:stop]``
    (Kadane); inside it short lines (headings, list items, table rows) stay,
    outside it everything goes. A maximum-sum run never starts or ends on a
    negative line, so menus around the article fall off by themselves."""
    best, best_lo, best_hi = 0, start, start - 1
    run, lo = 0, start
    for q in range(start, stop):
        w = weights[q]
        if run <= 0:
            run, lo = w, q
        else:
            run += w
        if run > best:
            best, best_lo, best_hi = run, lo, q
    return best, best_lo, best_hi


# A headline glued to its summary, as teaser lists flatten to plain text:
# "Customers Leave Without Paying $690 Bill At Troy Steakhouse A party of six left..."
# (Title Case: function words capitalised mid-sentence) or "... deemed stateless
# WASHINGTON: Expressing concern..." (a dateline in the middle of the line).
_MID_DATELINE = re.compile(r"[a-z0-9’'”)] (?:[A-Z][A-Z.]+ ){0,2}[A-Z][A-Z.]{3,}(?: \([A-Z]+\))?(?::| —| –) [A-Z\"“]")
_CAPS_RUN = re.compile(r"[A-Z][A-Z.]{3}")
# (Led by the whitespace, not a look-behind: the engine skips to the next space.)
_CAP_WORD = re.compile(r"\s(?<![.!?:;] )([A-Z][a-z]{0,5})\b")


def _glued_headline(line: str, stop: frozenset[str]) -> bool:
    if len(line) < 60:
        return False
    # The capitals of a mid-line dateline are rare: a scan for them first (a
    # character class skips ahead fast; the dateline pattern tries every position).
    if _CAPS_RUN.search(line, 15, 220) and _MID_DATELINE.search(line, 15, 220):
        return True
    if not stop:
        return False
    head = line[:90]
    # Distinct words: a product name ("MacBook Pro") repeats one capitalised word.
    return len({w for w in _CAP_WORD.findall(head) if w.lower() in stop}) >= 2


_GLUED_NUMBER = re.compile(r"(?<!\S)(\d{1,2}) (?=[\"'‘“A-Z])")


def glued_numbered_list(line: str) -> bool:
    """A "Most read" box flattened into one line: "1 Headline 2 Headline 3
    Headline ...", the items' numbers counting up from 1 inside the line."""
    if not line.startswith("1 ") or len(line) < 60:
        return False
    want = 2
    for m in _GLUED_NUMBER.finditer(line, 2):
        if int(m.group(1)) == want:
            want += 1
            if want > 3:
                return True
    return False


_GLUED: dict[int, dict[str, bool]] = {}  # _glued_headline by line, per shared stop-word list (as _VERDICTS)


def _glued_judge(stop: frozenset[str]) -> Callable[[str], bool]:
    """``_glued_headline(line, stop)`` as a function of the line, remembered
    by line when ``stop`` is a shared, non-empty list (a pure function of the two)."""
    number = _stop_number(stop)
    if number is None or number < 0:  # (no list: _glued_headline is the dateline test alone, and cheap)
        return lambda line: _glued_headline(line, stop)
    memo = _memo(_GLUED, number)
    known = memo.get

    def judge(line: str) -> bool:
        v = known(line)
        if v is None:
            v = memo[line] = _glued_headline(line, stop)
        return v
    return judge


def teaser_lines(lines: Sequence[str], stop: frozenset[str], min_run: int = 3,
                 skip: Sequence[bool] | None = None) -> list[bool]:
    """Lines of a teaser list: at least ``min_run`` consecutive (non-blank,
    stripped) lines that each glue a headline to its summary. One such line
    is a sentence with a title in it; a run of them is a list of articles.
    ``skip`` marks lines already judged (never teasers: they end a run).
    A run of ``min_run`` lines holds a line of every ``min_run``-th index: only
    those are judged first, their neighbours only when one of them is flagged."""
    m = len(lines)
    memo: dict[int, bool] = {}
    glued = _glued_judge(stop)

    def flag(q: int) -> bool:
        v = memo.get(q)
        if v is None:
            s = lines[q]
            v = memo[q] = glued(s) if skip is None else not skip[q] and len(s) >= 60 and glued(s)
        return v

    out = [False] * m
    step = max(1, min_run)
    for c in range(step - 1, m, step):
        if len(lines[c]) < 60 or out[c] or not flag(c):  # (no glued headline is shorter: no call)
            continue
        lo, hi = c, c
        while lo > 0 and flag(lo - 1):
            lo -= 1
        while hi + 1 < m and flag(hi + 1):
            hi += 1
        if hi - lo + 1 >= min_run:
            for r in range(lo, hi + 1):
                out[r] = True
    return out


# Function words a headline capitalises ("Why Movies Went From 15 Minutes To Two
# Hours Long") and a sentence does not.
# (Led by the space, not a look-behind: the search then skips from space to
# space instead of trying every position; only whether it is found matters.)
_TITLE_WORD = re.compile(r"[ \t](?:A|An|And|Are|As|At|By|For|From|In|Into|Is|Of|On|Or|The|To|With|Over|After)\b")
_ALPHA_WORD = re.compile(r"[^\W\d_][\w'’-]*")


@lru_cache(maxsize=32768)
def headline_like(line: str) -> bool:
    """A headline in title case: four words or more, no sentence end, most
    words capitalised and a function word capitalised inside the line.
    (Cached: a site's teasers and headings come back on many of its pages.)"""
    if (not 20 <= len(line) <= 200 or line[-1] in ".;,:" or not (line[0].isupper() or line[0] in "'\"‘“")
            or line.count(" ") < 3):
        return False
    if line[-1] != "?" and line[-1] in _TERMINAL_CHARS and is_prose(line) or not _TITLE_WORD.search(line):
        return False
    words = _ALPHA_WORD.findall(line)
    if len(words) < 4:
        return False
    caps = sum(1 for w in words if w[0].isupper())
    return caps >= 0.7 * len(words)


def headline_lists(lines: Sequence[str], min_headlines: int = 3, max_gap: int = 4,
                   skip: Sequence[bool] | None = None) -> list[bool]:
    """Lines of a list of teasers: at least ``min_headlines`` title-case
    headlines, each within ``max_gap`` lines of the next, with what lies
    between them (kickers, bylines, summaries). One headline is an article's
    subheading; a run of them with their furniture is a list of articles."""
    m = len(lines)
    # (headline_like's first tests inline: most lines are sentences, ending in a full stop.)
    heads = [20 <= len(line) <= 200 and line[-1] not in ".;,:" and (skip is None or not skip[q])
             and headline_like(line) for q, line in enumerate(lines)]
    if sum(heads) < min_headlines:
        return [False] * m
    out = [False] * m
    q = 0
    while q < m:
        if not heads[q]:
            q += 1
            continue
        run = [q]
        k = q + 1
        while k < m and k - run[-1] <= max_gap:
            if heads[k]:
                run.append(k)
            k += 1
        if len(run) >= min_headlines:
            for r in range(run[0], run[-1] + 1):
                out[r] = True
        q = run[-1] + 1
    return out
