"""The batch steps the flow runs: plain functions over batches, no Prefect.

A run has three steps, each over batches of files (one Prefect task per batch):

1. :func:`prepare_batch` reads and decodes the files, repairs the text and
   counts each site's lines (site headers and footers are lines repeated
   across a site's articles, so they can only be judged once every batch of
   the run has been counted);
2. :func:`finish_batch` strips boilerplate, resolves entities, extracts quotes,
   computes MinHash signatures and writes the batch's Parquet parts;
3. :func:`finalize_run` runs once: clusters the run's quotes and articles with
   the stored index and writes the tables that need the whole run.

Documents travel between steps as pickles in the run's work folder, so task
results stay small and memory does not grow with the size of the run.
"""

from __future__ import annotations

import pickle
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pyarrow as pa

from . import __version__
from .config import Settings
from .document import Document
from .ingest import Reject, SourceFile, read_units
from .store import write_part


@dataclass(frozen=True)
class RunContext:
    """What every batch step needs to know about its run (picklable)."""

    run_id: str
    raw: str
    staging: str
    settings: Settings
    config_hash: str
    started_at: datetime
    pipeline_version: str = __version__

    @property
    def work(self) -> Path:
        return Path(self.staging).parent / f"{Path(self.staging).name}.work"

    @property
    def run_date(self) -> str:
        return self.started_at.strftime("%Y-%m-%d")


@dataclass
class BatchCounts:
    """What a batch step reports back to the flow (small: no documents)."""

    batch: int
    articles: int = 0
    rejects: int = 0
    edits: int = 0
    quotes: int = 0
    chars: int = 0
    files: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    edits_by_stage: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)


def _guarded(stage: Callable[[Iterable[Document]], Iterator[Document]], docs: list[Document],
             rejects: list[Reject], name: str) -> list[Document]:
    """Run ``stage`` document by document so one failing article becomes a reject, not a lost batch."""
    kept: list[Document] = []
    for doc in docs:
        try:
            kept.extend(stage([doc]))
        except Exception as exc:  # a bug in a stage must not lose the other articles
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            rejects.append(Reject(doc.source_path, doc.source_sha256, "stage_error", f"{name}: {tb}"))
    return kept


def prepare_batch(ctx: RunContext, batch: int, units: list[SourceFile]) -> BatchCounts:
    result = read_units(Path(ctx.raw), units, ctx.settings.max_file_bytes)
    docs = result.docs
    rejects = list(result.rejects)
    counts = BatchCounts(batch=batch, files=result.files)
    _dump(ctx.work / f"prepared-{batch:05d}.pkl", (docs, rejects))
    counts.articles = len(docs)
    return counts


def finish_batch(ctx: RunContext, batch: int) -> BatchCounts:
    docs, rejects = _load(ctx.work / f"prepared-{batch:05d}.pkl")
    counts = BatchCounts(batch=batch)
    now = datetime.now(timezone.utc)
    staging = Path(ctx.staging)
    name = f"part-{ctx.run_id[:8]}-{batch:05d}"
    counts.articles = write_part(staging, "articles", articles_table(docs, ctx, now), name, ctx.run_date)
    edits = edits_table(docs, ctx)
    counts.edits = write_part(staging, "edits", edits, name, ctx.run_date)
    for stage in edits.column("stage").to_pylist():
        counts.edits_by_stage[stage] = counts.edits_by_stage.get(stage, 0) + 1
    counts.rejects = write_part(staging, "rejects", rejects_table(rejects, ctx), name, ctx.run_date)
    for r in rejects:
        counts.rejects_by_reason[r.reason] = counts.rejects_by_reason.get(r.reason, 0) + 1
    counts.chars = sum(len(d.source) for d in docs)
    (ctx.work / f"prepared-{batch:05d}.pkl").unlink(missing_ok=True)
    return counts


def articles_table(docs: list[Document], ctx: RunContext, now: datetime) -> pa.Table:
    m = [d.meta for d in docs]
    return pa.table({
        "doc_id": [d.doc_id for d in docs],
        "source_path": [d.source_path for d in docs],
        "source_sha256": [d.source_sha256 for d in docs],
        "source_encoding": [d.source_encoding for d in docs],
        "source_id": [x.get("id") for x in m],
        "url": [x.get("url") for x in m],
        "published": [x.get("published") for x in m],
        "title": [x.get("title") for x in m],
        "site": [x.get("site") for x in m],
        "dateline": [x.get("dateline") for x in m],
        "reprinted_from": [x.get("reprinted_from") for x in m],
        "text": [d.text for d in docs],
        "language": [x.get("language") for x in m],
        "n_chars": pa.array([len(d.text) for d in docs], pa.int32()),
        "n_edits": pa.array([len(d.edits) for d in docs], pa.int32()),
        "near_duplicate_of": pa.nulls(len(docs), pa.string()),
        "run_id": pa.array([ctx.run_id] * len(docs), pa.string()),
        "pipeline_version": pa.array([ctx.pipeline_version] * len(docs), pa.string()),
        "config_hash": pa.array([ctx.config_hash] * len(docs), pa.string()),
        # from integers: building timestamps from datetime objects imports pandas (0.5 s per worker)
        "processed_at": pa.array([int(now.timestamp() * 1e6)] * len(docs), pa.int64()).cast(
            pa.timestamp("us", tz="UTC")),
    })


def edits_table(docs: list[Document], ctx: RunContext) -> pa.Table:
    cols: dict[str, list] = {k: [] for k in (
        "doc_id", "source_path", "seq", "stage", "rule", "before", "after",
        "source_line", "source_start", "source_end")}
    for d in docs:
        for e in d.edits:
            cols["doc_id"].append(d.doc_id)
            cols["source_path"].append(d.source_path)
            cols["seq"].append(e.seq)
            cols["stage"].append(e.stage)
            cols["rule"].append(e.rule)
            cols["before"].append(e.before)
            cols["after"].append(e.after)
            cols["source_line"].append(e.source_line)
            cols["source_start"].append(e.source_start)
            cols["source_end"].append(e.source_end)
    n = len(cols["doc_id"])
    table = pa.table(cols)
    return table.append_column("run_id", pa.array([ctx.run_id] * n, pa.string()))


def rejects_table(rejects: list[Reject], ctx: RunContext) -> pa.Table:
    return pa.table({
        "source_path": [r.source_path for r in rejects],
        "source_sha256": [r.source_sha256 for r in rejects],
        "reason": [r.reason for r in rejects],
        "detail": [r.detail for r in rejects],
        "run_id": pa.array([ctx.run_id] * len(rejects), pa.string()),
    })


def _dump(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _load(path: Path) -> object:
    with open(path, "rb") as fh:
        return pickle.load(fh)
