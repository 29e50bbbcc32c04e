"""`aggregate` checked against references computed another way from the same records."""

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from support.synthetic_results import EPOCH, CampaignSpec, CellSpec, _header, grid, write_campaign
from typer.testing import CliRunner

from loadgen.analysis.aggregate import SKIPPED, Aggregate, Settings, aggregate
from loadgen.analysis.caveats import Caveat, group_caveats
from loadgen.analysis.outputs import write_outputs
from loadgen.analysis.run_level import CI_METHOD
from loadgen.analysis.stats import median_interval, runs_for_precision
from loadgen.cli import app
from loadgen.engine.errors import ErrorKind
from loadgen.record.export import export_run
from loadgen.record.format import record_file_name
from loadgen.record.writer import RecordWriter
from loadgen.results import open_results

FAST = Settings()


def _rows(result: Aggregate, **match: object) -> list[dict[str, object]]:
    return [r for r in result.rows if all(r[k] == v for k, v in match.items())]


def _value(result: Aggregate, **match: object) -> object:
    rows = _rows(result, **match)
    assert len(rows) == 1, (match, rows)
    return rows[0]["value"]


def _reference(cell_dir: Path, tmp_path: Path) -> dict[str, np.ndarray]:
    """Latency and outcome columns via `export_run`, an independent reader of the records."""
    out = tmp_path / f"{cell_dir.name}.parquet"
    export_run(cell_dir / "records", out, "parquet")
    table = pq.read_table(out).to_pydict()
    measured = [
        not w and e != "dropped" for w, e in zip(table["warmup"], table["error"], strict=True)
    ]

    def pick(name: str) -> np.ndarray:
        return np.asarray([v for v, m in zip(table[name], measured, strict=True) if m])

    return {
        "latency_ms": pick("latency_ns").astype(float) / 1e6,
        "service_ms": pick("service_ns").astype(float) / 1e6,
        "ok": pick("ok").astype(bool),
        "error": pick("error"),
        "intended_ns": pick("intended_ns"),
        "end_ns": pick("end_ns"),
    }


def _warned(result: Aggregate, message: str) -> dict[str, str]:
    """The cells or groups (with their figures) of the one warning whose message starts so."""
    (warning,) = [w for w in result.warnings if w.message.startswith(message)]
    return dict(warning.subjects)


@pytest.fixture(scope="module")
def result(campaign: Path) -> Aggregate:
    return aggregate(open_results(campaign), FAST, keep_requests=True)


def test_cell_statistics_match_reference(result: Aggregate, campaign: Path, tmp_path: Path) -> None:
    for cell_id in ("echo-closed-users10-r2", "echo-open-rate50-r0"):
        ref = _reference(campaign / "cells" / cell_id, tmp_path)
        ok = ref["ok"]
        cell = {"level": "cell", "cell_id": cell_id, "subset": "all"}
        for key, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99), ("p999", 99.9)):
            for metric in ("latency_ms", "service_ms"):
                expected = np.percentile(ref[metric][ok], q, method="inverted_cdf")
                assert _value(result, metric=metric, stat=key, **cell) == pytest.approx(expected)
        assert (
            _value(result, metric="latency_ms", stat="max", **cell) == ref["latency_ms"][ok].max()
        )
        assert _value(result, metric="latency_ms", stat="mean", **cell) == pytest.approx(
            ref["latency_ms"][ok].mean()
        )
        assert _value(result, metric="latency_ms", stat="std", **cell) == pytest.approx(
            ref["latency_ms"][ok].std(ddof=1)
        )
        assert _value(result, metric="requests", stat="count", **cell) == ok.size
        assert _value(result, metric="requests", stat="ok", **cell) == ok.sum()
        errors = ref["error"][~ok]
        for name in set(errors):
            assert _value(result, metric="errors", stat=name, **cell) == (errors == name).sum()
        assert _value(result, metric="error_rate", stat="value", **cell) == pytest.approx(
            (~ok).mean()
        )
        seconds = (ref["end_ns"].max() - ref["intended_ns"].min()) / 1e9
        assert _value(result, metric="throughput_rps", stat="value", **cell) == pytest.approx(
            ok.sum() / seconds
        )


