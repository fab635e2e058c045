"""Deployment entry point: `prefect deploy` and `ketl serve` point here.

Kept as a thin file so the deployment does not depend on where the package is
installed: the flow itself lives in ``ketl.flows``. Taking ``curate`` from
``ketl.flows`` sets ketl's Prefect defaults first (``ketl.flows.prefect_env.configure``:
start-up timeout, no analytics); a process that imported prefect before (a
Prefect worker loading this file) keeps the settings it started with.
"""

from ketl.flows import curate

__all__ = ["curate"]

if __name__ == "__main__":
    curate()
