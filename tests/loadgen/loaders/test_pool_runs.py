"""Runs over a pool of two local loaders against HAProxy: exact merges, clocks and start skew,
records brought back, and a loader lost mid-run."""

from pathlib import Path

import numpy as np
import pytest
from support.loader_pool import LoaderKiller, wait_for_loaders
from support.loadgen_servers import Target

from loadgen.engine import RequestSpec
from loadgen.loaders.execute import execute_on_pool
from loadgen.loaders.models import DistributedSummary
from loadgen.loaders.pool import LoaderPool
from loadgen.metrics.histogram import PERCENTILES, new_hdr
from loadgen.record import RecordFile, record_files
from loadgen.workload.spec import ClosedLoop, OpenLoop


def _records(directory: Path) -> list[tuple[int, list]]:
    files = []
    for path in record_files(directory):
        with RecordFile(path) as record_file:
            files.append((record_file.header.process_index, list(record_file.records())))
    return sorted(files, key=lambda item: item[0])


def test_merged_percentiles_equal_those_recomputed_from_every_loaders_records(
    pool: LoaderPool, haproxy: Target, tmp_path: Path
) -> None:
    result = execute_on_pool(
        pool,
        RequestSpec(url=haproxy.url("/")),
        OpenLoop(rate=800, total=2400, seed=3),
        processes=1,
        out_dir=tmp_path / "run",
    )
    summary = result.summary
    assert isinstance(summary, DistributedSummary)
    assert (summary.requests, summary.ok, summary.records, summary.processes) == (
        2400,
        2400,
        2400,
        2,
    )
    files = _records(tmp_path / "run")
    assert [index for index, _ in files] == [0, 1]
    assert [len(records) for _, records in files] == [1200, 1200]
    latency_ns = [r.end_ns - r.intended_ns for _, records in files for r in records]
    recorded_us = [ns // 1000 for ns in latency_ns]
    hdr = new_hdr()
    latency = summary.latency_ms
    bounds = summary.percentile_bounds.latency_ms
    assert latency.max is not None
    for key, percent in PERCENTILES.items():
        exact = int(np.percentile(recorded_us, percent, method="inverted_cdf"))
        top = hdr.get_highest_equivalent_value(exact) / 1000
        assert getattr(latency, key) == min(top, latency.max) == bounds[key][1]
        assert bounds[key][0] <= exact / 1000 <= bounds[key][1]
    assert latency.max == round(max(latency_ns) / 1e6, 3)
    assert result.latency_histogram.get_total_count() == 2400
    assert (tmp_path / "run" / "summary.json").is_file()
    assert [loader.requests for loader in summary.loaders] == [1200, 1200]


def test_each_loader_reports_its_clock_offset_and_start_skew(
    pool: LoaderPool, haproxy: Target
) -> None:
    result = execute_on_pool(
        pool, RequestSpec(url=haproxy.url("/")), ClosedLoop(users=4, total=400), processes=1
    )
    summary = result.summary
    assert isinstance(summary, DistributedSummary)
    assert summary.requests == 400
    assert summary.loaders_spec == "local:2"
    assert not summary.partial
    assert len(summary.loaders) == 2
    for loader in summary.loaders:
        assert loader.status == "completed"
        assert loader.requests == 200
        # One host, one CLOCK_MONOTONIC: the true offset is 0, within the measured bound.
        # (0.002: both are rounded to 0.001 ms.)
        assert abs(loader.clock_offset_ms) <= loader.clock_uncertainty_ms + 0.002
        # The uncertainty is half the kept sample's round trip (each rounded to 0.001 ms).
        assert loader.clock_uncertainty_ms == pytest.approx(loader.clock_rtt_ms / 2, abs=0.0011)
        assert loader.start_skew_ms is not None
        assert loader.start_skew_ms >= 0
        assert loader.host is not None
    skews = [loader.start_skew_ms for loader in summary.loaders]
    assert summary.start_skew_ms == max(skews)
    assert summary.clock_uncertainty_ms == max(
        loader.clock_uncertainty_ms for loader in summary.loaders
    )


def test_a_loader_lost_mid_run_leaves_a_partial_run_with_the_survivors_data(
    pool: LoaderPool, haproxy: Target, tmp_path: Path
) -> None:
    addresses = wait_for_loaders(pool, 2)
    killer = LoaderKiller(pool, addresses[1], "loader-1", after=100)
    result = execute_on_pool(
        pool,
        RequestSpec(url=haproxy.url("/")),
        OpenLoop(rate=400, duration_s=4),
        processes=1,
        out_dir=tmp_path / "run",
    )
    assert killer.killed.is_set()
    summary = result.summary
    assert isinstance(summary, DistributedSummary)
    assert summary.partial
    assert summary.partial_reason is not None
    assert "loader-1 lost" in summary.partial_reason
    assert not summary.valid
    assert any("loader loader-1" in warning and "lost" in warning for warning in summary.warnings)
    survivor, lost = summary.loaders
    assert (survivor.status, lost.status) == ("completed", "lost")
    assert survivor.ok == summary.ok > 700  # its half of 4 s at 400/s
    assert [index for index, _ in _records(tmp_path / "run")] == [0]
    assert summary.records == survivor.requests
