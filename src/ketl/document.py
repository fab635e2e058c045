"""Document and Edit: the contract between the text stages.

A :class:`Document` carries the decoded source of one article, its current text
and everything the stages learned about it. Stages never assign ``doc.text``
directly: they describe what to change as :class:`Change` objects in the
coordinates of the *current* text and call :func:`apply_changes`, which

* rewrites the text,
* appends one :class:`Edit` per change, located in the *decoded source*
  (1-based line, start and end offsets), so the ``edits`` table can be audited
  and replayed, and
* keeps the map from every position of the current text back to the source,
  so the next stage's edits are located in the source too.

The module is pure: no I/O, no Prefect.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import MISSING, dataclass, field, fields
from itertools import repeat
from operator import attrgetter
from typing import Any, Iterable, Iterator

import numpy as np

__all__ = [
    "Change",
    "Edit",
    "Quote",
    "EntityMention",
    "Suggestion",
    "Document",
    "apply_changes",
    "normalize_newlines",
    "iter_lines",
]


@dataclass(frozen=True, slots=True)
class Change:
    """Replace ``text[start:end]`` of the current text with ``replacement``.

    An empty replacement is a removal; ``start == end`` an insertion.
    """

    start: int
    end: int
    replacement: str
    rule: str


@dataclass(frozen=True, slots=True)
class Edit:
    """One recorded change, located in the decoded source of the document."""

    stage: str
    rule: str
    before: str
    after: str
    source_line: int  # 1-based line of source_start in the decoded source
    source_start: int
    source_end: int
    seq: int  # order of the edit within its document: replay in this order


@dataclass(frozen=True, slots=True)
class Quote:
    """A quoted span of the curated text (offsets into ``articles.text``)."""

    text: str
    speaker: str | None
    start: int
    end: int
    kind: str = "statement"  # statement, term or name (stages/quotes/kind.py)
    speaker_name: str | None = None  # canonical: one per person (stages/quotes/speakers.py)
    speaker_id: str | None = None


@dataclass(frozen=True, slots=True)
class EntityMention:
    """A gazetteer name found in the curated text."""

    start: int
    end: int
    surface: str
    canonical: str
    type: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A possible entity correction below the confidence threshold."""

    span: str
    candidate: str
    score: float
    context: str
    source_line: int
    source_start: int
    source_end: int
    canonical: str | None = None  # the candidate's entity, when the name alone is ambiguous
    type: str | None = None


def _quick_init(cls: type) -> type:
    """Give a frozen, slotted dataclass an ``__init__`` that stores each field
    through its slot descriptor instead of ``object.__setattr__`` (what the
    frozen guard makes dataclasses use): 0.33 us a Change against 0.8. The
    signature, defaults and the objects built are the dataclass's own (tests
    compare them); the instances stay frozen. Stages build Changes by the
    dozen per article, and a run rebuilds every Edit between its steps."""
    names = [f.name for f in fields(cls)]
    if any(f.default_factory is not MISSING for f in fields(cls)):  # pragma: no cover - no such field yet
        raise TypeError(f"{cls.__name__}: _quick_init does not handle default_factory")
    defaults = {f"_d_{f.name}": f.default for f in fields(cls) if f.default is not MISSING}
    setters = {f"_s_{n}": cls.__dict__[n].__set__ for n in names}
    params = ", ".join(f"{n}=_d_{n}" if f"_d_{n}" in defaults else n for n in names)
    body = "".join(f"        _s_{n}(self, {n})\n" for n in names)
    # Made inside a factory: the setters and defaults are closure cells (fast
    # to read), not extra parameters a caller could pass by mistake.
    src = (f"def make({', '.join([*setters, *defaults])}):\n"
           f"    def __init__(self, {params}) -> None:\n{body}    return __init__\n")
    scope: dict[str, Any] = {}
    exec(src, scope)  # noqa: S102 - source built above from the class's own field names
    init = scope["make"](*setters.values(), *defaults.values())
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init
    return cls


for _cls in (Change, Edit, Quote, EntityMention, Suggestion):
    _quick_init(_cls)


