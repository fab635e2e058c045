"""Ctrl-C during ``ketl run``: stop within seconds, dataset as it was, one line, exit 130.

Letting KeyboardInterrupt unwind was measured at 71 s on 3,000 files, exit 3,
with two dozen lines of tracebacks: Prefect catches the interrupt in the flow and
in every task thread, marks each run Crashed, logs an ERROR for each, tries to
send its logs to the temporary server the same Ctrl-C already stopped, and
waits for the busy pool workers, which print their own KeyboardInterrupt
tracebacks.

A run writes nothing visible before its commit (it builds a staging snapshot),
so the quick stop is also the correct one: stop the pool workers, remove what
the next run's recovery would remove (the staging folder), print one line and
end the process at once with ``os._exit`` (no unwinding through Prefect). The
lock goes with the process; the watchdog stops the temporary Prefect server and
anything else that is left. SIGINT is blocked from the start and taken by one
thread (see ``Handler.install``), so no child of ketl ever sees it. A second Ctrl-C while this happens changes nothing
(the clean-up takes well under a second; a timer ends the process after
DEADLINE seconds whatever happens), so it too ends in the one line and 130.

Standard library only: the handler must not import anything when the signal
comes (importing Prefect alone takes seconds).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Callable

from . import watchdog

EXIT_CODE = 130
DEADLINE = 4.0  # seconds from the first Ctrl-C to the exit, at most

_stoppers: list[Callable[[], None]] = []
_SAYING = threading.Lock()


def on_interrupt(stop: Callable[[], None]) -> Callable[[], None]:
    """Call ``stop`` (quickly, without blocking for long) when the run is interrupted;
    returns the function that takes it off again."""
    _stoppers.append(stop)
    return lambda: _stoppers.remove(stop) if stop in _stoppers else None


def current_run(out: Path) -> str | None:
    """The run id of the dataset's current snapshot (its folder's name), None before the first commit."""
    link = out / ".ketl" / "current"
    try:
        return Path(os.readlink(link)).name
    except OSError:
        return None


def message(out: str, before: str | None, now: str | None) -> str:
    """The one line a Ctrl-C prints, from the current run before and after the interrupt
    (``out`` as it may be printed: no terminal escapes)."""
    if now is not None and now != before:  # the commit was done when the signal came
        return f"Interrupted after the commit: the dataset holds run {now}."
    if before is None:
        return f"Interrupted: nothing was committed; {out} still holds no dataset."
    return f"Interrupted: nothing was committed; the dataset is as it was after run {before}."


def ignore_in_worker() -> None:
    """In a pool worker: Ctrl-C is for the parent, which stops the worker (under
    ``ketl run`` the worker starts with SIGINT blocked anyway; this covers a pool
    started elsewhere)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Handler:
    """The SIGINT handler of one ``ketl run`` on the dataset ``out``."""

    def __init__(self, out: Path, cleanup: Callable[[], None], before_exit: Callable[[], None] = lambda: None,
                 label: str | None = None):
        self.out = Path(out)
        self.label = label if label is not None else str(out)
        self.cleanup = cleanup  # removes the staging snapshot (the caller holds the lock)
        self.before_exit = before_exit  # e.g. give the terminal its cursor back
        self.before = current_run(self.out)
        self.fired = False
        self.said = False

    def install(self) -> Callable[[], None]:
        """Take over SIGINT; returns the function that gives it back.

        SIGINT is blocked in the main thread, so in every thread and process
        started from here on (Prefect's threads, its temporary server, pool
        workers, a local Dask cluster: they inherit the mask, across exec too),
        and one thread takes it with ``sigwait``. So the terminal's Ctrl-C,
        which reaches the whole process group, is seen by this handler alone:
        no child prints a KeyboardInterrupt traceback or "Aborted!".
        Only the main thread may do this (elsewhere it is a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        # Starting multiprocessing's resource tracker unblocks SIGINT in the thread
        # that starts it (the pool or a Dask cluster would, from the main thread,
        # and every thread started after would get Ctrl-C): start it first.
        _start_tracker_quietly()
        done = threading.Event()
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

        def wait() -> None:
            while True:
                signal.sigwait({signal.SIGINT})
                if done.is_set():
                    return
                self()

        waiter = threading.Thread(target=wait, name="ketl-ctrl-c", daemon=True)
        waiter.start()
        # Threads started before (native ones of pyarrow, ...) may still take the
        # signal: then Python runs this handler in the main thread, same outcome.
        before = signal.signal(signal.SIGINT, lambda signum, frame: self())

        def uninstall() -> None:
            done.set()
            signal.pthread_kill(waiter.ident, signal.SIGINT)  # ends its sigwait
            waiter.join(5)
            signal.signal(signal.SIGINT, before)
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        return uninstall

    def __call__(self, signum=None, frame=None) -> None:
        if self.fired:  # a second Ctrl-C while cleaning up: the clean-up is bounded, let it end
            return
        self.fired = True
        _silence_other_threads()
        # Whatever hangs in the clean-up (a slow disk), the process ends in DEADLINE s.
        timer = threading.Timer(DEADLINE, self._exit)
        timer.daemon = True
        timer.start()
        try:
            for stop in list(_stoppers):
                _quietly(stop)
            _quietly(_hold_nannies)
            _quietly(_kill_workers)
            _quietly(_release_semaphores)
            _quietly(self.cleanup)
        finally:
            self._exit()

    def _exit(self) -> None:
        with _SAYING:  # the main thread and the deadline timer: one line, once
            if self.said:
                os._exit(EXIT_CODE)
            self.said = True
            _quietly(self.before_exit)
            line = message(self.label, self.before, current_run(self.out))
            _quietly(lambda: os.write(2, (line + "\n").encode("utf-8", "replace")))
        os._exit(EXIT_CODE)


def _start_tracker_quietly() -> None:
    """Start multiprocessing's resource tracker with its stderr on /dev/null. It
    still unlinks what dead workers leave, but its "There appear to be 6 leaked
    semaphore objects" warning (a local Dask cluster's workers, killed on Ctrl-C,
    leave theirs) came after ketl's one line, once ketl was gone."""
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        resource_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _silence_other_threads() -> None:
    """From the first Ctrl-C on, an exception in another thread prints nothing: stopping
    the pool and running multiprocessing's finalizers (``_release_semaphores``) closes
    the pipes under a process pool's queue feeder thread, which then died with two
    tracebacks ("Bad file descriptor", "semaphore released too many times") above
    the one line, in about one interrupt in ten on a busy machine."""
    threading.excepthook = lambda args: None
    sys.unraisablehook = lambda unraisable: None
    # A local Dask cluster's nanny (in this process) logs its workers' deaths.
    logging.disable(logging.CRITICAL)


