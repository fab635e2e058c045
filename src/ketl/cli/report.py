"""``ketl report``: the dataset's HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .console import err, fail, out
from .text import printable


def report(
    out_dir: Path = typer.Option(Path("curated"), "--out", help="The curated dataset."),
    dest: Optional[Path] = typer.Option(None, "--dest", help="Report file. (default: <out>/report.html)"),
    article: Optional[str] = typer.Option(None, "--article", help="doc_id or source_path of the article shown "
                                          "before/after. (default: the most cut)"),
) -> None:
    """Write an HTML report (with charts) of the dataset beside it."""
    from ..report.build import ReportSettings, write_report
    from ..report.research import ResearchSettings

    try:
        path = write_report(out_dir, dest, ReportSettings(research=ResearchSettings(article=article)))
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        fail(str(exc))
    out.print(f"report written to {printable(path)}", highlight=False, soft_wrap=True)
    from ..report.charts import MISSING, available

    if not available():
        err.print(f"[yellow]note:[/] {printable(MISSING)}", highlight=False, soft_wrap=True)
