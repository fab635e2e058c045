"""CLI of the entity stage: ``ketl gazetteer import`` and ``ketl review``.

Mount on the main app with ``app.add_typer(gazetteer_app, name="gazetteer")`` and
``app.command("review")(review)``. Usage errors print one line and exit with 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from .console import err as _err, fail, out as _out  # _out: review's option is named out
from .text import printable

__all__ = ["gazetteer_app", "review", "import_places"]

gazetteer_app = typer.Typer(help="Build and inspect gazetteers of named entities.",
                            no_args_is_help=True, add_completion=False,
                            rich_markup_mode=None)  # help is plain text: brackets show as written


def _listed(values: list[str]) -> list[str]:
    """The items of a repeatable option, each of which may be a comma- or space-separated list."""
    return [item for value in values for item in value.replace(",", " ").split()]


@gazetteer_app.command("import")
def import_places(
    country: List[str] = typer.Option(..., "--country", "-c",
                                      help="ISO 3166-1 alpha-2 code; repeat or comma-separate (AM,AZ)."),
    output: Path = typer.Option(..., "--output", "-o", help="Gazetteer file to write (TOML)."),
    min_population: int = typer.Option(15000, "--min-population",
                                       help="Smallest city kept: 500, 1000, 5000 or 15000."),
    topic: List[str] = typer.Option([], "--topic", "-t",
                                    help="Topic word that must occur for corrections (repeatable)."),
    subdivisions: bool = typer.Option(True, "--subdivisions/--no-subdivisions",
                                      help="Add provinces and districts (pycountry)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Build a place gazetteer for chosen countries (needs the 'geo' extra)."""
    from ..stages.entities.gazetteer import Gazetteer
    from ..stages.entities.gazetteer_import import build_place_gazetteer

    codes = _listed(country)
    if output.exists() and not force:
        fail(f"{output} exists (use --force to overwrite)")
    try:
        text = build_place_gazetteer(codes, min_population=min_population, topics=topic,
                                     subdivisions=subdivisions)
        gaz = Gazetteer.from_toml(text, origin=str(output))  # check before writing
    except (ValueError, RuntimeError) as exc:
        fail(str(exc))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    _out.print(f"wrote {len(gaz)} places for {printable(', '.join(c.upper() for c in codes))} to "
               f"{printable(output)}", highlight=False, soft_wrap=True)


def review(
    out: Path = typer.Option(Path("curated"), "--out", help="The curated dataset (holds suggestions/)."),
    gazetteer: Optional[Path] = typer.Option(None, "--gazetteer", "-g",
                                             help="User gazetteer to record decisions in "
                                                  "[default: <out>/gazetteer.user.toml]."),
    accept: List[str] = typer.Option([], "--accept", "-a", help="Accept suggestion ID (repeatable)."),
    reject: List[str] = typer.Option([], "--reject", "-r", help="Reject suggestion ID (repeatable)."),
    accept_above: Optional[float] = typer.Option(None, "--accept-above",
                                                 help="Accept every pending suggestion scoring at least this."),
    limit: int = typer.Option(50, "--limit", help="Rows to list."),
) -> None:
    """List pending entity suggestions; accept or reject them into the user gazetteer."""
    # Imported here: the gazetteer brings numpy and pyarrow, which `ketl --help` does not need.
    from ..stages.entities.gazetteer import Gazetteer
    from ..stages.entities.review import default_user_gazetteer, pending, read_suggestions, record_decisions

    if not out.is_dir():
        fail(f"no curated dataset at {out}")
    user = gazetteer or default_user_gazetteer(out)
    old_place = out.resolve().parent / user.name
    if gazetteer is None and old_place.is_file() and not user.exists():
        _err.print(f"note: {printable(old_place)} is outside the dataset and no longer read; "
                   f"move it to {printable(user)} to keep its decisions", highlight=False, soft_wrap=True)
    try:
        gaz = Gazetteer.load([user] if user.exists() else [])
        items = pending(read_suggestions(out), gaz)
    except ValueError as exc:
        fail(str(exc))
    accepted, rejected = _decisions(items, _listed(accept), _listed(reject), accept_above)
    if accepted or rejected:
        n = record_decisions(user, accepted, rejected)
        _out.print(f"recorded {len(accepted)} accepted and {len(rejected)} rejected "
                   f"({n} entries) in {printable(user)}; the next run applies them")
    elif not items:
        _out.print("no pending suggestions")
    else:
        _print_pending(items, user, limit)


def _decisions(items: list, accept_ids: list[str], reject_ids: list[str], accept_above: Optional[float]):
    """(accepted, rejected) suggestions, each once, in the order asked; an unknown id or one both
    accepted and rejected is a usage error."""
    by_id = {it.id: it for it in items}
    unknown = [i for i in accept_ids + reject_ids if i not in by_id]
    if unknown:
        fail(f"no pending suggestion with id {', '.join(unknown)}")
    both = set(accept_ids) & set(reject_ids)
    if both:
        fail(f"both accepted and rejected: {', '.join(sorted(both))}")
    if accept_above is not None:
        accept_ids = accept_ids + [it.id for it in items if it.score >= accept_above and it.id not in reject_ids]
    return [by_id[i] for i in dict.fromkeys(accept_ids)], [by_id[i] for i in dict.fromkeys(reject_ids)]


def _print_pending(items: list, user: Path, limit: int) -> None:
    table = Table(title=f"{len(items)} pending suggestions (decisions go to {printable(user)})")
    for col in ("id", "span", "candidate", "type", "score", "n", "where", "context"):
        table.add_column(col, overflow="fold")
    for it in items[:limit]:  # article text and file names: escaped, never markup or terminal codes
        table.add_row(*(printable(x) for x in (it.id, it.span, it.candidate, it.type, f"{it.score:.3f}",
                                                str(it.count), f"{it.source_path}:{it.source_line}",
                                                it.context)))
    _out.print(table)
