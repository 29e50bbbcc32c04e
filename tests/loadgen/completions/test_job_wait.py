"""A closed-loop user waiting for its call's completion: the receiver's `/_/wait/<call id>`
long-poll and the worker's `CompletionWaiter` on it, on loopback."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import aiohttp
import pytest

from loadgen.completions.receiver import LOOKUP_INTERVAL_S, CallbackReceiver
from loadgen.engine.clock import now_ns
from loadgen.results.completions import Completion
from loadgen.workload.jobs import CompletionWaiter, JobWait


def _callback(receiver: CallbackReceiver, call_id: str) -> None:
    async def post() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.post(receiver.url, headers={"X-Call-Id": call_id}, data=b"{}") as answer,
        ):
            assert answer.status == 200

    asyncio.run(post())


def _waiter(receiver: CallbackReceiver, deadline_s: float) -> CompletionWaiter:
    return CompletionWaiter(
        JobWait(url=receiver.wait_url, call_id_header="x-call-id", deadline_s=deadline_s)
    )


def test_a_user_learns_of_its_completion_whenever_it_arrives() -> None:
    with CallbackReceiver("127.0.0.1", 0) as receiver:
        assert receiver.wait_url.startswith("http://127.0.0.1:")
        waiter = _waiter(receiver, 30)
        _callback(receiver, "early")  # before its user asks: answered at once
        assert asyncio.run(waiter.wait("early", now_ns()))

        later = threading.Timer(0.2, _callback, (receiver, "late id/with?odd chars"))
        later.start()
        try:
            assert asyncio.run(waiter.wait("late id/with?odd chars", now_ns()))
        finally:
            later.join()
        # Nothing is kept for waiters once answered.
        assert receiver._waiters == {}


def test_a_completion_that_never_comes_gives_up_at_the_deadline() -> None:
    with CallbackReceiver("127.0.0.1", 0) as receiver:
        waiter = _waiter(receiver, 0.3)
        started = time.monotonic()
        assert not asyncio.run(waiter.wait("never", now_ns()))
        assert time.monotonic() - started >= 0.3
        assert receiver._waiters == {}


def test_a_receiver_on_every_address_is_waited_on_over_loopback() -> None:
    with CallbackReceiver("0.0.0.0", 0) as receiver:
        assert receiver.wait_url.startswith("http://127.0.0.1:")


def test_an_unreachable_service_does_not_hold_a_user_past_its_deadline() -> None:
    with CallbackReceiver("127.0.0.1", 0) as receiver:
        url = receiver.wait_url
    waiter = CompletionWaiter(JobWait(url=url, call_id_header="x-call-id", deadline_s=0.5))
    assert not asyncio.run(waiter.wait("any", now_ns()))


@pytest.mark.parametrize("query", ["", "?timeout_s=x", "?timeout_s=-1", "?timeout_s=99999"])
def test_a_wait_without_a_sane_timeout_is_refused(query: str) -> None:
    async def get(url: str) -> int:
        async with aiohttp.ClientSession() as session, session.get(url) as answer:
            return answer.status

    with CallbackReceiver("127.0.0.1", 0) as receiver:
        assert asyncio.run(get(f"{receiver.wait_url}some-id{query}")) == 400


class _Lookup:
    """A platform whose calls end after their third look-up; `never` never does."""

    def __init__(self) -> None:
        self.requests = 0
        self.seen: list[tuple[str, float]] = []
        self.closed = False

    async def completion(self, call_id: str) -> Completion | None:
        self.requests += 1
        self.seen.append((call_id, time.monotonic()))
        if call_id == "never" or sum(1 for c, _ in self.seen if c == call_id) < 3:
            return None
        return Completion(
            call_id=call_id,
            received_ns=time.monotonic_ns(),
            received_wall_ns=time.time_ns(),
            source="activation",
        )

    async def aclose(self) -> None:
        self.closed = True


def test_where_nothing_calls_back_waited_calls_are_looked_up_at_a_bounded_rate() -> None:
    lookup = _Lookup()
    with CallbackReceiver("127.0.0.1", 0, lookup=lookup) as receiver:
        assert lookup.requests == 0  # nobody waits: nothing is looked up
        assert asyncio.run(_waiter(receiver, 30).wait("soon", now_ns()))
        instants = [at for call_id, at in lookup.seen if call_id == "soon"]
        assert len(instants) == 3
        assert all(b - a >= LOOKUP_INTERVAL_S * 0.9 for a, b in itertools.pairwise(instants))
        assert [c.call_id for c in receiver.completions()] == ["soon"]

        assert not asyncio.run(_waiter(receiver, 0.3).wait("never", now_ns()))
        looked_up = lookup.requests
        time.sleep(2 * LOOKUP_INTERVAL_S)
        assert lookup.requests == looked_up  # given up on: no longer looked up
        stats = receiver.lookup_stats()
        assert stats is not None
        assert stats.requests == lookup.requests
    assert lookup.closed
