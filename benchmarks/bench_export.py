"""`ketl export` speed: the first export of a dataset, then after one more hourly run.

Builds a dataset through the real store (``--runs`` commits of ``--per-run``
articles of ~3 KB of the seed articles' words, with their edits), then prints for
each export the seconds, files written / unchanged / removed and MB written,
beside the size a copy of the new snapshot path would send again (what
``rsync -a curated/.ketl/current/`` re-sends after each run).
    python benchmarks/bench_export.py [--runs 48] [--per-run 1000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa

from ketl.export import export_dataset
from ketl.schemas import TABLES
from ketl.store import Store, write_part

RAW = Path(__file__).resolve().parents[1] / "raw"


def _words() -> list[str]:
    return " ".join(p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))).split()


def _rows(table: str, n: int, run: str, rng: random.Random, words: list[str]) -> pa.Table:
    cols = {}
    for f in TABLES[table]:
        t = f.type
        if f.name == "text":
            # words drawn at random: compresses like real text (~3x), unlike repeated sentences
            cols[f.name] = [" ".join(rng.choices(words, k=450)) for _ in range(n)]
        elif pa.types.is_string(t):
            cols[f.name] = [f"{f.name}-{run}-{i}" for i in range(n)]
        elif pa.types.is_integer(t) or pa.types.is_floating(t):
            cols[f.name] = [rng.randrange(10_000) for _ in range(n)]
        elif pa.types.is_boolean(t):
            cols[f.name] = [i % 2 == 0 for i in range(n)]
        else:
            cols[f.name] = [datetime(2024, 5, 1, tzinfo=timezone.utc)] * n
    return pa.table(cols).cast(TABLES[table])


def _commit(out: Path, run: str, per_run: int, rng: random.Random, words: list[str]) -> None:
    with Store(out) as store:
        staging = store.begin(run, full=False)
        write_part(staging, "articles", _rows("articles", per_run, run, rng, words), f"part-{run}", "2024-05-01")
        write_part(staging, "edits", _rows("edits", per_run * 3, run, rng, words), f"part-{run}", "2024-05-01")
        write_part(staging, "quotes", _rows("quotes", per_run, run, rng, words), f"quotes-{run}", "2024-05-01")
        store.commit(staging)


def _size(root: Path) -> int:
    return sum(p.stat().st_size for table in TABLES for p in (root / table).rglob("*") if p.is_file())


def _export(label: str, out: Path, dest: Path) -> None:
    t = time.perf_counter()
    s = export_dataset(out, dest)
    secs = time.perf_counter() - t
    snapshot_mb = _size(out / ".ketl" / "current") / 1e6
    print(f"{label:<22} {secs:7.3f} s  written {s.written:4d} ({s.bytes_written / 1e6:7.2f} MB, "
          f"{s.bytes_written / 1e6 / secs if secs else 0:6.1f} MB/s)  unchanged {s.unchanged:4d}  "
          f"removed {s.removed:2d}  | snapshot {snapshot_mb:.2f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=48)
    ap.add_argument("--per-run", type=int, default=1000)
    args = ap.parse_args()
    rng, words = random.Random(0), _words()
    with tempfile.TemporaryDirectory(prefix="ketl-bench-export-") as tmp:
        out, dest = Path(tmp) / "curated", Path(tmp) / "published"
        t = time.perf_counter()
        for i in range(args.runs):
            _commit(out, f"run{i:04d}", args.per_run, rng, words)
        print(f"dataset: {args.runs} runs x {args.per_run} articles built in {time.perf_counter() - t:.1f} s")
        _export("first export", out, dest)
        _export("no change", out, dest)
        _commit(out, f"run{args.runs:04d}", args.per_run, rng, words)
        _export("after one more run", out, dest)


if __name__ == "__main__":
    main()