def test_open_loop_latency_starts_at_the_intended_instant(result: Aggregate) -> None:
    """With scheduling lag, latency (from intended) must exceed service time (from send)."""
    cell = {"level": "cell", "cell_id": "echo-open-rate50-r0", "subset": "all"}
    latency = _value(result, metric="latency_ms", stat="mean", **cell)
    service = _value(result, metric="service_ms", stat="mean", **cell)
    assert latency > service
    assert _value(result, metric="requests", stat="warmup", **cell) == 20


def test_group_pools_runs_and_takes_the_median_over_them(
    result: Aggregate, campaign: Path, tmp_path: Path
) -> None:
    refs = [
        _reference(campaign / "cells" / f"echo-closed-users10-r{run}", tmp_path) for run in range(4)
    ]
    pooled = np.concatenate([r["latency_ms"][r["ok"]] for r in refs])
    group = {"level": "group", "sweep_value": 10.0, "mode": "closed", "subset": "all"}
    assert _value(result, metric="latency_ms", stat="p99", **group) == pytest.approx(
        np.percentile(pooled, 99, method="inverted_cdf")
    )
    per_run = [np.percentile(r["latency_ms"][r["ok"]], 50, method="inverted_cdf") for r in refs]
    (row,) = _rows(result, metric="latency_ms", stat="run_median_p50", **group)
    assert row["value"] == pytest.approx(np.median(per_run))
    # 4 runs: even [min, max] covers the median with probability 1 − 2·0.5⁴ = 0.875 < 0.95.
    assert (row["ci_low"], row["ci_high"], row["ci_method"]) == (None, None, None)
    assert row["runs"] == 4
    cv = _value(result, metric="latency_ms", stat="run_cv_p50", **group)
    assert cv == pytest.approx(np.std(per_run, ddof=1) / np.mean(per_run))
    oks = sum(r["ok"].sum() for r in refs)
    seconds = sum((r["end_ns"].max() - r["intended_ns"].min()) / 1e9 for r in refs)
    assert _value(result, metric="throughput_rps", stat="pooled", **group) == pytest.approx(
        oks / seconds
    )


def test_enough_runs_get_the_order_statistic_interval_and_runs_advice(tmp_path: Path) -> None:
    """Seven runs of a group whose runs differ by ~40%: the interval of each median over runs
    is the distribution-free one of `median_interval` on the per-run values, and the
    too-wide warning names the runs the interval itself predicts."""
    root = write_campaign(
        tmp_path / "seven",
        CampaignSpec(cells=grid(users=(4,), runs=7, requests=300, run_cv=0.4, seed=11)),
    )
    result = aggregate(open_results(root), FAST)
    refs = [_reference(root / "cells" / f"echo-closed-users4-r{run}", tmp_path) for run in range(7)]
    group = {"level": "group", "subset": "all"}
    per_run = {
        name: np.array(
            [np.percentile(r["latency_ms"][r["ok"]], q, method="inverted_cdf") for r in refs]
        )
        for name, q in (("p50", 50), ("p99", 99))
    }
    for name, values in per_run.items():
        (row,) = _rows(result, metric="latency_ms", stat=f"run_median_{name}", **group)
        expected = median_interval(values, 0.95)
        assert expected is not None
        assert row["value"] == pytest.approx(np.median(values))
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(expected)
        assert row["ci_method"] == CI_METHOD == "hettmansperger-sheather"
    rates = np.array(
        [r["ok"].sum() / ((r["end_ns"].max() - r["intended_ns"].min()) / 1e9) for r in refs]
    )
    (row,) = _rows(result, metric="throughput_rps", stat="run_median", **group)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(median_interval(rates, 0.95))
    assert row["ci_method"] == CI_METHOD
    wide = _warned(result, "95% interval wider than ±10% of its estimate")
    low, high = median_interval(per_run["p50"], 0.95) or (0.0, 0.0)
    half = (high - low) / 2 / np.median(per_run["p50"])
    needed = runs_for_precision(per_run["p50"], 0.95, 0.10)
    assert needed is not None
    assert needed > 7
    assert wide["echo closed users=4"].startswith(
        f"p50 ±{half:.0%} from 7 run(s), about {needed} would reach ±10%"
    )
    assert not any(w.message.startswith("too few runs") for w in result.warnings)
    write_outputs(result, tmp_path / "summary")
    summary = json.loads((tmp_path / "summary" / "summary.json").read_text())
    (entry,) = summary["groups"]
    assert entry["latency_p50_ms"]["ci_low"] == pytest.approx(low)
    assert summary["settings"]["intervals"].startswith("hettmansperger-sheather")


