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
anything else that is left. A second Ctrl-C while this happens changes nothing
(the clean-up takes well under a second; a timer ends the process after
DEADLINE seconds whatever happens), so it too ends in the one line and 130.

Standard library only: the handler must not import anything when the signal
comes (importing Prefect alone takes seconds).
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Callable

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


def block_in_this_thread() -> None:
    """Keep SIGINT away from this (non-main) thread and from the processes it starts.

    A worker process started from a thread inherits that thread's signal mask
    (across exec too), so a pool worker spawned here never sees the terminal's
    Ctrl-C, not even while it is starting: it is stopped by the parent instead,
    without a traceback. Python runs signal handlers in the main thread anyway.
    """
    if threading.current_thread() is not threading.main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def ignore_in_worker() -> None:
    """In a worker process: Ctrl-C is for the parent, which stops the worker."""
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
        """Take over SIGINT (in the main thread only: elsewhere Python refuses); returns
        the function that gives it back."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = signal.signal(signal.SIGINT, self)
        return lambda: signal.signal(signal.SIGINT, previous)

    def __call__(self, signum=None, frame=None) -> None:
        if self.fired:  # a second Ctrl-C while cleaning up: the clean-up is bounded, let it end
            return
        self.fired = True
        # Whatever hangs in the clean-up (a slow disk), the process ends in DEADLINE s.
        timer = threading.Timer(DEADLINE, self._exit)
        timer.daemon = True
        timer.start()
        try:
            for stop in list(_stoppers):
                _quietly(stop)
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


def _quietly(fn: Callable[[], object]) -> None:
    try:
        fn()
    except BaseException:  # noqa: BLE001 - on the way out nothing may print a traceback
        pass
