"""Wall and CPU seconds of pytest runs, this checkout against another, alternating.

    python benchmarks/bench_suite.py --base /path/to/old/checkout [--rounds 2] [pytest args...]

Each round runs ``pytest -q -p no:cacheprovider ARGS`` in a fresh process in the
other checkout, then in this one (each with its own ``src`` first on PYTHONPATH
and KETL_REQUIRE_SHARED=1, as CI runs). CPU is the user + system time of every
process the run waited for (pytest, the ketl runs it starts, their servers and
workers once reaped), so it says what the suite costs even on a busy machine,
where the wall time mostly says how busy the machine was: the load average is
printed beside each run.

The checkouts must each have ``../shared`` beside them (the benchmarks the tests read).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
DEFAULT = ["tests/test_interrupt.py", "tests/test_run_safety.py", "tests/test_dask.py", "tests/test_dask_paths.py",
           "tests/test_schedule.py", "tests/test_run.py"]


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(checkout: Path, args: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s, pytest's last line) of one run in ``checkout``."""
    env = {**os.environ, "PYTHONPATH": str(checkout / "src"), "KETL_REQUIRE_SHARED": "1"}
    cpu0, t0 = _children_cpu(), time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=checkout,
                          env=env, capture_output=True, text=True)
    wall, cpu = time.monotonic() - t0, _children_cpu() - cpu0
    last = next((ln for ln in reversed(done.stdout.splitlines()) if re.search(r"passed|failed|error", ln)), "?")
    return wall, cpu, last.strip("= ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=Path, required=True, help="the other checkout (e.g. a worktree of main)")
    ap.add_argument("--rounds", type=int, default=1)
    opts, pytest_args = ap.parse_known_args()
    args = pytest_args or DEFAULT
    for k in range(opts.rounds):
        for label, checkout in (("base", opts.base.resolve()), ("this", HERE)):
            load = os.getloadavg()[0]
            wall, cpu, last = run_once(checkout, args)
            print(f"round {k + 1} {label}: wall {wall:6.1f} s  CPU {cpu:6.1f} s  load before {load:4.1f}  ({last})",
                  flush=True)


if __name__ == "__main__":
    main()