def test_single_run_groups_get_no_interval(result: Aggregate) -> None:
    """One run says nothing about run-to-run variation: no interval, and a warning that says
    how many runs one needs."""
    (row,) = _rows(
        result, level="group", mode="open", subset="all", metric="latency_ms", stat="run_median_p99"
    )
    assert row["value"] is not None
    assert (row["ci_low"], row["ci_high"], row["ci_method"]) == (None, None, None)
    few = _warned(result, "too few runs for a 95% interval: none reported")
    assert few["echo open rate=50"] == "1 run(s), 6 needed"
    assert few["echo cold (scale-to-zero)"] == "1 run(s), 6 needed"


def test_cold_starts_split_and_agreement(result: Aggregate, campaign: Path) -> None:
    cold_cell = {"level": "cell", "cell_id": "echo-cold-scale-to-zero-r0", "subset": "all"}
    assert _value(result, metric="cold_start", stat="cold", **cold_cell) == 12
    lines = [
        json.loads(line)
        for line in (campaign / "cells" / cold_cell["cell_id"] / "platform.jsonl")
        .read_text()
        .splitlines()
    ]
    agree = np.mean([line["cold"] is True for line in lines])
    assert _value(result, metric="cold_start", stat="agreement_rate", **cold_cell) == pytest.approx(
        agree
    )
    assert agree < 1
    phases = np.array([line["phases"]["image_pull"] for line in lines if line["cold"]])
    assert _value(
        result,
        metric="platform_phase:image_pull_ms",
        stat="mean",
        **{**cold_cell, "subset": "cold"},
    ) == pytest.approx(phases.mean())
    warm = {"level": "cell", "cell_id": "echo-closed-users1-r0"}
    cold_ok = _value(result, metric="requests", stat="ok", subset="cold", **warm)
    warm_ok = _value(result, metric="requests", stat="ok", subset="warm", **warm)
    assert cold_ok + warm_ok == _value(result, metric="requests", stat="ok", subset="all", **warm)
    assert cold_ok <= 2
    assert _value(result, metric="cold_start", stat="agreement_rate", subset="all", **warm) == 1.0


def test_openwhisk_breakdown_matches_platform_records(result: Aggregate, campaign: Path) -> None:
    cell_id = "echo-closed-users1-r1"
    lines = [
        json.loads(x)
        for x in (campaign / "cells" / cell_id / "platform.jsonl").read_text().splitlines()
    ]
    cell = {"level": "cell", "cell_id": cell_id, "subset": "all"}
    for part in ("wait", "init", "run"):
        values = np.array([line[f"{part}_ms"] for line in lines])
        assert _value(result, metric=f"platform_{part}_ms", stat="mean", **cell) == pytest.approx(
            values.mean()
        )
        assert _value(result, metric=f"platform_{part}_ms", stat="p99", **cell) == pytest.approx(
            np.percentile(values, 99, method="inverted_cdf")
        )
    assert _value(result, metric="platform", stat="matched", **cell) == len(lines)


def test_resource_metrics_per_cell(result: Aggregate, campaign: Path) -> None:
    cell_id = "echo-closed-users1-r1"
    series = json.loads((campaign / "cells" / cell_id / "metrics.json").read_text())["series"]
    cpu = np.array([v for _, v in series[0]["points"]])
    cell = {"level": "cell", "cell_id": cell_id}
    assert _value(
        result, metric="resource:cpu{node=worker-1}", stat="mean", **cell
    ) == pytest.approx(cpu.mean())
    (row,) = _rows(result, metric="resource:cpu{node=worker-1}", stat="max", **cell)
    assert row["value"] == cpu.max()
    assert row["unit"] == "cores"


