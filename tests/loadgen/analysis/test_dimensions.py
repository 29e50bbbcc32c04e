"""Cell dimensions in the analysis: language, memory_mb and input_size columns, groups apart
per value, old results read with their defaults, the latency-vs-memory and cost figures, and
the cost per million invocations against a hand computation."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from support.figure_svg import read_svg
from support.synthetic_results import CampaignSpec, CellSpec, write_campaign

from contract.prices import (
    AWS_ON_DEMAND_USD_PER_HOUR,
    LAMBDA_USD_PER_GB_SECOND,
    LAMBDA_USD_PER_MILLION_REQUESTS,
    PRICES_DATE,
    lambda_usd_per_million,
)
from loadgen.analysis.aggregate import Aggregate, Settings, aggregate, group_label
from loadgen.analysis.costs import group_costs, stack_hourly
from loadgen.analysis.outputs import write_outputs
from loadgen.analysis.table import row_key
from loadgen.report.build import build_report
from loadgen.report.figures.memory import cost_memory, latency_memory
from loadgen.results import open_results

MEMORY = (128, 256, 512, 1024)


def _sweep_cells() -> tuple[CellSpec, ...]:
    """matrix at four memory limits (faster with more), in python and go, 3 runs each."""
    return tuple(
        CellSpec(
            function="matrix",
            sweep_value=4,
            run=run,
            requests=120,
            p50_ms=80.0 * 256 / memory * (0.5 if language == "go" else 1.0),
            p99_ms=200.0 * 256 / memory,
            language=language,
            memory_mb=memory,
            seed=run + memory,
        )
        for language in ("python", "go")
        for memory in MEMORY
        for run in range(3)
    )


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Aggregate:
    spec = CampaignSpec(
        name="mem",
        cloud="aws",
        instance_types={"bastion": "t3a.medium", "worker": "t3a.large", "manager": "t3a.large"},
        node_roles={"managers": ["m-1"], "workers": ["w-1", "w-2"]},
        cells=_sweep_cells(),
    )
    root = write_campaign(tmp_path_factory.mktemp("mem"), spec)
    return aggregate(open_results(root), Settings(), keep_requests=True)


def test_every_variant_is_a_group_of_its_own_with_its_columns(
    swept: Aggregate, tmp_path: Path
) -> None:
    groups = {
        (r["language"], r["memory_mb"], r["input_size"], r["runs"])
        for r in swept.rows
        if r["level"] == "group"
    }
    assert groups == {(lang, m, None, 3) for lang in ("python", "go") for m in MEMORY}
    write_outputs(swept, tmp_path)
    with (tmp_path / "stats.csv").open() as handle:
        header = next(csv.reader(handle))
    at = header.index("invocation")
    assert header[at : at + 4] == ["invocation", "language", "memory_mb", "input_size"]
    labels = {group_label(row_key(r)) for r in swept.rows if r["level"] == "group"}
    assert "matrix closed users=4 go 512 MiB" in labels
    assert "matrix closed users=4" in labels  # python at 256 MiB: the label it always had
    assert "matrix closed users=4 128 MiB" in labels


def test_results_written_before_the_dimensions_read_with_their_defaults(tmp_path: Path) -> None:
    root = write_campaign(
        tmp_path, CampaignSpec(name="old", cells=(CellSpec(function="echo", requests=50),))
    )
    tree = open_results(root)
    info = tree.cells[0].info
    assert (info.language, info.memory_mb, info.input_size) == ("python", 256, None)
    result = aggregate(tree, Settings())
    assert {(r["language"], r["memory_mb"], r["input_size"]) for r in result.rows} == {
        ("python", 256, None)
    }


def test_input_size_groups_apart(tmp_path: Path) -> None:
    cells = tuple(
        CellSpec(function="matrix", requests=40, input_size=size, seed=size, run=0)
        for size in (4096, 262144)
    )
    result = aggregate(open_results(write_campaign(tmp_path, CampaignSpec(cells=cells))))
    sizes = {r["input_size"] for r in result.rows if r["level"] == "group"}
    assert sizes == {4096, 262144}


def test_memory_limits_on_the_local_target_are_flagged(tmp_path: Path) -> None:
    cells = tuple(CellSpec(requests=30, memory_mb=m, seed=m) for m in (256, 512))
    spec = CampaignSpec(name="local", cloud="local", orchestrator="local", cells=cells)
    result = aggregate(open_results(write_campaign(tmp_path, spec)))
    flagged = [w for w in result.warnings if "enforces no memory limit" in w.message]
    assert [[subject for subject, _ in w.subjects] for w in flagged] == [
        ["echo closed users=10 512 MiB"]
    ]


def test_lambda_cost_is_the_hand_computation() -> None:
    # 512 MiB for 200 ms: 0.5 GB × 0.2 s = 0.1 GB-s a call, 100,000 GB-s a million calls.
    assert LAMBDA_USD_PER_GB_SECOND == 0.0000166667
    assert LAMBDA_USD_PER_MILLION_REQUESTS == 0.20
    assert lambda_usd_per_million(512, 0.2) == pytest.approx(100_000 * 0.0000166667 + 0.20)
    assert lambda_usd_per_million(512, 0.2) == pytest.approx(1.866670)
    assert lambda_usd_per_million(128, 0.0) == pytest.approx(0.20)


def test_group_costs_follow_memory_duration_and_throughput(swept: Aggregate) -> None:
    hourly = stack_hourly(swept.tree.manifest)
    # 1 bastion (t3a.medium) + 1 manager + 2 workers (t3a.large), from the manifest.
    expected_hourly = (
        AWS_ON_DEMAND_USD_PER_HOUR["t3a.medium"] + 3 * AWS_ON_DEMAND_USD_PER_HOUR["t3a.large"]
    )
    assert hourly.usd_per_hour == pytest.approx(expected_hourly)
    assert PRICES_DATE in hourly.note
    costs = {(c.key[6], c.memory_mb): c for c in group_costs(swept)}
    assert len(costs) == 8
    rows = {
        (r["language"], r["memory_mb"], r["metric"], r["stat"]): r["value"]
        for r in swept.rows
        if r["level"] == "group" and r["subset"] == "all"
    }
    for (language, memory), cost in costs.items():
        # The synthetic cells carry OpenWhisk records: the billed duration is their run time.
        run_ms = rows[(language, memory, "platform_run_ms", "mean")]
        assert cost.duration_basis == "platform run"
        assert cost.duration_ms == pytest.approx(run_ms)
        gb_s = memory / 1024 * run_ms / 1000
        assert cost.managed_usd_per_million == pytest.approx(gb_s * 0.0000166667 * 1e6 + 0.20)
        throughput = rows[(language, memory, "throughput_rps", "run_median")]
        assert cost.stack_usd_per_million == pytest.approx(
            expected_hourly / 3600 / throughput * 1e6
        )


def test_stack_cost_is_na_with_the_reason_where_machines_are_unknown(tmp_path: Path) -> None:
    for cloud, reason in (
        ("local", "local target"),
        ("openstack", "no public price"),
        ("existing", "existing cluster"),
    ):
        spec = CampaignSpec(name=cloud, cloud=cloud, cells=(CellSpec(requests=20, platform=None),))
        result = aggregate(open_results(write_campaign(tmp_path / cloud, spec)))
        (cost,) = group_costs(result)
        assert cost.stack_usd_per_million is None
        assert reason in cost.stack_note
        # No platform run time: the request latency the client saw is billed (256 MiB).
        (mean,) = [
            r["value"]
            for r in result.rows
            if (r["level"], r["subset"], r["metric"], r["stat"])
            == ("group", "all", "latency_ms", "mean")
        ]
        assert cost.duration_basis == "request latency"
        assert cost.managed_usd_per_million == pytest.approx(
            0.25 * mean / 1000 * 0.0000166667 * 1e6 + 0.20
        )
    spec = CampaignSpec(name="nocount", cloud="aws", instance_types={"worker": "t3a.large"},
                        node_roles={}, cells=(CellSpec(requests=20),))  # fmt: skip
    result = aggregate(open_results(write_campaign(tmp_path / "nocount", spec)))
    assert "how many worker machines" in stack_hourly(result.tree.manifest).note


def test_the_memory_figures_draw_a_panel_per_function_and_language(swept: Aggregate) -> None:
    latency = latency_memory([swept])
    assert not latency.empty
    svg = read_svg(latency.svg)
    assert "matrix closed users=4" in svg.texts
    assert "matrix closed users=4 go" in svg.texts
    assert any(t.startswith("memory limit (MiB") for t in svg.texts)
    assert {"128", "256", "512", "1,024"} <= set(svg.ticks)
    cost = cost_memory([swept])
    assert not cost.empty
    assert "estimate" in cost.title
    assert PRICES_DATE in cost.caption
    assert "USD per million invocations" in read_svg(cost.svg).texts


def test_the_report_shows_the_cost_table_as_an_estimate(swept: Aggregate, tmp_path: Path) -> None:
    path, figures, _ = build_report([swept], tmp_path / "report.html")
    text = path.read_text()
    assert "Cost per million invocations (estimate)" in text
    assert f"prices of {PRICES_DATE}" in text
    assert "matrix closed users=4 go 512 MiB" in text
    drawn = {f.id for f in figures if not f.empty}
    assert {"latency-memory", "cost-memory"} <= drawn
