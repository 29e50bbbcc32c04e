"""`aggregate` names the cause of late sends with `loadgen hit`'s rule, from the loader CPU and
host load the campaign loop stored in each cell's summary.json."""

from pathlib import Path

from support.synthetic_results import CampaignSpec, CellSpec, write_campaign

from loadgen.analysis.aggregate import Aggregate, Settings, aggregate
from loadgen.metrics.validity import LATENCY_NOTE
from loadgen.results import open_results

FAST = Settings()
BUSY_HOST = {"cpus": 2, "load1_start": 2.4, "load1_end": 3.1, "cpu_busy": 0.97, "cpu_steal": 0.0}
QUIET_HOST = {"cpus": 2, "load1_start": 0.2, "load1_end": 0.3, "cpu_busy": 0.1, "cpu_steal": 0.0}
LATE = {"mode": "open", "sweep_name": "rate", "sweep_value": 50, "sched_lag_ms": 8.0}
"""Open-loop cells whose sends left about 8 ms late on average: late by the rule."""


def _late_warnings(result: Aggregate) -> dict[str, dict[str, str]]:
    """Each late-send warning's message, with its cells and their figures."""
    return {
        w.message: dict(w.subjects)
        for w in result.warnings
        if "sends were late" in w.message or w.message.startswith("late sends")
    }


def test_each_cause_is_named_from_the_cells_own_figures(tmp_path: Path) -> None:
    cells = (
        CellSpec(run=0, seed=1, client_cpu=(0.95,), host=QUIET_HOST, **LATE),
        CellSpec(run=1, seed=2, client_cpu=(0.12,), host=BUSY_HOST, **LATE),
        CellSpec(run=2, seed=3, **LATE),  # written before loader figures were recorded
        CellSpec(run=3, seed=4, client_cpu=(0.15,), host=QUIET_HOST, **LATE),
    )
    root = write_campaign(tmp_path, CampaignSpec(cells=cells))
    warnings = _late_warnings(aggregate(open_results(root), FAST))
    by_cause = {message.split(":")[0]: subjects for message, subjects in warnings.items()}
    assert set(by_cause) == {"client-bottlenecked", "busy host", "late sends, cause not recorded"}
    assert set(by_cause["client-bottlenecked"]) == {"echo-open-rate50-r0"}
    assert set(by_cause["busy host"]) == {"echo-open-rate50-r1", "echo-open-rate50-r3"}
    assert set(by_cause["late sends, cause not recorded"]) == {"echo-open-rate50-r2"}
    assert "loader CPU 95% of a core" in by_cause["client-bottlenecked"]["echo-open-rate50-r0"]
    busy = by_cause["busy host"]["echo-open-rate50-r1"]
    assert busy.startswith("sched_lag p99 ")
    assert "loader CPU 12% of a core, host load 2.4 → 3.1 on 2 CPUs, CPUs 97% busy" in busy
    assert (
        "host load 0.2 → 0.3 on 2 CPUs, CPUs 10% busy"
        in by_cause["busy host"]["echo-open-rate50-r3"]
    )
    # Whether latency stays valid is said once per cause.
    assert all(LATENCY_NOTE in message for message in warnings)


def test_the_summary_of_another_engine_run_is_no_evidence(tmp_path: Path) -> None:
    """The summary of a run the cell's records do not hold is not evidence about the cell."""
    root = write_campaign(
        tmp_path, CampaignSpec(cells=(CellSpec(client_cpu=(0.1,), host=BUSY_HOST, **LATE),))
    )
    summary = root / "cells" / "echo-open-rate50-r0" / "summary.json"
    stale = summary.read_text().replace('"run-echo-open-rate50-r0"', '"another-run"')
    summary.write_text(stale)
    warnings = _late_warnings(aggregate(open_results(root), FAST))
    assert [message.split(":")[0] for message in warnings] == ["late sends, cause not recorded"]
