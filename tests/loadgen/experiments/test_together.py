"""Engine runs side by side (a multi-trace minute): one start instant for all, each run its own
records, and a run that cannot start stops the others instead of leaving them waiting."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from support.loadgen_servers import Target

from loadgen.analysis.requests import load_requests
from loadgen.engine import EngineOptions, RequestSpec
from loadgen.experiments.together import Job, run_together
from loadgen.record.format import RECORD_FILE_SUFFIX
from loadgen.workload.spec import OpenLoop


def test_runs_start_together_and_keep_their_own_records(haproxy: Target, tmp_path: Path) -> None:
    rates = (40.0, 120.0, 5.0)
    jobs = [
        Job(
            RequestSpec(url=haproxy.url(f"/job{index}")),
            OpenLoop(rate=rate, duration_s=1.0, arrival="poisson", seed=index),
            tmp_path / f"job{index}",
        )
        for index, rate in enumerate(rates)
    ]
    results = run_together(jobs, options=EngineOptions(), processes=1)
    assert len({result.summary.started for result in results}) == 1
    for job, result, rate in zip(jobs, results, rates, strict=True):
        assert result.plan.request.url == job.request.url
        assert abs(result.summary.requests - rate) <= 4 * math.sqrt(rate) + 1
        assert result.summary.ok == result.summary.requests
        assert len(list(job.out_dir.glob(f"*{RECORD_FILE_SUFFIX}"))) == 1


def test_a_run_that_cannot_start_stops_the_others(haproxy: Target, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    good = Job(
        RequestSpec(url=haproxy.url("/")),
        OpenLoop(rate=50, duration_s=30, arrival="constant"),
        tmp_path / "good",
    )
    bad = Job(RequestSpec(url=haproxy.url("/")), OpenLoop(rate=5, duration_s=1), blocked)
    with pytest.raises(ValueError, match="exists and is not a directory"):
        run_together([good, bad], options=EngineOptions(), processes=1)
    # The good run never started its 30 s: what it recorded holds no request.
    assert load_requests(sorted((tmp_path / "good").glob(f"*{RECORD_FILE_SUFFIX}"))).count == 0


def test_no_jobs_no_runs() -> None:
    assert run_together([], options=EngineOptions(), processes=1) == []
