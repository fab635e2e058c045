"""What a run that finds nothing new costs now that it commits its runs row.

Builds N small articles (the seeds, each line-shuffled per copy), runs ketl once,
then times a run that finds nothing new: its wall seconds as the summary counts
them and the commit phase. Usage: python benchmarks/bench_nothing_new.py [N] [src]
(src: a ketl source folder to put first on the path, to compare branches).
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "raw"


def build(raw: Path, n: int) -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    rnd = random.Random(7)
    for i in range(n):
        lines = texts[i % len(texts)].splitlines()
        head, body = lines[:3], lines[3:]
        rnd.shuffle(body)
        (raw / f"d{i // 500:03d}").mkdir(exist_ok=True)
        (raw / f"d{i // 500:03d}" / f"a{i:06d}.txt").write_text("\n".join(head + body) + "\n", encoding="utf-8")


def ketl(args: list[str], env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "ketl.cli", "run", *args], env=env, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        raise SystemExit(res.stderr[-2000:])
    return time.perf_counter() - t, res.stdout


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    src = sys.argv[2] if len(sys.argv) > 2 else str(Path(__file__).resolve().parents[1] / "src")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        raw, out = tmp / "raw", tmp / "out"
        raw.mkdir()
        build(raw, n)
        env = dict(os.environ, PYTHONPATH=src, PREFECT_HOME=str(tmp / "ph"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
        first, _ = ketl(["--raw", str(raw), "--out", str(out)], env)
        wall, summary = ketl(["--raw", str(raw), "--out", str(out)], env)
        secs = re.search(r"seconds\s*│\s*([\d.]+)", summary)
        snaps = len(list((out / ".ketl" / "snapshots").iterdir()))
        print(f"{n} files ({src}): first run {first:.1f} s wall; nothing-new run {wall:.1f} s wall, "
              f"{secs.group(1) if secs else '?'} s in the flow; snapshots kept {snaps}")


if __name__ == "__main__":
    main()
