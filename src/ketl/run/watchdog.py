"""Children die with their parent: a small process that outlives ``ketl run`` by seconds, never more.

Killing the ketl process alone (``kill -9 PID``, an OOM kill, a scheduler's
timeout) used to leave its temporary Prefect server (~220 MB), the
multiprocessing resource tracker and the pool workers (430-680 MB each)
running for minutes. The kernel offers no "kill my whole tree when I die"
(``PR_SET_PDEATHSIG`` must be set by each child, and fires when the *thread*
that forked it exits; the Prefect server is started by Prefect, not by us).

So ``ketl run`` starts this watchdog first: a separate process running only
the standard library, which holds the read end of a pipe whose write end only
ketl holds. Twice a second it notes ketl's descendants (from ``/proc``: pid and
start time, so a recycled pid is never hit). When the pipe reports end-of-file,
ketl is gone, however it died: the watchdog sends SIGTERM to every noted
descendant still alive and to their own children, SIGKILL after a grace period,
then exits. A normal exit of ketl ends the watchdog the same way (anything
left behind is stopped). The watchdog ignores SIGINT: Ctrl-C reaches the whole
process group, and the watchdog must live to clean up after it.

Run as a script (``python -I watchdog.py PID``) it imports nothing from ketl.
"""

from __future__ import annotations

import os
from pathlib import Path
import select
import signal
import subprocess
import sys
import time

POLL_SECONDS = 0.5
GRACE_SECONDS = 2.0


def start() -> subprocess.Popen | None:
    """Start the watchdog of this process (once per process: later calls return the
    same one); None where there is no /proc (not Linux)."""
    if _STARTED:
        return _STARTED[0]
    if not os.path.isdir("/proc/self"):
        return None
    read_end, write_end = os.pipe()  # both non-inheritable: no other child gets the write end
    try:
        proc = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__), str(os.getpid())],
                                stdin=read_end, stdout=subprocess.DEVNULL, close_fds=True)
    finally:
        os.close(read_end)
    _KEEP.append(write_end)  # closed by the kernel when this process ends, however it ends
    _STARTED.append(proc)
    return proc


_KEEP: list[int] = []
_STARTED: list[subprocess.Popen] = []


def exit_with_parent(parent: int) -> None:
    """In a pool worker: exit as soon as ``parent``, the process that started it, is
    gone (the parent pid is no longer it; already so if it died while the worker
    started). A process-pool initializer, so workers never outlive a run."""
    import threading

    def check() -> None:
        while os.getppid() == parent:
            time.sleep(POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=check, name="ketl-exit-with-parent", daemon=True).start()


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of ``pid``; None when it is gone."""
    st = _stat3(pid)
    return None if st is None else (st[0], st[2])


def _stat3(pid: int) -> tuple[int, int, int] | None:
    """(parent pid, process group, start time) of ``pid``; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()  # the name may hold spaces and parentheses
    return int(fields[1]), int(fields[2]), int(fields[19])


def _processes() -> dict[int, tuple[int, int]]:
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                found[int(name)] = st
    return found


def descendants(root: set[int], procs: dict[int, tuple[int, int]]) -> dict[int, int]:
    """pid -> start time of every process below the pids of ``root`` (``root`` excluded)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[int, int] = {}
    todo = list(root)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in out and child not in root:
                out[child] = procs[child][1]
                todo.append(child)
    return out


def _alive(noted: dict[int, int]) -> dict[int, int]:
    """The noted processes that still run (same pid and start time), with their children."""
    procs = _processes()
    same = {pid: t for pid, t in noted.items() if pid in procs and procs[pid][1] == t}
    same.update(descendants(set(same), procs))
    return same


def _signal_all(pids, sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def cleanup(noted: dict[int, int], grace: float = GRACE_SECONDS) -> int:
    """SIGTERM the noted processes still alive, SIGKILL what is left after ``grace``; how many."""
    alive = _alive(noted)
    _signal_all(alive, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = _alive(alive)
    _signal_all(alive, signal.SIGKILL)
    return len(noted)


def running(pid: int) -> bool:
    """Is ``pid`` alive and not a zombie (from /proc)? A dead child not yet reaped
    writes nothing; and ``Process.is_alive()`` asks waitpid, which says "alive"
    for a child reaped elsewhere in the process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of group ``pgid``, from /proc: what a
    test or the SIGKILL trial checks is gone after a run."""
    alive = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                data = Path(f"/proc/{name}/stat").read_bytes()
            except OSError:
                continue
            fields = data[data.rfind(b")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != b"Z":
                alive.append(int(name))
    return alive


def _group(pgid: int, me: int) -> dict[int, int]:
    """pid -> start time of the processes of group ``pgid`` but ``me``."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me:
            st = _stat3(int(name))
            if st is not None and st[1] == pgid:
                found[int(name)] = st[2]
    return found


def watch(parent: int, pipe_fd: int = 0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    me = os.getpid()
    noted: dict[int, int] = {}
    # When ketl leads its own process group (a shell started it), everything in
    # the group is its: a child started after the last look is caught that way.
    try:
        leads_group = os.getpgid(parent) == parent
    except ProcessLookupError:
        leads_group = False
    while True:
        ready, _, _ = select.select([pipe_fd], [], [], POLL_SECONDS)
        if ready and not os.read(pipe_fd, 1):
            break  # end of file: the parent is gone
        found = descendants({parent}, _processes())
        found.pop(me, None)
        noted.update(found)
    noted.pop(me, None)
    if leads_group:
        noted.update(_group(parent, me))
    cleanup(noted)


if __name__ == "__main__":
    watch(int(sys.argv[1]))
