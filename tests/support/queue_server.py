"""A real Redis server (Debian's redis-server) on 127.0.0.1 for the queue tests, and the suite's
queue consumers as real processes (`python -m functions.consumer`) reading from it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from support.function_servers import ROOT
from support.servers import free_port

PASSWORD = "queue-test-password"


@dataclass
class QueueServer:
    port: int
    password: str = PASSWORD

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def _wait_listening(process: subprocess.Popen[bytes], port: int, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not listen in time")


@contextmanager
def redis_server(work: Path) -> Iterator[QueueServer]:
    """redis-server on a free loopback port with a password and no persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (scripts/bootstrap.sh installs it)")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--requirepass", PASSWORD,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(work),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_listening(process, port)
        yield QueueServer(port)
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Consumers:
    server: QueueServer
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    #: Each consumer's stderr, in a file (a pipe nobody reads would block it once full).
    logs: list[IO[bytes]] = field(default_factory=list)

    def start(self, function: str, key: str | None = None) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QUEUE_", "FUNCTION"))}
        env.update(
            FUNCTION=function,
            QUEUE_ADDRESS=self.server.address,
            QUEUE_KEY=key or function,
            QUEUE_PASSWORD=self.server.password,
            PYTHONPATH=str(ROOT),
        )
        log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop_all)
        self.logs.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "functions.consumer"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        self.processes.append(process)
        return process

    def log(self, process: subprocess.Popen[bytes]) -> bytes:
        """What `process` wrote to stderr so far."""
        handle = self.logs[self.processes.index(process)]
        handle.flush()
        handle.seek(0)
        return handle.read()

    def alive(self) -> int:
        return sum(p.poll() is None for p in self.processes)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()
