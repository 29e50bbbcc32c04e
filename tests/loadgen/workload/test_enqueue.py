"""The enqueue workload against a real Redis server (Debian's redis-server) on 127.0.0.1 and
the suite's queue consumers as real processes: jobs pushed in an open loop, completion records
read back, enqueue → completion latency per job, losses counted, backlog and replicas sampled."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from support.queue_server import Consumers, QueueServer, redis_server

from contract.keda import completions_key, jobs_key
from functions import consumer
from loadgen.workload.enqueue import EnqueueLoop, offsets, percentiles, run_enqueue


@pytest.fixture
def server(tmp_path: Path) -> Iterator[QueueServer]:
    with redis_server(tmp_path) as running:
        yield running


@pytest.fixture
def consumers(server: QueueServer) -> Iterator[Consumers]:
    started = Consumers(server)
    yield started
    started.stop_all()


def client(server: QueueServer) -> redis.Redis:
    return redis.Redis(port=server.port, host="127.0.0.1", password=server.password)


def wait_for(condition, timeout_s: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_the_consumer_uses_the_contract_s_keys() -> None:
    assert jobs_key("matrix") == consumer.JOBS_PREFIX + "matrix"
    assert completions_key("matrix") == consumer.DONE_PREFIX + "matrix"


def test_every_job_completes_and_its_latency_spans_the_work(
    server: QueueServer, consumers: Consumers
) -> None:
    for _ in range(2):
        consumers.start("sleep")
    workload = EnqueueLoop(
        rate=40, duration_s=0.5, arrival="constant", drain_s=30, sample_interval_s=0.1
    )
    result = asyncio.run(
        run_enqueue(
            server.url,
            server.password,
            "sleep",
            workload,
            params={"ms": 20},
            run_id="r1",
            replicas=lambda: asyncio.sleep(0, result=consumers.alive()),
        )
    )
    assert len(result.jobs) == len(list(offsets(workload))) == 20
    assert not [j for j in result.jobs if j.lost]
    assert {j.status for j in result.jobs} == {200}
    for job in result.jobs:
        assert job.completion_ms is not None
        assert job.wait_ms is not None
        assert job.completion_ms >= 20  # the handler slept 20 ms after the push
        assert 0 <= job.wait_ms <= job.completion_ms
        assert job.enqueued_ns >= job.intended_ns - 1_000_000  # never before its slot
    # One cold job per consumer that took any: each instance's first.
    instances = {j.instance for j in result.jobs}
    assert 1 <= len(instances) <= 2
    assert sum(bool(j.cold) for j in result.jobs) == len(instances)
    summary = result.summary()
    assert summary["requests"] == summary["ok"] == 20
    assert summary["errors"] == {"lost": 0, "failed": 0}
    assert summary["latency_ms"]["p50"] >= 20  # type: ignore[index]
    assert result.samples
    assert {s.replicas for s in result.samples} == {2}
    assert result.samples[-1].completed == 20  # the last sample is the run's end
    # The lists are left empty: nothing waits, every record was taken.
    assert client(server).llen(jobs_key("sleep")) == 0
    assert client(server).llen(completions_key("sleep")) == 0


def test_jobs_nobody_takes_are_lost_and_the_backlog_shows_them(server: QueueServer) -> None:
    stale = json.dumps({"id": "old-1", "enqueued_ns": 1, "start_ns": 2, "end_ns": 3,
                        "instance": "x", "cold": False, "status": 200})  # fmt: skip
    client(server).rpush(completions_key("echo"), stale)
    client(server).lpush(jobs_key("echo"), '{"id": "left-over"}')
    workload = EnqueueLoop(
        rate=20, duration_s=0.5, arrival="constant", drain_s=0.3, sample_interval_s=0.05
    )
    result = asyncio.run(
        run_enqueue(server.url, server.password, "echo", workload, params={}, run_id="r2")
    )
    assert len(result.jobs) == 10
    assert all(j.lost and j.completion_ms is None for j in result.jobs)
    assert result.summary()["errors"] == {"lost": 10, "failed": 0}
    assert result.summary()["ok"] == 0
    # The run started from empty lists: the old record and job were not this run's.
    assert result.unexpected == 0
    assert max(s.backlog for s in result.samples) == 10
    assert {s.replicas for s in result.samples} == {None}


def test_a_consumer_stopped_mid_job_finishes_and_records_it(
    server: QueueServer, consumers: Consumers
) -> None:
    process = consumers.start("sleep")
    queue = client(server)
    queue.lpush(
        jobs_key("sleep"), json.dumps({"id": "j1", "params": {"ms": 600}, "enqueued_ns": 5})
    )
    wait_for(lambda: queue.llen(jobs_key("sleep")) == 0)
    process.send_signal(signal.SIGTERM)  # what scaling a pod down sends
    assert process.wait(timeout=20) == 0
    [raw] = queue.lrange(completions_key("sleep"), 0, -1)
    record = json.loads(raw)
    assert record["id"] == "j1"
    assert record["status"] == 200
    assert record["cold"] is True
    assert record["end_ns"] - record["start_ns"] >= 600_000_000


def test_bad_jobs_are_dropped_and_bad_parameters_recorded_as_400(
    server: QueueServer, consumers: Consumers
) -> None:
    queue = client(server)
    queue.lpush(jobs_key("sleep"), b"not json", json.dumps({"id": "p", "params": {"ms": -1}}))
    consumers.start("sleep")
    wait_for(lambda: queue.llen(completions_key("sleep")) == 1)
    time.sleep(0.3)  # the malformed job is taken and gets no record
    assert queue.llen(jobs_key("sleep")) == 0
    [raw] = queue.lrange(completions_key("sleep"), 0, -1)
    record = json.loads(raw)
    assert record["id"] == "p"
    assert record["status"] == 400
    assert "ms" in record["error"]


def test_a_wrong_password_is_refused_and_the_consumer_keeps_retrying(
    server: QueueServer, consumers: Consumers
) -> None:
    consumers.server = QueueServer(server.port, password="wrong")
    process = consumers.start("echo")
    time.sleep(1.0)
    assert process.poll() is None  # still retrying, not crashed
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert b"queue unavailable" in consumers.log(process)


def test_percentiles_are_nearest_rank() -> None:
    assert percentiles([]) == {"p50": None, "p90": None, "p99": None, "max": None}
    values: list[float | None] = [float(v) for v in range(1, 101)] + [None]
    assert percentiles(values) == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