def test_incomplete_cells_are_skipped_but_reported(
    result: Aggregate, campaign: Path, tmp_path: Path
) -> None:
    ids = {r["cell_id"] for r in result.rows}
    assert "echo-closed-users100-r0" not in ids
    assert {(s.id, s.status, s.reason) for s in result.skipped} == {
        ("echo-closed-users100-r0", "failed", "gateway timeout"),
        ("echo-closed-users200-r0", "invalid", "client CPU 95%"),
    }
    write_outputs(result, tmp_path / "summary")
    summary = json.loads((tmp_path / "summary" / "summary.json").read_text())
    assert summary["cells"]["by_status"] == {"complete": 10, "failed": 1, "invalid": 1}
    assert len(summary["cells"]["skipped"]) == 2
    skipped = next(w for w in summary["warnings"] if w["message"] == SKIPPED)
    assert {"subject": "echo-closed-users100-r0", "detail": "failed: gateway timeout"} in skipped[
        "subjects"
    ]
    assert any(w["message"].startswith("client-bottlenecked") for w in summary["warnings"])
    first = summary["groups"][0]["latency_p50_ms"]
    assert first["value"] is not None
    assert first["ci_low"] is None  # 4 runs: too few for a 95% interval


def test_parquet_and_csv_hold_the_same_tidy_rows(result: Aggregate, tmp_path: Path) -> None:
    parquet, csv, _ = write_outputs(result, tmp_path / "out")
    from_parquet = pq.read_table(parquet)
    from_csv = pa_csv.read_csv(csv)
    assert from_parquet.num_rows == from_csv.num_rows == len(result.rows)
    assert from_parquet.column_names == from_csv.column_names
    values = np.array(from_parquet["value"].to_pylist(), dtype=float)
    assert np.allclose(values, np.array(from_csv["value"].to_pylist(), dtype=float), equal_nan=True)


def _write_manual_cell(root: Path, rows: list[tuple[int, int, int, int, int]]) -> Path:
    """A campaign with one cell written row by row: (intended, send, end, status, error)."""
    write_campaign(root, CampaignSpec(cells=()))
    spec = CellSpec(function="edge", requests=len(rows))
    cell = root / "cells" / "edge"
    (cell / "records").mkdir(parents=True)
    writer = RecordWriter(cell / "records" / record_file_name(0), _header(spec, 0, "edge", 10**18))
    for intended, send, end, status, error in rows:
        writer.append(EPOCH + intended, EPOCH + send, EPOCH + end, status, 0, error, 0, None, None)
    writer.close(warmup_records=0, dropped=0, end_ns=EPOCH + 10**9, reason="completed")
    info = {
        "id": "edge",
        "function": "edge",
        "mode": "closed",
        "sweep": {"name": "none"},
        "run": 0,
        "status": "complete",
        "started": "2025-01-01T00:00:00Z",
    }
    (cell / "cell.json").write_text(json.dumps(info))
    return root


def test_all_errors(tmp_path: Path) -> None:
    timeout = int(ErrorKind.TIMEOUT)
    root = _write_manual_cell(
        tmp_path, [(i * 10, i * 10, i * 10 + 5, 0, timeout) for i in range(5)]
    )
    result = aggregate(open_results(root), FAST)
    cell = {"level": "cell", "subset": "all"}
    assert _value(result, metric="error_rate", stat="value", **cell) == 1.0
    assert _value(result, metric="errors", stat="timeout", **cell) == 5
    assert _value(result, metric="latency_ms", stat="p50", **cell) is None
    assert _value(result, metric="throughput_rps", stat="value", **cell) == 0.0
    assert _value(result, metric="latency_ms", stat="run_median_p50", level="group") is None
    assert _warned(result, "every request failed") == {"edge": "5 requests"}


def test_one_request_with_zero_duration(tmp_path: Path) -> None:
    root = _write_manual_cell(tmp_path, [(100, 100, 100, 200, 0)])
    result = aggregate(open_results(root), FAST)
    cell = {"level": "cell", "subset": "all"}
    assert _value(result, metric="duration_s", stat="value", level="cell") == 0.0
    assert _value(result, metric="throughput_rps", stat="value", **cell) == 0.0
    assert _value(result, metric="latency_ms", stat="p99", **cell) == 0.0
    (row,) = _rows(result, level="group", metric="latency_ms", stat="run_median_p50")
    assert row["value"] == 0.0
    assert row["ci_low"] is None  # one run: too few for an interval


