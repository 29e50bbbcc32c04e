"""The loader host's load (from /proc) and the one rule that names the cause of late sends:
a saturated loader process is a client bottleneck, an idle loader points at a busy host."""

import json
import os
from pathlib import Path

import pytest
from support.loadgen_servers import Target

from loadgen.engine import RequestSpec
from loadgen.metrics.host import (
    CpuTimes,
    HostSample,
    host_load,
    parse_loadavg,
    parse_proc_stat,
    sample_host,
)
from loadgen.metrics.summary import HostLoad, Summary
from loadgen.metrics.validity import CPU_LIMIT, LATENCY_NOTE, diagnose, late_sends
from loadgen.processes.coordinator import execute
from loadgen.results.models import CellInfo, Sweep
from loadgen.results.tree import Cell
from loadgen.workload.spec import OpenLoop

FIXTURES = Path(__file__).parent / "host_fixtures"
BUSY_HOST = HostLoad(cpus=2, load1_start=2.4, load1_end=3.1, cpu_busy=0.97, cpu_steal=0.0)
LATE = {"sched_lag_p99_ms": 2.9, "latency_p99_ms": 9.5}
"""Late by the rule: lag p99 above 2 ms and above 10% of latency p99."""
VALID = {
    "dropped": 0,
    "histogram_overflow": 0,
    "interrupted": False,
    "record_errors": [],
    "requests": 1000,
}


def test_proc_stat_fixture_gives_busy_and_steal_shares_over_the_run() -> None:
    start = sample_host(FIXTURES / "proc-stat-start", FIXTURES / "loadavg-start")
    end = sample_host(FIXTURES / "proc-stat-end", FIXTURES / "loadavg-end")
    assert start.cpu == CpuTimes(busy=1000 + 100 + 400 + 0 + 100, idle=8000 + 200, steal=200)
    assert (start.load1, end.load1) == (2.4, 3.1)
    load = host_load(start, end, cpus=2)
    # Deltas: user 600, system 300, softirq 100 (busy 1000); idle 300; steal 700; of 2000
    # ticks. Guest time (50) is inside user already and is not counted twice.
    assert load == HostLoad(cpus=2, load1_start=2.4, load1_end=3.1, cpu_busy=0.5, cpu_steal=0.35)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cpu 10 0 5 100\n", CpuTimes(busy=15, idle=100, steal=0)),  # before Linux 2.6.11
        ("cpu0 1 2 3 4 5 6 7 8\n", None),  # a single CPU's line is not the aggregate
        ("cpu a b c d\n", None),
        ("cpu 1 2\n", None),
        ("cpu -1 0 0 5\n", None),
        ("", None),
    ],
)
def test_malformed_or_partial_proc_stat(text: str, expected: CpuTimes | None) -> None:
    assert parse_proc_stat(text) == expected


def test_loadavg_parsing_and_missing_files(tmp_path: Path) -> None:
    assert parse_loadavg("0.52 0.58 0.59 1/321 4242\n") == 0.52
    assert parse_loadavg("") is None
    assert parse_loadavg("high") is None
    missing = sample_host(tmp_path / "no-stat", tmp_path / "no-loadavg")
    assert (missing.load1, missing.cpu) == (None, None)
    load = host_load(missing, missing, cpus=4)
    assert load == HostLoad(cpus=4, load1_start=None, load1_end=None, cpu_busy=None, cpu_steal=None)
    # No tick between two readings: no share rather than a division by zero.
    same = HostSample(load1=1.0, cpu=CpuTimes(busy=5, idle=5, steal=0), monotonic_ns=0)
    assert host_load(same, same, cpus=1).cpu_busy is None


def test_a_saturated_loader_is_a_client_bottleneck() -> None:
    late = late_sends(**LATE, cpu_share=[0.95], hosts=[BUSY_HOST])
    assert late is not None
    assert late.cause == "client"
    assert late.headline.startswith("client-bottlenecked: sends were late")
    assert "loader CPU 95% of a core" in late.detail
    assert late.detail.startswith("sched_lag p99 2.900 ms, latency p99 9.500 ms")
    assert LATENCY_NOTE in late.text()
    assert "nothing is hidden" in late.message
    # The figures are in the text, not in the message shared by every cell with this cause.
    assert "95%" not in late.message


def test_an_idle_loader_on_a_busy_host_blames_the_host() -> None:
    late = late_sends(**LATE, cpu_share=[0.12], hosts=[BUSY_HOST])
    assert late is not None
    assert late.cause == "host"
    text = late.text()
    assert text.startswith("busy host: sends were late")
    assert "client-bottlenecked" not in text
    assert "loader CPU 12% of a core" in text
    assert "host load 2.4 → 3.1 on 2 CPUs, CPUs 97% busy, steal 0%" in text
    assert "may overstate the platform's latency by up to the lag" in text


