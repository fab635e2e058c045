"""Boilerplate line rules: loaded from TOML data files, compiled once into one regex.

The shipped ``resources/rules.toml`` is always loaded first; user files add
rules or replace shipped ones by id. Every rule is a pattern for a whole
(stripped) line; all of them become one alternation of named groups, so a line
is tested once and ``match.lastgroup`` names the rule that fired.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

__all__ = ["Rule", "CompiledRules", "load_rules", "DEFAULT_PENALTY"]

DEFAULT_PENALTY = 60
_CACHE_MAX_CHARS = 80
_CACHE_MAX_ENTRIES = 200_000
_ESCAPE_OR_CHAR = re.compile(r"\\.|.", re.DOTALL)
_ID = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)+$")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    pattern: str
    description: str
    penalty: int = DEFAULT_PENALTY
    origin: str = "rules.toml"


@dataclass(frozen=True)
class CompiledRules:
    """All rules as one compiled matcher. Build it with :func:`load_rules`."""

    rules: tuple[Rule, ...]
    matcher: re.Pattern[str]
    stopwords: frozenset[str] = frozenset()  # extra stop words from the rule files ([classifier])
    # The same alternation, lower-cased and compiled without IGNORECASE, for
    # lower-cased lines: case folding inside the engine costs ~40% of the time.
    lower_matcher: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    # Verdicts of short lines, per process: furniture lines ("Share", "Menu")
    # repeat across a site's pages, so most short lines are seen before.
    _cache: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def match(self, line: str) -> Rule | None:
        """The first rule (in file order) matching the whole stripped ``line``, or None."""
        s = line.strip()
        if not s:
            return None
        return self.match_lower(s.lower())

    def match_lower(self, s: str) -> Rule | None:
        """:meth:`match` for a line already stripped and lower-cased (the hot path)."""
        short = len(s) <= _CACHE_MAX_CHARS
        if short:
            hit = self._cache.get(s)
            if hit is not None:
                return self.rules[hit] if hit >= 0 else None
        if self.lower_matcher is not None:
            m = self.lower_matcher.fullmatch(s)
        else:
            m = self.matcher.fullmatch(s)
        k = -1 if m is None else int(m.lastgroup[1:])  # groups are named r0, r1, ...
        if short:
            if len(self._cache) >= _CACHE_MAX_ENTRIES:
                self._cache.clear()
            self._cache[s] = k
        return self.rules[k] if k >= 0 else None

    def ids(self) -> list[str]:
        return [r.id for r in self.rules]


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
    unknown = set(entry) - {"id", "category", "pattern", "description", "penalty"}
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
    return Rule(id=rid, category=entry["category"], pattern=entry["pattern"],
                description=str(entry.get("description", "")), penalty=penalty, origin=origin)


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
    combined = "|".join(f"(?P<r{i}>{r.pattern})" for i, r in enumerate(ordered))
    lowered = "|".join(f"(?P<r{i}>{_lower_pattern(r.pattern)})" for i, r in enumerate(ordered))
    try:
        lower_matcher = re.compile(lowered)
    except re.error:  # a construct the lower-casing broke: fall back to IGNORECASE
        lower_matcher = None
    return CompiledRules(rules=ordered, matcher=re.compile(combined, re.IGNORECASE),
                         stopwords=frozenset(extra_stop), lower_matcher=lower_matcher)


def _lower_pattern(pattern: str) -> str:
    """Lower-case a pattern's literals and ranges, leaving escapes (\\S, \\W, \\B...) alone,
    so that it matches lower-cased text as the original matches any case."""
    return _ESCAPE_OR_CHAR.sub(lambda m: m.group(0) if len(m.group(0)) == 2 else m.group(0).lower(), pattern)
