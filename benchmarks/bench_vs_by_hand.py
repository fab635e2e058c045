"""`ketl run` against the script a user would write by hand (issue 15), run as a user would.

Builds (once, cached) a corpus of N news articles of about 4.5 KB from real
article text (the 181 human-written AEB bodies and the seed articles), dressed
as scraped pages are: per-site headers, menus and footers, ad and share lines,
quotes with speakers, reprints of earlier articles on other sites, a little
mojibake and spacing damage. Then runs, each in a fresh process:

* the by-hand baseline (``benchmarks/by_hand_baseline.py``: ftfy, an ad-line
  regex, 5-gram MinHash + datasketch LSH, one zstd Parquet file);
* ``ketl run`` with Prefect's temporary server (no ``PREFECT_API_URL``);
* with ``--server``: ``ketl run`` against a ``prefect server start`` that the
  benchmark starts first (its start-up is not charged to ketl) and stops after.

Prints wall time, docs/s, CPU seconds of the process and all its children
(``os.wait4``: reaped descendants included) and split by process (the main
process, the worker processes, the temporary Prefect server; sampled), peak
RSS of the process tree (sampled every 50 ms, summed; and per kind of process),
the ratios ketl / by-hand, ketl's milliseconds per article per stage (from the
run summary ketl prints: seconds measured in the worker processes, summed) and
its timeline (``KETL_TIMELINE``: when the pool was warm, Prefect up, the first
batch done), with the load average around each run: on a shared machine
compare runs made side by side.

    python benchmarks/bench_vs_by_hand.py [--n 20000] [--server] [--repeat 1] [--cache DIR]
        [--sides by-hand,temporary,server] [--base OLD/src]

``--sides`` runs only some of the three (``--sides server`` implies ``--server``);
``--base OLD/src`` also runs every ketl side with another checkout's code
(``PYTHONPATH``), alternating with this one in each round: on a shared machine
only runs made side by side compare. Each ketl run also prints its phases' wall
seconds (the flow's ``phase done`` timeline marks).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared"
BIN = Path(sys.executable).parent
CORPUS_VERSION = 1  # bump when the corpus recipe changes: the cache is keyed on it
TARGET_BODY = 3600  # characters of article text; the furniture brings it to ~4.5 KB

SITES = [f"{name} {kind}" for name in ("Caucasus", "Harbor", "Northern", "Capital", "Daily",
                                       "Metro", "Valley", "Global", "Evening", "Coastal")
         for kind in ("Times", "Herald", "Post")]
ADS = ["Advertisement", "ADVERTISEMENT", "Sponsored content", "Story continues below advertisement",
       "Subscribe to our newsletter for the latest news", "Share on Facebook", "Share this article",
       "Read more: {other}", "Follow us on Twitter and Telegram"]
SPEAKERS = ["Nikol Pashinyan", "Ilham Aliyev", "a government spokesman", "Maria Zakharova",
            "the minister", "Mike Pompeo", "Josep Borrell", "a local resident"]


def load_bodies() -> list[list[str]]:
    """Real article text as paragraph lists: the AEB ground truth and the seeds."""
    truth = json.loads((SHARED / "bench" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    seeds = sorted((SHARED / "seeds").glob("*.txt")) or sorted((REPO / "raw").glob("*.txt"))
    texts = [v["articleBody"] for _, v in sorted(truth.items())] + [p.read_text(encoding="utf-8") for p in seeds]
    bodies = []
    for t in texts:
        paras = [p.strip() for p in re.split(r"\n+", t) if p.strip()]
        if paras:
            bodies.append(paras)
    return bodies


def _site_furniture(site: str) -> tuple[list[str], list[str]]:
    slug = site.lower().replace(" ", "")
    head = [site, "Home | World | Politics | Business | Culture | Sport | Opinion", "Search"]
    foot = [f"© 2024 {site}. All rights reserved.", "About us | Contact | Privacy policy | Terms of use",
            f"Follow {site} on Facebook", f"www.{slug}.com"]
    return head, foot


def _body(rng: random.Random, bodies: list[list[str]]) -> list[str]:
    """One base article, topped up with paragraphs of others, cut near the target size."""
    paras = list(rng.choice(bodies))
    while sum(len(p) for p in paras) < TARGET_BODY:
        paras += rng.choice(bodies)[:rng.randint(1, 4)]
    out, size = [], 0
    for p in paras:
        out.append(p)
        size += len(p) + 2
        if size >= TARGET_BODY:
            break
    return out


def _dress(rng: random.Random, site: str, title: str, body: list[str], titles: list[str]) -> str:
    head, foot = _site_furniture(site)
    body = list(body)
    for _ in range(rng.randint(1, 3)):  # ads and share lines between paragraphs
        body.insert(rng.randint(1, len(body)), rng.choice(ADS).format(other=rng.choice(titles)))
    if rng.random() < 0.5:  # a quote with its speaker
        words = rng.choice(body).split()[:18]
        body.insert(rng.randint(0, len(body)), f'"{" ".join(words)}," {rng.choice(SPEAKERS)} said.')
    if rng.random() < 0.03:  # a line of UTF-8 read as Windows-1252 upstream
        i = rng.randrange(len(body))
        body[i] = body[i].replace("'", "’").encode("utf-8").decode("cp1252", errors="replace")
    if rng.random() < 0.10:  # spacing damage: doubled spaces, trailing blanks
        i = rng.randrange(len(body))
        body[i] = body[i].replace(". ", ".  ") + "  "
    date = f"{rng.randint(1, 28)} March 2024, {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    return "\n".join([*head, "", title, date, "", "\n\n".join(body), "", *foot]) + "\n"


def build_corpus(root: Path, n: int, seed: int = 15) -> int:
    """Writes ``n`` articles under ``root`` (25 sites); 8 % are reprints of an earlier article."""
    rng = random.Random(seed)
    bodies = load_bodies()
    titles = [b[0][:90] for b in bodies]
    written: list[tuple[str, list[str]]] = []
    total = 0
    for i in range(n):
        site = SITES[i % len(SITES)]
        if written and rng.random() < 0.08:
            title, body = rng.choice(written)
            body = body + [f"This article was originally published by {rng.choice(SITES)}."]
        else:
            body = _body(rng, bodies)
            title = re.split(r"(?<=[.!?])\s", body[0])[0][:90].rstrip()
            written.append((title, body))
            if len(written) > 2000:
                written.pop(0)
        data = _dress(rng, site, title, body, titles).encode("utf-8")
        folder = root / site.replace(" ", "-").lower() / f"{i // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"a{i:07d}.txt").write_bytes(data)
        total += len(data)
    return total


def cached_corpus(cache: Path, n: int) -> tuple[Path, int]:
    raw = cache / f"corpus-v{CORPUS_VERSION}-n{n}"
    done = cache / f"corpus-v{CORPUS_VERSION}-n{n}.done"
    if not done.is_file():
        shutil.rmtree(raw, ignore_errors=True)
        t = time.perf_counter()
        size = build_corpus(raw, n)
        done.write_text(str(size))
        print(f"built corpus: {n} articles, {size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s -> {raw}")
    return raw, int(done.read_text())


@dataclass
class Run:
    label: str
    wall: float = 0.0
    cpu: float = 0.0
    peak_rss: int = 0
    load: tuple[float, float] = (0.0, 0.0)
    stdout: str = ""
    cpu_roles: dict[str, float] = field(default_factory=dict)  # sampled, up to 50 ms short per process
    rss_roles: dict[str, int] = field(default_factory=dict)  # peak RSS of each role's processes together
    milestones: dict[str, float] = field(default_factory=dict)  # ketl.run.timeline, seconds after the start
    events: list[tuple[str, float]] = field(default_factory=list)  # every timeline line, in time order
    work: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # worker pid: (start, end) of each step
    series: list[tuple[float, dict[str, int]]] = field(default_factory=list)  # (seconds, RSS by role) samples
    server_cpu: float | None = None  # CPU s of the running `prefect server start` during the run
    stages: dict[str, float] = field(default_factory=dict)


def _role(p: psutil.Process, root: psutil.Process) -> str:
    if p.pid == root.pid:
        return "main process"
    cmd = " ".join(p.cmdline())
    if "spawn_main" in cmd or "multiprocessing" in cmd:
        return "worker processes"
    if "uvicorn" in cmd or "prefect" in cmd or "server" in cmd:
        return "prefect server"
    return "other children"


class TreeSampler:
    """RSS of the process tree (summed) and the last CPU times seen of each process, by role."""

    def __init__(self, root: psutil.Process) -> None:
        self.root = root
        self.peak_rss = 0
        self._cpu: dict[int, tuple[str, float]] = {}
        self._roles: dict[int, str] = {}
        self.peak_by_role: dict[str, int] = {}
        self.series: list[tuple[float, dict[str, int]]] = []
        self._t0 = time.time()

    def sample(self) -> None:
        total = 0
        by_role: dict[str, int] = {}
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        for p in procs:
            try:
                with p.oneshot():
                    rss = p.memory_info().rss
                    t = p.cpu_times()
                    role = self._roles.get(p.pid) or _role(p, self.root)
                    if role != "other children":  # a child seen between fork and exec has the parent's
                        self._roles[p.pid] = role  # command line: ask again until it shows its own
                self._cpu[p.pid] = (role, t.user + t.system)
                total += rss
                by_role[role] = by_role.get(role, 0) + rss
            except psutil.Error:
                pass
        self.peak_rss = max(self.peak_rss, total)
        self.series.append((time.time() - self._t0, by_role))
        for role, rss in by_role.items():
            self.peak_by_role[role] = max(self.peak_by_role.get(role, 0), rss)

    def cpu_by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for role, cpu in self._cpu.values():
            out[role] = out.get(role, 0.0) + cpu
        return out


def measure(label: str, cmd: list[str], env: dict[str, str]) -> Run:
    """Runs ``cmd`` in a fresh process; wall, CPU (children included) and peak tree RSS."""
    run = Run(label)
    load0 = os.getloadavg()[0]
    trace = Path(tempfile.mkdtemp(prefix="ketl-timeline-")) / "timeline.tsv"
    env = {**env, "KETL_TIMELINE": str(trace)}  # ketl.run.timeline: when Prefect was up, the first batch done
    t_unix = time.time()
    t = time.perf_counter()
    popen = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(psutil.Process(popen.pid))
    sampler._t0 = t_unix
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(popen.stdout.read()), daemon=True)
    err: list[str] = []
    err_reader = threading.Thread(target=lambda: err.append(popen.stderr.read()), daemon=True)
    reader.start()
    err_reader.start()
    status = None
    while status is None:
        sampler.sample()
        pid, st, usage = os.wait4(popen.pid, os.WNOHANG)
        if pid:
            status = os.waitstatus_to_exitcode(st)
            run.cpu = usage.ru_utime + usage.ru_stime
        else:
            time.sleep(0.05)
    run.wall = time.perf_counter() - t
    run.peak_rss, run.cpu_roles, run.rss_roles = sampler.peak_rss, sampler.cpu_by_role(), sampler.peak_by_role
    if trace.is_file():
        for line in trace.read_text(encoding="utf-8").splitlines():
            event, at, _pid = line.split("\t")
            run.milestones[event] = max(run.milestones.get(event, 0.0), float(at) - t_unix)
            run.events.append((event, float(at) - t_unix))
            if event.startswith("work start: "):
                run.work.setdefault(int(_pid), []).append((float(at) - t_unix, float("nan")))
            elif event.startswith("work end: ") and run.work.get(int(_pid)):
                run.work[int(_pid)][-1] = (run.work[int(_pid)][-1][0], float(at) - t_unix)
        run.events.sort(key=lambda e: e[1])
    run.series = sampler.series
    shutil.rmtree(trace.parent, ignore_errors=True)
    popen.returncode = status
    reader.join()
    err_reader.join()
    run.stdout = out[0] if out else ""
    run.load = (load0, os.getloadavg()[0])
    if status not in (0, 1):
        raise SystemExit(f"{label} failed ({status}):\n{run.stdout[-2000:]}\n{(err[0] if err else '')[-3000:]}")
    run.stages = {m.group(1).strip(): float(m.group(2))
                  for m in re.finditer(r"CPU s: (.+?)\s+[│|]?\s+([\d.]+)\s", run.stdout)}
    return run


class PrefectServer:
    """``prefect server start`` in its own PREFECT_HOME, as a user would leave running."""

    def __init__(self, home: Path, port: int = 4297) -> None:
        self.url = f"http://127.0.0.1:{port}/api"
        self.env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                    "PREFECT_UI_ENABLED": "false"}
        self.cmd = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "PrefectServer":
        t = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        while time.perf_counter() - t < 180:
            if self.proc.poll() is not None:
                raise SystemExit(f"prefect server start exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        print(f"prefect server start: healthy after {time.perf_counter() - t:.1f} s (not charged to ketl)")
                        return self
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise SystemExit("prefect server start: not healthy after 180 s")

    def cpu(self) -> float:
        """CPU seconds used so far by the server and its children."""
        total = 0.0
        try:
            root = psutil.Process(self.proc.pid)
            for p in [root, *root.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
        return total

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)  # its own session: the server and the workers it spawned
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()


def _env(home: Path, api_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", COLUMNS="160")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def _ketl(raw: Path, out: Path) -> list[str]:
    shutil.rmtree(out, ignore_errors=True)
    return [str(BIN / "ketl"), "run", "--raw", str(raw), "--out", str(out)]


def report(runs: list[Run], n: int, nbytes: int) -> None:
    print(f"\n{n} articles, {nbytes / 1e6:.1f} MB, {nbytes / n / 1e3:.1f} KB each; {os.cpu_count()} cores")
    print(f"{'':<34}{'wall s':>8}{'docs/s':>8}{'CPU s':>8}{'CPU ms/doc':>11}{'peak RSS MiB':>14}  load avg before/after")
    for r in runs:
        print(f"{r.label:<34}{r.wall:8.1f}{n / r.wall:8.0f}{r.cpu:8.1f}{r.cpu / n * 1e3:11.2f}"
              f"{r.peak_rss / 2**20:14.0f}  {r.load[0]:.1f} / {r.load[1]:.1f}")
    base = [r for r in runs if r.label.startswith("by hand")]
    for r in runs:
        if not r.label.startswith("by hand"):
            if base:
                b = min(base, key=lambda x: x.wall)
                print(f"{r.label} / by hand: wall {r.wall / b.wall:.2f}x, CPU {r.cpu / b.cpu:.2f}x, "
                      f"peak RSS {r.peak_rss / b.peak_rss:.2f}x")
            else:
                print(r.label)
            staged = sum(r.stages.values())
            stages = ", ".join(f"{k} {v / n * 1e3:.2f}" for k, v in sorted(r.stages.items(), key=lambda kv: -kv[1]))
            print(f"  seconds per stage summed over worker processes (run summary), ms per article: {stages}; "
                  f"CPU outside them {(r.cpu - staged) / n * 1e3:.2f}")
            roles = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r.cpu_roles.items(), key=lambda kv: -kv[1]))
            print(f"  CPU s by process (sampled every 50 ms): {roles}")
            rss = ", ".join(f"{k} {v / 2**20:.0f}" for k, v in sorted(r.rss_roles.items(), key=lambda kv: -kv[1]))
            print(f"  peak RSS MiB by process (each role's processes together): {rss}")
            phases = _phases(r.events)
            if phases:
                print("  phases, wall s: " + ", ".join(f"{k} {v:.2f}" for k, v in phases))
            idle = _idle(r.events, r.work)
            if idle:
                print(f"  idle worker s per phase ({len(r.work)} workers; wall x workers - time in a step): "
                      + ", ".join(f"{k} {v:.2f}" for k, v in idle) + f"; total {sum(v for _, v in idle):.2f}")
            if r.milestones:
                steps = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r.milestones.items(), key=lambda kv: kv[1]))
                print(f"  timeline, s after the start (the last worker for 'worker warm'): {steps}")
            if r.server_cpu is not None:
                print(f"  the running Prefect server used {r.server_cpu:.1f} CPU s during this run (not in ketl's CPU s)")


def _phases(events: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Wall seconds of each phase of the flow, from its ``phase done: <phase>`` marks."""
    start = next((t for e, t in events if e == "flow started"), None)
    out = []
    for event, t in events:
        if start is not None and event.startswith("phase done: "):
            out.append((event.removeprefix("phase done: "), t - start))
            start = t
    return out


