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


def kill_and_watch(hold: bool, wait: float) -> tuple[int, int, float]:
    """(workers before, workers back, seconds until one came back or ``wait`` ran out)."""
    before = workers()
    if hold:
        interrupt._hold_nannies()  # noqa: SLF001
    interrupt._kill_workers()  # noqa: SLF001
    t0 = time.monotonic()
    back: list[int] = []
    while time.monotonic() - t0 < wait and not back:
        time.sleep(0.1)
        back = [p for p in workers() if p not in before]
    return len(before), len(back), time.monotonic() - t0


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0")
    # A nanny restarts its worker within about a second on an idle machine, several on a
    # loaded one (the suite runs this beside its other tests): the first wait ends as soon
    # as the restart is seen, and the second watches three times as long as that took
    # (3 s at least), so a loaded machine cannot make "nothing came back" true by itself.
    n, back, took = kill_and_watch(hold=False, wait=60.0)
    print(f"without hold: workers {n} restarted {back} (seen after {took:.1f} s)", flush=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(workers()) < 1:  # the restarted worker, up
        time.sleep(0.1)
    n, back, _ = kill_and_watch(hold=True, wait=max(3.0, 3 * took))
    print(f"with hold: workers {n} restarted {back}", flush=True)
    os._exit(0)
