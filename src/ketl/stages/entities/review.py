"""The pure functions behind ``ketl review``: list suggestions, record decisions.

Suggestions are read from ``<out>/suggestions/`` (hive-partitioned Parquet).
Decisions go to the *user gazetteer*: by default ``<out>/gazetteer.user.toml``
(inside the curated dataset folder; ``--full`` rebuilds keep it), or any path
given with ``--gazetteer``. Pass the same file to the next run (config
``entities.gazetteers`` or ``--gazetteer``) so it applies them:

* accept: the span becomes a known corruption of the candidate's entity, so it is
  corrected wherever the entity's context is on topic;
* reject: the span goes to the entity's ``rejected`` list and is never again
  corrected or suggested towards it.

Decisions are appended as ``[[entity]]`` blocks, which merge with the entity of
the same canonical name and type: the user's own lines and comments stay as
they are, and the file stays a plain, diffable gazetteer.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import pyarrow as pa
import xxhash

from ...atomic import atomic_write
from .stage import SUGGESTIONS_SCHEMA
from .gazetteer import Entity, Gazetteer, entity_toml

__all__ = ["ReviewItem", "default_user_gazetteer", "read_suggestions", "review_id", "pending",
           "record_decisions"]

USER_GAZETTEER = "gazetteer.user.toml"


@dataclass(frozen=True)
class ReviewItem:
    """One (span, candidate) pair to decide, over all the documents that hold it."""

    id: str
    span: str
    candidate: str
    canonical: str
    type: str
    score: float  # best score seen
    count: int  # suggestions rows
    doc_id: str  # an example
    source_path: str
    source_line: int
    context: str


def default_user_gazetteer(out: Path) -> Path:
    """Inside the dataset folder: only who can write the dataset can change what runs load.

    (Up to ketl 0.2 it lay beside ``out``, where with ``--out /tmp/x`` any local
    user could plant one; that place is no longer read, see :func:`with_user_gazetteer`.)
    """
    return Path(out).resolve() / USER_GAZETTEER


def read_suggestions(out: Path) -> pa.Table:
    """All rows of ``<out>/suggestions`` (an empty table when there are none)."""
    import pyarrow.dataset as ds

    path = Path(out) / "suggestions"
    if not path.exists() or not any(path.rglob("*.parquet")):
        return SUGGESTIONS_SCHEMA.empty_table()
    return ds.dataset(path, format="parquet", partitioning="hive").to_table()


def review_id(span: str, candidate: str, canonical: str | None = None, etype: str | None = None) -> str:
    """A short stable id for a (span, candidate) pair: the same in every run.

    ``canonical`` and ``etype`` tell apart two entities that share the candidate
    name (Salyan the town, Salyan the district); the id of a pair whose
    suggestion does not name its entity stays the two-string one.
    """
    key = f"{span}\x1f{candidate}"
    if canonical is not None:
        key += f"\x1f{canonical}\x1f{etype or ''}"
    return xxhash.xxh64_hexdigest(key.encode("utf-8", "surrogatepass"))[:8]


def _decided(ent: Entity, span: str) -> bool:
    return span in ent.corruptions or span in ent.rejected or span in ent.names()


def pending(table: pa.Table, gaz: Gazetteer) -> list[ReviewItem]:
    """Undecided suggestions of ``table``, grouped by (span, candidate), best first.

    A pair is decided once the gazetteer lists the span as a corruption, a
    rejection or a name of the candidate's entity. Candidates that are no longer
    in the gazetteer are left out.
    """
    if table.num_rows == 0:
        return []
    cols = {name: table.column(name).to_pylist() for name in
            ("span", "candidate", "score", "doc_id", "source_path", "source_line", "context")}
    for name in ("canonical", "type"):  # older tables lack them: the candidate name decides
        cols[name] = (table.column(name).to_pylist() if name in table.column_names
                      else [None] * table.num_rows)
    groups: dict[tuple[str, str, str | None, str | None], dict] = {}
    for i in range(table.num_rows):
        key = (cols["span"][i], cols["candidate"][i], cols["canonical"][i], cols["type"][i])
        score = float(cols["score"][i] or 0.0)
        g = groups.get(key)
        if g is None:
            groups[key] = g = {"count": 0, "score": -1.0, "row": i}
        g["count"] += 1
        if score > g["score"]:
            g["score"], g["row"] = score, i
    items = []
    for (span, candidate, canonical, etype), g in groups.items():
        if canonical is not None:
            # The suggestion names its entity: a shared name cannot pick the wrong one.
            ent = gaz.find(canonical, etype)
        else:
            ent = gaz.entity_for_surface(candidate)
        if ent is None or _decided(ent, span):
            continue
        i = g["row"]
        items.append(ReviewItem(id=review_id(span, candidate, canonical, etype), span=span,
                                candidate=candidate,
                                canonical=ent.canonical, type=ent.type, score=g["score"],
                                count=g["count"], doc_id=cols["doc_id"][i],
                                source_path=cols["source_path"][i],
                                source_line=int(cols["source_line"][i] or 0),
                                context=cols["context"][i] or ""))
    items.sort(key=lambda it: (-it.score, -it.count, it.span))
    return items


def record_decisions(path: Path, accepted: Sequence[ReviewItem] = (),
                     rejected: Sequence[ReviewItem] = ()) -> int:
    """Append the decisions to the user gazetteer at ``path``; return how many.

    The file is created when missing. The new text is parsed before it replaces
    the old file, so a failed write never leaves a broken gazetteer behind.
    """
    if not accepted and not rejected:
        return 0
    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.exists() else (
        "# User gazetteer: decisions of `ketl review` and your own entries.\n"
        "# Format: see ketl/stages/entities/gazetteer.py. Pass it to ketl with --gazetteer or the config.\n")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    blocks = []
    for items, accept in ((accepted, True), (rejected, False)):
        for it in items:
            note = (f"{'accepted' if accept else 'rejected'} by ketl review {stamp}: "
                    f"{it.span!r} -> {it.candidate!r} (score {it.score:.3f}, {it.source_path}:{it.source_line})")
            blocks.append(entity_toml(it.canonical, it.type, comment=note,
                                      corruptions=[it.span] if accept else (),
                                      rejected=[] if accept else [it.span]))
    new = old.rstrip("\n") + "\n\n" + "\n".join(blocks)
    tomllib.loads(new)  # never write a file the next run cannot read
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, new.encode("utf-8"))
    return len(blocks)