def test_ties_give_exact_percentiles(tmp_path: Path) -> None:
    ms = 1_000_000
    latencies = [5 * ms] * 98 + [9 * ms, 9 * ms]
    root = _write_manual_cell(
        tmp_path, [(i, i, i + lat, 200, 0) for i, lat in enumerate(latencies)]
    )
    result = aggregate(open_results(root), FAST)
    cell = {"level": "cell", "subset": "all", "metric": "latency_ms"}
    assert _value(result, stat="p50", **cell) == 5.0
    assert _value(result, stat="p99", **cell) == 9.0
    (row,) = _rows(result, level="group", metric="latency_ms", stat="run_median_p50")
    assert row["value"] == 5.0


def test_cli_writes_summary(campaign: Path, tmp_path: Path) -> None:
    outcome = CliRunner().invoke(app, ["aggregate", str(campaign)])
    assert outcome.exit_code == 0, outcome.output
    assert (campaign / "summary" / "stats.parquet").is_file()
    assert (campaign / "summary" / "stats.csv").is_file()
    assert json.loads((campaign / "summary" / "summary.json").read_text())["campaign"] == "k8s"
    # No bootstrap any more: its options are gone, not silently ignored.
    for removed in ("--blocks", "--resamples", "--seed"):
        outcome = CliRunner().invoke(app, ["aggregate", str(campaign), removed, "1"])
        assert outcome.exit_code == 2
        assert "No such option" in outcome.output


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda root: (root / "manifest.json").unlink(), "manifest.json: missing"),
        (
            lambda root: (root / "manifest.json").write_text("{}"),
            "manifest.json: invalid at campaign",
        ),
        (
            lambda root: (root / "cells" / "edge" / "cell.json").write_text('{"id": "edge"}'),
            "cell.json: invalid at function",
        ),
    ],
)
def test_cli_names_the_bad_file(
    tmp_path: Path, damage: Callable[[Path], object], message: str
) -> None:
    root = _write_manual_cell(tmp_path, [(0, 0, 5, 200, 0)])
    damage(root)
    outcome = CliRunner().invoke(app, ["aggregate", str(root)])
    assert outcome.exit_code == 2
    assert message in outcome.output
    assert "Traceback" not in outcome.output


def test_tail_percentiles_from_few_requests_are_flagged(tmp_path: Path) -> None:
    from support.synthetic_results import CampaignSpec, grid, write_campaign

    few = write_campaign(
        tmp_path / "few", CampaignSpec(cells=grid(users=(1,), runs=2, requests=200))
    )
    many = write_campaign(
        tmp_path / "many", CampaignSpec(cells=grid(users=(1,), runs=2, requests=1200))
    )
    flagged = _warned(aggregate(open_results(few), FAST), "p99 from fewer than 1000 ok requests")
    assert flagged == {"echo closed users=1": "as few as 200"}
    unflagged = aggregate(open_results(many), FAST).warnings
    assert not any(w.message.startswith("p99 from fewer than") for w in unflagged)


def test_each_warning_appears_once_with_the_groups_and_cells_it_concerns(
    result: Aggregate,
) -> None:
    """Several groups with too few runs and too few requests, two skipped cells: one warning
    each, naming every group or cell once, its own figures beside it, not in the message."""
    messages = [w.message for w in result.warnings]
    assert len(messages) == len(set(messages))
    few = _warned(result, "too few runs for a 95% interval: none reported")
    assert few == {
        "echo closed users=1": "4 run(s), 6 needed",
        "echo closed users=10": "4 run(s), 6 needed",
        "echo cold (scale-to-zero)": "1 run(s), 6 needed",
        "echo open rate=50": "1 run(s), 6 needed",
    }
    tail = _warned(result, "p99 from fewer than 1000 ok requests")
    # A cold-start group has no tail to estimate (each run holds its forced cold starts): it
    # gets a p50 only, and no tail warning.
    assert set(tail) == {"echo closed users=1", "echo closed users=10", "echo open rate=50"}
    cold = [r for r in result.rows if r["level"] == "group" and r["cold_method"] is not None]
    assert cold, "the synthetic campaign has a cold-start group"
    stats = {r["stat"] for r in cold if r["metric"] == "latency_ms"}
    assert "run_median_p50" in stats
    assert "run_median_p99" not in stats
    assert set(_warned(result, SKIPPED)) == {"echo-closed-users100-r0", "echo-closed-users200-r0"}
    labels = {"users=1", "users=10", "rate=50", "echo-closed", "run(s)", "as few as"}
    assert not any(label in message for message in messages for label in labels)


