"""Does this checkout write the same tables as another commit? (Behaviour check for refactors.)

Unpacks ``--base`` (a commit, default ``main``) with ``git archive`` into a
temporary folder, runs benchmarks/dump_stages.py of this checkout once with that
version's ``src`` and once with this checkout's, and compares the two dumps
(every row of every table the batch steps write, minus run ids and timestamps).
Prints the row counts and the first differing lines; exit 1 when they differ.

    python benchmarks/compare_versions.py --base 1c60d71 [--n 300]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def dump(src: Path, n: int) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    run = subprocess.run([sys.executable, str(HERE / "dump_stages.py"), "--n", str(n)], env=env,
                         capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"dump with {src} failed:\n{run.stderr}")
    return run.stdout.splitlines()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="main", help="commit to compare with")
    ap.add_argument("--n", type=int, default=300, help="articles of the benchmark corpus")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", args.base, "src"],
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        old = dump(Path(tmp) / "src", args.n)
    new = dump(REPO / "src", args.n)
    print(f"{args.base}: {len(old)} rows; this checkout: {len(new)} rows")
    if old == new:
        print("identical")
        return
    diff = [(i, a, b) for i, (a, b) in enumerate(zip(old, new)) if a != b][:5]
    for i, a, b in diff:
        print(f"row {i}:\n  base: {a[:300]}\n  this: {b[:300]}")
    sys.exit(1)


if __name__ == "__main__":
    main()
