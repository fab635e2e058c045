"""How ``ketl run`` looks on the terminal: batch progress bars while it runs, the summary table after."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .console import err, out
from .text import printable

if TYPE_CHECKING:
    from ..run.summary import RunSummary

__all__ = ["RichReporter", "progress_bar", "print_summary"]

_PHASES = {"read": "read + repair", "curate": "clean + write", "dedup": "near-duplicate bands"}


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("batches"), TimeElapsedColumn(), console=err, transient=False)


class RichReporter:
    """Shows the flow's batch progress (ketl.run.progress) as rich bars on stderr."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def start(self, phase: str, total: int) -> None:
        self.tasks[phase] = self.progress.add_task(_PHASES.get(phase, phase), total=total)

    def advance(self, phase: str, n: int = 1) -> None:
        if phase in self.tasks:
            self.progress.advance(self.tasks[phase], n)


def _this_run(s: RunSummary) -> list[tuple[str, object]]:
    return [
        ("files seen", s.files_seen),
        ("new or changed", s.files_new),
        ("unchanged, skipped", s.files_skipped),
        ("rejected", s.rejected),
        ("articles written", s.articles),
        ("edits", s.edits),
        ("quotes", s.quotes),
        ("near-duplicate articles", s.near_duplicates),
        ("band tasks ran in (processes)", s.band_workers),
        ("seconds", f"{s.seconds:.2f}"),
        ("docs/s", f"{s.docs_per_second:.0f}"),
        *((f"rejected: {reason}", n) for reason, n in sorted(s.rejects_by_reason.items())),
        *((f"CPU s: {stage}", f"{secs:.2f}") for stage, secs in sorted(s.stage_seconds.items(), key=lambda kv: -kv[1])),
    ]


def print_summary(s: RunSummary) -> None:
    """The run summary as a table on stdout, notes and rejects on stderr."""
    table = Table(title=f"run {s.run_id[:8]}: {printable(s.out)}", show_header=False, title_justify="left",
                  min_width=36)
    table.add_column(style="bold")
    table.add_column(justify="right")
    # Every figure is of this run except the ones under "dataset" (the whole
    # curated set after it): a reader must not take one for the other.
    table.add_row("[dim]this run[/]", "")
    for k, v in _this_run(s):
        table.add_row(f"  {printable(k)}", str(v))
    table.add_row("[dim]dataset[/]", "")
    table.add_row("  quote clusters (>1)", str(s.clusters))
    out.print(table)
    # Name what changed the text besides ketl's own files (a planted file would show here).
    for f in s.user_files:
        out.print(f"loaded: {printable(f)}", highlight=False, soft_wrap=True)
    for note in s.notes:
        err.print(f"[yellow]{printable(note)}[/]", highlight=False, soft_wrap=True)
    if s.rejected:
        err.print(f"[yellow]{s.rejected} input(s) rejected: see {printable(s.out)}/rejects[/]")
