"""Ctrl-C as a terminal sends it: SIGINT to the whole process group of a real ``ketl run``.

Shared by tests/test_interrupt.py and benchmarks/bench_interrupt.py (one way to
build the input, start the run, signal it and look at what is left).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ketl.run.watchdog import group_members

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
# Short sentences in several scripts, mixed into every file so no two files are
# alike (the incremental plan reads each; near-duplicate flags do not drop any).
_VARIANTS = (
    "The council met again on {n} to discuss the budget.",
    "Le conseil s'est réuni le {n} pour discuter du budget.",
    "Der Rat trat am {n} erneut zusammen, um den Haushalt zu beraten.",
    "Совет снова собрался {n}, чтобы обсудить бюджет.",
    "議会は{n}日に再び予算を審議した。",
    "المجلس اجتمع مرة أخرى في {n} لمناقشة الميزانية.",
    "Η βουλή συνεδρίασε ξανά στις {n} για τον προϋπολογισμό.",
)


def texts() -> list[str]:
    """The seed articles and the human-written AEB bodies (many languages)."""
    seeds = SHARED / "seeds" if (SHARED / "seeds").is_dir() else REPO / "raw"
    found = [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))]
    truth = SHARED / "bench" / "aeb" / "ground-truth.json"
    if truth.is_file():
        found += [v["articleBody"] for _, v in sorted(json.loads(truth.read_text(encoding="utf-8")).items())
                  if v.get("articleBody")]
    return found


def build_raw(root: Path, n: int, sites: int = 8) -> Path:
    """``n`` distinct .txt files under ``sites`` site folders of ``root``/raw."""
    pool = texts()
    raw = root / "raw"
    for i in range(n):
        site = raw / f"site{i % sites}"
        site.mkdir(parents=True, exist_ok=True)
        body = pool[i % len(pool)]
        lead = _VARIANTS[i % len(_VARIANTS)].format(n=1000 + i)
        (site / f"{i:05d}.txt").write_text(f"{lead}\n\n{body}\n\n{lead} #{i}\n", encoding="utf-8")
    return raw


def ketl_cmd(raw: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ketl.cli", "run", "--raw", str(raw), "--out", str(out), *extra]


def env_without_server(prefect_home: Path, base: dict | None = None) -> dict:
    """The run starts its own temporary Prefect server, as a user's first run does
    (``base``: the environment to start from, os.environ's by default)."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return env


def dataset_fingerprint(out: Path) -> dict[str, str]:
    """Every file the dataset holds (but the lock) -> sha256, and where ``current`` points."""
    internal = out / ".ketl"
    found: dict[str, str] = {}
    if not out.exists():
        return found
    for p in sorted(out.rglob("*")):
        rel = str(p.relative_to(out))
        if p.is_symlink():
            found[rel] = "-> " + os.readlink(p)
        elif p.is_file() and p != internal / "lock":
            found[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def server_starting(out: Path):
    """True once the ketl run on ``out`` has started Prefect's temporary server (uvicorn)
    and is waiting for it: a moment during Prefect's start-up."""
    from ketl.run.watchdog import _processes, descendants

    def ready() -> bool:
        procs = _processes()
        runs = {p for p in procs if b"ketl.cli run" in _cmdline(p) and str(out).encode() in _cmdline(p)}
        return bool(runs) and any(b"uvicorn" in _cmdline(p) for p in descendants(runs, procs))
    return ready


@dataclass
class Outcome:
    returncode: int
    after_signal: float  # seconds from the (first) SIGINT to the exit of ketl
    stderr: str
    stdout: str
    left: list[int] = field(default_factory=list)  # processes of the group alive after the exit
    signalled_at: float = 0.0  # seconds after the start of ketl


def _wait_for(proc: subprocess.Popen, ready, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"ketl exited ({proc.returncode}) before the moment to interrupt it")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the moment to interrupt never came within {timeout:.0f} s")
        time.sleep(0.05)


def batches_started(out: Path):
    """True once the run's staging snapshot exists (the batches are being handed out)."""
    staging = out / ".ketl" / "staging"
    return lambda: staging.is_dir() and any(p.name.endswith(".work") for p in staging.iterdir())


def interrupt(cmd: list[str], env: dict, ready, *, delay: float = 0.5, second_after: float | None = None,
              timeout: float = 180, grace: float = 60, cwd: Path | None = None) -> Outcome:
    """Start ``cmd`` in its own process group, SIGINT the group ``delay`` s after ``ready()``
    (and again ``second_after`` s later), and wait up to ``grace`` s for ketl to exit.

    The time is to ketl's own exit (when a shell shows its prompt again); its output
    goes to files, since a pipe would also wait for the processes it leaves behind."""
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        t_start = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=out_f, stderr=err_f, text=True, start_new_session=True, cwd=cwd)
        try:
            _wait_for(proc, ready, timeout)
            time.sleep(delay)
            t_sig = time.monotonic()
            os.killpg(proc.pid, signal.SIGINT)
            if second_after is not None:
                time.sleep(second_after)
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            took = time.monotonic() - t_sig
            t0 = time.monotonic()
            while group_members(proc.pid) and time.monotonic() - t0 < 8:  # the watchdog's grace
                time.sleep(0.05)
            left = group_members(proc.pid)
        finally:
            for pid in group_members(proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        out_f.seek(0)
        err_f.seek(0)
        return Outcome(proc.returncode, took, err_f.read(), out_f.read(), left, t_sig - t_start)
