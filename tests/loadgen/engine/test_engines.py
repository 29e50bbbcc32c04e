"""Both engines against the same real servers: they must agree, and classify errors alike."""

import asyncio
import json
from collections import Counter

import pytest
import uvloop
from support.jitter import SleepProbe
from support.loadgen_servers import (
    ENGINES,
    META_BODY,
    ListSink,
    ScriptedServer,
    Target,
    free_port,
    run_closed_loop,
)

from loadgen.engine import EngineOptions, ErrorKind, Http1Engine, RequestSpec
from loadgen.engine.clock import now_ns
from loadgen.engine.options import CORRELATION_HEADERS, ok_statuses


def outcome_counts(results: list) -> Counter:
    return Counter((result.status, result.error) for result in results)


@pytest.mark.parametrize("path", ["/", "/503", "/404", "/meta"])
def test_engines_agree_on_haproxy(haproxy: Target, path: str) -> None:
    runs = {
        engine: run_closed_loop(engine, haproxy.url(path), total=300, users=5) for engine in ENGINES
    }
    counts = {engine: outcome_counts(run.results) for engine, run in runs.items()}
    assert counts["http1"] == counts["aiohttp"]
    assert sum(counts["http1"].values()) == 300
    expected_status = {"/": 200, "/503": 503, "/404": 404, "/meta": 200}[path]
    assert set(counts["http1"]) == {
        (expected_status, ErrorKind.NONE if expected_status == 200 else ErrorKind.HTTP)
    }


