"""What step 1 (prepare_batch) hands step 2 (finish_batch) through the work folder: the
repaired documents as narrow records, not pickled Documents.

The position map travels as the Document keeps it (a few segments per edit,
``Document._segments``; it was an int64 per character, 34 of the 43 KB a
pickled Document took per 4.4 KB article, benchmarks/bench_handoff.py). The
source line starts (a cache the next stage recomputes when it needs it) are
left out, and the edits travel as tuples. Unpacking gives back equal Documents.
"""

from __future__ import annotations

from ..document import Document, Edit

# A document as it travels: every field of a Document after the prepare step but
# the line-start cache.
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
                    d._segments))  # noqa: SLF001 - the map as the Document keeps it
    return out


def unpack(records: list[tuple]) -> list[Document]:
    """The Documents :func:`pack` was given."""
    docs = []
    for *values, edits, segments in records:
        doc = Document(**dict(zip(_FIELDS, values)))
        doc.edits = [Edit(*e) for e in edits]
        doc._segments = segments  # noqa: SLF001
        docs.append(doc)
    return docs
