"""What a run reports: the typed summary the CLI prints and the row the ``runs`` table keeps.

The flow returns it to Prefect as a dict (:meth:`RunSummary.to_dict`: plain
values for the UI's result display); everything in Python (the CLI,
``curate_with``) gets the dataclass back (:meth:`RunSummary.from_dict`), so a
misspelt field is an error, not a ``.get`` default.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from .. import __version__
from . import timeline
from .batch import BatchCounts, RunContext


@dataclass
class RunSummary:
    run_id: str
    out: str
    files_seen: int = 0
    files_new: int = 0
    files_skipped: int = 0
    rejected: int = 0
    articles: int = 0
    edits: int = 0
    quotes: int = 0
    clusters: int = 0
    near_duplicates: int = 0
    recurated: int = 0  # articles read again because their stored rows had another config_hash
    band_workers: int = 0  # distinct processes that ran the near-duplicate band tasks
    seconds: float = 0.0
    source_chars: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    # Wall-clock seconds of each phase of the run (scan, read, ..., commit), in order.
    phase_seconds: dict[str, float] = field(default_factory=dict)
    edits_by_stage: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    # Rule and gazetteer files loaded besides ketl's own (absolute paths), and notes for the user.
    user_files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def docs_per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    nothing_new: bool = False  # an incremental run that found no new or changed file

    @property
    def status(self) -> str:
        if self.nothing_new:
            return "nothing_new"
        return "partial" if self.rejected else "ok"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RunSummary":
        """Back from :meth:`to_dict`; a key that is not a field is an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"not fields of RunSummary: {', '.join(unknown)}")
        return cls(**values)

    def add_seconds(self, counts: BatchCounts) -> None:
        """CPU seconds per stage of a batch step."""
        for k, v in counts.stage_seconds.items():
            self.stage_seconds[k] = self.stage_seconds.get(k, 0.0) + v

    def add_finished(self, counts: BatchCounts) -> None:
        """The figures of a finished batch (step 2)."""
        self.add_seconds(counts)
        self.articles += counts.articles
        self.edits += counts.edits
        self.rejected += counts.rejects
        self.source_chars += counts.chars
        for k, v in counts.edits_by_stage.items():
            self.edits_by_stage[k] = self.edits_by_stage.get(k, 0) + v
        for k, v in counts.rejects_by_reason.items():
            self.rejects_by_reason[k] = self.rejects_by_reason.get(k, 0) + v


class Laps:
    """Records the wall-clock time since the previous lap under a phase name."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into
        self.t = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.into[phase] = self.into.get(phase, 0.0) + now - self.t
        self.t = now
        timeline.mark(f"phase done: {phase}")  # benchmarks attribute memory and CPU to phases by these


def runs_row(s: RunSummary, ctx: RunContext, full: bool) -> pa.Table:
    """The run's row of the ``runs`` table (its history)."""
    return pa.table({
        "run_id": [s.run_id],
        "started_at": pa.array([ctx.started_at], pa.timestamp("us", tz="UTC")),
        "finished_at": pa.array([datetime.now(timezone.utc)], pa.timestamp("us", tz="UTC")),
        "pipeline_version": [__version__],
        "config_hash": [ctx.config_hash],
        "raw_root": [ctx.raw],
        "full": [full],
        "files_seen": [s.files_seen],
        "files_new": [s.files_new],
        "files_skipped": [s.files_skipped],
        "rejected": [s.rejected],
        "articles": [s.articles],
        "edits": [s.edits],
        "quotes": [s.quotes],
        "recurated": [s.recurated],
        "seconds": [s.seconds],
        "status": [s.status],
        "user_files": pa.array([s.user_files], pa.list_(pa.string())),
    })
