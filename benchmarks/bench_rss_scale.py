"""Does ketl's peak memory grow with the dataset? Peak RSS per kind of process at several sizes.

Runs ``ketl run`` (temporary Prefect server, fresh process, a fresh dataset) on
bench_vs_by_hand's corpus at each ``--n`` and prints the peak RSS of the whole
tree and of each kind of process (main, workers, Prefect server), sampled every
50 ms. ``--skip`` leaves stages out to make large sizes affordable on a small
machine: what grows with the run is in the run layer (file lists, the cluster +
write step, the indexes, the quotes table), which every stage feeds:

    python benchmarks/bench_rss_scale.py --n 20000 100000 --skip boilerplate --skip repair --skip entities

``--incremental K`` runs each size on a copy of the corpus, adds K new files and
measures that second run too: what an incremental run holds grows with the stored
dataset (its processed-files state, the indexes it reads), not with K.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_vs_by_hand import _env, cached_corpus, measure  # noqa: E402 - a sibling script

BIN = Path(sys.executable).parent


def phase_peaks(run) -> list[tuple[str, float, dict[str, int]]]:
    """Each phase of the run (from the ``phase done`` timeline marks) with its end time
    and each role's peak RSS while it ran; what came before the first phase is "start"."""
    ends = [(e.removeprefix("phase done: "), t) for e, t in run.events if e.startswith("phase done: ")]
    ends.append(("exit", float("inf")))
    flow_up = next((t for e, t in run.events if e == "flow started"), 0.0)
    out, i, start = [], 0, ("start (Prefect up)", flow_up)
    phases = [start, *ends]
    peaks: list[dict[str, int]] = [{} for _ in phases]
    for t, by_role in run.series:
        while i < len(phases) - 1 and t > phases[i][1]:
            i += 1
        for role, rss in by_role.items():
            peaks[i][role] = max(peaks[i].get(role, 0), rss)
    for (name, end), peak in zip(phases, peaks):
        out.append((name, end, peak))
    return out


def print_phases(run) -> None:
    roles = sorted({r for _, by_role in run.series for r in by_role})
    print(f"  {'phase':<22}{'ends at s':>10}" + "".join(f"{r:>18}" for r in roles))
    for name, end, peak in phase_peaks(run):
        print(f"  {name:<22}{end:10.1f}" + "".join(f"{peak.get(r, 0) / 2**20:18.0f}" for r in roles))


def _copy_corpus(raw: Path, to: Path) -> Path:
    """A copy of the cached corpus that the incremental run may add to."""
    shutil.copytree(raw, to)
    return to


def _add_new_files(raw: Path, k: int) -> None:
    """K new files: the corpus's first K articles reprinted by another outlet, a line added
    (new bytes, so new files to read; near-duplicates of stored articles, as reprints are)."""
    new = raw / "reprints"
    new.mkdir()
    for i, path in enumerate(sorted(raw.rglob("*.txt"))[:k]):
        text = path.read_text(encoding="utf-8")
        (new / f"reprint-{i:06d}.txt").write_text(text + f"\nReprinted with permission ({i}).\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[20000, 100000])
    ap.add_argument("--by-phase", action="store_true",
                    help="also print each role's peak RSS per phase of the run (timeline marks)")
    ap.add_argument("--skip", action="append", default=[], help="a stage to leave out (repeatable)")
    ap.add_argument("--incremental", type=int, default=0, metavar="K",
                    help="then add K new files to a copy of the corpus and measure that incremental run too "
                         "(what grows with the stored dataset: its processed-files state, its indexes)")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "ketl-bench" / "vs-by-hand")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.n:
        raw, nbytes = cached_corpus(args.cache, n)
        with tempfile.TemporaryDirectory(prefix="ketl-rss-") as tmp:
            out = Path(tmp) / "out"
            if args.incremental:
                raw = _copy_corpus(raw, Path(tmp) / "raw")
            cmd = [str(BIN / "ketl"), "run", "--raw", str(raw), "--out", str(out),
                   *[a for s in args.skip for a in ("--skip", s)]]
            runs = [(n, measure(f"ketl run, {n} articles", cmd, _env(args.cache / "prefect-home")))]
            if args.incremental:
                _add_new_files(raw, args.incremental)
                runs.append((f"{n} + {args.incremental}",
                             measure(f"ketl run, {args.incremental} new", cmd, _env(args.cache / "prefect-home"))))
            shutil.rmtree(out, ignore_errors=True)
        for label, run in runs:
            rows.append((label, nbytes, run))
            if args.by_phase:
                print_phases(run)
            print(f"{label} articles: wall {run.wall:.1f} s, CPU {run.cpu:.1f} s, peak RSS "
                  f"{run.peak_rss / 2**20:.0f} MiB; "
                  + ", ".join(f"{k} {v / 2**20:.0f}" for k, v in sorted(run.rss_roles.items())), flush=True)
    print(f"\npeak RSS MiB (skipped: {', '.join(args.skip) or 'none'}); load average now {os.getloadavg()[0]:.1f}")
    roles = sorted({k for _, _, r in rows for k in r.rss_roles})
    print(f"{'articles':>14}{'MB in':>8}{'tree':>8}" + "".join(f"{r:>18}" for r in roles))
    for n, nbytes, run in rows:
        print(f"{n:>14}{nbytes / 1e6:8.0f}{run.peak_rss / 2**20:8.0f}"
              + "".join(f"{run.rss_roles.get(r, 0) / 2**20:18.0f}" for r in roles))


if __name__ == "__main__":
    main()
