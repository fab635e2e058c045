"""Run by tests/test_interrupt.py in a fresh process: a local Dask cluster's
worker killed the way ketl's Ctrl-C handler kills it, with or without the
handler's hold on the nannies first. Prints how many workers came back."""

import logging
import os
import sys
import time

from distributed import LocalCluster

from ketl.run import interrupt, watchdog


def workers() -> list[int]:
    procs = watchdog._processes()  # noqa: SLF001 - the handler's own scan
    return [p for p in watchdog.descendants({os.getpid()}, procs) if interrupt._is_worker(p)]  # noqa: SLF001


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0")
    before = workers()
    if sys.argv[1] == "hold":
        interrupt._hold_nannies()  # noqa: SLF001
    interrupt._kill_workers()  # noqa: SLF001
    deadline = time.monotonic() + 6  # a nanny restarts its worker within about a second
    back: list[int] = []
    while time.monotonic() < deadline and not back:
        time.sleep(0.2)
        back = [p for p in workers() if p not in before]
    print(f"workers {len(before)} restarted {len(back)}", flush=True)
    os._exit(0)
