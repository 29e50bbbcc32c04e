"""Fixtures for the function suite: real `functions.serve` processes and a real FTP server, all
on 127.0.0.1 with ephemeral ports.

- `serve`: starts `python -m functions.serve` for a function and waits for its health probe;
- `ftp_server`: pyftpdlib in its own process (so its sockets never count as the test process's
  descriptors), one user, one seeded test file made the way the deployed server makes it;
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from support.function_servers import (
    FTP_SERVER_SCRIPT,
    ROOT,
    FtpServer,
    ServeProcess,
    serve_env,
    wait_healthy,
)
from support.servers import free_port

from contract.ftp import seeded_file_bytes


@pytest.fixture
def serve() -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def start(function: str, env: dict[str, str] | None = None) -> ServeProcess:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "functions.serve"],
            cwd=ROOT,
            env=serve_env(function, port, env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        server = ServeProcess(function, port, process)
        started.append(server)
        wait_healthy(process, port)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
        server.process.wait()
        if server.process.stderr is not None:
            server.process.stderr.close()


@pytest.fixture(scope="session")
def ftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FtpServer]:
    home = tmp_path_factory.mktemp("ftp-home")
    content = seeded_file_bytes("functions-test", 1024 * 1024 + 4099)
    (home / "testfile.bin").write_bytes(content)
    process = subprocess.Popen(
        [sys.executable, "-c", FTP_SERVER_SCRIPT, str(home), "bench", "s3cret"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield FtpServer("127.0.0.1", port, "bench", "s3cret", "testfile.bin", content)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
