"""``ketl export``: the current snapshot as plain table folders."""

from __future__ import annotations

from pathlib import Path

import typer

from .console import fail, out
from .text import printable


def export(
    to: Path = typer.Option(..., "--to", help="Folder to write the tables into as plain files (created if missing)."),
    out_dir: Path = typer.Option(Path("curated"), "--out", help="The curated dataset."),
) -> None:
    """Write the current snapshot as plain table folders (no links) for any copy tool;
    a second export writes only the files that changed."""
    from ..export import ExportError, export_dataset

    try:
        s = export_dataset(out_dir, to)
    except ExportError as exc:
        fail(str(exc))  # fail() escapes: escaping here too would print the backslashes
    out.print(f"exported snapshot {printable(s.snapshot)} of {printable(out_dir)} to {printable(to)}: "
              f"{s.written} files written ({s.bytes_written:,} bytes), {s.unchanged} unchanged, "
              f"{s.removed} removed", highlight=False, soft_wrap=True)
