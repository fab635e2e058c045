"""Boilerplate line rules: loaded from TOML data files, compiled once into one regex.

The shipped ``resources/rules.toml`` is always loaded first; user files add
rules or replace shipped ones by id. Every rule is a pattern for a whole
(stripped) line; all of them become one alternation of named groups, so a line
is tested once and ``match.lastgroup`` names the rule that fired.

A rule may list ``keywords``: literals one of which every line it matches
contains. Such a rule takes part in the alternation only for lines holding one
of its keywords (found by one Aho-Corasick pass): rules that may match anywhere
in a line (``.{0,200}\bwe use cookies``) cost a regex attempt per position of
every long line otherwise, which made them most of the matching time.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from itertools import accumulate, compress, repeat
from operator import add, is_

import ahocorasick
from dataclasses import dataclass, field
from re import _parser as _sre_parse
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

try:  # a DFA scan in Rust: ~3x the speed of pyahocorasick's walk over a line's characters
    import ahocorasick_rs
except ImportError:  # (then every line is scanned by the per-band automata, as before)
    ahocorasick_rs = None

__all__ = ["Rule", "CompiledRules", "load_rules", "DEFAULT_PENALTY"]

DEFAULT_PENALTY = 60
# The verdicts of lines up to _MEMO_MAX_CHARS characters are remembered, per
# process (CompiledRules._cache): furniture lines ("Share", "Menu") repeat across
# a site's pages, and so do longer ones (a wire story's paragraphs printed by many
# sites, a site's long footer). Most long lines are an article's own, seen once:
# the memo is emptied when it holds _CACHE_MAX_ENTRIES lines or _MEMO_BUDGET
# characters (a few MB either way).
_MEMO_MAX_CHARS = 1000
_CACHE_MAX_ENTRIES = 200_000
_MEMO_BUDGET = 8_000_000
_ESCAPE_OR_CHAR = re.compile(r"\\.|.", re.DOTALL)
_ID = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)+$")
# Line lengths at which the ungated alternation is rebuilt without the rules that
# cannot match so long a line (most label rules match 60 characters at most, and
# most lines of a page are longer): the verdict is the same, the work is less.
_LENGTH_STEPS = (24, 48, 96, 192, 384)
# Gated rules that cannot match a line longer than one of these have their
# keywords looked for in lines that short only (most keyword hits are in prose):
# a line is scanned once, by the automaton of the rules that fit its length band.
_GATE_TIERS = (80, 240)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    pattern: str
    description: str
    penalty: int = DEFAULT_PENALTY
    origin: str = "rules.toml"
    keywords: tuple[str, ...] = ()  # lower-case literals one of which a matching line holds


class _Memo(dict):
    """Line -> verdict, and the characters of the lines it holds (its bound).
    Always holds the blank line's verdict (-1), so a page's verdicts are looked
    up by ``map(memo.get, lines)`` in C, blank lines with the others."""

    __slots__ = ("chars",)

    def __init__(self, known: dict[str, int] | None = None) -> None:
        super().__init__(known or ())
        self[""] = -1
        self.chars = sum(map(len, self))

    def remember(self, s: str, k: int) -> None:
        if self.chars >= _MEMO_BUDGET or len(self) >= _CACHE_MAX_ENTRIES:
            self.clear()
        self[s] = k
        self.chars += len(s)

    def clear(self) -> None:
        super().clear()
        self[""] = -1
        self.chars = 0


@dataclass(frozen=True)
class CompiledRules:
    """All rules as one compiled matcher. Build it with :func:`load_rules`."""

    rules: tuple[Rule, ...]
    matcher: re.Pattern[str]
    stopwords: frozenset[str] = frozenset()  # extra stop words from the rule files ([classifier])
    # The same alternation, lower-cased and compiled without IGNORECASE, for
    # lower-cased lines: case folding inside the engine costs ~40% of the time.
    lower_matcher: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    # Verdicts of the lines seen before (see _MEMO_MAX_CHARS), filled by _index.
    _cache: _Memo = field(default_factory=_Memo, compare=False, repr=False)
    # Keyword gate: each keyword maps to the bit mask of the gated rules that need it
    # (bit j = the j-th gated rule, rules[_gated[j]], tried alone as _singles[j]);
    # _base is the alternation of the other rules.
    # (longest line, automaton of the keywords of the gated rules that can match
    # a line that long; None: no such rule) per band of _GATE_TIERS, the last
    # band unbounded: a rule's keywords are looked for only in lines it could match.
    _gate_bands: tuple[tuple[int, Any], ...] = field(default=(), compare=False, repr=False)
    _gated: tuple[int, ...] = field(default=(), compare=False, repr=False)
    _singles: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)
    _base: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    # (longest line, alternation of the ungated rules that can match a line that long)
    # for lines up to each of _LENGTH_STEPS characters, then for longer lines.
    _base_steps: tuple[tuple[int, re.Pattern[str]], ...] = field(default=(), compare=False, repr=False)
    _widths: tuple[int, ...] = field(default=(), compare=False, repr=False)  # longest match per rule
    # The keyword gate of a page's lines in one scan (see _page_gate): (DFA of every
    # keyword, the gated rules' bits of each keyword, (longest line, the bits of the
    # gated rules that can match a line that long) per band of _GATE_TIERS); None
    # without ahocorasick_rs.
    _page: tuple[Any, tuple[int, ...], tuple[tuple[int, int], ...]] | None = field(
        default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self._cache, _Memo):  # (a plain dict given for it: replace(rules, _cache={}))
            object.__setattr__(self, "_cache", _Memo(self._cache))

    # ahocorasick_rs' automata do not pickle: the page gate is rebuilt from the rules on
    # the other side, so compiled rules still travel (multiprocessing, Dask, deepcopy).
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_page": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__["_page"] = _page_gate(self.rules, self._widths, self._gated)

    def match(self, line: str) -> Rule | None:
        """The first rule (in file order) matching the whole stripped ``line``, or None."""
        s = line.strip()
        if not s:
            return None
        return self.match_lower(s.lower())

    def match_lower(self, s: str) -> Rule | None:
        """:meth:`match` for a line already stripped and lower-cased."""
        k = self._index(s, self._mask(s))
        return self.rules[k] if k >= 0 else None

    def match_lines(self, lines: Sequence[str]) -> list[int]:
        """Index into :attr:`rules` of the rule matching each stripped,
        lower-cased line (-1: none, or a blank line): the hot path, one pass
        over the lines (a line's keyword scan only when its verdict is not cached)."""
        index = self._index
        # The remembered verdicts first (a line too long to be remembered is not
        # found), blank lines' among them (-1), picked out in C.
        out = list(map(self._cache.get, lines))
        if None not in out:
            return out
        todo = list(compress(range(len(out)), map(is_, out, repeat(None))))
        texts = [lines[i] for i in todo]
        if self._page is None:
            masks = map(self._mask, texts) if self._gated else [0] * len(texts)
        else:  # the other lines' keywords in one scan of them all
            masks = self._page_masks(texts)
        for i, s, m in zip(todo, texts, masks):
            out[i] = index(s, m)
        return out

    def _page_masks(self, texts: list[str]) -> list[int]:
        """:meth:`_mask` of each of ``texts`` (stripped, lower-cased, non-blank
        lines), their keywords found by one DFA scan of the lines joined by
        newlines (no keyword holds one: see load_rules). A keyword counts for a
        line when one of its gated rules can match a line that long, as in the
        band automata of _mask."""
        auto, bits, bands = self._page  # type: ignore[misc]
        # As UTF-8 bytes (a lone surrogate passed as its three bytes: no keyword
        # starts with a continuation byte, so none matches inside another character).
        joined = "\n".join(texts).encode("utf-8", "surrogatepass")
        hits = auto.find_matches_as_indexes(joined, overlapping=True)
        masks = [0] * len(texts)
        if not hits:
            return masks
        # each line's end in bytes, its newline included
        lengths = list(map(len, texts))
        if len(joined) != sum(lengths) + len(texts) - 1:  # (not ASCII: more bytes than characters)
            lengths = [len(s.encode("utf-8", "surrogatepass")) for s in texts]
        ends = list(map(add, accumulate(lengths), range(1, len(texts) + 1)))
        for p, start, _ in hits:
            masks[bisect_right(ends, start)] |= bits[p]
        for q, m in enumerate(masks):
            if m:
                n = len(texts[q])
                for limit, allowed in bands:
                    if n <= limit:
                        masks[q] = m & allowed
                        break
        return masks

    def _mask(self, s: str) -> int:
        """The bits of the gated rules whose keyword ``s`` holds, among those
        that can match a line as long as ``s``."""
        n = len(s)
        for limit, auto in self._gate_bands:
            if n <= limit:
                mask = 0
                if auto is not None:
                    for _, bits in auto.iter(s):
                        mask |= bits
                return mask
        return 0

    def _index(self, s: str, mask: int) -> int:
        """Rule index for the stripped lower-cased line ``s`` holding the keywords of
        the gated rules in ``mask`` (-1: none), remembered (see _MEMO_MAX_CHARS)."""
        memo = self._cache
        hit = memo.get(s)
        if hit is not None:
            return hit
        if self._base is None:
            m = (self.lower_matcher or self.matcher).fullmatch(s)
            k = -1 if m is None else int(m.lastgroup[1:])  # groups are named r0, r1, ...
        else:
            base = self._base
            n = len(s)
            for limit, pattern in self._base_steps:
                if n <= limit:
                    base = pattern
                    break
            m = base.fullmatch(s)
            k = -1 if m is None else int(m.lastgroup[1:])
            widths, gated, singles = self._widths, self._gated, self._singles
            # The gated rules whose keyword the line holds, in file order, up to
            # the rule the others matched: the first match in file order wins.
            # Set bits only (a line holds few keywords of many gated rules).
            while mask:
                low = mask & -mask
                mask ^= low
                j = low.bit_length() - 1
                i = gated[j]
                if 0 <= k < i:
                    break
                if n <= widths[i] and singles[j].fullmatch(s):
                    k = i
                    break
        if len(s) <= _MEMO_MAX_CHARS:
            memo.remember(s, k)
        return k

    def ids(self) -> list[str]:
        return [r.id for r in self.rules]


def _combine(rules: Sequence[Rule], which: Sequence[int], lower: bool) -> re.Pattern[str]:
    """One alternation of ``rules[i]`` for i in ``which``, group ``r{i}`` each."""
    if not which:
        return re.compile(r"(?!)")  # matches nothing
    if lower:
        return re.compile("|".join(f"(?P<r{i}>{_lower_pattern(rules[i].pattern)})" for i in which))
    return re.compile("|".join(f"(?P<r{i}>{rules[i].pattern})" for i in which), re.IGNORECASE)


def _keyword_gate(rules: Sequence[Rule], widths: Sequence[int]) -> tuple[tuple[tuple[int, Any], ...],
                                                                        tuple[int, ...]]:
    """Per band of line lengths (up to each of _GATE_TIERS, then unbounded), the
    Aho-Corasick automaton of the keywords of the gated rules that can match a
    line longer than the band's lower end (None when there are none); and the
    indices of the gated rules (bit j of a mask = rules[gated[j]])."""
    gated = tuple(i for i, r in enumerate(rules) if r.keywords)
    if not gated:
        return (), ()
    bands = []
    for low, limit in zip((0, *_GATE_TIERS), (*_GATE_TIERS, 1 << 62)):
        into: dict[str, int] = {}
        for j, i in enumerate(gated):
            if widths[i] > low:
                for kw in rules[i].keywords:
                    into[kw] = into.get(kw, 0) | (1 << j)
        bands.append((limit, _automaton(into)))
    return tuple(bands), gated


def _automaton(masks: dict[str, int]) -> Any:
    if not masks:
        return None
    auto = ahocorasick.Automaton()
    for kw, bits in masks.items():
        auto.add_word(kw, bits)
    auto.make_automaton()
    return auto


def _shipped_text() -> tuple[str, str]:
    ref = resources.files("ketl").joinpath("resources/rules.toml")
    return ref.read_text(encoding="utf-8"), "ketl/resources/rules.toml"


def _parse(text: str, origin: str) -> tuple[list[Rule], list[str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{origin}: not valid TOML: {exc}") from exc
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise ValueError(f"{origin}: 'rule' must be an array of tables ([[rule]])")
    out: list[Rule] = []
    for n, entry in enumerate(entries, 1):
        out.append(_rule(entry, origin, n))
    extra_stop = data.get("classifier", {}).get("stopwords", [])
    if not isinstance(extra_stop, list) or not all(isinstance(w, str) for w in extra_stop):
        raise ValueError(f"{origin}: [classifier] stopwords must be a list of strings")
    return out, extra_stop


def _rule(entry: Any, origin: str, n: int) -> Rule:
    if not isinstance(entry, dict):
        raise ValueError(f"{origin}: rule #{n} is not a table")
    rid = entry.get("id")
    where = f"{origin}: rule {rid!r}" if rid else f"{origin}: rule #{n}"
    for key in ("id", "category", "pattern"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ValueError(f"{where}: missing or empty string field {key!r}")
    if not _ID.match(rid):
        raise ValueError(f"{where}: id must look like 'category.name' (lowercase, dots)")
    unknown = set(entry) - {"id", "category", "pattern", "description", "penalty", "keywords"}
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
    if re.search(r"\\[1-9]", entry["pattern"]):
        raise ValueError(f"{where}: numbered back-references are not allowed (rules share one regex)")
    try:
        # Wrapped as it will sit in the combined alternation (catches stray global flags).
        compiled = re.compile(f"(?:{entry['pattern']})", re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"{where}: bad pattern: {exc}") from exc
    if compiled.groupindex:
        raise ValueError(f"{where}: named groups are not allowed in patterns")
    if compiled.fullmatch(""):
        raise ValueError(f"{where}: pattern matches an empty line, which would remove nothing useful")
    penalty = entry.get("penalty", DEFAULT_PENALTY)
    if not isinstance(penalty, int) or isinstance(penalty, bool) or penalty < 0:
        raise ValueError(f"{where}: penalty must be a non-negative integer")
    keywords = entry.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
        raise ValueError(f"{where}: keywords must be a list of non-empty strings")
    return Rule(id=rid, category=entry["category"], pattern=entry["pattern"],
                description=str(entry.get("description", "")), penalty=penalty, origin=origin,
                keywords=tuple(dict.fromkeys(k.lower() for k in keywords)))


def load_rules(extra_files: Sequence[Path | str] = ()) -> CompiledRules:
    """The shipped rules plus ``extra_files`` (later files replace earlier rules by id).

    Raises ValueError naming the file and rule for any bad user rule file.
    """
    text, origin = _shipped_text()
    rules, stop = _parse(text, origin)
    by_id: dict[str, Rule] = {}
    for r in rules:
        if r.id in by_id:
            raise ValueError(f"{origin}: rule {r.id!r} defined twice")
        by_id[r.id] = r
    extra_stop: set[str] = set(stop)
    for path in extra_files:
        p = Path(path)
        try:
            body = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{p}: cannot read rule file: {exc}") from exc
        user_rules, user_stop = _parse(body, str(p))
        seen: set[str] = set()
        for r in user_rules:
            if r.id in seen:
                raise ValueError(f"{p}: rule {r.id!r} defined twice")
            seen.add(r.id)
            by_id[r.id] = r  # replaces a shipped rule of the same id, in place
        extra_stop.update(w.lower() for w in user_stop)
    ordered = tuple(by_id.values())
    every = range(len(ordered))
    try:
        lower_matcher: re.Pattern[str] | None = _combine(ordered, every, lower=True)
    except re.error:  # a construct the lower-casing broke: fall back to IGNORECASE
        lower_matcher = None
    widths = tuple(_max_width(r.pattern) for r in ordered)
    bands, gated = _keyword_gate(ordered, widths)
    lower = lower_matcher is not None
    singles = tuple(_combine(ordered, [i], lower) for i in gated)
    ungated = [i for i in every if i not in gated]
    base = _combine(ordered, ungated, lower) if gated else None
    # A line longer than the previous step cannot match a rule no longer than that.
    # (and past the last step, the rules that can match a line longer than it)
    steps = tuple((limit, _combine(ordered, [i for i in ungated if widths[i] > prev], lower))
                  for prev, limit in zip((0, *_LENGTH_STEPS), (*_LENGTH_STEPS, 1 << 62))) if gated else ()
    return CompiledRules(rules=ordered, matcher=_combine(ordered, every, lower=False),
                         stopwords=frozenset(extra_stop), lower_matcher=lower_matcher,
                         _gate_bands=bands, _gated=gated, _singles=singles, _base=base,
                         _base_steps=steps, _widths=widths, _page=_page_gate(ordered, widths, gated))


def _page_gate(rules: Sequence[Rule], widths: Sequence[int],
               gated: Sequence[int]) -> tuple[Any, tuple[int, ...], tuple[tuple[int, int], ...]] | None:
    """:attr:`CompiledRules._page`: every keyword of the gated rules in one DFA
    (its bits: the gated rules that need it, whatever the line's length), and
    per band of _GATE_TIERS the bits of the gated rules that can match a line in
    it (longer than the band's lower end), which _keyword_gate's automaton of
    the band gives its keywords. None without ahocorasick_rs, without gated
    rules, or with a keyword holding a newline (it could match across two
    joined lines)."""
    if ahocorasick_rs is None or not gated:
        return None
    into: dict[str, int] = {}
    for j, i in enumerate(gated):
        for kw in rules[i].keywords:
            into[kw] = into.get(kw, 0) | (1 << j)
    if any("\n" in kw for kw in into):
        return None
    bands = tuple((limit, sum(1 << j for j, i in enumerate(gated) if widths[i] > low))
                  for low, limit in zip((0, *_GATE_TIERS), (*_GATE_TIERS, 1 << 62)))
    auto = ahocorasick_rs.BytesAhoCorasick([kw.encode("utf-8") for kw in into],
                                           matchkind=ahocorasick_rs.MatchKind.Standard,
                                           implementation=ahocorasick_rs.Implementation.DFA)
    return auto, tuple(into.values()), bands


def _max_width(pattern: str) -> int:
    """The longest (lower-cased, stripped) line ``pattern`` can match; a large
    number when unbounded. Lines are matched lower-cased against the lower-cased
    pattern, so the width is exact."""
    try:
        _, hi = _sre_parse.parse(f"(?:{_lower_pattern(pattern)})").getwidth()
    except Exception:  # an internal API: should it change, every rule is tried on every line
        return 1 << 62
    return min(hi, 1 << 62)


def _lower_pattern(pattern: str) -> str:
    """Lower-case a pattern's literals and ranges, leaving escapes (\\S, \\W, \\B...) alone,
    so that it matches lower-cased text as the original matches any case."""
    return _ESCAPE_OR_CHAR.sub(lambda m: m.group(0) if len(m.group(0)) == 2 else m.group(0).lower(), pattern)
