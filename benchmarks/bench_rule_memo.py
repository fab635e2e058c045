"""Hit rate and CPU of the rules' verdict memo (rules.py, CompiledRules._cache), on
the pages' lines as the stage asks them (stripped, lower-cased), in corpus order.

    python benchmarks/bench_rule_memo.py [--n 20000] [--aeb]

Prints, for lines up to 80 characters and for 81-1000, the share answered from
the memo, and the CPU of ``match_lines`` over all pages (time.process_time, one
run: compare versions with PYTHONPATH, alternating). Works with the version
before the fold (two dicts, ``_cache`` and ``_long``) too. ``--aeb``: the AEB
pages alone (no repeats: what a real corpus looks like more).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def pages(n: int, aeb: bool) -> list[list[str]]:
    from bench_vs_by_hand import SHARED, cached_corpus

    if aeb:
        data = json.loads((SHARED / "bench" / "aeb" / "html-text.json").read_text(encoding="utf-8"))["output"]
        texts = [v["articleBody"] for _, v in sorted(data.items())]
    else:
        raw, _ = cached_corpus(Path.home() / ".cache" / "ketl-bench" / "vs-by-hand", n)
        texts = [f.read_text(encoding="utf-8") for f in sorted(raw.rglob("*.txt"))[:n]]
    return [list(map(str.strip, t.lower().split("\n"))) for t in texts]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--aeb", action="store_true")
    args = ap.parse_args()
    from ketl.stages.boilerplate.rules import load_rules

    rules = load_rules()
    every = pages(args.n, args.aeb)
    memos = [rules._cache, *([rules._long] if hasattr(rules, "_long") else [])]
    seen = {"short": [0, 0], "long": [0, 0]}
    spent = 0.0
    for low in every:
        for s in low:
            if s and len(s) <= 1000:
                band = seen["short" if len(s) <= 80 else "long"]
                band[0] += 1
                band[1] += any(s in m for m in memos)
        t = time.process_time()
        rules.match_lines(low)
        spent += time.process_time() - t
    for band, (asked, hits) in seen.items():
        print(f"{band:>5} lines: {asked:>8} asked, hit rate {hits / max(asked, 1):.3f}")
    print(f"match_lines: {spent / len(every) * 1e3:.4f} ms CPU/page over {len(every)} pages; "
          f"memo entries at the end: {sum(map(len, memos))}")


if __name__ == "__main__":
    main()
