"""Following statements across outlets on a generated corpus with known truth.

Prints: first outlet right (share of statements whose quote_clusters row names
the outlet that ran it first), speaker right (share of found quotes whose
speaker_name is the true person), date parsed (share of dated articles whose
published equals the truth), dates invented (undated articles given a date),
and the run's wall time. Run: PYTHONPATH=src python benchmarks/bench_follow.py [statements]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from follow_corpus import make_corpus, score  # noqa: E402


def main(statements: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "curated"
        truth = make_corpus(raw, statements=statements, undated=statements // 4)
        env = {**os.environ, "PREFECT_HOME": str(Path(tmp) / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        t = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "ketl"), "run", "--raw", str(raw), "--out", str(out), "--workers", "2"],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t
        figures = score(out, truth)
    print(f"articles {len(truth['articles'])}, statements {figures['statements']}, run {seconds:.1f} s")
    for key in ("first_outlet_right", "quotes_found", "speaker_right", "date_parsed", "reprint_first_right"):
        print(f"{key:20s} {figures[key]:.3f}")
    print(f"{'dates_invented':20s} {figures['dates_invented']} of {figures['undated_articles']} undated articles")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
