"""How long the ``ketl`` command takes to answer before any work: ``--help`` and
``--version``, and which heavy libraries importing ``ketl.cli`` loads.

Every ``ketl`` invocation pays this, a typo'd option included. Usage:
python benchmarks/bench_cli_start.py [src ...] (each src a ketl source folder
put first on the path, to compare branches; default: this checkout's src).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("numpy", "pyarrow", "prefect", "ftfy", "regex", "matplotlib")
REPEATS = 7


def best_seconds(src: str, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": src}
    best = float("inf")
    for _ in range(REPEATS):  # the best of several: the machine is shared, noise only adds time
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ketl.cli", *args], env=env, capture_output=True, check=True)
        best = min(best, time.perf_counter() - t)
    return best


def loaded(src: str) -> list[str]:
    code = f"import sys, ketl.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": src},
                          capture_output=True, text=True, check=True)
    return done.stdout.split()


def main() -> None:
    srcs = sys.argv[1:] or [str(Path(__file__).resolve().parents[1] / "src")]
    for src in srcs:
        print(f"{src}: ketl --help {best_seconds(src, ['--help']):.3f} s, "
              f"ketl --version {best_seconds(src, ['--version']):.3f} s (best of {REPEATS}); "
              f"import ketl.cli loads: {', '.join(loaded(src)) or 'none of ' + ', '.join(HEAVY)}")


if __name__ == "__main__":
    main()
