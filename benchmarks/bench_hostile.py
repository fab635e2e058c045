"""Hostile input: the gzip bomb's time and memory, and ingest throughput.

* ``gzip``: a ~1 MB ``.jsonl.gz`` that inflates to 1 GiB, read by
  ``read_units`` in a fresh process with the default 64 MiB limit: seconds and
  peak RSS (``ru_maxrss``) of that process, beside the RSS of the same process
  before the read. (ketl 0.2.0 inflated it whole: 2.2 GB.)
* ``ingest``: ``scan`` + ``read_units`` (read, sha256, decode, JSONL parsing)
  on N ``.txt`` articles, one UTF-8 JSONL file of N lines, and the same JSONL
  with one latin-1 line in 100 (decoded line by line): CPU seconds of the
  walk and of the read, best of 15, as MB/s and docs/s. Only the public ``scan``/``read_units`` are used, so the same
  script measures another checkout: ``PYTHONPATH=/path/to/other/src``.

    python benchmarks/bench_hostile.py                 # both
    python benchmarks/bench_hostile.py --only gzip --size-gb 1
    python benchmarks/bench_hostile.py --only ingest --docs 5000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

RAW = Path(__file__).resolve().parents[1] / "raw"


def write_bomb(path: Path, size: int) -> int:
    """A gzip file of ``size`` bytes of newlines, compressed in a stream (never held whole)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip header
    chunk = b"\n" * (16 << 20)
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            fh.write(comp.compress(chunk[:min(left, len(chunk))]))
            left -= len(chunk)
        fh.write(comp.flush())
    return path.stat().st_size


def gzip_child(path: str) -> None:
    """Runs in a fresh process: read the bomb, print seconds and peak RSS."""
    from ketl.ingest.read import read_units
    from ketl.ingest.scan import scan

    raw = Path(path).parent
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    result = read_units(raw, scan(raw), 64 << 20)
    secs = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    reasons = [r.reason for r in result.rejects]
    print(f"  gzip bomb: {secs:.2f} s, peak RSS {peak:.0f} MiB (process before the read: {before:.0f} MiB), "
          f"rejects {reasons}")


def bench_gzip(size_gb: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bomb.jsonl.gz"
        packed = write_bomb(path, int(size_gb * (1 << 30)))
        print(f"gzip bomb: {packed / 1e6:.2f} MB inflating to {size_gb:g} GiB, limit 64 MiB")
        proc = subprocess.run([sys.executable, __file__, "--gzip-child", str(path)], capture_output=True, text=True)
        sys.stdout.write(proc.stdout)
        if proc.returncode:
            sys.stderr.write(proc.stderr)
            raise SystemExit(proc.returncode)


def make_inputs(root: Path, n: int) -> dict[str, tuple[Path, int]]:
    rng = random.Random(7)
    sentences = [s.strip() + "." for p in sorted(RAW.glob("*.txt"))
                 for s in p.read_text(encoding="utf-8").replace("\n", " ").split(". ") if len(s) > 40]
    texts = [" ".join(rng.choice(sentences) for _ in range(20)) for _ in range(n)]
    txt = root / "txt"
    txt.mkdir()
    for i, t in enumerate(texts):
        (txt / f"a{i:06d}.txt").write_text(t, encoding="utf-8")
    lines = [json.dumps({"id": i, "title": f"Headline {i}", "text": t}, ensure_ascii=False)
             for i, t in enumerate(texts)]
    (root / "jsonl").mkdir()
    (root / "jsonl" / "feed.jsonl").write_text("\n".join(lines), encoding="utf-8")
    mixed = [line.encode("utf-8") if i % 100 else
             json.dumps({"id": i, "text": texts[i] + " Café."}, ensure_ascii=False).encode("latin-1", "replace")
             for i, line in enumerate(lines)]
    (root / "mixed").mkdir()
    (root / "mixed" / "feed.jsonl").write_bytes(b"\n".join(mixed))
    return {name: (root / name, sum(f.stat().st_size for f in (root / name).iterdir()))
            for name in ("txt", "jsonl", "mixed")}


def bench_ingest(n: int, repeat: int) -> None:
    from ketl.ingest.read import read_units
    from ketl.ingest.scan import scan

    # CPU time, best of ``repeat``: wall time on a shared machine swings 2x.
    print(f"ingest, {n} articles of ~2.5 KB, CPU s best of {repeat}:")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (folder, size) in make_inputs(Path(tmp), n).items():
            best_scan = best_read = float("inf")
            for _ in range(repeat):
                t = time.process_time()
                files = scan(folder)
                t1 = time.process_time()
                result = read_units(folder, files, 64 << 20)
                t2 = time.process_time()
                best_scan, best_read = min(best_scan, t1 - t), min(best_read, t2 - t1)
            print(f"  {name:6s} scan {best_scan:.3f} s, read {best_read:.3f} s: {size / best_read / 1e6:6.1f} MB/s "
                  f"{len(result.docs) / best_read:8.0f} docs/s ({len(result.docs)} docs, "
                  f"{len(result.rejects)} rejects)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["gzip", "ingest"])
    ap.add_argument("--size-gb", type=float, default=1.0)
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--gzip-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.gzip_child:
        return gzip_child(args.gzip_child)
    import ketl

    print(f"ketl from {Path(ketl.__file__).parent}")
    if args.only in (None, "gzip"):
        bench_gzip(args.size_gb)
    if args.only in (None, "ingest"):
        bench_ingest(args.docs, args.repeat)


if __name__ == "__main__":
    main()
