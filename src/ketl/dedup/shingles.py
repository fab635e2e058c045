"""Shingles of a batch of texts as uint32 hashes, computed with numpy in bulk.

Texts are normalised the same way for every shingle kind: lower-cased, every
run of non-word characters (punctuation, quote marks of any style, spaces,
line breaks) becomes one space, ends stripped. A *word character* is a BMP
code point for which ``str.isalnum()`` is true.

* ``unit="char"``: overlapping character ``n``-grams of the normalised text.
* ``unit="word"``: overlapping word ``n``-grams.

A text shorter than one shingle gives a single shingle (the whole normalised
text); an empty one gives none. Each shingle hashes to an unsigned 32-bit int:
a polynomial hash (mod 2**64) of its code points (char) or of its words'
polynomial hashes (word), finished with the 64-bit MurmurHash3 mixer and
truncated to the high 32 bits. :func:`shingle_hashes_reference` computes the
same values one text at a time in plain Python, so anyone can rebuild a
comparable ``datasketch.MinHash`` (see :mod:`ketl.dedup.minhash`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

__all__ = ["ShingleSettings", "shingle_hashes", "iter_shingle_hashes", "shingle_hashes_reference", "normalize"]

_M64 = (1 << 64) - 1
_CHAR_BASE = 0x100000001B3  # FNV-64 prime: odd, so invertible mod 2**64
_WORD_BASE = 0x9E3779B97F4A7C15  # golden-ratio constant, odd
_NGRAM_BASE = 0xC2B2AE3D27D4EB4F  # xxhash64 prime 2, odd


@dataclass(frozen=True)
class ShingleSettings:
    unit: str = "char"  # "char" or "word"
    n: int = 5

    def __post_init__(self) -> None:
        if self.unit not in ("char", "word"):
            raise ValueError(f"unit must be 'char' or 'word', not {self.unit!r}")
        if self.n < 1:
            raise ValueError("n must be >= 1")


@lru_cache(maxsize=1)
def _fold_table() -> np.ndarray:
    """Code point -> folded (lower-case) code point for word chars, 0 otherwise."""
    table = np.zeros(0x110000, dtype=np.uint32)
    table[:0x10000] = np.fromiter((_fold(chr(c)) for c in range(0x10000)), dtype=np.uint32,
                                  count=0x10000)
    return table


def _fold(ch: str) -> int:
    # One code point in, one out: lower() that would expand (e.g. "İ") is skipped,
    # so positions stay aligned in the vectorised path.
    if ord(ch) >= 0x10000 or not ch.isalnum():
        return 0
    low = ch.lower()
    return ord(low) if len(low) == 1 else ord(ch)


def normalize(text: str) -> str:
    """The normalised text the shingles are cut from (reference, per text)."""
    out: list[str] = []
    gap = False
    for ch in text:
        f = _fold(ch)
        if f:
            if gap and out:
                out.append(" ")
            out.append(chr(f))
            gap = False
        else:
            gap = True
    return "".join(out)


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _M64
    return h ^ (h >> 33)


def _poly_int(values: Sequence[int], base: int) -> int:
    h = 0
    for v in values:
        h = (h * base + v) & _M64
    return h


def _word_hash_int(word: str) -> int:
    # sum(cp_j * B**j): the form the vectorised prefix-sum trick produces.
    h, p = 0, 1
    for ch in word:
        h = (h + ord(ch) * p) & _M64
        p = (p * _CHAR_BASE) & _M64
    return _fmix64_int(h)


def shingle_hashes_reference(text: str, settings: ShingleSettings = ShingleSettings()) -> list[int]:
    """Shingle hashes of one text, in order, duplicates kept (plain Python)."""
    norm = normalize(text)
    if not norm:
        return []
    if settings.unit == "char":
        units = [ord(c) for c in norm]
        base = _CHAR_BASE
    else:
        units = [_word_hash_int(w) for w in norm.split(" ")]
        base = _NGRAM_BASE
    n = min(settings.n, len(units))
    return [_fmix64_int(_poly_int(units[i:i + n], base)) >> 32 for i in range(len(units) - n + 1)]


_S33 = np.uint64(33)
_M1, _M2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)


def _fmix64_inplace(h: np.ndarray) -> np.ndarray:
    """The 64-bit MurmurHash3 finaliser (:func:`_fmix64_int`) of every value, written into
    ``h`` and returned: one scratch array for the shifts, not a fresh array per step."""
    tmp = np.empty_like(h)
    np.right_shift(h, _S33, out=tmp)
    h ^= tmp
    h *= _M1
    np.right_shift(h, _S33, out=tmp)
    h ^= tmp
    h *= _M2
    np.right_shift(h, _S33, out=tmp)
    h ^= tmp
    return h


_pow_cache: dict[int, np.ndarray] = {}


def _powers(base: int, length: int) -> np.ndarray:
    """base**j mod 2**64 for j < length (cached, grown by doubling)."""
    cached = _pow_cache.get(base)
    if cached is None or len(cached) < length:
        size = max(length, 2 * (0 if cached is None else len(cached)), 1 << 16)
        arr = np.full(size, base, dtype=np.uint64)
        arr[0] = 1
        with np.errstate(over="ignore"):
            cached = np.cumprod(arr, dtype=np.uint64)
        _pow_cache[base] = cached
    return cached[:length]


def _ngrams(units: np.ndarray, sent: np.ndarray, n: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of unit n-grams that stay inside one doc; CSR (hashes, offsets).

    ``units`` holds every doc's units followed by one sentinel slot, at the
    sorted positions ``sent``. A doc with fewer than ``n`` units gets one
    shingle over all its units.
    """
    n_docs = len(sent)
    L = len(units)
    m = L - n + 1
    doc_len = np.diff(sent, prepend=-1) - 1
    if m > 0:
        h = units[:m].copy()
        b = np.uint64(base)
        for k in range(1, n):
            h *= b
            h += units[k:k + m]
        # A window is invalid when it covers a sentinel: n scatters of n_docs.
        valid = np.ones(m, dtype=bool)
        for k in range(n):
            idx = sent - k
            valid[idx[(idx >= 0) & (idx < m)]] = False
        hashes = (_fmix64_inplace(h[valid]) >> np.uint64(32)).astype(np.uint32)
        cum = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(valid, out=cum[1:])
        before = cum[np.minimum(sent, m)]
        counts = np.diff(before, prepend=0)
    else:
        hashes = np.empty(0, np.uint32)
        counts = np.zeros(n_docs, dtype=np.int64)
    short = np.flatnonzero((doc_len > 0) & (doc_len < n))
    if len(short):
        # Rare: a text shorter than one shingle gives one shingle of all its units.
        extra = np.empty(len(short), dtype=np.uint32)
        for i, d in enumerate(short.tolist()):
            h = 0
            for v in units[sent[d] - doc_len[d]:sent[d]].tolist():
                h = (h * base + v) & _M64
            extra[i] = _fmix64_int(h) >> 32
        counts = counts.copy()
        counts[short] += 1
        offsets = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        out = np.empty(offsets[-1], dtype=np.uint32)
        main = np.ones(len(out), dtype=bool)
        main[offsets[short]] = False
        out[offsets[short]] = extra
        out[main] = hashes
        return out, offsets
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return hashes, offsets


