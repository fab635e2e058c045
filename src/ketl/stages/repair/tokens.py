"""The glued-word rule's candidate tokens for a batch of texts at once, with numpy.

:func:`ketl.stages.repair.words.candidate_tokens` costs about 0.1 ms per
article, most of it Python objects: a string for each of the ~700 tokens of a
page, its hash, a set entry and a look-up in a set of 20,000 words whose
strings live far from the cache; only ~6 tokens a page survive. Here the
tokens of a whole batch are found in numpy and looked up in a hash table of
the listed words, keyed by their bytes: only the tokens the table lacks become
Python strings.

A token of up to 16 letters is its bytes as two little-endian 64-bit integers
(zero past its end; a letter is never a zero byte), so equal keys are equal
words and a token the table finds is a listed word: no false hit is possible.
A token the table misses, or a longer one, is checked against the word set
itself, so the answer is exactly :func:`candidate_tokens`' (the tests compare
them on real text in many scripts).

The table is 8 MiB, so nearly every probe is a cache miss; a second, 1 MiB
table of the commonest listed words, one word per slot (no probing), answers
about 92 % of an English page's tokens first, and only the rest probe the
large table (half the CPU of the look-ups). A word is in the small table only
if it is in the large one: a hit there is a hit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...text.cache import read_pickle, write_pickle
from .rules import repair_rules
from .words import _TOKEN_BYTES, _lexicon, _lists_key

__all__ = ["batch_candidate_tokens", "warm_token_table"]

_KEY_BYTES = 16  # longer tokens are looked up as strings (a few a page)
_SLOT_BITS = 19  # 524,288 slots for ~285,000 words: 8 MiB, about 1.6 probes a hit
_MIX_HI = np.uint64(0xC2B2AE3D27D4EB4F)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(64 - _SLOT_BITS)
_COMMON_BITS = 16  # the small table: 65,536 slots (1 MiB) ...
_COMMON_WORDS = 1 << 15  # ... for the 32,768 commonest words (those whose slot is free: ~80 %)
_COMMON_SHIFT = np.uint64(64 - _COMMON_BITS)
_WRAP = (1 << _SLOT_BITS) - 1
# MASKS[n]: the low n bytes of a 64-bit word (little-endian: a token's first n bytes).
_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_SPACE = 0x20


@dataclass(frozen=True)
class _Table:
    lo: np.ndarray  # first 8 bytes of the word in each slot (0: empty)
    hi: np.ndarray  # bytes 8-15
    common: np.ndarray  # the small table: (slot, [first 8 bytes, bytes 8-15]); a slot's word in one cache line


def _slots(lo: np.ndarray, hi: np.ndarray, shift: np.uint64 = _SHIFT) -> np.ndarray:
    return (((lo ^ (hi * _MIX_HI)) * _MIX) >> shift).astype(np.intp)


def _keys(words: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    raw = np.frombuffer(b"".join(w.ljust(_KEY_BYTES, b"\0") for w in words), dtype="<u8")
    return raw[0::2].copy(), raw[1::2].copy()


_TABLE_FORMAT = 2  # bump when the table's layout or hash changes


@lru_cache(maxsize=1)
def _table() -> _Table:
    """The table, from the disk cache when it is there (built in ~0.2 s, read in
    a few ms: every worker of every run needs it)."""
    key = _lists_key(repair_rules()["words"])
    key = key and (key, _TABLE_FORMAT, _SLOT_BITS, _KEY_BYTES)
    if key and _well_formed(cached := read_pickle("glued-table", key)):
        return _Table(*cached)
    table = _build_table()
    if key:
        write_pickle("glued-table", key, (table.lo, table.hi, table.common))
    return table


def _well_formed(cached: object) -> bool:
    """A cached table of the layout this code reads: a damaged or foreign file is built
    anew, not used (a short table made every batch's repair raise, then fall back to
    one document at a time)."""
    shapes = ((1 << _SLOT_BITS,), (1 << _SLOT_BITS,), (1 << _COMMON_BITS, 2))
    return (isinstance(cached, tuple) and len(cached) == len(shapes)
            and all(isinstance(a, np.ndarray) and a.dtype == np.uint64 and a.shape == shape
                    for a, shape in zip(cached, shapes)))


def _build_table() -> _Table:
    """Open addressing, linear probing, filled a round at a time: a word moves
    one slot on only past a taken slot, and slots are never emptied, so a look-up
    that stops at the first empty slot finds every word."""
    # Sorted: the same layout in every process (a set's order follows the hash seed).
    words = sorted(w.encode("ascii") for w in _lexicon().safe if w.isascii() and 0 < len(w) <= _KEY_BYTES)
    if len(words) >= 1 << _SLOT_BITS:  # linear probing would never place the last words
        raise ValueError(f"glued-word list of {len(words):,} words does not fit the token table "
                         f"({1 << _SLOT_BITS:,} slots): raise _SLOT_BITS")
    lo, hi = _keys(words)
    t_lo = np.zeros(1 << _SLOT_BITS, dtype=np.uint64)
    t_hi = np.zeros_like(t_lo)
    slot = _slots(lo, hi)
    pending = np.arange(len(words))
    while len(pending):
        s = slot[pending]
        free = t_lo[s] == 0
        _, first = np.unique(s[free], return_index=True)
        placed = pending[free][first]  # one word per free slot
        t_lo[slot[placed]] = lo[placed]
        t_hi[slot[placed]] = hi[placed]
        left = np.ones(len(words), dtype=bool)
        left[placed] = False
        pending = pending[left[pending]]
        slot[pending] = (slot[pending] + 1) & _WRAP
    return _Table(t_lo, t_hi, _common_table(words, lo, hi))


def _common_table(words: list[bytes], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The small table: the commonest of ``words`` (keys ``lo``, ``hi``), each in
    its own slot; where several share a slot, the commonest has it."""
    freq = _lexicon().freq
    # Commonest first, ties in the words' (sorted) order: the same table in every process.
    order = sorted(range(len(words)), key=lambda i: -freq.get(words[i].decode("ascii"), 0.0))[:_COMMON_WORDS]
    order = np.asarray(order, dtype=np.intp)
    slot = _slots(lo[order], hi[order], _COMMON_SHIFT)
    _, first = np.unique(slot, return_index=True)  # the first (commonest) word of each slot
    table = np.zeros((1 << _COMMON_BITS, 2), dtype=np.uint64)
    table[slot[first], 0] = lo[order[first]]
    table[slot[first], 1] = hi[order[first]]
    return table


