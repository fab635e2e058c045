"""MinHash signatures in bulk, bit-for-bit those of ``datasketch.MinHash``.

datasketch (>= 2.0) defaults to the ``"affine32"`` scheme: each input hash
``h`` (32-bit) is pre-mixed with the 32-bit MurmurHash3 finaliser, then
permutation ``k`` maps it to ``a_k * h + b_k mod 2**32`` with ``a_k`` odd, and
the signature keeps the minimum per permutation. ``a`` and ``b`` come from
``numpy.random.RandomState(seed)``. Doing the same over a whole batch of
shingle hashes at once (a ``shingles x perms`` uint32 product, reduced per
text with ``np.minimum.reduceat``) is what makes this fast; the result loads
unchanged as ``datasketch.LeanMinHash(seed=seed, hashvalues=sig,
scheme="affine32")`` and compares with a sketch built by::

    m = datasketch.MinHash(num_perm=128, seed=1, hashfunc=int)
    m.update_batch(shingle_hashes_reference(text, shingle_settings))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from ketl.dedup.shingles import ShingleSettings, iter_shingle_hashes

__all__ = ["MinHashSettings", "permutations", "signatures_from_hashes", "signatures", "EMPTY"]

SCHEME = "affine32"  # the datasketch scheme these signatures reproduce
EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's value for "no shingle seen"
# Elements of the perms x shingles product per block (4 MiB). The block lives in
# one buffer reused by every block of a call: a fresh 2 MiB product per block was
# a fresh mmap, page-faulted in on every write. Measured on 2,000 articles of the
# bench_vs_by_hand corpus (ms/article): fresh 2**19 blocks 0.228; reused buffer
# 2**19 0.161, 2**20 0.125-0.136, 2**21 0.146, 2**22 0.208.
_BLOCK_ELEMS = 1 << 20


@dataclass(frozen=True)
class MinHashSettings:
    num_perm: int = 128
    seed: int = 1


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` as datasketch's ``MinHash._init_permutations`` draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def signatures_from_hashes(hashes: np.ndarray, offsets: np.ndarray,
                           settings: MinHashSettings = MinHashSettings()) -> np.ndarray:
    """``(n_texts, num_perm)`` uint32 signatures of CSR shingle hashes.

    A text without shingles gets the empty signature (all ``0xFFFFFFFF``),
    which callers must not treat as similar to anything.
    """
    a, b = permutations(settings.num_perm, settings.seed)
    n = len(offsets) - 1
    out = np.full((n, settings.num_perm), EMPTY, dtype=np.uint32)
    if n <= 0 or len(hashes) == 0:
        return out
    h = _fmix32(np.asarray(hashes, dtype=np.uint32))
    nonempty = np.flatnonzero(offsets[1:] > offsets[:-1])
    starts = offsets[nonempty]
    # perms x shingles layout: the per-text min is then a reduction over
    # contiguous memory, about 3x faster than reducing shingles x perms rows.
    a_col, b_col = a[:, None], b[:, None]
    block = max(_BLOCK_ELEMS // settings.num_perm, 1)
    outT = np.empty((settings.num_perm, len(nonempty)), dtype=np.uint32)
    buf = np.empty((settings.num_perm, min(block, len(h))), dtype=np.uint32)
    i = 0
    while i < len(nonempty):
        row0 = starts[i]
        # Whole texts up to the block size (at least one text).
        j = max(int(np.searchsorted(starts, row0 + block, side="left")), i + 1)
        row1 = offsets[nonempty[j - 1] + 1]
        if j > i + 1 and row1 - row0 > block:  # the last text runs far past the block: alone, next
            j -= 1
            row1 = offsets[nonempty[j - 1] + 1]
        if j == i + 1 and row1 - row0 > block:
            # One text larger than a block (a 20 MB article): a running minimum
            # over block-sized slices, so memory stays at one block, not perms x shingles.
            acc = np.full(settings.num_perm, EMPTY, dtype=np.uint32)
            for lo in range(row0, row1, block):
                hi = min(lo + block, row1)
                prod = buf[:, :hi - lo]
                np.multiply(a_col, h[None, lo:hi], out=prod)
                prod += b_col
                np.minimum(acc, prod.min(axis=1), out=acc)
            outT[:, i] = acc
            i = j
            continue
        prod = buf[:, :row1 - row0]
        np.multiply(a_col, h[None, row0:row1], out=prod)
        prod += b_col
        outT[:, i:j] = np.minimum.reduceat(prod, starts[i:j] - row0, axis=1)
        i = j
    out[nonempty] = outT.T
    return out


def signatures(texts: Sequence[str], shingles: ShingleSettings = ShingleSettings(),
               settings: MinHashSettings = MinHashSettings()) -> np.ndarray:
    """Text -> ``(len(texts), num_perm)`` uint32 MinHash signatures. Pure; run it in workers."""
    out = np.full((len(texts), settings.num_perm), EMPTY, dtype=np.uint32)
    # Chunk by chunk: the batch's shingles are never all in memory at once.
    for first, hashes, offsets in iter_shingle_hashes(texts, shingles):
        out[first:first + len(offsets) - 1] = signatures_from_hashes(hashes, offsets, settings)
    return out
