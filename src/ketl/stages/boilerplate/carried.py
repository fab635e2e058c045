"""Site line keys carried from phase A to phase B, so no line is hashed twice.

Phase A (the prepare step) hashes every line of every repaired document for
the per-site counts; phase B (the finish step's boilerplate stage) asks the
same keys of the same lines. A key is a function of the line's text alone,
so phase A's keys are phase B's whenever the text is still the same: the
prepare step keeps the key of each line (:func:`site_and_page_keys`), ships
them beside the prepared documents (:func:`pack_page_keys`), and the finish
step lends them to the stage for the length of its stages
(:func:`carried_line_keys`). The stage takes a document's keys only when its
text is the one they were computed from (:func:`carried_keys`); otherwise, or
without them, it computes its own, as before. The keys never enter a
Document, so they never reach a table.
"""

from __future__ import annotations

from contextlib import contextmanager
from itertools import accumulate
from typing import Iterator, Sequence

import numpy as np

from ...document import Document
from .site_stats import site_and_page_keys  # noqa: F401 - named here, where it is used

__all__ = ["site_and_page_keys", "pack_page_keys", "carried_line_keys", "carried_keys"]


def pack_page_keys(pages: Sequence[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """A batch's per-line keys as two arrays (every key, then each document's
    number of lines): one pickled object, not a list of ints per document."""
    lengths = np.fromiter(map(len, pages), np.int64, len(pages))
    flat = np.fromiter((k for keys in pages for k in keys), np.int64, int(lengths.sum()))
    return flat, lengths


def _unpacked(packed: tuple[np.ndarray, np.ndarray]) -> list[list[int]]:
    flat, lengths = packed
    every = flat.tolist()
    ends = list(accumulate(lengths.tolist()))
    return [every[a:b] for a, b in zip([0, *ends[:-1]], ends)]


# id(document) -> (the text the keys are of, the keys), while a finish step's
# stages run. The documents live as long as their entries (the step holds
# them), so an id is never another document's; each step removes its own
# entries, so steps in threads of one process do not disturb each other.
_CARRIED: dict[int, tuple[str, list[int]]] = {}


@contextmanager
def carried_line_keys(docs: Sequence[Document], packed: tuple[np.ndarray, np.ndarray] | None) -> Iterator[None]:
    """Lend the stage the keys :func:`pack_page_keys` packed for ``docs`` (in
    their order, as they were when packed) while the block runs. ``None``, or
    keys of another number of documents (a prepare step that did not compute
    them), lends nothing."""
    ids: list[int] = []
    if packed is not None and len(packed[1]) == len(docs):
        for doc, keys in zip(docs, _unpacked(packed)):
            _CARRIED[id(doc)] = (doc.text, keys)
            ids.append(id(doc))
    try:
        yield
    finally:
        for i in ids:
            _CARRIED.pop(i, None)


def carried_keys(doc: Document) -> list[int] | None:
    """The carried keys of ``doc``'s lines, if its text is still the one they
    were computed from (else None: the caller computes them)."""
    entry = _CARRIED.get(id(doc)) if _CARRIED else None
    if entry is None:
        return None
    text, keys = entry
    if text is not doc.text and text != doc.text:
        return None  # a stage before this one changed the text
    return keys
