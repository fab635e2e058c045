"""The Prefect layer, the only code that imports prefect: the ``curate`` flow, its batch tasks, the Dask runner.

Everything a task computes lives in :mod:`ketl.run` (plain functions over
batches); this package only schedules it and records it in Prefect.
"""

from .flow import RunSummary, UsageError, curate, curate_with, run_pipeline

__all__ = ["RunSummary", "UsageError", "curate", "curate_with", "run_pipeline"]
