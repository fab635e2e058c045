"""Tables derived from shipped word lists and models, kept on disk between runs.

Every worker process of every run used to rebuild them (the language scorer's
tables, the glued-word lexicon): about 2.3 s of CPU per worker before its
first article. They depend only on the installed packages and ketl's rule
files, so they are built once per machine and keyed on what they come from.
A cache that cannot be written or read only costs that time again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from ..atomic import atomic_path

__all__ = ["cache_root", "read_pickle", "write_pickle"]


def cache_root() -> Path:
    """``$KETL_CACHE_DIR``, else ``$XDG_CACHE_HOME/ketl`` (``~/.cache/ketl``)."""
    env = os.environ.get("KETL_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "ketl"


def _path(kind: str, key: Any) -> Path:
    digest = hashlib.sha256(repr(key).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return cache_root() / kind / f"{digest}.pickle"


def read_pickle(kind: str, key: Any) -> Any | None:
    """The value stored under ``key``, or None (missing, truncated, another key)."""
    try:
        with open(_path(kind, key), "rb") as fh:
            stored_key, value = pickle.load(fh)
        return value if stored_key == key else None
    except Exception:  # noqa: BLE001 - any damage means: build it again
        return None


def write_pickle(kind: str, key: Any, value: Any) -> None:
    """Written beside and renamed into place: a reader never sees half a file."""
    path = _path(kind, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            pickle.dump((key, value), fh, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:  # unwritable, full, not a folder: only costs the time to build again
        pass
