"""Wall and CPU seconds of pytest runs, this checkout against another, alternating.

    python benchmarks/bench_suite.py --base /path/to/old/checkout [--rounds 2] [--together] [pytest args...]

Each round runs ``pytest -q -p no:cacheprovider ARGS`` in a fresh process in the
other checkout, then in this one (each with its own ``src`` first on PYTHONPATH
and KETL_REQUIRE_SHARED=1, as CI runs). CPU is the user + system time of every
process the run waited for (pytest, the ketl runs it starts, their servers and
workers once reaped; and, this process being their subreaper, the processes a
killed run left to end on their own), so it says what the suite costs even on a busy machine,
where the wall time mostly says how busy the machine was: the load average is
printed beside each run. ``--together`` starts the two at the same moment instead:
on a machine others load unevenly, both then see the same load (and each other).

The checkouts must each have ``../shared`` beside them (the benchmarks the tests read).

Per test (which tests cost the CPU), as a pytest plugin:

    PYTHONPATH=src:benchmarks python -m pytest -p bench_suite [pytest args...]

writes ``KETL_CPU_PER_TEST`` (default cpu-per-test.tsv): per test, the CPU seconds of the
pytest process and every process below it (live ones read from /proc, ended ones once
reaped) from its setup to its teardown (the session's server and cluster count where
they work), then the pytest process's own share of it, then the wall seconds. Sorted,
most CPU first; the totals are printed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
DEFAULT = ["tests/test_interrupt.py", "tests/test_run_safety.py", "tests/test_dask.py", "tests/test_dask_paths.py",
           "tests/test_schedule.py", "tests/test_run.py"]


def _tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and its descendants: the live ones' own and reaped children's."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
    total = 0.0
    for pid, value in cpu.items():
        p = pid
        while p > 1 and p != root:
            p = parents.get(p, 0)
        if p == root:
            total += value
    return total


_PER_TEST: dict[str, tuple[float, float, float]] = {}  # nodeid -> (tree CPU, pytest's own CPU, wall)


def pytest_runtest_protocol(item, nextitem):  # noqa: ARG001 - the hook's signature
    item.config._cpu_before = (_tree_cpu(os.getpid()), time.process_time(), time.monotonic())


def pytest_runtest_makereport(item, call):
    if call.when == "teardown":
        tree, own, wall = item.config._cpu_before
        _PER_TEST[item.nodeid] = (_tree_cpu(os.getpid()) - tree, time.process_time() - own, time.monotonic() - wall)


def pytest_sessionfinish(session):
    path = os.environ.get("KETL_CPU_PER_TEST", "cpu-per-test.tsv")
    rows = sorted(_PER_TEST.items(), key=lambda kv: -kv[1][0])
    with open(path, "w", encoding="utf-8") as f:
        f.write("# tree CPU s\tpytest's own CPU s\twall s\ttest\n")
        for nodeid, (cpu, own, wall) in rows:
            f.write(f"{cpu:8.2f}\t{own:8.2f}\t{wall:8.2f}\t{nodeid}\n")
    total = [sum(v[k] for v in _PER_TEST.values()) for k in range(3)]
    print(f"\nCPU of the tests (tree, setup to teardown): {total[0]:.1f} s, of which pytest's own {total[1]:.1f} s;"
          f" wall {total[2]:.1f} s; per test in {path}")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def adopt_orphans() -> bool:
    """Make this process the subreaper of everything started below it (Linux). A process
    whose parent ends without reaping it (a worker ketl's Ctrl-C handler SIGKILLs before its
    os._exit, a Dask worker a killed run leaves) is then reparented here, not to init, and
    its CPU counts once ``reap_orphans`` reaps it: without this, the CPU of the killed runs'
    workers was in no figure."""
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap_orphans(wait: float = 15.0) -> None:
    """Reap the adopted processes, waiting up to ``wait`` s for those still running (a
    watchdog outlives its run by its grace)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # none left
        if pid == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)


def run_once(checkout: Path, args: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s, pytest's last line) of one run in ``checkout`` (with ``adopt_orphans``
    called first, the processes it left to die on their own count too)."""
    env = {**os.environ, "PYTHONPATH": str(checkout / "src"), "KETL_REQUIRE_SHARED": "1"}
    cpu0, t0 = _children_cpu(), time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=checkout,
                          env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    reap_orphans()
    cpu = _children_cpu() - cpu0
    last = next((ln for ln in reversed(done.stdout.splitlines()) if re.search(r"passed|failed|error", ln)), "?")
    return wall, cpu, last.strip("= ")


def run_together(checkouts: dict[str, Path], args: list[str]) -> dict[str, tuple[float, float, str]]:
    """``run_once`` for every checkout, all started at once: label -> (wall s, CPU s, last line)."""
    t0, procs, outputs = time.monotonic(), {}, {}
    for label, checkout in checkouts.items():
        env = {**os.environ, "PYTHONPATH": str(checkout / "src"), "KETL_REQUIRE_SHARED": "1"}
        procs[label] = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                                        cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
        # a reader per pipe, so neither run blocks on a full pipe while the other is awaited
        reader = threading.Thread(target=lambda lb=label: outputs.__setitem__(lb, procs[lb].stdout.read()))
        reader.start()
        outputs[label + " reader"] = reader
    found, by_pid = {}, {proc.pid: label for label, proc in procs.items()}
    while by_pid:
        pid, status, usage = os.wait4(-1, 0)  # whichever ends first, with its own CPU (and its reaped children's)
        label = by_pid.pop(pid, None)
        if label is None:
            continue
        procs[label].returncode = os.waitstatus_to_exitcode(status)
        found[label] = (time.monotonic() - t0, usage.ru_utime + usage.ru_stime)
    result = {}
    for label, (wall, cpu) in found.items():
        outputs[label + " reader"].join()
        last = next((ln for ln in reversed(outputs[label].splitlines()) if re.search(r"passed|failed|error", ln)), "?")
        result[label] = (wall, cpu, last.strip("= "))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=Path, required=True, help="the other checkout (e.g. a worktree of main)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--together", action="store_true", help="start both runs at once (see above)")
    opts, pytest_args = ap.parse_known_args()
    args = pytest_args or DEFAULT
    if not opts.together:  # together, an orphan's CPU could not be told to either side
        adopt_orphans()
    for k in range(opts.rounds):
        if opts.together:
            load = os.getloadavg()[0]
            found = run_together({"base": opts.base.resolve(), "this": HERE}, args)
            for label, (wall, cpu, last) in found.items():
                print(f"round {k + 1} {label} (together): wall {wall:6.1f} s  CPU {cpu:6.1f} s  load before {load:4.1f}"
                      f"  ({last})", flush=True)
            continue
        for label, checkout in (("base", opts.base.resolve()), ("this", HERE)):
            load = os.getloadavg()[0]
            wall, cpu, last = run_once(checkout, args)
            print(f"round {k + 1} {label}: wall {wall:6.1f} s  CPU {cpu:6.1f} s  load before {load:4.1f}  ({last})",
                  flush=True)


if __name__ == "__main__":
    main()
