"""Poisson arrivals of a campaign: each trace minute and each stage draws its own schedule, the
same campaign seed reproduces every schedule exactly, and the rate points of a `rates` sweep
share their uniforms (common random numbers)."""

from __future__ import annotations

from pathlib import Path

from loadgen.experiments.cells import CellPlan, arrival_seed, expand
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.trace import KEY_COLUMNS, MINUTES
from loadgen.workload.schedule import process_schedule
from loadgen.workload.spec import OpenLoop

TRACE = "invocations_per_function_md.anon.d01.csv"


def _trace(tmp_path: Path, counts: list[int]) -> None:
    header = [*KEY_COLUMNS, *(str(m) for m in range(1, MINUTES + 1))]
    row = ["owner", "app", "f1", "http", *map(str, counts + [0] * (MINUTES - len(counts)))]
    (tmp_path / TRACE).write_text(",".join(header) + "\n" + ",".join(row) + "\n")


def _config(seed: int, *experiments: dict[str, object], runs: int = 1) -> ExperimentConfig:
    return ExperimentConfig.model_validate(
        {
            "name": "arrivals",
            "seed": seed,
            "number_of_runs": runs,
            "functions": {"echo": {}, "matrix": {}},
            "experiments": list(experiments),
        }
    )


def _trace_experiment(minutes: int) -> dict[str, object]:
    return {
        "name": "t",
        "kind": "trace",
        "functions": ["echo"],
        "file": TRACE,
        "mapping": {"echo": "f1"},
        "start_minute": 1,
        "minutes": minutes,
        "minute_s": 2,
    }


def _workloads(cell: CellPlan) -> list[OpenLoop]:
    loads = [segment.workload for segment in cell.segments]
    assert all(isinstance(load, OpenLoop) for load in loads)
    return loads  # type: ignore[return-value]


def _schedule(workload: OpenLoop) -> list[int]:
    """The arrival instants (ns offsets) the engine would send at, one process."""
    return list(process_schedule(workload, 0, 1))


def test_trace_minutes_of_equal_rate_draw_different_arrivals(tmp_path: Path) -> None:
    _trace(tmp_path, [120, 120, 120, 120])
    [cell] = expand(_config(2024, _trace_experiment(4)), tmp_path)
    workloads = _workloads(cell)
    # Each minute's 120 invocations in a 2 s minute: four segments at an equal 60/s.
    assert {w.rate for w in workloads} == {60.0}
    schedules = [_schedule(w) for w in workloads]
    assert all(schedules)
    assert len({w.seed for w in workloads}) == 4
    assert len({tuple(s) for s in schedules}) == 4, "two minutes replay the same arrivals"
    # Not merely shifted or re-timed copies: the gaps between arrivals differ too.
    first_gaps = {s[0] for s in schedules}
    assert len(first_gaps) == 4


def test_the_same_seed_reproduces_every_schedule_and_another_seed_changes_them(
    tmp_path: Path,
) -> None:
    _trace(tmp_path, [300, 60, 300])
    stages = {
        "name": "ramp",
        "kind": "stages",
        "functions": ["echo"],
        "stages": [{"rate": 5, "duration_s": 2}, {"rate": 5, "duration_s": 2}],
    }

    def schedules(seed: int) -> dict[str, list[list[int]]]:
        cells = expand(_config(seed, _trace_experiment(3), stages), tmp_path)
        return {c.id: [_schedule(w) for w in _workloads(c)] for c in cells}

    first = schedules(2024)
    assert first == schedules(2024)
    other = schedules(2025)
    assert first.keys() == other.keys()
    for cell_id, segments in first.items():
        for mine, theirs in zip(segments, other[cell_id], strict=True):
            assert mine != theirs, f"{cell_id}: a new campaign seed kept a schedule"


def test_stages_of_equal_rate_draw_different_arrivals(tmp_path: Path) -> None:
    stages = {
        "name": "ramp",
        "kind": "stages",
        "functions": ["echo"],
        "stages": [{"rate": 20, "duration_s": 2}] * 3,
    }
    cells = expand(_config(7, stages), tmp_path)
    assert [c.sweep.value for c in cells] == [0, 1, 2]
    schedules = [_schedule(w) for c in cells for w in _workloads(c)]
    assert len({tuple(s) for s in schedules}) == 3


def test_rate_points_share_uniforms_and_runs_and_functions_do_not(tmp_path: Path) -> None:
    rates = {
        "name": "r",
        "kind": "rates",
        "functions": ["echo", "matrix"],
        "rates": [10, 20],
        "duration_s": 5,
    }
    cells = expand(_config(11, rates, runs=2), tmp_path)
    by_key = {(c.function, c.run, c.sweep.value): _workloads(c)[0] for c in cells}
    slow, fast = by_key[("echo", 0, 10)], by_key[("echo", 0, 20)]
    # Common random numbers: twice the rate is the same arrivals in half the time.
    assert slow.seed == fast.seed
    halved = [offset / 2 for offset in _schedule(slow)]
    doubled = _schedule(fast)
    assert len(doubled) > len(halved) > 10
    # The fast point's first arrivals fall at half the slow point's instants (to the ns).
    assert all(abs(a - b) <= 1 for a, b in zip(halved, doubled, strict=False)), (
        "rate points do not share their uniforms"
    )
    # Runs are independent repetitions, and functions draw their own arrivals.
    assert by_key[("echo", 1, 10)].seed != slow.seed
    assert by_key[("matrix", 0, 10)].seed != slow.seed
    assert _schedule(by_key[("echo", 1, 10)]) != _schedule(slow)


def test_arrival_seed_is_one_function_of_its_inputs() -> None:
    base = arrival_seed(1, "t", "echo", 0, 0)
    assert base == arrival_seed(1, "t", "echo", 0, 0)
    changed = [
        arrival_seed(2, "t", "echo", 0, 0),
        arrival_seed(1, "u", "echo", 0, 0),
        arrival_seed(1, "t", "matrix", 0, 0),
        arrival_seed(1, "t", "echo", 1, 0),
        arrival_seed(1, "t", "echo", 0, 1),
    ]
    assert base not in changed
    assert len(set(changed)) == len(changed)
    assert all(0 <= seed < 2**64 for seed in [base, *changed])