def test_a_cell_warning_is_grouped_over_the_cells_that_have_it(tmp_path: Path) -> None:
    """Two client-bottlenecked open-loop runs of one group: one warning naming both cells."""
    open_cell = {
        "mode": "open",
        "sweep_name": "rate",
        "sweep_value": 50,
        "sched_lag_ms": 8.0,
        "client_cpu": (0.95,),
    }
    root = write_campaign(
        tmp_path,
        CampaignSpec(cells=tuple(CellSpec(run=run, seed=run, **open_cell) for run in (0, 1))),
    )
    lagging = _warned(aggregate(open_results(root), FAST), "client-bottlenecked")
    assert set(lagging) == {"echo-open-rate50-r0", "echo-open-rate50-r1"}
    assert all(detail.startswith("sched_lag p99 ") for detail in lagging.values())


def test_grouping_merges_equal_messages_and_a_subjects_details() -> None:
    grouped = group_caveats(
        [
            Caveat("wide", "a", "p50 ±20%"),
            Caveat("few", "a", "2 run(s)"),
            Caveat("wide", "b", "p99 ±30%"),
            Caveat("wide", "a", "p99 ±40%"),
        ]
    )
    assert [(w.message, w.subjects) for w in grouped] == [
        ("wide", (("a", "p50 ±20%; p99 ±40%"), ("b", "p99 ±30%"))),
        ("few", (("a", "2 run(s)"),)),
    ]
    assert grouped[0].text() == "wide: a (p50 ±20%; p99 ±40%); b (p99 ±30%)"


def test_progress_names_each_group_as_it_starts(result: Aggregate, campaign: Path) -> None:
    started: list[str] = []
    again = aggregate(open_results(campaign), FAST, on_group=started.append)
    groups = {
        (r["function"], r["mode"], r["sweep_value"], r["cold_method"])
        for r in again.rows
        if r["level"] == "group"
    }
    assert len(started) == len(set(started)) == len(groups)
    assert "echo closed users=10" in started
    assert "echo cold (scale-to-zero)" in started


def test_cli_prints_each_warning_once_then_its_groups(campaign: Path) -> None:
    outcome = CliRunner().invoke(app, ["aggregate", str(campaign)])
    assert outcome.exit_code == 0, outcome.output
    lines = outcome.output.splitlines()
    warning = "warning: too few runs for a 95% interval: none reported"
    assert lines.count(warning) == 1
    index = lines.index(warning)
    assert lines[index + 1 : index + 5] == [
        "  echo closed users=1: 4 run(s), 6 needed",
        "  echo closed users=10: 4 run(s), 6 needed",
        "  echo cold (scale-to-zero): 1 run(s), 6 needed",
        "  echo open rate=50: 1 run(s), 6 needed",
    ]
    # Not a terminal: one progress line per group.
    assert any(line.startswith("aggregate: group 1/") for line in lines)


FORCED = ((30_000.0, 6_000.0), (25_000.0, 7_500.0), (40_000.0, 5_800.0), (35_000.0, 6_200.0))
"""(to_ready_ms, ready_to_send_ms) of four forced cold starts."""


def _cold_cell(
    run: int, segments: tuple[tuple[float, float] | None, ...], **extra: object
) -> CellSpec:
    settings: dict[str, object] = {
        "function": "echo",
        "mode": "cold",
        "sweep_name": "none",
        "sweep_value": None,
        "run": run,
        "requests": len(segments),
        "cold_starts": len(segments),
        "cold_factor": 40.0,
        "cold_method": "action-update",
        "platform": "openwhisk",
        "seed": 20 + run,
        "cold_segments": segments,
    }
    settings.update(extra)
    return CellSpec(**settings)  # type: ignore[arg-type]


