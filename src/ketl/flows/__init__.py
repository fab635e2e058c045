"""The Prefect layer, the only code that imports prefect: the ``curate`` flow, its batch tasks, the Dask runner.

Everything a task computes lives in :mod:`ketl.run` (plain functions over
batches); this package only schedules it and records it in Prefect.

Importing this package imports neither prefect nor the flow module, and
changes nothing: the first use of one of the names below sets ketl's Prefect
defaults (:func:`ketl.flows.prefect_env.configure`, which must run before
prefect is imported) and then loads :mod:`ketl.flows.flow`.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["RunSummary", "UsageError", "curate", "curate_with", "run_pipeline"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .prefect_env import configure

    configure()
    return getattr(importlib.import_module(".flow", __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
