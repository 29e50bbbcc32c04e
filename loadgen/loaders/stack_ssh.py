"""SSH to the stack's loaders: one script on one loader (in a session of its own), the same
work on many loaders at once, and the local forward to the scheduler through the bastion."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from contract.outputs import Loaders, SshHost
from loadgen.remote.ssh import (
    SSH_FAILED,
    RemoteError,
    SshTarget,
    describe_ssh_failure,
)

Echo = Callable[[str], None]
T = TypeVar("T")

#: How many loaders are prepared, started and stopped at once.
PARALLEL = 16


class LoaderPoolError(RemoteError):
    """The loader pool could not be started; the message names the loader and never holds a
    secret."""


@dataclass(frozen=True)
class Slot:
    """One loader of the pool: its index, address and how ssh reaches it."""

    index: int
    target: SshTarget

    @property
    def name(self) -> str:
        return f"loader-{self.index}"

    @property
    def host(self) -> str:
        return self.target.host


def loader_slots(
    loaders: Loaders, key: Path, known_hosts: Path, port: int, bastion: SshHost | None
) -> list[Slot]:
    """A slot per loader of the outputs, reached with `key` through the bastion if any."""
    proxy = (
        SshTarget(bastion.host, bastion.user, port, key, known_hosts)
        if bastion is not None
        else None
    )
    return [
        Slot(index, SshTarget(host.host, host.user, port, key, known_hosts, proxy))
        for index, host in enumerate(loaders.hosts)
    ]


def run_ssh(
    target: SshTarget,
    script: str,
    *args: str,
    stdin: IO[bytes] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[bytes]:
    """ssh running `script` in a session of its own, so that a terminal's Ctrl-C reaches only
    this process, which then stops the pool in order; ssh's failures raise `LoaderPoolError`."""
    try:
        result = subprocess.run(
            target.argv(script, *args),
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        raise LoaderPoolError(f"{target.name}: no answer in {timeout:.0f} s") from None
    if result.returncode == SSH_FAILED:
        raise LoaderPoolError(describe_ssh_failure(target, result.stderr.decode(errors="replace")))
    return result


def last_lines(data: bytes, count: int = 15) -> str:
    lines = [line for line in data.decode(errors="replace").splitlines() if line.strip()]
    return "\n".join(lines[-count:]) if lines else "no message"


def each(items: Sequence[T], work: Callable[[T], None]) -> None:
    """`work` on every item at once (at most `PARALLEL`); the first failure is raised after
    all have ended."""
    if not items:
        return
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(items))) as pool:
        futures = [pool.submit(work, item) for item in items]
    for future in futures:
        future.result()


def forward_argv(bastion: SshTarget, local_port: int, host: str, port: int) -> list[str]:
    """ssh forwarding 127.0.0.1:`local_port` here to `host:port` as the bastion sees it."""
    return [
        "ssh", *bastion.options(), "-N", "-o", "ExitOnForwardFailure=yes",
        "-L", f"127.0.0.1:{local_port}:{host}:{port}", f"{bastion.user}@{bastion.host}",
    ]  # fmt: skip


def reachable(host: str, port: int, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_local_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def scheduler_forward(
    bastion: SshTarget, host: str, port: int, log: Path, echo: Echo
) -> Iterator[str]:
    """An SSH local forward to the scheduler through the bastion, for the `with` block."""
    local = free_local_port()
    echo(f"reaching the scheduler through {bastion.name} (127.0.0.1:{local})")
    with log.open("ab") as errors:
        process = subprocess.Popen(
            forward_argv(bastion, local, host, port),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not reachable("127.0.0.1", local, timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                detail = last_lines(log.read_bytes(), 3) if log.exists() else "no message"
                raise LoaderPoolError(
                    f"forwarding 127.0.0.1:{local} to {host}:{port} through {bastion.name} "
                    f"failed: {detail}"
                )
            time.sleep(0.2)
        yield f"tls://127.0.0.1:{local}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
