"""The Dask processes on the loader pool: their command lines, the start of the scheduler (on
the first loader) and of a worker on every loader, the wait until all workers joined, and the
stop of them all with their logs kept and each loader's certificates removed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from distributed.security import Security

from contract.outputs import Loaders, PortRange
from loadgen.loaders.stack_scripts import REMOVE, START, STOP, TAIL, WAIT_FOR_LOG
from loadgen.loaders.stack_ssh import (
    Echo,
    LoaderPoolError,
    Slot,
    each,
    last_lines,
    run_ssh,
)
from loadgen.remote.ssh import RemoteError
from loadgen.remote.wheel import Wheel

#: What the scheduler logs once it listens.
SCHEDULER_READY = "Scheduler at:"
#: A worker that loses its scheduler for this long exits (a pool whose driver vanished ends).
WORKER_DEATH_TIMEOUT_S = 60

#: The files each loader's slot holds, as the dask commands name them (relative to the slot).
TLS_ARGS = ["--tls-ca-file", "ca.pem", "--tls-cert", "cert.pem", "--tls-key", "key.pem"]


def scheduler_args(host: str, port: int) -> list[str]:
    """`dask scheduler`'s arguments: TLS on `host:port` (the first loader), no dashboard."""
    return [
        "--protocol", "tls", "--host", host, "--port", str(port), *TLS_ARGS, "--no-dashboard",
    ]  # fmt: skip


def worker_args(scheduler: str, host: str, ports: PortRange, name: str) -> list[str]:
    """`dask worker`'s arguments: one process with one thread and no nanny (the worker starts
    loader processes with subprocess; a nanny's daemonic worker could not), TLS on `host` in
    the pool's port range, gone when its scheduler is gone for `WORKER_DEATH_TIMEOUT_S`."""
    return [
        scheduler, "--name", name, "--protocol", "tls", "--host", host,
        "--worker-port", ports.dask(), *TLS_ARGS, "--nworkers", "1", "--nthreads", "1",
        "--no-nanny", "--no-dashboard", "--local-directory", "work",
        "--death-timeout", str(WORKER_DEATH_TIMEOUT_S),
    ]  # fmt: skip


@dataclass
class PoolRun:
    """One run of the pool: its loaders and slots, the session naming its folders on them, the
    wheel they run, where logs go here, and which (slot, role) were started so far."""

    loaders: Loaders
    slots: list[Slot]
    session: str
    directory: str
    wheel: Wheel
    work_dir: Path
    echo: Echo
    started: list[tuple[Slot, str]]


def start_role(pool: PoolRun, slot: Slot, role: str, args: list[str]) -> None:
    """`dask <role> args` on the slot's loader, detached; recorded first so a failure stops it."""
    pool.started.append((slot, role))
    result = run_ssh(
        slot.target, START, pool.directory, pool.session, slot.name, role,
        pool.wheel.content_hash, *args, timeout=120,
    )  # fmt: skip
    if result.returncode != 0:
        raise LoaderPoolError(
            f"{slot.target.name}: starting the {role} failed: {last_lines(result.stderr)}"
        )


def start_scheduler(pool: PoolRun, timeout_s: float) -> None:
    first = pool.slots[0]
    port = pool.loaders.scheduler_port
    pool.echo(f"starting the scheduler on {first.host}:{port} (TLS only)")
    start_role(pool, first, "scheduler", scheduler_args(first.host, port))
    waited = run_ssh(
        first.target, WAIT_FOR_LOG, pool.directory, pool.session, first.name, "scheduler",
        SCHEDULER_READY, str(int(timeout_s)), timeout=timeout_s + 60,
    )  # fmt: skip
    if waited.returncode != 0:
        raise LoaderPoolError(f"{first.target.name}: {last_lines(waited.stderr, 25)}")


def start_workers(pool: PoolRun) -> None:
    ports = pool.loaders.worker_ports
    pool.echo(f"starting {len(pool.slots)} worker(s) on ports {ports.first}-{ports.last}")

    def start(slot: Slot) -> None:
        start_role(
            pool, slot, "worker", worker_args(pool.loaders.scheduler, slot.host, ports, slot.name)
        )

    each(pool.slots, start)


def await_workers(pool: PoolRun, address: str, security: Security, timeout_s: float) -> None:
    """Connect as the driver and wait until every loader's worker has joined; name those that
    did not, with their logs' last lines."""
    from distributed import Client

    expected = {slot.name for slot in pool.slots}
    joined: set[str] = set()
    try:
        with Client(address, security=security, timeout=timeout_s) as client:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                workers = client.scheduler_info(n_workers=-1)["workers"].values()
                joined = {str(worker.get("name")) for worker in workers}
                if expected <= joined:
                    break
                time.sleep(0.5)
    except OSError as exc:
        raise LoaderPoolError(f"cannot reach the scheduler at {address} over TLS: {exc}") from exc
    missing = [slot for slot in pool.slots if slot.name not in joined]
    if not missing:
        pool.echo(f"{len(expected)} worker(s) joined the scheduler")
        return
    details = []
    for slot in missing:
        tail = run_ssh(slot.target, TAIL, pool.directory, pool.session, slot.name, "worker")
        details.append(f"{slot.name} ({slot.host}):\n{last_lines(tail.stdout)}")
    raise LoaderPoolError(
        f"{len(missing)} of {len(expected)} worker(s) did not join in {timeout_s:.0f} s: "
        + "\n".join(details)
    )


def stop_pool(pool: PoolRun) -> None:
    """Workers first, then the scheduler; each one's log kept in work_dir/logs; then every
    slot's files (certificates, key) removed from the loaders."""
    if pool.started:
        pool.echo("stopping the workers and the scheduler")
    logs = pool.work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    def stop(item: tuple[Slot, str]) -> None:
        slot, role = item
        try:
            result = run_ssh(
                slot.target, STOP, pool.directory, pool.session, slot.name, role, timeout=60
            )
        except RemoteError as exc:
            problems.append(str(exc))
            return
        (logs / f"{slot.name}-{role}.log").write_bytes(result.stdout)

    workers = [item for item in pool.started if item[1] == "worker"]
    each(workers, stop)
    each([item for item in pool.started if item[1] != "worker"], stop)

    def remove(slot: Slot) -> None:
        try:
            run_ssh(slot.target, REMOVE, pool.directory, pool.session, slot.name, timeout=60)
        except RemoteError as exc:
            problems.append(str(exc))

    each(pool.slots, remove)
    for problem in problems:
        pool.echo(f"WARNING: {problem}")
    if pool.started:
        pool.echo(f"stopped; their logs are in {logs}")
