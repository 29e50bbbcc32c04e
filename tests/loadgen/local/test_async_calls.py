"""Asynchronous calls on the local target: `/async-function/<name>` answers 202 and the result
reaches the caller's `X-Callback-Url`, as OpenFaaS's queue worker delivers it; the queue is
bounded and says so (429), and every accepted call is counted as completed or failed."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.local_target import LocalTarget, run_cli, start_target, stop_target, wait_until

from loadgen.local.async_calls import AsyncCall, AsyncQueue, Forwarded, callback_url

WAIT_S = 60


@dataclass(frozen=True)
class Callback:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A callback receiver on 127.0.0.1 that answers `status` and keeps what it got, in order."""

    def __init__(self, status: int = 200) -> None:
        self.received: queue.Queue[Callback] = queue.Queue()
        received, answer = self.received, status

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                received.put(Callback({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/done"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def next(self) -> Callback:
        return self.received.get(timeout=WAIT_S)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.close()


def submit(target: LocalTarget, name: str, callback: str | None, **params: object) -> int:
    headers = {"X-Callback-Url": callback} if callback else {}
    response = target.client.post(
        f"{target.url}/async-function/{name}", json=params or None, headers=headers
    )
    return response.status_code


def metric(target: LocalTarget, outcome: str) -> int:
    gateway = target.outputs["openfaas"]["url"]
    text = target.client.get(f"{gateway}/metrics").text
    for line in text.splitlines():
        if line.startswith(f'faasbench_async_calls_total{{outcome="{outcome}"}}'):
            return int(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {outcome} series in /metrics")


def test_an_async_call_answers_202_and_its_result_reaches_the_callback(
    target: LocalTarget, receiver: Receiver
) -> None:
    assert target.deploy("echo", "echo").status_code == 202
    response = target.client.post(
        f"{target.url}/async-function/echo/sub?q=1",
        json={"x": 1},
        headers={"X-Callback-Url": receiver.url, "X-Call-Id": "async-1"},
    )
    assert response.status_code == 202, response.text
    assert response.headers["x-call-id"] == "async-1"
    assert int(response.headers["x-start-time"]) > 0
    done = receiver.next()
    assert done.headers["x-call-id"] == "async-1"
    assert done.headers["x-function-status"] == "200"
    assert done.headers["x-function-name"] == "echo"
    assert float(done.headers["x-duration-seconds"]) > 0
    assert json.loads(done.body)["result"] == {"q": "1", "x": 1}
    wait_until(lambda: metric(target, "completed") >= 1, WAIT_S, "the completed count")


def test_bad_callbacks_and_unknown_functions_are_refused_at_submission(
    target: LocalTarget, receiver: Receiver
) -> None:
    target.deploy("echo", "echo")
    bad = target.client.post(
        f"{target.url}/async-function/echo", headers={"X-Callback-Url": "ftp://x/y"}
    )
    assert bad.status_code == 400
    assert "X-Callback-Url" in bad.text
    assert submit(target, "no-such-function", receiver.url) == 404
    assert receiver.received.empty()


def test_a_refused_callback_is_counted_as_failed(target: LocalTarget) -> None:
    target.deploy("echo", "echo")
    refusing = Receiver(status=500)
    try:
        before = metric(target, "failed")
        assert submit(target, "echo", refusing.url) == 202
        refusing.next()
        wait_until(lambda: metric(target, "failed") == before + 1, WAIT_S, "the failed count")
    finally:
        refusing.close()


def test_the_queue_is_bounded_and_one_worker_runs_calls_in_order(
    tmp_path: Path, receiver: Receiver
) -> None:
    bounded = start_target(tmp_path, "--async-queue", "2")
    try:
        bounded.deploy("sleep", "sleep")
        assert bounded.invoke("sleep", ms=1).status_code == 200  # a replica is up
        statuses = [submit(bounded, "sleep", receiver.url, ms=1500 + i) for i in range(6)]
        # One call runs, two wait: the rest are refused, none is lost silently.
        assert statuses == [202, 202, 202, 429, 429, 429]
        slept = [json.loads(receiver.next().body)["result"]["ms"] for _ in range(3)]
        assert slept == [1500, 1501, 1502]
        assert metric(bounded, "rejected") == 3
        wait_until(lambda: metric(bounded, "completed") == 3, WAIT_S, "three completions")
    finally:
        stop_target(bounded)


def test_ce_limits_allow_one_queue_worker(tmp_path: Path) -> None:
    result = run_cli("up", "--dir", str(tmp_path / "state"), "--async-workers", "2", cwd=tmp_path)
    assert result.returncode != 0
    assert "--async-workers 2" in result.stderr
    assert "--no-ce-limits" in result.stderr


def test_the_queue_counts_a_call_whose_invocation_raised_as_failed() -> None:
    async def scenario() -> tuple[int, int]:
        async def broken(call: AsyncCall) -> Forwarded:
            raise RuntimeError("replica vanished")

        calls = AsyncQueue(capacity=4, workers=2, invoke=broken)
        calls.start()
        try:
            for i in range(3):
                assert calls.submit(AsyncCall("f", "POST", "", b"", {}, f"c{i}", None, 0))
            while calls.failed < 3:
                await asyncio.sleep(0.01)
        finally:
            await calls.stop()
        return calls.completed, calls.failed

    assert asyncio.run(scenario()) == (0, 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("http://127.0.0.1:9/cb", "http://127.0.0.1:9/cb")],
)
def test_callback_urls_are_absolute_http(value: str | None, expected: str | None) -> None:
    assert callback_url(value) == expected


@pytest.mark.parametrize("value", ["/relative", "ftp://host/x", "http://", "not a url"])
def test_other_callback_urls_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="X-Callback-Url"):
        callback_url(value)