def test_several_engine_runs_report_their_busiest_figures() -> None:
    quiet = HostLoad(cpus=2, load1_start=0.3, load1_end=0.4, cpu_busy=0.2, cpu_steal=0.01)
    late = late_sends(**LATE, cpu_share=[0.1, 0.3, 0.2], hosts=[quiet, BUSY_HOST])
    assert late is not None
    assert late.cause == "host"
    assert "busiest loader process 30% of a core" in late.detail
    assert "host load up to 3.1 on 2 CPUs, CPUs up to 97% busy, steal up to 1%" in late.detail


def test_on_time_sends_and_unknown_causes() -> None:
    assert late_sends(sched_lag_p99_ms=1.9, latency_p99_ms=5.0, cpu_share=[0.99]) is None
    # 3 ms late is under a tenth of a 40 ms p99: not flagged, whatever the CPU.
    assert late_sends(sched_lag_p99_ms=3.0, latency_p99_ms=40.0, cpu_share=[0.99]) is None
    assert late_sends(sched_lag_p99_ms=None, latency_p99_ms=5.0, cpu_share=[0.99]) is None
    unknown = late_sends(**LATE, cpu_share=[])
    assert unknown is not None
    assert unknown.cause == "unknown"
    assert unknown.headline.startswith("late sends, cause not recorded")
    no_host = late_sends(**LATE, cpu_share=[0.2])
    assert no_host is not None
    assert no_host.cause == "host"
    assert "host load not recorded" in no_host.detail


def test_hit_names_the_cause_in_its_warnings() -> None:
    """`diagnose` (what `loadgen hit` reports) applies the same rule."""
    saturated = diagnose(cpu_share=[0.95], host=BUSY_HOST, **LATE, **VALID)
    assert len(saturated) == 2
    assert saturated[0].startswith(f"client CPU 95% in process 0 (> {CPU_LIMIT:.0%})")
    assert saturated[1].startswith("client-bottlenecked: sends were late")
    busy = diagnose(cpu_share=[0.12], host=BUSY_HOST, **LATE, **VALID)
    assert len(busy) == 1
    assert busy[0].startswith("busy host: sends were late")
    assert "host load 2.4 → 3.1 on 2 CPUs" in busy[0]
    on_time = {**LATE, "sched_lag_p99_ms": 0.1}
    assert diagnose(cpu_share=[0.12], host=BUSY_HOST, **on_time, **VALID) == []


@pytest.mark.skipif(not Path("/proc/stat").is_file(), reason="/proc/stat is Linux only")
def test_a_real_run_records_the_host_and_aggregate_reads_it_back(
    haproxy: Target, tmp_path: Path
) -> None:
    result = execute(
        RequestSpec(url=haproxy.url("/")),
        OpenLoop(rate=500.0, total=300),
        processes=1,
        out_dir=tmp_path / "run",
    )
    host = result.summary.host
    assert host is not None
    assert host.cpus == os.cpu_count()
    assert host.load1_start is not None
    assert host.load1_end is not None
    assert host.cpu_busy is not None
    assert 0.0 <= host.cpu_busy <= 1.0
    assert host.cpu_steal is not None
    assert 0.0 <= host.cpu_steal <= host.cpu_busy + host.cpu_steal <= 1.0
    on_disk = Summary.model_validate_json((tmp_path / "run" / "summary.json").read_text())
    assert on_disk.host == host
    # A cell's summary.json as the campaign loop writes it: one event per segment, a
    # summary for each engine run, other keys (an idle wait, a forced cold start) beside.
    cell_dir = tmp_path / "cell"
    cell_dir.mkdir()
    events = [
        {"segment": 0, "idle_s": 30.0},
        {
            "segment": 1,
            "cold_start": {"method": "scale-to-zero", "effective_ns": 1, "cost_s": 0.5},
            "summary": result.summary.model_dump(mode="json"),
        },
    ]
    (cell_dir / "summary.json").write_text(json.dumps({"segments": events}))
    info = CellInfo(
        id="cell",
        function="echo",
        mode="open",
        sweep=Sweep(name="rate", value=500),
        run=0,
        status="complete",
        started="2025-01-01T00:00:00Z",
    )
    [load] = Cell(cell_dir, info).segment_loads()
    assert load.run_id == result.summary.run_id
    assert load.client_cpu == result.summary.client_cpu
    assert load.host == host
