"""Opening a pool of loaders: a Dask client and the workers it may use, one loader each.

`local:N` starts a LocalCluster of N single-threaded worker processes on 127.0.0.1; an address
connects to a scheduler already running (with TLS files from options, or else from Dask's own
configuration, `distributed.comm.tls.*`); `stack` asks the stack's loader pool for a scheduler
and the client's TLS settings and connects the same way. Whatever the pool started is stopped
when the context ends.
"""

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import dask
from distributed import Client, LocalCluster
from distributed.security import Security

from contract.outputs import StackOutputs
from loadgen.loaders.spec import LoadersSpec, PoolError, TlsFiles

CONNECT_TIMEOUT_S = 30.0
QUIET_WORKERS: dict[str, object] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
}
"""Dask's defaults wake every process many times a second (statistical profiling every 10 ms
while a task runs, event-loop checks every 20 ms, memory checks every 100 ms): on a loader
that is CPU taken from the load. A local pool starts with these instead; a cluster started by
others should too (docs/distributed.md)."""
WORKERS_TIMEOUT_S = 60.0


def security_of(tls: TlsFiles) -> Security:
    """The client's Dask `Security` for a tls:// scheduler from its files."""
    for path in (tls.ca_file, tls.cert, tls.key):
        if path is not None and not path.is_file():
            raise PoolError(f"{path}: no such TLS file")
    return Security(
        tls_ca_file=str(tls.ca_file),
        tls_client_cert=str(tls.cert),
        tls_client_key=str(tls.key) if tls.key is not None else None,
        require_encryption=True,
    )


@dataclass
class LoaderPool:
    """A connected pool: its client and what it was opened from."""

    client: Client
    spec: LoadersSpec

    def loaders(self) -> list[str]:
        """The running workers' addresses, sorted: one loader each."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        return sorted(
            address
            for address, info in workers.items()
            if info.get("status", "running") == "running"
        )

    def alive(self) -> set[str]:
        """The addresses of the workers the scheduler knows now (a light call: the driver
        asks it four times a second during a run)."""
        return set(self.client.nthreads())


def _connect(address: str, security: Security | None, minimum: int) -> Client:
    try:
        client = Client(address, security=security, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise PoolError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None
    try:
        client.wait_for_workers(minimum, timeout=WORKERS_TIMEOUT_S)
    except (TimeoutError, OSError) as exc:
        client.close()
        raise PoolError(
            f"the Dask cluster at {address} has no workers to use as loaders ({exc})"
        ) from None
    return client


@contextmanager
def open_pool(
    spec: LoadersSpec,
    *,
    tls: TlsFiles | None = None,
    outputs: StackOutputs | None = None,
    work_dir: Path | None = None,
) -> Iterator[LoaderPool]:
    """The pool `spec` names, open for the duration of the context."""
    with ExitStack() as stack:
        if spec.kind == "local":
            assert spec.workers is not None
            with dask.config.set(QUIET_WORKERS):
                cluster = LocalCluster(
                    n_workers=spec.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            stack.callback(cluster.close)
            client = Client(cluster)
            stack.callback(client.close)
            client.wait_for_workers(spec.workers, timeout=WORKERS_TIMEOUT_S)
        elif spec.kind == "address":
            assert spec.address is not None
            security = security_of(tls) if tls is not None else None
            client = _connect(spec.address, security, 1)
            stack.callback(client.close)
        else:
            if outputs is None or work_dir is None:
                raise PoolError("--loaders stack needs the stack's outputs (--stack-outputs)")
            from loadgen.loaders.stack import stack_pool

            address, security = stack.enter_context(stack_pool(outputs, work_dir))
            client = _connect(address, security, 1)
            stack.callback(client.close)
        yield LoaderPool(client=client, spec=spec)