def _expected(values: list[float]) -> dict[str, object]:
    data = np.asarray(values, dtype=float)
    return {
        "count": data.size,
        "mean": pytest.approx(data.mean()),
        "p50": pytest.approx(np.percentile(data, 50, method="inverted_cdf")),
        "max": pytest.approx(data.max()),
    }


def _component(result: Aggregate, name: str, **match: object) -> dict[str, object]:
    return {
        str(r["stat"]): r["value"]
        for r in _rows(result, metric=f"cold_start_{name}_ms", subset="all", **match)
    }


def _first_requests(cell_dir: Path, indices: list[int], tmp_path: Path) -> tuple[list, list]:
    """Latency (from the records) and init (from platform.jsonl) of the given requests."""
    latency = _reference(cell_dir, tmp_path)["latency_ms"]
    lines = [json.loads(x) for x in (cell_dir / "platform.jsonl").read_text().splitlines()]
    init = {line["id"]: line["init_ms"] for line in lines}
    run_id = f"run-{cell_dir.name}"
    return [float(latency[i]) for i in indices], [init[f"{run_id}-{i}"] for i in indices]


def test_cold_start_components_are_recorded_apart(tmp_path: Path) -> None:
    """Known control-plane costs and gaps come back exactly, the first responses' latency and
    init are those of the records and the platform, per cell and pooled per group; the fourth
    cold start of run 0 answered warm, so it has no first-response latency or init."""
    cells = (
        _cold_cell(0, FORCED, cold_starts=3),
        _cold_cell(1, FORCED[:2]),
    )
    root = write_campaign(tmp_path / "c", CampaignSpec(cells=cells))
    result = aggregate(open_results(root), FAST)
    r0 = root / "cells" / "echo-cold-action-update-r0"
    r1 = root / "cells" / "echo-cold-action-update-r1"
    latency0, init0 = _first_requests(r0, [0, 1, 2], tmp_path)
    latency1, init1 = _first_requests(r1, [0, 1], tmp_path)
    cell = {"level": "cell", "cell_id": r0.name}
    to_ready = {"count": 4, "mean": 32_500.0, "p50": 30_000.0, "max": 40_000.0}
    assert _component(result, "to_ready", **cell) == to_ready
    gap = {"count": 4, "mean": 6_375.0, "p50": 6_000.0, "max": 7_500.0}
    assert _component(result, "ready_to_send", **cell) == gap
    assert _component(result, "first_latency", **cell) == _expected(latency0)
    assert _component(result, "init", **cell) == _expected(init0)
    first = {str(r["stat"]): r["value"] for r in _rows(result, metric="cold_start_first", **cell)}
    assert first == {"count": 4, "sent": 4, "ok": 4, "cold": 3, "warm": 1, "unknown": 0}
    group = {"level": "group"}
    costs = [c for c, _ in FORCED] + [c for c, _ in FORCED[:2]]
    assert _component(result, "to_ready", **group) == _expected(costs)
    gaps = [g for _, g in FORCED] + [g for _, g in FORCED[:2]]
    assert _component(result, "ready_to_send", **group) == _expected(gaps)
    assert _component(result, "first_latency", **group) == _expected(latency0 + latency1)
    assert _component(result, "init", **group) == _expected(init0 + init1)
    # Init is part of the first response, never more than it.
    assert all(i <= lat for i, lat in zip(init0 + init1, latency0 + latency1, strict=True))
    units = {r["unit"] for r in result.rows if str(r["metric"]).startswith("cold_start_to")}
    assert units == {"1", "ms"}

    write_outputs(result, tmp_path / "summary")
    (entry,) = json.loads((tmp_path / "summary" / "summary.json").read_text())["groups"]
    cost = entry["cold_start_cost"]
    assert cost["boot_in"] == "first_latency"
    assert cost["to_ready_ms"]["max"] == 40_000.0
    assert cost["ready_to_send_ms"]["count"] == 6
    assert cost["first_request"]["warm"] == 1
    assert entry["cold"]["ok"] == 5
    assert entry["warm"]["ok"] == 1


