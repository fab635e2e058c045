"""Deployment entry point: `prefect deploy` and `ketl serve` point here.

Kept as a thin file so the deployment does not depend on where the package is
installed: the flow itself lives in ``ketl.flows``.
"""

from ketl.flows import curate

__all__ = ["curate"]

if __name__ == "__main__":
    curate()
