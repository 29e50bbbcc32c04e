"""`heartbeat`: a slow step says what it is doing every few seconds, a quick one says nothing."""

import threading

import pytest

from loadgen.heartbeat import heartbeat


def test_a_slow_body_is_announced_until_it_ends() -> None:
    said: list[str] = []
    twice = threading.Event()

    def say(line: str) -> None:
        said.append(line)
        if len(said) >= 2:
            twice.set()

    with heartbeat(lambda seconds: f"working ({seconds:.3f} s)", say, every_s=0.01):
        assert twice.wait(60)
    count = len(said)
    assert count >= 2
    assert all(line.startswith("working (") for line in said)
    elapsed = [float(line.split("(")[1].split(" ")[0]) for line in said]
    assert elapsed == sorted(elapsed)
    assert not any(t.name == "heartbeat" for t in threading.enumerate())
    assert len(said) == count  # nothing after the body ended


def test_a_quick_body_says_nothing_and_errors_pass_through() -> None:
    said: list[str] = []
    with pytest.raises(ValueError, match="boom"), heartbeat(str, said.append, every_s=3600):
        raise ValueError("boom")
    assert said == []
