"""What every command shares: the two consoles, the one-line usage error, the settings file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Optional

import typer
from rich.console import Console

from .text import printable

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["out", "err", "fail", "load_settings_or_fail"]

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` as one line on stderr and exit with ``code`` (2: usage, 3: a damaged
    dataset or a bug)."""
    # messages carry paths and input text: never markup, never terminal escapes
    err.print(f"[bold red]error:[/] {printable(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_settings_or_fail(config: Optional[Path]) -> "Settings":
    """The settings of ``--config`` (or ./ketl.toml, or the defaults); a bad file is a usage error."""
    from ..settings import ConfigError, load_settings

    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(str(exc))