# How long a child may read as "starting" (no exec yet, or in it) before the worker
# kill stops waiting for it to show what it is: spawns took up to 80 ms under load.
STARTING_AT_MOST = 1.0


def _kill_workers(wait: float = 3.0) -> None:
    """SIGKILL every worker process below this one (multiprocessing's spawned
    children: a local Dask cluster's workers, a pool no stopper knows of), and wait
    until they are gone. Left to the watchdog, which acts only once ketl has
    exited, a Dask worker printed heartbeat tracebacks on the terminal, or
    finished its batch and wrote into the staging folder after the clean-up had
    removed it. The temporary Prefect server is not a worker: the watchdog stops it.

    A worker the signal finds still starting cannot be told by its command line
    yet: before its exec it is a copy of this process, and during the exec its
    /proc cmdline reads empty (a third of spawns read so right after
    ``Process.start()`` returned, tens of ms under load). Skipped, it lived on after
    ketl (CI's "the worker outlived the interrupt"). So the scan repeats until no
    descendant is starting and every killed one is gone, within ``wait`` seconds
    (milliseconds as a rule). A child that stays a copy of this process for
    ``STARTING_AT_MOST`` seconds forked without an exec (a library's own fork): it is
    no worker about to appear, and waiting on it held every Ctrl-C for ``wait``."""
    deadline = time.monotonic() + wait
    own = _cmdline(os.getpid())
    killed: set[int] = set()
    since: dict[int, float] = {}  # pid -> when it was first seen starting
    while True:
        starting = False
        now = time.monotonic()
        for pid in watchdog.descendants({os.getpid()}, watchdog._processes()):  # noqa: SLF001 - same scan
            kind = _kind(pid, own)
            if kind == "worker" and pid not in killed:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
                except OSError:
                    pass
            if kind == "starting":
                starting = starting or now - since.setdefault(pid, now) < STARTING_AT_MOST
        killed = {pid for pid in killed if watchdog.running(pid)}
        if not (killed or starting) or time.monotonic() >= deadline:
            return
        time.sleep(0.01)


def _cmdline(pid: int) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


def _kind(pid: int, own: bytes | None) -> str:
    """"worker", "starting" (not yet exec'd, or in the exec: not yet known), "gone", or "other"."""
    if not watchdog.running(pid):  # a zombie's cmdline reads empty too
        return "gone"
    cmd = _cmdline(pid)
    if cmd is None:
        return "gone"
    if not cmd or cmd == own:
        return "starting"
    return "worker" if _is_worker_cmd(cmd) else "other"


def _hold_nannies() -> None:
    """A local Dask cluster's nannies live in this process and restart a worker
    that dies: after ``_kill_workers``, one sometimes started a fresh worker in
    the moment before ketl exited, which printed its start-up log after ketl's
    one line or outlived it. A nanny that is closing restarts nothing."""
    nanny = sys.modules.get("distributed.nanny")
    if nanny is None:  # no Dask in this run
        return
    from distributed.core import Status

    for n in list(nanny.Nanny._instances):  # noqa: SLF001 - the live nannies of this process
        n.status = Status.closing


def _is_worker(pid: int) -> bool:
    return _is_worker_cmd(_cmdline(pid) or b"")


def _is_worker_cmd(cmd: bytes) -> bool:
    return b"--multiprocessing-fork" in cmd and b"resource_tracker" not in cmd


def _release_semaphores() -> None:
    """Run multiprocessing's exit finalizers: the queues of a process pool (or of a
    local Dask cluster) hold named semaphores that os._exit would leave to the
    resource tracker, which then warns of "leaked semaphore objects" on the
    terminal after ketl is gone."""
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util._run_finalizers(0)  # noqa: SLF001 - what multiprocessing runs at a normal exit


def _quietly(fn: Callable[[], object]) -> None:
    try:
        fn()
    except BaseException:  # noqa: BLE001 - on the way out nothing may print a traceback
        pass
