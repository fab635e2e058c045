"""Throughput and memory of `ketl run` (every stage) on N synthetic ~3 KB articles.

Prints the Prefect start-up time apart from the run itself, docs/s and MB/s
after start-up, and the peak RSS of the whole process tree (the flow plus its
worker processes), for each N given, so one can see whether memory grows with
the number of articles.

    python benchmarks/bench_spine.py --docs 5000 20000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil

SEEDS = Path(__file__).resolve().parents[1] / "raw"


def make_corpus(root: Path, n: int, seed: int = 7, start: int = 0) -> int:
    """``n`` articles of about 3 KB built from shuffled seed sentences, numbered from ``start``."""
    rng = random.Random(seed)
    sentences = [s.strip() + "." for p in sorted(SEEDS.glob("*.txt"))
                 for s in p.read_text(encoding="utf-8").replace("\n", " ").split(". ") if len(s) > 40]
    total = 0
    for i in range(start, start + n):
        folder = root / f"site{i % 20:02d}" / f"{i // 2000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        body, size = [], 0
        while size < 3000:
            s = rng.choice(sentences)
            body.append(s)
            size += len(s) + 1
        text = f"Headline number {i}\n\n" + "\n\n".join(body) + "\n"
        data = text.encode("utf-8")
        (folder / f"a{i:07d}.txt").write_bytes(data)
        total += len(data)
    return total


class PeakRSS:
    """Samples the RSS of this process (``own``: the flow) and of it plus its children (``peak``) every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self.own = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            rss = me.memory_info().rss
            self.own = max(self.own, rss)
            for child in me.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, rss)
            time.sleep(0.05)

    def __enter__(self) -> "PeakRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _phases(summary) -> str:  # a RunSummary
    return ", ".join(f"{k} {v:.2f}" for k, v in summary.phase_seconds.items())


def main() -> None:  # noqa: C901
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, nargs="+", default=[5000])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--gazetteer", nargs="*", default=[], help="extra gazetteer files (e.g. a 200k-name one)")
    ap.add_argument("--runner", choices=["local", "dask"], default="local",
                    help="dask: a local Dask cluster of --workers processes (pip install -e '.[dask]')")
    ap.add_argument("--then", type=int, default=0, metavar="N",
                    help="after each run, add N new articles and time that incremental run (an hourly job)")
    ap.add_argument("--skip", nargs="*", default=[], help="stages to leave out; `--skip repair boilerplate "
                    "entities quotes dedup` measures the spine alone (read, decode, hash, write, commit)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ketl-bench-"))
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect-home"))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    t = time.perf_counter()
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        server.start(timeout=120)
        os.environ["PREFECT_API_URL"] = server.api_url
    from ketl.flows import curate_with

    print(f"prefect start-up (temporary server + imports): {time.perf_counter() - t:.1f} s; "
          f"stages skipped: {', '.join(args.skip) or 'none'}")
    try:
        for n in args.docs:
            raw = work / f"raw-{n}"
            nbytes = make_corpus(raw, n)
            out = work / f"out-{n}"
            with PeakRSS() as mem:
                t = time.perf_counter()
                s = curate_with(workers=args.workers, runner=args.runner, raw=str(raw), out=str(out), batch_size=args.batch_size,
                                skip=args.skip or None, gazetteer_files=args.gazetteer or None)
                wall = time.perf_counter() - t
            assert s.articles == n, s
            t = time.perf_counter()
            again = curate_with(workers=args.workers, runner=args.runner, raw=str(raw), out=str(out), batch_size=args.batch_size,
                                skip=args.skip or None, gazetteer_files=args.gazetteer or None)
            rerun = time.perf_counter() - t
            assert again.articles == 0 and again.files_skipped == n
            print(f"{n:>8} docs {nbytes / 1e6:7.1f} MB  {wall:6.2f} s  {n / wall:8.0f} docs/s  "
                  f"{nbytes / 1e6 / wall:6.2f} MB/s  peak RSS {mem.peak / 2**20:7.0f} MiB "
                  f"(flow process {mem.own / 2**20:.0f} MiB)  "
                  f"(workers={args.workers}; idempotent re-run {rerun:.2f} s)")
            stages = ", ".join(f"{k} {v / n * 1e3:.2f}" for k, v in
                               sorted(s.stage_seconds.items(), key=lambda kv: -kv[1]))
            print(f"{'':>8} CPU ms per article by stage: {stages}")
            print(f"{'':>8} wall s by phase: {_phases(s)}")
            if args.then:
                make_corpus(raw, args.then, seed=8, start=n)
                t = time.perf_counter()
                inc = curate_with(workers=args.workers, runner=args.runner, raw=str(raw), out=str(out), batch_size=args.batch_size,
                                  skip=args.skip or None, gazetteer_files=args.gazetteer or None)
                wall = time.perf_counter() - t
                assert inc.articles == args.then and inc.files_skipped == n, inc
                print(f"{'':>8} then {args.then} new articles into {n} stored: {wall:.2f} s "
                      f"({args.then / wall:.0f} docs/s); wall s by phase: {_phases(inc)}")
            shutil.rmtree(raw)
            shutil.rmtree(out)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
