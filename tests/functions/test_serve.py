"""`python -m functions.serve` for real, as a subprocess on 127.0.0.1: the HTTP contract, the
cold flag as clients see it, keep-alive, errors, configuration failures and graceful shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO

import pytest
from support.function_servers import ROOT, Response, ServeProcess, request, serve_env
from support.servers import free_port

Serve = Callable[..., ServeProcess]


def read_response(stream: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, body


def post(body: bytes, path: str = "/") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def test_probes_do_not_take_the_cold_flag_and_requests_share_a_connection(serve: Serve) -> None:
    server = serve("echo")
    for path in ("/_/health", "/_/ready", "/_/health"):
        probe = request(server.port, "GET", path)
        assert probe.status == 200
        assert probe.json()["function"] == "echo"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        sock.sendall(post(b'{"x": 1}'))
        first_status, first_headers, first_body = read_response(stream)
        sock.sendall(post(b'{"x": 2}', "/any/path"))
        second_status, _, second_body = read_response(stream)
        stream.close()
    first, second = json.loads(first_body), json.loads(second_body)
    assert (first_status, second_status) == (200, 200)
    assert first_headers["content-type"] == "application/json"
    assert "connection" not in first_headers
    assert first["result"] == {"x": 1}
    assert second["result"] == {"x": 2}
    assert first["meta"]["cold"] is True
    assert second["meta"]["cold"] is False
    assert first["meta"]["instance"] == second["meta"]["instance"] == probe.json()["instance"]
    assert first["meta"]["adapter"] == "http"


def test_a_new_process_is_a_new_cold_instance(serve: Serve) -> None:
    first = request(serve("echo").port).json()["meta"]
    second = request(serve("echo").port).json()["meta"]
    assert first["cold"] is True
    assert second["cold"] is True
    assert first["instance"] != second["instance"]


def test_get_with_query_parameters_and_the_response_headers(serve: Serve) -> None:
    server = serve("matrix")
    response = request(server.port, "GET", "/?n=3&seed=5", headers={"X-Call-Id": "call-77"})
    assert response.status == 200
    assert response.json()["result"]["n"] == 3
    assert response.json()["result"]["seed"] == 5
    assert response.headers["x-call-id"] == "call-77"
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.body)
    empty = request(server.port, "POST", "/", body=b"")
    assert empty.status == 200
    assert empty.json()["result"]["n"] == 100


def test_a_chunked_body_is_read(serve: Serve) -> None:
    server = serve("echo")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'4\r\n{"a"\r\n5\r\n: 12}\r\n0\r\n\r\n'
        )
        status, _, body = read_response(stream)
        sock.sendall(post(b"{}"))
        assert read_response(stream)[0] == 200
        stream.close()
    assert status == 200
    assert json.loads(body)["result"] == {"a": 12}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"n": "big"}, 400, "n must be an integer, got 'big'"),
        ({"n": 100_000}, 400, "n must be between 1 and 400, got 100000"),
        ([1, 2], 400, "parameters must be a JSON object, got list"),
        (b"{not json", 400, "the body is not valid JSON"),
        (b"[" * 100_000, 400, "the body is not valid JSON"),
        (b'{"n": "\xff"}', 400, "the body is not valid JSON"),
    ],
)
def test_bad_parameters_are_400_without_traceback(
    serve: Serve, body: Any, status: int, error: str
) -> None:
    server = serve("matrix")
    response = request(server.port, body=body)
    assert response.status == status
    assert response.json()["error"].startswith(error)
    assert b"Traceback" not in response.body
    assert request(server.port, body={"n": 2}).status == 200


def test_a_failure_is_500_with_meta(serve: Serve) -> None:
    server = serve("ftp")
    params = {"host": "127.0.0.1", "port": free_port(), "file": "x", "timeout_s": 2}
    response = request(server.port, body=params)
    assert response.status == 500
    assert response.json()["error"].startswith("ftp connect at 127.0.0.1")
    assert response.json()["meta"]["function"] == "ftp"
    assert response.json()["meta"]["cold"] is True


def test_unknown_probe_path_and_oversized_body(serve: Serve) -> None:
    server = serve("echo")
    assert request(server.port, "GET", "/_/nothing").status == 404
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\n\r\n")
        status, headers, _ = read_response(stream)
        stream.close()
    assert status == 413
    assert headers["connection"] == "close"
    assert request(server.port, body={"still": "serving"}).status == 200


def run_serve(function: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "functions.serve", *args],
        cwd=ROOT,
        env=serve_env(function, free_port()),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_unknown_or_missing_function_fails_at_start_with_a_clear_message() -> None:
    unknown = run_serve("matrixx")
    assert unknown.returncode == 2
    assert "unknown function 'matrixx'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    missing = run_serve(None)
    assert missing.returncode == 2
    assert "FUNCTION is not set" in missing.stderr


def test_help_describes_the_settings() -> None:
    result = run_serve(None, "--help")
    assert result.returncode == 0
    for word in ("FUNCTION", "PORT", "HOST", "SHUTDOWN_GRACE_S", "/_/health"):
        assert word in result.stdout


def threads_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(serve: Serve) -> None:
    server = serve("sleep")
    answers: list[Response] = []
    caller = threading.Thread(target=lambda: answers.append(request(server.port, body={"ms": 800})))
    idle_threads = threads_of(server.process.pid)
    caller.start()
    # The server takes each connection on a thread of its own: once it is there the request is
    # in flight, however long this machine took to get it there.
    deadline = time.monotonic() + 30
    while threads_of(server.process.pid) == idle_threads:
        assert time.monotonic() < deadline, "the request never reached the server"
        time.sleep(0.01)
    time.sleep(0.1)  # from the new thread to the request counted in flight: a few lines
    server.process.send_signal(signal.SIGTERM)
    caller.join(timeout=10)
    assert server.process.wait(timeout=10) == 0
    assert len(answers) == 1
    assert answers[0].status == 200
    assert answers[0].json()["result"]["ms"] == 800.0
    with pytest.raises(ConnectionRefusedError):
        request(server.port, "GET", "/_/health", timeout=2)


def test_sigint_exits_0_too(serve: Serve) -> None:
    server = serve("echo")
    assert request(server.port).status == 200
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=10) == 0