def warm_token_table() -> None:
    """Build the table (about 0.2 s), e.g. in a worker's warm-up."""
    _table()


def _listed(table: _Table, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """For each key, whether the table holds it: the small table first, then the
    keys it lacks in the large one."""
    rows = table.common.take(_slots(lo, hi, _COMMON_SHIFT), axis=0)
    found = (rows[:, 0] == lo) & (rows[:, 1] == hi)
    todo = np.flatnonzero(~found)
    lo, hi = lo[todo], hi[todo]
    slot = _slots(lo, hi)
    while len(todo):
        at_lo = table.lo[slot]
        hit = (at_lo == lo) & (table.hi[slot] == hi)
        found[todo[hit]] = True
        on = ~hit & (at_lo != 0)
        todo, slot, lo, hi = todo[on], (slot[on] + 1) & _WRAP, lo[on], hi[on]
    return found


def batch_candidate_tokens(texts: list[str], datas: list[bytes] | None = None) -> list[set[str]]:
    """For each text, ``candidate_tokens(text, min_token_length, lex.safe, lex.common)``;
    ``datas``: the texts in UTF-8 (surrogatepass), when the caller has them."""
    if datas is None:
        datas = [t.encode("utf-8", "surrogatepass") for t in texts]
    # A few dozen texts at a time: the arrays (several 8-byte numbers a token)
    # stay a few MB, and a numpy call still covers thousands of tokens.
    return [found for i in range(0, len(datas), _PIECE) for found in _candidates(datas[i:i + _PIECE])]


_PIECE = 64


def _candidates(datas: list[bytes]) -> list[set[str]]:
    lex = _lexicon()
    # A space before each text (a token never spans two; the translation keeps
    # it a space) and 16 after the last: the 8-byte reads past a token's start
    # stay inside the buffer.
    data = (b" " + b" ".join(datas) + b" " * _KEY_BYTES).translate(_TOKEN_BYTES)
    arr = np.frombuffer(data, dtype=np.uint8)
    edge = np.diff((arr != _SPACE).view(np.int8))
    starts = np.flatnonzero(edge == 1) + 1
    ends = np.flatnonzero(edge == -1) + 1
    size = ends - starts
    # A token holding a NUL (a capital, digit or '_') is no candidate.
    marked = np.zeros(len(starts) + 1, dtype=bool)
    marked[np.searchsorted(starts, np.flatnonzero(arr == 0), "right") - 1] = True
    todo = np.flatnonzero((size >= lex.cfg["min_token_length"]) & ~marked[:-1])
    at, n = starts[todo], np.minimum(size[todo], _KEY_BYTES)
    words = np.ndarray(shape=(len(arr) - 7,), dtype="<u8", buffer=data, strides=(1,))
    lo = words[at] & _MASKS[np.minimum(n, 8)]
    hi = words[at + 8] & _MASKS[np.maximum(n - 8, 0)]
    listed = _listed(_table(), lo, hi) & (size[todo] <= _KEY_BYTES)
    left = todo[~listed]
    text_starts = np.cumsum([1] + [len(d) + 1 for d in datas[:-1]])
    owner = np.searchsorted(text_starts, starts[left], "right") - 1
    out: list[set[str]] = [set() for _ in datas]
    for a, b, i in zip(starts[left].tolist(), ends[left].tolist(), owner.tolist()):
        out[i].add(data[a:b].decode("ascii"))
    safe = lex.safe
    return [s - safe if s else s for s in out]
