"""Load the process cannot keep up with stays bounded: the open loop catches up in slices (the
event loop runs between them) and holds at most MAX_QUEUED waiting arrivals, dropping and
counting the rest; Ctrl-C ends a run against a target that never answers promptly, with the
records intact."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.loadgen_servers import parse_json_stdout

from loadgen.engine.clock import now_ns
from loadgen.record.format import RECORD_FILE_SUFFIX
from loadgen.workload.open import CATCH_UP_BATCH, OpenLoopDriver


class StuckEngine:
    """An engine whose requests never end."""

    def __init__(self) -> None:
        self.inflight = 0
        self.connections_opened = 0

    def send(self, intended_ns: int) -> None:
        self.inflight += 1


class CountingRecorder:
    def __init__(self) -> None:
        self.drops = 0

    def on_drop(self, intended_ns: int, at_ns: int) -> None:
        self.drops += 1

    def on_result(self, *fields: object) -> None:
        raise AssertionError("a stuck engine reports nothing")


class ManualTimer:
    def __init__(self) -> None:
        self.armed: int | None = None

    def arm(self, at_ns: int) -> None:
        self.armed = at_ns

    def close(self) -> None:
        self.armed = None


def test_an_overdue_schedule_is_caught_up_in_slices_with_a_bounded_queue() -> None:
    arrivals = 50_000
    timer = ManualTimer()
    fired: list[Callable[[], None]] = []

    def factory(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> ManualTimer:
        fired.append(callback)
        return timer

    async def scenario() -> tuple[OpenLoopDriver, StuckEngine, CountingRecorder, int]:
        recorder = CountingRecorder()
        engine = StuckEngine()
        driver = OpenLoopDriver(
            recorder,
            iter(range(0, arrivals * 1000, 1000)),  # every arrival is already due
            max_inflight=10,
            drop_when_saturated=False,
            timer_factory=factory,
            max_queued=1_000,
        )
        driver.bind(engine)  # type: ignore[arg-type]
        driver.start(now_ns() - 10**9)
        [callback] = fired
        callback()
        first_slice = driver.sent + driver.queued + driver.dropped
        assert timer.armed is not None
        assert timer.armed <= now_ns()  # due again: the loop runs before the next slice
        while timer.armed is not None:
            callback()
            assert driver.queued <= 1_000
        return driver, engine, recorder, first_slice

    driver, engine, recorder, first_slice = asyncio.run(scenario())
    assert first_slice == CATCH_UP_BATCH
    assert engine.inflight == driver.sent == 10
    assert driver.queued == driver.queued_max == 1_000
    assert driver.dropped == recorder.drops == arrivals - 10 - 1_000


# --- Ctrl-C against a target that never answers ---------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.mark.parametrize(
    "load",
    [
        ["-c", "20", "-n", "100000"],
        ["--rate", "1000000", "--duration", "600", "--max-inflight", "50"],
    ],
    ids=["closed", "open-overloaded"],
)
def test_ctrl_c_ends_a_run_whose_requests_never_end_with_records_kept(
    load: list[str], silent_port: int, tmp_path: Path
) -> None:
    out = tmp_path / "records"
    process = subprocess.Popen(
        [sys.executable, "-m", "loadgen", "hit", f"http://127.0.0.1:{silent_port}/", *load,
         "--timeout", "600", "--processes", "2", "--records", str(out), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(list(out.glob(f"*{RECORD_FILE_SUFFIX}"))) < 2:  # both workers are running
            assert time.monotonic() < deadline, "the run did not start"
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.1)
        time.sleep(1)
        os.killpg(process.pid, signal.SIGINT)
        # Requests never end and their timeout is 600 s: only the stop path ends this run.
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 130, stderr
    summary = parse_json_stdout(stdout)
    assert summary["interrupted"] is True
    inspected = subprocess.run(
        [sys.executable, "-m", "loadgen", "inspect", str(out), "--json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    report = json.loads(inspected.stdout)
    assert report["complete"] is True  # every file has its footer: nothing torn
    assert {file["reason"] for file in report["files"]} == {"interrupted"}
    assert report["records"] == summary["records"]
