"""`aggregate` and `loadgen hit` mean the same by throughput: real engine runs against HAProxy,
their records read back by `aggregate`. One segment gives exactly hit's rps (ok ÷ first
intended send to last completion); two segments with a pause between them give their ok
responses ÷ the sum of their own durations, not ÷ the wall span that holds the pause."""

import json
import time
from pathlib import Path

import pytest
from support.loadgen_servers import Target
from support.synthetic_results import CampaignSpec, write_campaign

from loadgen.analysis.aggregate import Aggregate, Settings, aggregate
from loadgen.engine import RequestSpec
from loadgen.metrics.summary import Summary
from loadgen.processes.coordinator import execute
from loadgen.record.format import RECORD_FILE_SUFFIX
from loadgen.results import open_results
from loadgen.workload.spec import ClosedLoop

PAUSE_S = 1.0


def _cell(root: Path, target: Target, segments: int) -> list[Summary]:
    """A cell whose segments are real engine runs, filed as the campaign loop files them
    (`sNNN-` before each record file), with a pause between segments."""
    write_campaign(root, CampaignSpec(cells=()))
    cell = root / "cells" / "c"
    records = cell / "records"
    records.mkdir(parents=True)
    summaries = []
    for index in range(segments):
        if index:
            time.sleep(PAUSE_S)
        out = cell / f".segment-{index:03d}"
        result = execute(
            RequestSpec(url=target.url("/")),
            ClosedLoop(users=2, total=400),
            processes=2,
            out_dir=out,
        )
        for path in sorted(out.glob(f"*{RECORD_FILE_SUFFIX}")):
            path.replace(records / f"s{index:03d}-{path.name}")
        summaries.append(result.summary)
    info = {
        "id": "c",
        "function": "echo",
        "mode": "closed",
        "sweep": {"name": "users", "value": 2},
        "run": 0,
        "status": "complete",
        "started": "2025-01-01T00:00:00Z",
    }
    (cell / "cell.json").write_text(json.dumps(info))
    return summaries


def _cell_value(result: Aggregate, metric: str) -> float:
    (row,) = [r for r in result.rows if r["level"] == "cell" and r["metric"] == metric]
    value = row["value"]
    assert isinstance(value, float)
    return value


def test_one_segment_gives_hits_rps(haproxy: Target, tmp_path: Path) -> None:
    [summary] = _cell(tmp_path, haproxy, 1)
    assert summary.ok == 400
    result = aggregate(open_results(tmp_path), Settings())
    # hit rounds duration_s to 6 decimals and rps to 3.
    assert _cell_value(result, "duration_s") == pytest.approx(summary.duration_s, abs=1e-6)
    assert _cell_value(result, "active_s") == pytest.approx(summary.duration_s, abs=1e-6)
    assert round(_cell_value(result, "throughput_rps"), 3) == pytest.approx(summary.rps, abs=1e-3)


def test_two_segments_count_their_own_durations_only(haproxy: Target, tmp_path: Path) -> None:
    summaries = _cell(tmp_path, haproxy, 2)
    result = aggregate(open_results(tmp_path), Settings())
    # Each summary's duration_s is rounded to 1 µs: the sum may be 2 µs off aggregate's.
    active = sum(s.duration_s for s in summaries)
    assert _cell_value(result, "active_s") == pytest.approx(active, abs=2e-6)
    assert _cell_value(result, "duration_s") > active + PAUSE_S
    ok = sum(s.ok for s in summaries)
    assert _cell_value(result, "throughput_rps") == pytest.approx(
        ok / _cell_value(result, "active_s"), rel=1e-12
    )
    assert _cell_value(result, "throughput_rps") == pytest.approx(ok / active, rel=2e-6 / active)
