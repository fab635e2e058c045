"""The Ctrl-C trial: SIGINT to the process group of a real ``ketl run`` (as a terminal sends it).

Builds a dataset of the seeds, adds ``--files`` distinct generated articles
(seeds and AEB bodies in many languages), then starts incremental runs and
interrupts each at a different moment: during Prefect's start-up, and 0.5 s,
--late s after the first batch started (optionally a second Ctrl-C shortly
after the first). Prints per trial: exit code, seconds from the signal to
ketl's exit, lines on stderr, tracebacks, whether the dataset equals the one
before (every file, and where ``current`` points) and processes left over.

    PYTHONPATH=src:tests python benchmarks/bench_interrupt.py [--files 3000] [--late 8] [--second 0.05]

Each trial starts its own temporary Prefect server, as a user's run does. Exits
1 if a trial did not end in 130 with one line and the dataset as it was.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from interrupt_trial import (batches_started, build_raw, dataset_fingerprint, env_without_server,  # noqa: E402
                             interrupt, ketl_cmd, server_starting)


def base_dataset(work: Path, files: int) -> tuple[Path, Path]:
    raw, out = work / "raw", work / "base"
    raw.mkdir()
    seeds = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    for p in sorted((seeds if seeds.is_dir() else Path(__file__).resolve().parents[1] / "raw").glob("*.txt")):
        shutil.copy(p, raw / p.name)
    done = subprocess.run(ketl_cmd(raw, out), env=env_without_server(work / "ph"), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the base run failed: {done.stderr[-2000:]}")
    build_raw(work / "gen", files)
    shutil.move(str(work / "gen" / "raw"), raw / "gen")
    return raw, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--late", type=float, default=8.0, help="seconds after the first batch started for the last trial")
    ap.add_argument("--second", type=float, default=None, help="send a second Ctrl-C this many seconds after the first")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ketl-ctrlc-"))
    failures = 0
    try:
        raw, base = base_dataset(work, args.files)
        before = dataset_fingerprint(base)
        moments = [("Prefect start-up", server_starting, 0.3), ("batch +0.5 s", None, 0.5),
                   (f"batch +{args.late:g} s", None, args.late)]
        for k, (label, ready, delay) in enumerate(moments):
            out = work / f"trial-{k}"
            shutil.copytree(base, out, symlinks=True)
            o = interrupt(ketl_cmd(raw, out), env_without_server(work / f"ph-{k}"),
                          ready(out) if ready else batches_started(out), delay=delay,
                          second_after=args.second, grace=120)
            lines = [ln for ln in o.stderr.splitlines() if ln.strip() and not ln.startswith("starting Prefect")]
            same = dataset_fingerprint(out) == before  # relative paths: the copy compares equal
            ok = o.returncode == 130 and len(lines) == 1 and same and not o.left
            failures += not ok
            print(f"{label:<18} signal at {o.signalled_at:5.1f} s: exit {o.returncode} after {o.after_signal:5.2f} s; "
                  f"{len(lines)} line(s), {o.stderr.count('Traceback')} traceback(s); dataset as before: {same}; "
                  f"processes left: {len(o.left)}  {'ok' if ok else 'FAIL'}", flush=True)
            if lines:
                print(f"{'':<18} stderr: {lines[-1]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
