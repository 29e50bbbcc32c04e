"""Open-loop schedules and the division of work between processes."""

import statistics
from itertools import islice, pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen.workload.schedule import (
    NS_PER_S,
    constant_offsets,
    poisson_offsets,
    process_schedule,
)
from loadgen.workload.spec import ClosedLoop, OpenLoop
from loadgen.workload.split import closed_share, split_evenly, usable_processes


@given(st.integers(0, 10**9), st.integers(1, 64))
def test_split_evenly_is_exact_floor_ceil(amount: int, parts: int) -> None:
    shares = split_evenly(amount, parts)
    assert sum(shares) == amount
    assert set(shares) <= {amount // parts, -(-amount // parts)}
    assert shares == sorted(shares, reverse=True)


@given(st.integers(1, 500), st.integers(1, 10_000), st.integers(1, 16))
def test_closed_loop_shares_sum_to_the_request(users: int, total: int, requested: int) -> None:
    workload = ClosedLoop(users=users, total=total)
    processes = usable_processes(workload, requested)
    shares = [closed_share(workload, index, processes) for index in range(processes)]
    assert sum(share_users for share_users, _ in shares) == users
    assert sum(share_total or 0 for _, share_total in shares) == total
    assert all(share_users >= 1 for share_users, _ in shares)


def test_constant_schedule_is_t0_plus_i_over_rate() -> None:
    assert list(islice(constant_offsets(2000.0), 4)) == [0, 500_000, 1_000_000, 1_500_000]
    assert list(islice(constant_offsets(3.0), 3)) == [0, 333_333_333, 666_666_667]


@pytest.mark.parametrize("processes", [1, 2, 3, 7])
@pytest.mark.parametrize("rate", [2000.0, 333.3, 20_000.0])
def test_constant_union_of_processes_is_the_single_process_schedule(
    processes: int, rate: float
) -> None:
    workload = OpenLoop(rate=rate, total=5_003)
    single = list(process_schedule(workload, 0, 1))
    union = sorted(
        offset
        for index in range(processes)
        for offset in process_schedule(workload, index, processes)
    )
    assert union == single
    assert len(single) == 5_003


def test_constant_schedule_with_duration_and_warmup() -> None:
    workload = OpenLoop(rate=1000.0, duration_s=2.0, warmup_s=0.5)
    offsets = list(process_schedule(workload, 0, 1))
    assert len(offsets) == 2500
    assert sum(offset < 500_000_000 for offset in offsets) == 500
    assert max(offsets) < 2_500_000_000


def test_total_counts_only_measured_arrivals() -> None:
    workload = OpenLoop(rate=1000.0, total=1000, warmup_s=0.25)
    for processes in (1, 3):
        union = sorted(
            offset
            for index in range(processes)
            for offset in process_schedule(workload, index, processes)
        )
        assert sum(offset >= 250_000_000 for offset in union) == 1000
        assert sum(offset < 250_000_000 for offset in union) == 250
    poisson = workload.model_copy(update={"arrival": "poisson", "seed": 3})
    union = [o for index in range(3) for o in process_schedule(poisson, index, 3)]
    assert sum(offset >= 250_000_000 for offset in union) == 1000


def test_same_seed_same_schedule_different_seed_different_schedule() -> None:
    first = list(islice(poisson_offsets(500.0, seed=42, index=1, processes=4), 1000))
    again = list(islice(poisson_offsets(500.0, seed=42, index=1, processes=4), 1000))
    other_seed = list(islice(poisson_offsets(500.0, seed=43, index=1, processes=4), 1000))
    other_process = list(islice(poisson_offsets(500.0, seed=42, index=2, processes=4), 1000))
    assert first == again
    assert first != other_seed
    assert first != other_process


@pytest.mark.parametrize("processes", [1, 4])
def test_poisson_union_has_the_requested_rate_and_exponential_gaps(processes: int) -> None:
    rate = 2000.0
    horizon_ns = 20 * NS_PER_S
    workload = OpenLoop(rate=rate, duration_s=20.0, arrival="poisson", seed=7)
    union = sorted(
        offset
        for index in range(processes)
        for offset in process_schedule(workload, index, processes)
    )
    expected = rate * horizon_ns / NS_PER_S
    # Poisson count: standard deviation sqrt(40000) = 200; allow 4 sigma.
    assert abs(len(union) - expected) < 4 * expected**0.5
    gaps = [b - a for a, b in pairwise(union)]
    mean_gap = statistics.fmean(gaps)
    assert mean_gap == pytest.approx(NS_PER_S / rate, rel=0.03)
    # Exponential gaps: the standard deviation equals the mean (constant gaps would give 0).
    assert statistics.pstdev(gaps) == pytest.approx(mean_gap, rel=0.05)
    assert all(offset < horizon_ns for offset in union)