@pytest.mark.parametrize(
    ("path", "status", "error", "nbytes"),
    [
        ("/ok", 200, ErrorKind.NONE, 2),
        ("/chunked/7", 200, ErrorKind.NONE, sum(len(f"chunk-{i};") for i in range(7))),
        ("/eof", 200, ErrorKind.NONE, len("until-close")),
        ("/close", 200, ErrorKind.NONE, 3),
        ("/continue", 200, ErrorKind.NONE, len("final")),
        ("/bytes/100000", 200, ErrorKind.NONE, 100_000),
        ("/status/500", 500, ErrorKind.HTTP, len("status")),
        ("/reset", 0, ErrorKind.RESET, 0),
        ("/truncated", None, ErrorKind.RESET, None),
        ("/garbage", 0, ErrorKind.PROTOCOL, 0),
    ],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_response_shapes_and_error_classes(
    scripted_server: ScriptedServer,
    engine: str,
    path: str,
    status: int | None,
    error: ErrorKind,
    nbytes: int | None,
) -> None:
    run = run_closed_loop(engine, scripted_server.url(path), total=20, users=2)
    assert len(run.results) == 20
    assert {result.error for result in run.results} == {error}
    if status is not None:
        assert {result.status for result in run.results} == {status}
    if nbytes is not None:
        assert {result.nbytes for result in run.results} == {nbytes}


@pytest.mark.parametrize("engine", ENGINES)
def test_connection_refused_is_a_connect_error(engine: str) -> None:
    run = run_closed_loop(engine, f"http://127.0.0.1:{free_port()}/", total=10, users=2)
    assert [result.error for result in run.results] == [ErrorKind.CONNECT] * 10
    assert all(result.status == 0 for result in run.results)


@pytest.mark.parametrize("engine", ENGINES)
def test_timeout_is_recorded_with_its_elapsed_time(
    scripted_server: ScriptedServer, engine: str
) -> None:
    options = EngineOptions(timeout_s=0.3)
    with SleepProbe() as probe:
        run = run_closed_loop(
            engine, scripted_server.url("/stall"), total=4, users=2, options=options
        )
    assert [result.error for result in run.results] == [ErrorKind.TIMEOUT] * 4
    # aiohttp times out on the event loop's millisecond clock, so it may fire a hair early.
    early_s = 0.0 if engine == "http1" else 0.002
    late_s = probe.slack(0.25)
    for result in run.results:
        elapsed_s = (result.end_ns - result.send_ns) / 1e9
        assert 0.3 - early_s <= elapsed_s < 0.3 + late_s


@pytest.mark.parametrize("engine", ENGINES)
def test_ok_is_what_the_caller_says(haproxy: Target, engine: str) -> None:
    only_503 = EngineOptions(ok_statuses=ok_statuses(lambda status: status == 503))
    run = run_closed_loop(engine, haproxy.url("/503"), total=10, options=only_503)
    assert {result.error for result in run.results} == {ErrorKind.NONE}
    run = run_closed_loop(engine, haproxy.url("/"), total=10, options=only_503)
    assert {(result.status, result.error) for result in run.results} == {(200, ErrorKind.HTTP)}


@pytest.mark.parametrize("engine", ENGINES)
def test_meta_and_correlation_headers_are_captured(haproxy: Target, engine: str) -> None:
    options = EngineOptions(capture_headers=(*CORRELATION_HEADERS, "X-Custom"))
    run = run_closed_loop(engine, haproxy.url("/meta"), total=5, options=options)
    expected_meta = json.loads(META_BODY)["meta"]
    for result in run.results:
        assert json.loads(result.meta) == expected_meta
        assert dict(result.captured) == {0: b"call-123", 1: b"act-9", 2: b"custom-1"}


@pytest.mark.parametrize("engine", ENGINES)
def test_bodies_without_a_meta_object_are_not_meta(
    scripted_server: ScriptedServer, haproxy: Target, engine: str
) -> None:
    for url in (scripted_server.url("/notmeta"), haproxy.url("/")):
        run = run_closed_loop(engine, url, total=3)
        assert [result.meta for result in run.results] == [None] * 3
        assert all(result.captured is None for result in run.results)


def test_keep_alive_reuses_one_connection_per_user(scripted_server: ScriptedServer) -> None:
    before = scripted_server.connections
    run = run_closed_loop("http1", scripted_server.url("/ok"), total=400, users=4)
    assert len(run.results) == 400
    assert run.connections_opened == 4
    assert scripted_server.connections - before == 4
    assert sum(result.new_connection for result in run.results) == 4


def test_reconnects_when_the_server_closes(scripted_server: ScriptedServer) -> None:
    run = run_closed_loop("http1", scripted_server.url("/close"), total=10, users=1)
    assert [result.error for result in run.results] == [ErrorKind.NONE] * 10
    assert run.connections_opened == 10
    assert all(result.new_connection for result in run.results)


@pytest.mark.parametrize("engine", ENGINES)
def test_head_responses_have_no_body_and_keep_the_connection(
    scripted_server: ScriptedServer, engine: str
) -> None:
    before = scripted_server.connections
    run = run_closed_loop(engine, scripted_server.url("/bytes/100"), total=20, method="HEAD")
    assert {(result.status, result.error, result.nbytes) for result in run.results} == {
        (200, ErrorKind.NONE, 0)
    }
    assert scripted_server.connections - before == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_request_body_is_sent(scripted_server: ScriptedServer, engine: str) -> None:
    body = b"payload-" * 500
    run = run_closed_loop(engine, scripted_server.url("/echo"), total=5, method="POST", body=body)
    assert {(result.status, result.nbytes) for result in run.results} == {(200, len(body))}


@pytest.mark.parametrize("engine", ENGINES)
def test_tls_verification_can_be_switched_off(tls_server: ScriptedServer, engine: str) -> None:
    verified = run_closed_loop(engine, tls_server.url("/ok"), total=3)
    assert {result.error for result in verified.results} == {ErrorKind.TLS}
    insecure = EngineOptions(verify_tls=False)
    run = run_closed_loop(engine, tls_server.url("/chunked/3"), total=30, users=3, options=insecure)
    assert {(result.status, result.error) for result in run.results} == {(200, ErrorKind.NONE)}


def test_engines_agree_on_scripted_mix(scripted_server: ScriptedServer) -> None:
    for path in ("/ok", "/status/503", "/chunked/4", "/close", "/eof"):
        counts = [
            outcome_counts(
                run_closed_loop(engine, scripted_server.url(path), total=60, users=3).results
            )
            for engine in ENGINES
        ]
        assert counts[0] == counts[1], path


def test_timestamps_are_ordered(haproxy: Target) -> None:
    run = run_closed_loop("http1", haproxy.url("/"), total=200, users=4)
    for result in run.results:
        assert result.intended_ns <= result.send_ns < result.end_ns


def test_connection_opening_is_capped_and_waiting_requests_still_complete(
    scripted_server: ScriptedServer,
) -> None:
    async def scenario() -> tuple[int, int, list]:
        sink = ListSink()
        engine = Http1Engine(
            RequestSpec(url=scripted_server.url("/delay/20")), EngineOptions(max_connecting=3), sink
        )
        await engine.start()
        for _ in range(12):
            engine.send(now_ns())
        connecting, waiting = engine.connecting, engine.waiting
        deadline = now_ns() + 10**10
        while len(sink.results) < 12 and now_ns() < deadline:
            await asyncio.sleep(0.005)
        await engine.aclose()
        return connecting, waiting, sink.results

    with SleepProbe() as probe:
        connecting, waiting, results = uvloop.run(scenario())
    assert (connecting, waiting) == (3, 9)
    assert [result.error for result in results] == [ErrorKind.NONE] * 12
    # Waiting for a connection is scheduling lag: send is stamped when the request really
    # starts. The first connections open at once (as fast as this machine runs the loop).
    lags = sorted(result.send_ns - result.intended_ns for result in results)
    assert lags[0] < probe.slack(0.001) * 1e9
    assert lags[-1] > lags[0]


def test_prewarmed_connections_carry_the_first_requests(scripted_server: ScriptedServer) -> None:
    async def scenario() -> tuple[int, int, list]:
        sink = ListSink()
        engine = Http1Engine(RequestSpec(url=scripted_server.url("/ok")), EngineOptions(), sink)
        await engine.start()
        opened = await engine.prewarm(5)
        for _ in range(5):
            engine.send(now_ns())
        while len(sink.results) < 5:
            await asyncio.sleep(0.002)
        await engine.aclose()
        return opened, engine.connections_opened, sink.results

    before = scripted_server.connections
    opened, total_opened, results = uvloop.run(scenario())
    assert (opened, total_opened) == (5, 5)
    assert scripted_server.connections - before == 5
    assert [(result.error, result.new_connection) for result in results] == [
        (ErrorKind.NONE, False)
    ] * 5
