"""Throughput of ketl.repair against ftfy.fix_text, in the same run.

Prints MB/s (UTF-8 megabytes of input per second, best of N runs) on
* page text: the 181 real pages of ../shared/bench/aeb/html-text.json, as they are;
* damaged text: the same pages with every third line turned into UTF-8/Windows-1252
  mojibake, so ftfy has real work on every page;
for ftfy.fix_text, ketl's encoding pass alone (the part that replaces fix_text),
the whole repair without and with language identification. Also checks that the
encoding pass gives ftfy's result, and reports peak memory.

Usage: python benchmarks/bench_repair.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import ftfy
import ftfy.bad_codecs  # noqa: F401 - registers sloppy-windows-1252

from ketl.repair import RepairSettings, repair
from ketl.repair_encoding import fix_encoding_text

SHARED = Path(__file__).resolve().parents[2] / "shared"


def load_pages() -> list[str]:
    data = json.loads((SHARED / "bench" / "aeb" / "html-text.json").read_text(encoding="utf-8"))
    return [v["articleBody"] for v in data["output"].values()]


def damage(text: str) -> str:
    lines = text.split("\n")
    for i in range(0, len(lines), 3):
        lines[i] = lines[i].encode("utf-8").decode("sloppy-windows-1252")
    return "\n".join(lines)


def best_time(fn, texts: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    pages = load_pages()
    sets = {"page text": pages, "damaged text": [damage(p) for p in pages]}
    no_lang = RepairSettings(detect_language=False)
    runners = {
        "ftfy.fix_text": lambda t: ftfy.fix_text(t, uncurl_quotes=False),
        "ketl encoding pass": fix_encoding_text,
        "ketl repair (no language)": lambda t: repair(t, no_lang),
        "ketl repair + language": repair,
    }
    for t in pages[:3]:  # warm caches (word list, language model, compiled rules)
        repair(t)
    for name, texts in sets.items():
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        print(f"\n{name}: {len(texts)} docs, {mb:.2f} MB")
        base = None
        for label, fn in runners.items():
            secs = best_time(fn, texts, args.repeat)
            base = base or secs
            print(f"  {label:28s} {mb / secs:8.2f} MB/s  {len(texts) / secs:8.0f} docs/s"
                  f"  {base / secs:5.1f}x ftfy")
        same = sum(fix_encoding_text(t) == ftfy.fix_text(t, uncurl_quotes=False) for t in texts)
        changed = sum(ftfy.fix_text(t, uncurl_quotes=False) != t for t in texts)
        print(f"  encoding pass == ftfy.fix_text on {same}/{len(texts)} docs "
              f"(ftfy changes {changed} of them)")

    tracemalloc.start()
    for t in sets["damaged text"]:
        repair(t)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\npeak traced memory while repairing the damaged set: {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
