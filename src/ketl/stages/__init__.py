"""The text stages, in run order: repair, boilerplate (with metadata), entities, quotes.

One package per stage; its ``stage`` module holds the entry point the batch steps
call. Stages are pure functions of their input: nothing here imports Prefect or
the run, flow, CLI or report layers.
"""
