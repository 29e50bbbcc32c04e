"""The work split: the loaders' processes together run exactly the single machine's workload
for the same seed (its schedule or its users and requests), whatever the loaders."""

import math
from pathlib import Path

import pytest

from loadgen.engine import EngineOptions, RequestSpec
from loadgen.experiments.cells import expand
from loadgen.experiments.config import ExperimentConfig
from loadgen.loaders.split import loader_plans, loader_processes
from loadgen.processes.plan import RunPlan, schedule_of, users_of
from loadgen.workload.spec import ClosedLoop, OpenLoop


def _run(workload: ClosedLoop | OpenLoop, processes: int) -> RunPlan:
    return RunPlan(
        run_id="r",
        request=RequestSpec(url="http://127.0.0.1:9/"),
        options=EngineOptions(),
        workload=workload,
        processes=processes,
        monotonic_epoch_ns=0,
        wall_anchor_ns=0,
    )


def _loader_schedules(workload: OpenLoop, per_loader: list[int]) -> list[int]:
    """Every send offset of every process of every loader, as the loaders' workers take them."""
    counts = loader_processes(workload, per_loader)
    offsets: list[int] = []
    for plan in loader_plans(_run(workload, sum(counts)), counts):
        assert plan is not None
        for index in range(plan.processes):
            offsets.extend(schedule_of(plan, index))
    return sorted(offsets)


def _single_machine(workload: OpenLoop, processes: int) -> list[int]:
    plan = _run(workload, processes)
    return sorted(offset for index in range(processes) for offset in schedule_of(plan, index))


def _campaign_workload(arrival: str) -> OpenLoop:
    """A rate cell's workload, its seed derived from the campaign seed."""
    config = ExperimentConfig.model_validate(
        {
            "name": "split",
            "seed": 20,
            "functions": {"echo": {}},
            "experiments": [
                {"name": "r", "kind": "rates", "functions": ["echo"], "rates": [397.5],
                 "duration_s": 3, "arrival": arrival},
            ],
        }
    )  # fmt: skip
    (cell,) = expand(config, Path("."))
    (segment,) = cell.segments
    assert isinstance(segment.workload, OpenLoop)
    return segment.workload


@pytest.mark.parametrize("per_loader", [[2, 2], [1, 3], [3, 1, 2]])
def test_poisson_loaders_send_the_single_machine_schedule_of_the_same_seed(
    per_loader: list[int],
) -> None:
    workload = _campaign_workload("poisson")
    union = _loader_schedules(workload, per_loader)
    assert union == _single_machine(workload, sum(per_loader))
    assert len(union) == pytest.approx(397.5 * 3, rel=0.15)
    other_seed = workload.model_copy(update={"seed": workload.seed + 1})
    assert union != _single_machine(other_seed, sum(per_loader))


@pytest.mark.parametrize("per_loader", [[2, 2], [1, 3], [5]])
def test_constant_loaders_send_the_one_process_schedule(per_loader: list[int]) -> None:
    workload = _campaign_workload("constant")
    union = _loader_schedules(workload, per_loader)
    assert union == _single_machine(workload, 1)
    assert len(union) == math.ceil(397.5 * 3)  # offsets k/rate below 3 s, k from 0
    assert len(set(union)) == len(union)


def test_bounded_poisson_totals_add_up_to_the_single_machines() -> None:
    workload = OpenLoop(rate=800, total=1001, arrival="poisson", seed=7, warmup_s=0.5)
    assert _loader_schedules(workload, [2, 1]) == _single_machine(workload, 3)


def test_closed_loop_users_and_requests_are_dealt_out_exactly() -> None:
    workload = ClosedLoop(users=7, total=1001)
    counts = loader_processes(workload, [2, 2])
    shares = [
        users_of(plan, index)
        for plan in loader_plans(_run(workload, sum(counts)), counts)
        if plan is not None
        for index in range(plan.processes)
    ]
    assert sum(users for users, _ in shares) == 7
    assert sum(total or 0 for _, total in shares) == 1001
    single = _run(workload, 4)
    assert shares == [users_of(single, index) for index in range(4)]


def test_fewer_users_than_processes_leave_a_loader_idle() -> None:
    workload = ClosedLoop(users=3, total=30)
    counts = loader_processes(workload, [2, 2, 2])
    assert counts == [1, 1, 1]
    assert loader_processes(ClosedLoop(users=1, total=5), [2, 2]) == [1, 0]
    plans = loader_plans(_run(workload, 1), [1, 0])
    assert plans[1] is None
    first = plans[0]
    assert first is not None
    assert (first.first_index, first.all_processes) == (0, 1)
