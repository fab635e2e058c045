"""Does every stage stay linear in the length of one article? Time and peak RSS per stage.

One article of 1/5/10/20 MB built from real text (the five seeds and the
human-written bodies of ../shared/bench/aeb, many languages), in two layouts:
``lines`` (paragraphs as in the sources) and ``single`` (every newline made a
space: one 20 MB line, the shape that made quote extraction superlinear).
Each (stage, layout, size) runs in a fresh process, so the peak RSS printed is
that stage's (the text itself included), and a stage that exceeds
``--timeout`` is killed and shown as such instead of stalling the benchmark.

    python benchmarks/bench_scale.py [--sizes 1,5,10,20] [--stages read,repair,boilerplate,entities,quotes,sketch]
                                     [--layouts lines,single] [--timeout 600]

The s/MB column should stay flat as the size grows; a growing one is a superlinear stage.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
STAGES = ("read", "repair", "boilerplate", "entities", "quotes", "sketch")


def build_text(megabytes: float, layout: str) -> str:
    parts = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("*.txt"))]
    truth = json.loads((SHARED / "bench" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    parts += [v["articleBody"] for _, v in sorted(truth.items()) if v.get("articleBody")]
    target = int(megabytes * 1_000_000)
    out, size, i = [], 0, 0
    while size < target:
        chunk = parts[i % len(parts)]
        out.append(chunk)
        size += len(chunk.encode("utf-8")) + 2
        i += 1
    text = "\n\n".join(out)
    return " ".join(text.split("\n")) if layout == "single" else text


def _doc(text: str):
    from ketl.document import Document

    return Document.from_source(doc_id="big", source_path="big.txt", source_sha256="0" * 64,
                                source_encoding="utf-8", source=text)


def run_stage(stage: str, text: str) -> float:
    """Seconds ``stage`` takes on ``text`` as one article (set-up not counted)."""
    if stage == "read":
        from ketl.ingest.read import read_units
        from ketl.ingest.scan import scan

        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "big.txt").write_text(text, encoding="utf-8")
            units = scan(Path(tmp))
            t = time.perf_counter()
            result = read_units(Path(tmp), units, 1 << 30)
            took = time.perf_counter() - t
            assert len(result.docs) == 1, result.rejects
            return took
    if stage == "repair":
        from ketl.stages.repair.stage import repair_documents, settings_from_mapping

        settings = settings_from_mapping({})
        run = lambda d: list(repair_documents([d], settings))  # noqa: E731
    elif stage == "boilerplate":
        from ketl.stages.boilerplate.stage import BoilerplateSettings, clean_documents
        from ketl.stages.boilerplate.rules import load_rules

        rules, settings = load_rules(), BoilerplateSettings()
        run = lambda d: list(clean_documents([d], rules, None, settings))  # noqa: E731
    elif stage == "entities":
        from ketl.stages.entities.stage import EntitySettings, resolve_entities
        from ketl.stages.entities.gazetteer import Gazetteer

        gaz, settings = Gazetteer.load(), EntitySettings()
        run = lambda d: list(resolve_entities([d], gaz, settings))  # noqa: E731
    elif stage == "quotes":
        from ketl.stages.quotes.stage import extract_quotes

        run = lambda d: list(extract_quotes([d]))  # noqa: E731
    elif stage == "sketch":
        from ketl.dedup.index import ARTICLE_SETTINGS, sketch_table

        run = lambda d: sketch_table([d.text], ARTICLE_SETTINGS)  # noqa: E731
    else:
        raise SystemExit(f"unknown stage {stage}")
    run(_doc("Warm-up: \u201cshort\u201d text, said Ilham Aliyev in Baku.\n"))  # compile patterns, load data
    doc = _doc(text)
    t = time.perf_counter()
    run(doc)
    return time.perf_counter() - t


def _one(stage: str, layout: str, size: float) -> None:
    text = build_text(size, layout)
    secs = run_stage(stage, text)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": secs, "peak_mb": peak}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,5,10,20")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--layouts", default="lines,single")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--one", nargs=3, metavar=("STAGE", "LAYOUT", "MB"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        _one(args.one[0], args.one[1], float(args.one[2]))
        return
    print(f"{'stage':<12} {'layout':<7} {'MB':>4} {'seconds':>9} {'s/MB':>7} {'peak RSS MB':>12}", flush=True)
    for stage in args.stages.split(","):
        for layout in args.layouts.split(","):
            for size in (float(s) for s in args.sizes.split(",")):
                cmd = [sys.executable, __file__, "--one", stage, layout, str(size)]
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout,
                                          env={**os.environ, "PYTHONHASHSEED": "0"})
                except subprocess.TimeoutExpired:
                    print(f"{stage:<12} {layout:<7} {size:>4g} {'>' + format(args.timeout, 'g'):>9}  (killed)",
                          flush=True)
                    break  # larger sizes would only take longer
                if proc.returncode:
                    print(f"{stage:<12} {layout:<7} {size:>4g} failed: {proc.stderr.strip().splitlines()[-1:]}",
                          flush=True)
                    break
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"{stage:<12} {layout:<7} {size:>4g} {r['seconds']:>9.2f} {r['seconds'] / size:>7.2f} "
                      f"{r['peak_mb']:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
