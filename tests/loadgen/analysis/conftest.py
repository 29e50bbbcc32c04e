"""Synthetic campaigns shared by the analysis tests (written once per session)."""

from pathlib import Path

import pytest
from support.synthetic_results import CampaignSpec, CellSpec, grid, write_campaign

from loadgen.analysis.aggregate import Settings, aggregate
from loadgen.report.build import build_report
from loadgen.results import open_results


@pytest.fixture(scope="session")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sweep points × 4 runs, plus a cold cell (with its cold-start components), an
    open-loop cell whose saturated loader sent late, and a failed cell."""
    cells = grid(users=(1, 10), runs=4, requests=150, error_rate=0.05, cold_starts=2, seed=3)
    extra = (
        CellSpec(
            function="echo",
            mode="cold",
            sweep_name="none",
            sweep_value=None,
            requests=12,
            cold_starts=12,
            cold_method="scale-to-zero",
            platform="kubernetes",
            seed=5,
            platform_disagree=0.25,
            cold_segments=tuple((120.0 + i, 6000.0 + 150 * i) for i in range(12)),
        ),
        CellSpec(
            function="echo",
            mode="open",
            sweep_name="rate",
            sweep_value=50,
            requests=300,
            sched_lag_ms=8.0,
            processes=2,
            warmup=20,
            seed=6,
            client_cpu=(0.95, 0.9),
        ),
        CellSpec(function="echo", sweep_value=100, status="failed", reason="gateway timeout"),
        CellSpec(function="echo", sweep_value=200, status="invalid", reason="client CPU 95%"),
    )
    root = tmp_path_factory.mktemp("campaign")
    return write_campaign(root, CampaignSpec(name="k8s", cells=cells + extra))


@pytest.fixture(scope="session")
def second(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cold = tuple(
        CellSpec(
            function="echo",
            mode="cold",
            sweep_name="none",
            sweep_value=None,
            run=run,
            requests=3,
            cold_starts=3,
            cold_factor=40.0,
            cold_method="action-update",
            platform="openwhisk",
            seed=11 + run,
            cold_segments=tuple((90.0 + run, 5900.0 + 100 * i) for i in range(3)),
        )
        for run in range(4)
    )
    spec = CampaignSpec(
        name="nomad",
        orchestrator="nomad",
        cells=grid(users=(1, 10), runs=4, requests=100, p50_ms=30.0, seed=9, cold_starts=1) + cold,
    )
    return write_campaign(tmp_path_factory.mktemp("second"), spec)


@pytest.fixture(scope="session")
def report(campaign: Path, second: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    build_report(
        [
            aggregate(open_results(root), Settings(), keep_requests=True)
            for root in (campaign, second)
        ],
        out,
    )
    return out
