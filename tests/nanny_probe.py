"""Run by tests/test_interrupt.py in a fresh process: a local Dask cluster's
worker killed the way ketl's Ctrl-C handler kills it, first without the
handler's hold on the nannies (the nanny restarts it: the probe can see a
restart), then with it. Prints how many workers came back each time."""

import logging
import os
import time

from distributed import LocalCluster

from ketl.run import interrupt, watchdog


def workers() -> list[int]:
    procs = watchdog._processes()  # noqa: SLF001 - the handler's own scan
    return [p for p in watchdog.descendants({os.getpid()}, procs) if interrupt._is_worker(p)]  # noqa: SLF001


def kill_and_watch(hold: bool, wait: float = 3.0) -> tuple[int, int]:
    before = workers()
    if hold:
        interrupt._hold_nannies()  # noqa: SLF001
    interrupt._kill_workers()  # noqa: SLF001
    deadline = time.monotonic() + wait  # a nanny restarts its worker within about a second
    back: list[int] = []
    while time.monotonic() < deadline and not back:
        time.sleep(0.1)
        back = [p for p in workers() if p not in before]
    return len(before), len(back)


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0")
    n, back = kill_and_watch(hold=False)
    print(f"without hold: workers {n} restarted {back}", flush=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(workers()) < 1:  # the restarted worker, up
        time.sleep(0.1)
    n, back = kill_and_watch(hold=True)
    print(f"with hold: workers {n} restarted {back}", flush=True)
    os._exit(0)
