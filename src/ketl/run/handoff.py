"""What step 1 (prepare_batch) hands step 2 (finish_batch) through the work folder: the
repaired documents as narrow records, not pickled Documents.

A pickled Document after repair was 43 KB per 4.4 KB article on the benchmark
corpus (benchmarks/bench_handoff.py): 34 KB of it the map from every position
of the text back to the source (``positions``, an int64 per character), which
repair creates for nearly every article with its first edit. That map is the
identity shifted at each edit, so it is stored as its runs: where the shift
changes and by how much (tens of bytes). The source line starts (a cache the
next stage recomputes when it needs it) are left out, and the edits travel as
tuples. Unpacking gives back equal Documents, arrays included.
"""

from __future__ import annotations

import numpy as np

from ..document import Document, Edit

# A document as it travels: every field of a Document after the prepare step but
# the position map (as runs) and the line-start cache.
_FIELDS = ("doc_id", "source_path", "source_sha256", "source_encoding", "source", "text", "meta")


def pack(docs: list[Document]) -> list[tuple]:
    """The documents as plain tuples (quotes, entities and suggestions come later: none yet)."""
    out = []
    for d in docs:
        if d.quotes or d.entities or d.suggestions:
            raise ValueError(f"{d.doc_id}: only prepared documents travel this way")
        out.append((*(getattr(d, f) for f in _FIELDS),
                    [(e.stage, e.rule, e.before, e.after, e.source_line, e.source_start, e.source_end, e.seq)
                     for e in d.edits],
                    shift_runs(d.positions)))
    return out


def unpack(records: list[tuple]) -> list[Document]:
    """The Documents :func:`pack` was given."""
    docs = []
    for *values, edits, runs in records:
        doc = Document(**dict(zip(_FIELDS, values)))
        doc.edits = [Edit(*e) for e in edits]
        doc.positions = from_shift_runs(runs)
        docs.append(doc)
    return docs


def shift_runs(positions: np.ndarray | None) -> tuple[int, np.ndarray, np.ndarray] | None:
    """``positions`` as (length, run starts, shift of each run): position ``i`` maps to
    ``i + shift`` of the run holding ``i``. None stays None (the identity map)."""
    if positions is None:
        return None
    shift = positions - np.arange(len(positions), dtype=positions.dtype)
    starts = np.flatnonzero(np.diff(shift)) + 1
    starts = np.concatenate(([0], starts)) if len(shift) else starts
    return len(positions), starts.astype(np.int32), shift[starts]


def from_shift_runs(runs: tuple[int, np.ndarray, np.ndarray] | None) -> np.ndarray | None:
    if runs is None:
        return None
    n, starts, shifts = runs
    lengths = np.diff(np.append(starts.astype(np.int64), n))
    return np.repeat(shifts.astype(np.int64), lengths) + np.arange(n, dtype=np.int64)
