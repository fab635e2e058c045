"""Checks on an existing Dask cluster before a run is handed to it (``--dask-address``).

Without them a wrong address or an unreachable Prefect API shows up as a
traceback from deep inside Prefect, after its start-up. Prefect sends its
settings (the API URL included) with every task, so the workers use the flow's
API: a temporary server on this machine's loopback serves workers on this
machine only. Workers elsewhere need ``PREFECT_API_URL`` to name a server they
can reach.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

__all__ = ["ClusterError", "check_cluster", "remote_workers"]


class ClusterError(ValueError):
    """The cluster cannot run this job (unreachable, no workers, cannot reach the API)."""


def _local_addresses() -> set[str]:
    found = {"localhost", socket.gethostname()}
    try:
        found.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    try:
        import psutil

        for addrs in psutil.net_if_addrs().values():
            found.update(a.address.split("%")[0] for a in addrs)
    except ImportError:
        pass
    return found


def _host(address: str) -> str:
    return urlsplit(address if "://" in address else f"tcp://{address}").hostname or ""


def remote_workers(worker_addresses: list[str], local: set[str] | None = None) -> list[str]:
    """The worker addresses that are not on this machine."""
    local = _local_addresses() if local is None else local
    out = []
    for addr in worker_addresses:
        host = _host(addr)
        try:
            if ipaddress.ip_address(host).is_loopback:
                continue
        except ValueError:
            pass
        if host not in local:
            out.append(addr)
    return out


def _refused_at_once(address: str, timeout: float = 3.0) -> None:
    """A scheduler address where nothing listens is said at once: Dask's client
    would retry for its whole timeout (10 s) before giving up."""
    parsed = urlsplit(address if "://" in address else f"tcp://{address}")
    if parsed.scheme not in ("tcp", "") or not parsed.hostname or not parsed.port:
        return  # tls://, inproc://, ...: leave them to Dask
    try:
        socket.create_connection((parsed.hostname, parsed.port), timeout=timeout).close()
    except ConnectionRefusedError as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    except OSError:
        return  # a slow or filtered network: Dask's own timeout decides


def check_cluster(address: str, api_configured: bool, timeout: float = 10.0,
                  folders: tuple[str, ...] = ()) -> int:
    """Connect to the scheduler at ``address``; return its number of workers.

    Raises :class:`ClusterError` when it cannot be reached, has no workers,
    has a worker that does not see one of ``folders`` (absolute paths: the raw
    folder, the output's folder), or (without a configured Prefect API) has
    workers on other machines.
    """
    from distributed import Client

    _refused_at_once(address)
    try:
        with Client(address, timeout=timeout) as client:
            workers = list(client.scheduler_info().get("workers", {}))
            # Workers read raw/ and write the staging snapshot themselves: a
            # folder they do not see would fail every batch, deep in Prefect.
            blind = {f: [w for w, ok in client.run(os.path.isdir, f).items() if not ok] for f in folders}
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    if not workers:
        raise ClusterError(f"the Dask cluster at {address} has no workers")
    for folder, missing in blind.items():
        if missing:
            raise ClusterError(f"{len(missing)} of the {len(workers)} Dask workers do not see {folder} "
                               f"({', '.join(missing[:3])}): put --raw and --out where every worker "
                               "sees them under the same path")
    if not api_configured:
        remote = remote_workers(workers)
        if remote:
            raise ClusterError(
                f"{len(remote)} of the cluster's workers run on other machines ({', '.join(remote[:3])}), and "
                "they cannot reach a temporary Prefect server on this one: start a server they can reach "
                "(`prefect server start --host 0.0.0.0`) and set PREFECT_API_URL=http://<this host>:4200/api")
    return len(workers)