def test_natural_and_old_cold_starts_report_what_they_have(tmp_path: Path) -> None:
    """An idle wait has no control-plane part; a summary.json from before the campaign loop recorded
    first requests gives the control-plane part only; a cell without one gives no rows."""
    natural = _cold_cell(0, (None, None), cold_method="natural")
    old = _cold_cell(0, FORCED[:2], function="matrix")
    root = write_campaign(
        tmp_path / "c", CampaignSpec(cells=(natural, old, CellSpec(run=0, cold_starts=1)))
    )
    summary = root / "cells" / "matrix-cold-action-update-r0" / "summary.json"
    document = json.loads(summary.read_text())
    for segment in document["segments"]:
        del segment["first_request"]
    summary.write_text(json.dumps(document))
    result = aggregate(open_results(root), FAST)

    idle = {"level": "cell", "cell_id": "echo-cold-natural-r0"}
    latency, _ = _first_requests(root / "cells" / "echo-cold-natural-r0", [0, 1], tmp_path)
    assert _component(result, "to_ready", **idle) == {"count": 0}
    assert _component(result, "ready_to_send", **idle) == {"count": 0}
    assert _component(result, "first_latency", **idle) == _expected(latency)
    before = {"level": "cell", "cell_id": "matrix-cold-action-update-r0"}
    assert _component(result, "to_ready", **before) == _expected([30_000.0, 25_000.0])
    assert _component(result, "first_latency", **before) == {"count": 0}
    assert _value(result, metric="cold_start_first", stat="sent", **before) == 0
    warm_cell = {"level": "cell", "cell_id": "echo-closed-users10-r0"}
    assert _rows(result, metric="cold_start_first", **warm_cell) == []
    closed = [r for r in result.rows if r["mode"] == "closed"]
    assert not [r for r in closed if str(r["metric"]).startswith("cold_start_")]


def test_warm_and_cold_requests_get_their_own_run_level_figures(
    result: Aggregate, campaign: Path, tmp_path: Path
) -> None:
    """Each run's p50 of its warm requests and of its cold ones (the first two of every run),
    the median over runs of each, and summary.json's headline with both beside the pooled."""
    refs = [
        _reference(campaign / "cells" / f"echo-closed-users10-r{run}", tmp_path) for run in range(4)
    ]
    cold_first = [np.arange(r["ok"].size) < 2 for r in refs]
    warm = [r["latency_ms"][r["ok"] & ~c] for r, c in zip(refs, cold_first, strict=True)]
    cold = [r["latency_ms"][r["ok"] & c] for r, c in zip(refs, cold_first, strict=True)]
    group = {"level": "group", "sweep_value": 10.0, "mode": "closed"}
    for subset, values, stats in (("warm", warm, ("p50", "p99")), ("cold", cold, ("p50",))):
        for stat, q in (("p50", 50), ("p99", 99)):
            name = f"run_median_{stat}"
            rows = _rows(result, metric="latency_ms", stat=name, subset=subset, **group)
            if stat not in stats:
                assert rows == []  # a run's few cold requests have no p99
                continue
            (row,) = rows
            per_run = [np.percentile(v, q, method="inverted_cdf") for v in values if v.size]
            assert row["value"] == pytest.approx(np.median(per_run))
            # 4 runs: too few for a 95% interval, in every subset.
            assert (row["ci_low"], row["ci_high"], row["ci_method"]) == (None, None, None)
    write_outputs(result, tmp_path / "summary")
    groups = json.loads((tmp_path / "summary" / "summary.json").read_text())["groups"]
    (entry,) = [g for g in groups if g["mode"] == "closed" and g["sweep"]["value"] == 10.0]
    warm_p50 = np.median([np.percentile(v, 50, method="inverted_cdf") for v in warm])
    assert entry["warm"]["latency_p50_ms"]["value"] == pytest.approx(warm_p50)
    assert entry["warm"]["ok"] == sum(v.size for v in warm)
    assert entry["cold"]["ok"] == sum(v.size for v in cold)
    assert "latency_p99_ms" not in entry["cold"]
    assert entry["latency_p50_ms"]["value"] == _value(
        result, metric="latency_ms", stat="run_median_p50", subset="all", **group
    )
