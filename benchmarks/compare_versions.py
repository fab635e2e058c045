"""Does this checkout write the same tables as another commit? (Behaviour check for refactors.)

Unpacks ``--base`` (a commit, default ``main``) with ``git archive`` into a
temporary folder, runs benchmarks/dump_stages.py of this checkout once with that
version's ``src`` and once with this checkout's, and compares the two dumps
(every row of every table the batch steps write, minus run ids and timestamps).
Prints the row counts and the first differing lines; exit 1 when they differ.

With ``--run`` it also makes both versions run ``ketl run`` (the Prefect flow,
dedup included) on the same raw folder and compares every table of the two
datasets, minus run ids, timestamps and timings (about a minute per version).

    python benchmarks/compare_versions.py --base 1c60d71 [--n 300] [--run]
"""

from __future__ import annotations

import argparse
import io
import json
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


VOLATILE = {"run_id", "processed_at", "ingested_at", "started_at", "finished_at", "created_at"}
TABLES = ("articles", "edits", "entities", "quotes", "rejects", "suggestions", "runs")


def table_rows(out: Path, table: str) -> list[str]:
    import pyarrow.parquet as pq

    rows = []
    for f in sorted((out / table).rglob("*.parquet")):
        for row in pq.read_table(f).to_pylist():
            kept = {k: v for k, v in row.items() if k not in VOLATILE and "seconds" not in k}
            rows.append(json.dumps(kept, sort_keys=True, default=str, ensure_ascii=False))
    return sorted(rows)


def full_run(src: Path, raw: Path, out: Path) -> None:
    home = out.with_name(out.name + "-prefect")
    env = {**os.environ, "PYTHONPATH": str(src), "PREFECT_HOME": str(home),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    run = subprocess.run([sys.executable, "-m", "ketl.cli", "run", "--raw", str(raw), "--out", str(out)],
                         env=env, capture_output=True, text=True)
    if run.returncode not in (0, 1):  # 1: finished, some inputs rejected (compared like the rest)
        sys.exit(f"ketl run with {src} failed:\n{run.stderr[-3000:]}")


def compare_runs(old_src: Path, tmp: Path, n: int) -> bool:
    sys.path.insert(0, str(HERE))
    from dump_stages import build_raw

    raw = tmp / "raw"
    raw.mkdir()
    build_raw(raw, n)
    full_run(old_src, raw, tmp / "old")
    full_run(REPO / "src", raw, tmp / "new")
    same = True
    for table in TABLES:
        old, new = table_rows(tmp / "old", table), table_rows(tmp / "new", table)
        same &= old == new
        print(f"ketl run, {table}: {len(old)} / {len(new)} rows, {'identical' if old == new else 'DIFFERENT'}")
    return same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="main", help="commit to compare with")
    ap.add_argument("--n", type=int, default=300, help="articles of the benchmark corpus")
    ap.add_argument("--run", action="store_true", help="also compare two full `ketl run`s")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", args.base, "src"],
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        old = dump(Path(tmp) / "src", args.n)
        runs_same = compare_runs(Path(tmp) / "src", Path(tmp), args.n) if args.run else True
    new = dump(REPO / "src", args.n)
    print(f"{args.base}: {len(old)} rows; this checkout: {len(new)} rows")
    if old == new:
        print("batch steps: identical")
        if not runs_same:
            sys.exit(1)
        return
    diff = [(i, a, b) for i, (a, b) in enumerate(zip(old, new)) if a != b][:5]
    for i, a, b in diff:
        print(f"row {i}:\n  base: {a[:300]}\n  this: {b[:300]}")
    sys.exit(1)


if __name__ == "__main__":
    main()
