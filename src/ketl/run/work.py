"""Every file name a run writes besides the tables' rows: one class, so the steps agree.

The batch steps hand documents and tables to each other through files in the
run's work folder (``.ketl/staging/<run>.work``): each step writes a file that
a later step, maybe in another process or on a Dask worker, reads back. Their
names used to be f-strings in three modules; now the writer and the reader
both ask :class:`WorkFolder`, and ``tests/test_work_folder.py`` checks that a
run leaves no file in the work folder that :meth:`WorkFolder.owns` does not
name.

The names of the parts a run adds to the staging snapshot (``part-<run>-<batch>``
and the like) are here too: :func:`run_of_part` reads the run back out of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# State files in the snapshot's ``_state`` folder (kept from run to run).
SITE_LINES = "site_lines.parquet"
# Doc ids whose rows a re-read file replaced (work folder: this run's; state: all).
REMOVED_DOCS = "removed-docs.parquet"

# Tables of a few rows per article whose batches' rows go into one part per run.
MERGED_TABLES = ("entities", "suggestions")

# The work folder's files, for :meth:`WorkFolder.owns`: one pattern per method below.
_WORK_FILES = re.compile(
    r"prepared-[0-9]{5}\.pkl"
    r"|files-[0-9]{5}\.parquet"
    r"|sitelines-(?:recount-)?[0-9]{5}\.parquet"
    r"|sitelines-active\.parquet"
    r"|(?:articles|quotes|article-sketches|entities|suggestions)-[0-9]{5}\.parquet"
    r"|pairs-(?:quotes|articles)-[0-9]{2}\.npz"
    + "|" + re.escape(REMOVED_DOCS))
_DEDUP = "dedup"  # a folder whose files ketl.dedup.distributed names (it cannot import run/)
_PART = re.compile(r"part-(.{8})-[0-9]+\.parquet")


@dataclass(frozen=True)
class WorkFolder:
    """The run's work folder and the names of everything in it (picklable: tasks get it)."""

    path: Path
    run_id: str

    @classmethod
    def beside(cls, staging: Path, run_id: str) -> "WorkFolder":
        """The work folder of the run building ``staging``: ``<staging>.work`` next to it,
        so clearing the staging area (``Store.recover``) clears it too."""
        staging = Path(staging)
        return cls(staging.parent / f"{staging.name}.work", run_id)

    # -- step 1 (prepare_batch) writes, step 2 (finish_batch) reads --------------------
    def prepared(self, batch: int) -> Path:
        """The batch's repaired documents and rejects (a pickle)."""
        return self.path / f"prepared-{batch:05d}.pkl"

    def file_rows(self, batch: int) -> Path:
        """The batch's rows of the processed-files state (read by the commit's state write)."""
        return self.path / f"files-{batch:05d}.parquet"

    def site_lines(self, batch: int) -> Path:
        """The batch's line counts per site."""
        return self.path / f"sitelines-{batch:05d}.parquet"

    def site_lines_recount(self, batch: int) -> Path:
        """The counts of the batch's re-read files, taken back out of the stored ones."""
        return self.path / f"sitelines-recount-{batch:05d}.parquet"

    def site_lines_active(self) -> Path:
        """The merged counts frequent enough to matter, for every finish step."""
        return self.path / "sitelines-active.parquet"

    # -- step 2 writes, the dedup steps read -------------------------------------------
    def articles(self, batch: int) -> Path:
        """The batch's articles, waiting for their near-duplicate links."""
        return self.path / f"articles-{batch:05d}.parquet"

    def quotes(self, batch: int) -> Path:
        """The batch's quotes with their sketches, waiting for cluster ids."""
        return self.path / f"quotes-{batch:05d}.parquet"

    def article_sketches(self, batch: int) -> Path:
        return self.path / f"article-sketches-{batch:05d}.parquet"

    def merged_rows(self, table: str, batch: int) -> Path:
        """The batch's rows of a table small per batch (``entities``, ``suggestions``),
        written into the snapshot as one part per run (fewer, larger files)."""
        if table not in MERGED_TABLES:
            raise ValueError(f"{table} is not written as one part per run")
        return self.path / f"{table}-{batch:05d}.parquet"

    def sketch_parts(self, index: str, batches: list[int]) -> list[Path]:
        """The files holding the sketches of ``index`` (``quotes`` or ``articles``)."""
        per_batch = {"quotes": self.quotes, "articles": self.article_sketches}[index]
        return [per_batch(b) for b in batches]

    def shard_pairs(self, index: str, shard: int) -> Path:
        """A band task's verified pairs of ``index`` (``quotes`` or ``articles``), for the cluster step."""
        return self.path / f"pairs-{index}-{shard:02d}.npz"

    def removed_docs(self) -> Path:
        """Doc ids of stored articles this run's re-read files replaced."""
        return self.path / REMOVED_DOCS

    def dedup(self) -> Path:
        """Scratch folder of the near-duplicate steps (file names: ketl.dedup.distributed)."""
        return self.path / _DEDUP

    # -- names of the parts the run adds to the staging snapshot -----------------------
    def part_name(self, batch: int) -> str:
        return f"part-{self.run_id[:8]}-{batch:05d}"

    def quotes_part_name(self) -> str:
        """The quotes table is rewritten whole: one part per run date."""
        return f"quotes-{self.run_id[:8]}"

    def runs_part_name(self) -> str:
        return f"run-{self.run_id}"

    def owns(self, path: Path) -> bool:
        """Is ``path`` (inside the work folder) a file one of the methods above names?"""
        rel = Path(path).relative_to(self.path)
        return rel.parts[0] == _DEDUP if len(rel.parts) > 1 else bool(_WORK_FILES.fullmatch(rel.name))


def run_of_part(name: str) -> str | None:
    """The run-id prefix in a part file's name (``part-<run[:8]>-<batch>.parquet``), if any."""
    m = _PART.fullmatch(name)
    return m.group(1) if m else None