def _idle(events: list[tuple[str, float]], work: dict[int, list[tuple[float, float]]]) -> list[tuple[str, float]]:
    """Per phase of the flow, the worker seconds no step ran (the ``work start``/``work
    end`` marks of the pool's workers): a core the run left idle."""
    start = next((t for e, t in events if e == "flow started"), None)
    if start is None or not work:
        return []
    spans = [(a, b) for runs in work.values() for a, b in runs if b == b]  # b != b: nan, never ended
    out = []
    for event, t in events:
        if event.startswith("phase done: "):
            busy = sum(max(0.0, min(b, t) - max(a, start)) for a, b in spans)
            out.append((event.removeprefix("phase done: "), len(work) * (t - start) - busy))
            start = t
    return out


def _with_src(env: dict[str, str], src: str | None) -> dict[str, str]:
    return {**env, "PYTHONPATH": src} if src else env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="articles in the corpus (default 20000)")
    ap.add_argument("--server", action="store_true", help="also run ketl against a running `prefect server start`")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of (by hand, ketl[, ketl --server]), alternating")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "ketl-bench" / "vs-by-hand", help="where the corpus is kept between runs")
    ap.add_argument("--sides", default="by-hand,temporary,server",
                    help="which of by-hand, temporary, server to run (server: only with --server or named here)")
    ap.add_argument("--base", help="another checkout's src folder: each ketl side also runs with that code")
    ap.add_argument("--port", type=int, default=4297,
                    help="port of the running server (another one per developer on a shared machine)")
    args = ap.parse_args()
    sides = set(args.sides.split(","))
    if "server" in sides and args.sides != ap.get_default("sides"):
        args.server = True
    variants = [("", os.environ.get("PYTHONPATH"))] + ([(" base", args.base)] if args.base else [])
    args.cache.mkdir(parents=True, exist_ok=True)
    raw, nbytes = cached_corpus(args.cache, args.n)
    work = Path(tempfile.mkdtemp(prefix="ketl-vs-by-hand-"))
    home = args.cache / "prefect-home"  # kept, like a user's ~/.prefect: its database is not rebuilt each time
    runs: list[Run] = []
    server = PrefectServer(args.cache / "prefect-server-home", args.port) if args.server else None
    try:
        if server:
            server.__enter__()
        for _ in range(args.repeat):
            if "by-hand" in sides:
                runs.append(measure("by hand (1 process)", [sys.executable, str(HERE / "by_hand_baseline.py"),
                                                            str(raw), str(work / "by-hand.parquet")], _env(home)))
            for tag, src in variants:
                if "temporary" in sides:
                    runs.append(measure(f"ketl run (temporary server){tag}", _ketl(raw, work / "out"),
                                        _with_src(_env(home), src)))
                if server:
                    before = server.cpu()
                    runs.append(measure(f"ketl run (prefect server){tag}", _ketl(raw, work / "out"),
                                        _with_src(_env(home, server.url), src)))
                    runs[-1].server_cpu = server.cpu() - before
    finally:
        if server:
            server.__exit__()
        shutil.rmtree(work, ignore_errors=True)
    report(runs, args.n, nbytes)


if __name__ == "__main__":
    main()