def iter_shingle_hashes(texts: Sequence[str], settings: ShingleSettings = ShingleSettings(),
                        chunk_chars: int | None = None):
    """:func:`shingle_hashes` chunk by chunk: yields ``(first text, hashes, offsets)``.

    Chunks of about ``chunk_chars`` characters stay in cache, and a caller
    that reduces each chunk (signatures) never holds the whole batch's shingles.
    """
    limit = _CHUNK_CHARS if chunk_chars is None else chunk_chars
    chunk: list[str] = []
    size = first = 0
    for i, t in enumerate(texts):
        chunk.append(t or "")
        size += len(chunk[-1])
        if size >= limit:
            yield (first, *_chunk_hashes(chunk, settings))
            chunk, size, first = [], 0, i + 1
    if chunk:
        yield (first, *_chunk_hashes(chunk, settings))


def shingle_hashes(texts: Sequence[str], settings: ShingleSettings = ShingleSettings(),
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of every text, as CSR: ``hashes[offsets[i]:offsets[i+1]]``.

    Equal to :func:`shingle_hashes_reference` per text, but vectorised over the
    batch (duplicates within a text are kept; MinHash ignores them). Large
    batches are cut in chunks that stay in cache.
    """
    if len(texts) == 0:
        return np.empty(0, np.uint32), np.zeros(1, np.int64)
    parts, offs, base = [], [np.zeros(1, np.int64)], 0
    for _, h, o in iter_shingle_hashes(texts, settings):
        parts.append(h)
        offs.append(o[1:] + base)
        base += len(h)
    if len(parts) == 1:
        return parts[0], np.concatenate(offs)
    return np.concatenate(parts), np.concatenate(offs)


_CHUNK_CHARS = 1 << 18


def _chunk_hashes(texts: list[str], settings: ShingleSettings) -> tuple[np.ndarray, np.ndarray]:
    n_docs = len(texts)
    # A NUL after every text marks its end (NULs inside texts are non-word chars).
    joined = "\x00".join(texts) + "\x00"
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=n_docs)
    seps = np.cumsum(lens + 1) - 1
    folded = _fold_table()[cp]
    if settings.unit == "char":
        edges = np.diff((folded != 0).view(np.int8), prepend=np.int8(0))
        word_starts = np.flatnonzero(edges == 1)
        word_doc = np.searchsorted(seps, word_starts)
        # Keep word chars, seps (as 0) and, as one space, the first non-word
        # char after a word when the next word is in the same doc.
        word_ends = np.flatnonzero(edges == -1)
        keep = folded != 0
        keep[seps] = True
        if len(word_ends) > 1:
            inner = word_ends[:-1][word_doc[1:] == word_doc[:-1]]
            keep[inner] = True
            folded[inner] = 32
        units = folded[keep].astype(np.uint64)
        return _ngrams(units, np.flatnonzero(units == 0), settings.n, _CHAR_BASE)
    # Word starts: a word character after a non-word one (the text starts after a NUL).
    nz = folded != 0
    word_starts = np.flatnonzero(nz[1:] > nz[:-1]) + 1
    if len(nz) and nz[0]:
        word_starts = np.concatenate(([0], word_starts))
    # Word hashes: sum(cp_j * B**j) per word, shifted to start at B**0 with B**-start
    # (B odd, so invertible). The sum of a word is the difference of a running sum
    # (mod 2**64, as the sum itself) at its end and start: a cumsum is several times
    # faster than np.add.reduceat, and non-word chars add 0 either way.
    with np.errstate(over="ignore"):
        run = np.empty(len(cp) + 1, dtype=np.uint64)
        run[0] = 0
        np.multiply(folded, _powers(_CHAR_BASE, len(cp)), out=run[1:], dtype=np.uint64)
        np.cumsum(run[1:], out=run[1:])
        if len(word_starts):
            # The joined text ends with a NUL: every word ends before its end.
            word_ends = np.flatnonzero(nz[:-1] > nz[1:]) + 1
            sums = run[word_ends] - run[word_starts]
            sums *= _powers(pow(_CHAR_BASE, -1, 1 << 64), len(cp))[word_starts]
            word_h = _fmix64_inplace(sums)
        else:
            word_h = np.empty(0, np.uint64)
    # Words before each text's end NUL (a NUL is never a word start): the sentinel slots.
    ins = np.searchsorted(word_starts, seps)
    units = np.insert(word_h, ins, np.uint64(0))
    return _ngrams(units, ins + np.arange(n_docs), settings.n, _NGRAM_BASE)