@dataclass(slots=True)
class Document:
    doc_id: str
    source_path: str  # POSIX, relative to the raw root; ``path#line`` for JSONL
    source_sha256: str  # sha256 of the source *file's* bytes
    source_encoding: str
    source: str  # the decoded source, exactly as decoded: Edit offsets point here
    text: str = ""  # the current text; line endings normalised to "\n"
    meta: dict[str, Any] = field(default_factory=dict)  # title, site, dateline, url, ...
    edits: list[Edit] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    entities: list[EntityMention] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    # The source offset of every position 0..len(text) of the current text, as
    # segments (see _Segments); None means the identity map (nothing changed yet).
    # A few segments per edit, not 8 bytes per character: cheap to update and to pickle.
    _segments: _Segments | None = None
    _source_line_starts: np.ndarray | None = None

    @classmethod
    def from_source(cls, *, doc_id: str, source_path: str, source_sha256: str,
                    source_encoding: str, source: str, **meta: Any) -> "Document":
        text, segments = _normalize(source)
        return cls(doc_id=doc_id, source_path=source_path, source_sha256=source_sha256,
                   source_encoding=source_encoding, source=source, text=text,
                   meta={k: v for k, v in meta.items() if v is not None}, _segments=segments)

    @property
    def positions(self) -> np.ndarray | None:
        """Source offset of every position 0..len(text) of the current text (None: the identity)."""
        if self._segments is None:
            return None
        return _lookup(self._segments, np.arange(len(self.text) + 1, dtype=np.int64))

    def source_offset(self, pos: int) -> int:
        """Offset in the decoded source of position ``pos`` of the current text."""
        if self._segments is None:
            return pos
        n = len(self.text)
        if not -n - 1 <= pos <= n:
            raise IndexError(f"position {pos} outside the text (length {n})")
        if pos < 0:  # counted from the end, as indexing the full map would
            pos += n + 1
        return _offset(self._segments, pos)

    def line_starts(self) -> np.ndarray:
        """Offsets in the decoded source where each line starts (computed once)."""
        if self._source_line_starts is None:
            source = self.source
            if "\r" in source:
                starts = [0]
                starts.extend(m.end() for m in _LINE_BREAK.finditer(source))
                self._source_line_starts = np.asarray(starts, dtype=np.int64)
            else:  # only "\n" breaks: found by numpy, not a Python step per line
                codes = np.frombuffer(source.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
                self._source_line_starts = np.concatenate(
                    ([0], np.flatnonzero(codes == 10) + 1)).astype(np.int64, copy=False)
        return self._source_line_starts

    def source_line(self, source_offset: int) -> int:
        """1-based source line holding ``source_offset``."""
        return int(np.searchsorted(self.line_starts(), source_offset, side="right"))


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def normalize_newlines(source: str) -> tuple[str, np.ndarray | None]:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``; return the text and its position map.

    The map is None when nothing was removed (a lone ``\\r`` -> ``\\n`` keeps offsets).
    """
    text, segments = _normalize(source)
    if segments is None:
        return text, None
    return text, _lookup(segments, np.arange(len(text) + 1, dtype=np.int64))


# Segment i covers the positions from new[i] to the next segment's start;
# position q there maps to src[i] + step[i] * (q - new[i]): step 1 for text
# copied from the source, 0 for inserted text (every inserted character maps to
# where the text it replaced started). Plain arrays of int64, not numpy: a
# document has a few segments per edit, where numpy's per-call cost would be
# most of the work; not lists: the garbage collector would walk every number
# of every document of a batch on each full collection.
_Segments = tuple[array, array, array]


def _segments() -> _Segments:
    return array("q"), array("q"), array("q")


_IDENTITY: _Segments = (array("q", [0]), array("q", [0]), array("q", [1]))


def _lookup(segments: _Segments, pos: np.ndarray) -> np.ndarray:
    """Source offsets of the positions ``pos`` (an array) of the current text."""
    new, src, step = (np.asarray(x, dtype=np.int64) for x in segments)
    i = np.searchsorted(new, pos, side="right") - 1
    return src[i] + step[i] * (pos - new[i])


def _offset(segments: _Segments, pos: int) -> int:
    new, src, step = segments
    i = bisect_right(new, pos) - 1
    return src[i] + step[i] * (pos - new[i])


def _normalize(source: str) -> tuple[str, _Segments | None]:
    """:func:`normalize_newlines` with the map as segments: one per removed ``\\r``."""
    if "\r" not in source:
        return source, None
    removed = [m.start() for m in re.finditer(r"\r(?=\n)", source)]
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    if not removed:
        return text, None
    # The k-th removed "\r" sits at normalised position removed[k] - k; from there
    # on, positions map k + 1 characters further.
    segments = _segments()
    _push(segments, 0, 0, 1)
    for k, r in enumerate(removed):
        _push(segments, r - k, r + 1, 1)
    return text, segments


def _push(out: _Segments, q: int, s: int, step: int) -> None:
    """Append a segment, or nothing when it only continues the last one."""
    new, src, steps = out
    if new:
        last = steps[-1]
        if last == step and src[-1] + last * (q - new[-1]) == s:
            return
        if new[-1] == q:  # an empty segment before it: replaced
            new.pop(), src.pop(), steps.pop()
            _push(out, q, s, step)
            return
    new.append(q)
    src.append(s)
    steps.append(step)


def _copy(segments: _Segments, a: int, b: int, land: int, out: _Segments) -> None:
    """Segments of the old positions ``[a, b)``, moved to start at ``land``."""
    new, src, step = segments
    i = bisect_right(new, a) - 1
    _push(out, land, src[i] + step[i] * (a - new[i]), step[i])  # the one holding a, from a on
    j = bisect_left(new, b, i + 1)
    if j > i + 1:
        # The segments starting inside [a, b) are copied whole, moved by land - a: in
        # bulk, since a text with many \r\n line ends has one segment per line. They
        # never continue the one before (the old list had none that did).
        d = land - a
        out[0].extend([q + d for q in new[i + 1:j]])
        out[1].extend(src[i + 1:j])
        out[2].extend(step[i + 1:j])


def _remap(segments: _Segments, ordered: list[Change], length: int) -> tuple[_Segments, list[int], list[int]]:
    """The segments after the sorted, non-overlapping ``ordered`` changes to a text
    of ``length`` characters, and the source offsets of the changes' starts and ends.

    The text between the changes (and the end position ``length``) keeps its
    source offsets, moved to where it lands; inserted text maps to the source
    offset of the start of what it replaced. One pass: :func:`_copy` of each
    stretch between changes and :func:`_offset` of each start and end,
    inlined (calls per change were a third of apply_changes), the segment
    holding a change's end found once, for its offset and for the next stretch.
    """
    new, src, step = segments
    out = _segments()
    out_new, out_src, out_step = out
    push = _push
    starts: list[int] = []
    ends: list[int] = []
    shift = a = 0
    i = bisect_right(new, 0) - 1  # the segment holding a
    for ch in ordered:
        start, end, replacement = ch.start, ch.end, ch.replacement
        k = bisect_right(new, start, i) - 1  # the segment holding start
        s0 = src[k] + step[k] * (start - new[k])
        if start > a:
            push(out, a + shift, src[i] + step[i] * (a - new[i]), step[i])
            j = bisect_left(new, start, i + 1)
            if j > i + 1:  # never continuing the one before (see _copy)
                out_new.extend([q + shift for q in new[i + 1:j]])
                out_src.extend(src[i + 1:j])
                out_step.extend(step[i + 1:j])
        if replacement:
            push(out, start + shift, s0, 0)
        i = bisect_right(new, end, k) - 1
        starts.append(s0)
        ends.append(src[i] + step[i] * (end - new[i]))
        shift += len(replacement) - (end - start)
        a = end
    _copy(segments, a, length + 1, a + shift, out)
    return out, starts, ends


def _remap_identity(ordered: list[Change]) -> _Segments:
    """:func:`_remap` of the identity map (a text no stage changed yet: current
    offsets are source offsets), where copying ``[a, b)`` is one segment
    starting at source offset ``a``: no search, one push."""
    out = _segments()
    push = _push
    shift = a = 0
    for ch in ordered:
        start = ch.start
        if start > a:
            push(out, a + shift, a, 1)
        replacement = ch.replacement
        if replacement:
            push(out, start + shift, start, 0)
        shift += len(replacement) - (ch.end - start)
        a = ch.end
    push(out, a + shift, a, 1)
    return out


class _EditDraft:
    """An :class:`Edit` under construction: the same slots without the frozen
    guard, so its fields are stored directly: 0.21 us an Edit, against 0.48
    through :func:`_quick_init`'s slot setters and 1.3 through the dataclass's
    ``object.__setattr__`` (apply_changes makes tens per article; folding this
    into ``Edit(...)`` cost apply_changes 6-8 %). Its last step makes it an Edit
    (``__class__`` assignment, allowed between classes of the same slots):
    callers only ever see Edits, frozen as before. (``Edit.__init__`` itself
    cannot do this: assigning ``__class__`` on a frozen instance is refused.)"""

    __slots__ = ("stage", "rule", "before", "after", "source_line", "source_start", "source_end", "seq")

    def __init__(self, stage: str, rule: str, before: str, after: str, source_line: int,
                 source_start: int, source_end: int, seq: int) -> None:
        self.stage = stage
        self.rule = rule
        self.before = before
        self.after = after
        self.source_line = source_line
        self.source_start = source_start
        self.source_end = source_end
        self.seq = seq
        self.__class__ = Edit  # type: ignore[assignment]


if _EditDraft.__slots__ != Edit.__slots__:  # pragma: no cover - a field added to one of them only
    raise RuntimeError("Edit and _EditDraft must have the same fields in the same order")


def apply_changes(doc: Document, changes: Iterable[Change], stage: str) -> Document:
    """Apply non-overlapping ``changes`` (current-text offsets) to ``doc`` in place.

    Changes are sorted here; overlapping changes raise ``ValueError`` because the
    result would depend on their order and could not be replayed; changes that
    replace a span by itself are dropped. Every stage calls this (boilerplate
    with tens of edits per article, repair on nearly every article for one
    trimmed newline), so one pass drops the no-ops, checks the spans and cuts
    the new text's pieces, the source lines are counted with ``str.count``
    between consecutive edits instead of building the document's array of
    line starts, and the Edits are built as drafts (:class:`_EditDraft`).
    """
    if type(changes) is list and len(changes) == 1:
        return _apply_one(doc, changes[0], stage)
    text = doc.text
    n = len(text)
    ordered: list[Change] = []
    befores: list[str] = []
    pieces: list[str] = []
    prev = 0
    # Checked before anything is changed: a bad list leaves doc as it was.
    for ch in sorted(changes, key=_SPAN):
        start, end, replacement = ch.start, ch.end, ch.replacement
        before = text[start:end]
        if before == replacement:
            continue  # a no-op is dropped, never checked (it changes nothing, wherever it is)
        if start < prev or end < start or end > n:
            raise ValueError(f"overlapping or out-of-range change {ch!r} in {doc.doc_id}")
        ordered.append(ch)
        befores.append(before)
        pieces += (text[prev:start], replacement)
        prev = end
    if not ordered:
        return doc
    pieces.append(text[prev:])
    segments = doc._segments
    if segments is None:  # the identity map: current offsets are source offsets
        src_starts = [c.start for c in ordered]
        src_ends = [c.end for c in ordered]
        new_segments = _remap_identity(ordered)
    else:
        new_segments, src_starts, src_ends = _remap(segments, ordered, n)
    seq = len(doc.edits)
    doc.edits.extend(map(_EditDraft, repeat(stage), [c.rule for c in ordered], befores,
                         [c.replacement for c in ordered], _source_lines(doc, src_starts),
                         src_starts, src_ends, range(seq, seq + len(ordered))))
    doc.text = "".join(pieces)
    doc._segments = new_segments
    return doc


_SPAN = attrgetter("start", "end")


def _apply_one(doc: Document, ch: Change, stage: str) -> Document:
    """:func:`apply_changes` of a list of one change (most of repair's calls: the
    final newline cut), without the sorting and the per-change lists."""
    text = doc.text
    start, end, replacement = ch.start, ch.end, ch.replacement
    before = text[start:end]
    if before == replacement:
        return doc
    if start < 0 or end < start or end > len(text):
        raise ValueError(f"overlapping or out-of-range change {ch!r} in {doc.doc_id}")
    segments = doc._segments
    if segments is None:
        s0, e0 = start, end
        new_segments = _remap_identity([ch])
    else:
        new_segments, (s0,), (e0,) = _remap(segments, [ch], len(text))
    line, = _source_lines(doc, [s0])
    doc.edits.append(_EditDraft(stage, ch.rule, before, replacement, line, s0, e0, len(doc.edits)))
    doc.text = text[:start] + replacement + text[end:]
    doc._segments = new_segments
    return doc


def _source_lines(doc: Document, offsets: list[int]) -> list[int]:
    """1-based source line of each of ``offsets`` (as :meth:`Document.source_line`)."""
    source = doc.source
    if doc._source_line_starts is not None or "\r" in source:
        line_starts = doc.line_starts()
        if len(offsets) > 8:
            return np.searchsorted(line_starts, offsets, side="right").tolist()
        return [bisect_right(line_starts, s0) for s0 in offsets]
    # Only "\n" breaks: the line of s0 is 1 + the newlines before it, counted on
    # from the previous offset (they come in order; a step back counts afresh).
    lines = []
    line, at = 1, 0
    for s0 in offsets:
        if s0 >= at:
            line += source.count("\n", at, s0)
        else:
            line = 1 + source.count("\n", 0, s0)
        at = s0
        lines.append(line)
    return lines


def iter_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, line)`` for each line; ``end`` excludes the newline."""
    start = 0
    n = len(text)
    while start <= n:
        nl = text.find("\n", start)
        if nl < 0:
            if start < n:
                yield start, n, text[start:]
            return
        yield start, nl, text[start:nl]
        start = nl + 1
