"""The backlog of asynchronous calls over time, as the client saw it: accepted by t less
completed by t, from a cell's joined submissions and completions."""

from __future__ import annotations

from loadgen.completions.summary import Joined, backlog

S = 1_000_000_000


def test_the_backlog_steps_up_at_each_acceptance_and_down_at_each_completion() -> None:
    joined = Joined(
        first_start_ns=10 * S,
        accepted_ns=[10 * S, 11 * S, 12 * S, 12 * S],
        ended_ns=[int(11.5 * S), 13 * S],
    )
    times, levels = backlog(joined)
    assert times == [0.0, 1.0, 1.5, 2.0, 3.0]
    assert levels == [1, 2, 1, 3, 2]  # two calls never completed: lost, still in the backlog


def test_a_completion_at_the_instant_of_another_acceptance_nets_out() -> None:
    joined = Joined(first_start_ns=0, accepted_ns=[0, S], ended_ns=[S, 2 * S])
    assert backlog(joined) == ([0.0, 1.0, 2.0], [1, 1, 0])


def test_no_calls_no_backlog() -> None:
    assert backlog(Joined()) == ([], [])
