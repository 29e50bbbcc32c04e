"""The merge of loaders' reports: instants moved into the driver's clock before merging, start
skew per loader, loaders that fell behind named, lost loaders making the run partial."""

from loadgen.engine import EngineOptions, RequestSpec
from loadgen.loaders.clock import ClockOffset
from loadgen.loaders.merge import LoaderRun, merge_loaders, start_skew_ns
from loadgen.loaders.models import LoaderOutcome
from loadgen.metrics.histogram import encode, new_hdr
from loadgen.metrics.summary import HostLoad
from loadgen.processes.plan import RunPlan, WorkerReport
from loadgen.workload.spec import OpenLoop

WORKLOAD = OpenLoop(rate=100, total=200)
HOST = HostLoad(cpus=2, load1_start=0.1, load1_end=0.2, cpu_busy=0.3, cpu_steal=0.0)


def _run() -> RunPlan:
    return RunPlan(
        run_id="r",
        request=RequestSpec(url="http://127.0.0.1:9/"),
        options=EngineOptions(),
        workload=WORKLOAD,
        processes=2,
        monotonic_epoch_ns=0,
        wall_anchor_ns=1_700_000_000_000_000_000,
    )


def _report(index: int, shift_ns: int, latencies_us: list[int], cpu_s: float) -> WorkerReport:
    """A process that sent at 1.000 s .. 2.000 s of the driver's clock, seen from a loader
    whose clock is `shift_ns` ahead; it started 0.2 ms late."""
    hdr = new_hdr()
    for value in latencies_us:
        hdr.record_value(value)
    start = 1_000_000_000 + shift_ns
    return WorkerReport(
        index=index, reason="completed", requests=len(latencies_us), ok=len(latencies_us),
        warmup=0, dropped=0, errors={}, first_intended_ns=start, last_end_ns=start + 1_000_000_000,
        first_send_ns=start + 200_000, last_send_ns=start + 999_000_000,
        latency_hdr=encode(hdr), service_hdr=encode(hdr), sched_lag_hdr=encode(new_hdr()),
        histogram_overflow=0, latency_sum_ns=sum(latencies_us) * 1000,
        latency_max_ns=max(latencies_us) * 1000, service_sum_ns=sum(latencies_us) * 1000,
        service_max_ns=max(latencies_us) * 1000, sched_lag_max_ns=0, cpu_s=cpu_s, wall_s=1.0,
        records=None, record_path=None, record_error=None, resolve_error=None,
        connections_opened=1, queued_max=0, max_rss_kib=1,
        earliest_intended_ns=start, earliest_send_ns=start + 200_000,
    )  # fmt: skip


def _loader(index: int, shift_ns: int, latencies_us: list[int], cpu_s: float) -> LoaderRun:
    plan = _run().model_copy(update={"processes": 1, "first_index": index, "all_processes": 2})
    outcome = LoaderOutcome(
        name=f"loader-{index}",
        hostname=f"host-{index}",
        t0_ns=1_000_000_000 + shift_ns,
        reports=[_report(index, shift_ns, latencies_us, cpu_s)],
        host=HOST,
    )
    clock = ClockOffset(offset_ns=shift_ns, uncertainty_ns=50_000, rtt_ns=100_000, samples=16)
    return LoaderRun(f"loader-{index}", f"tcp://10.0.0.{index}:1", plan, clock, outcome=outcome)


def test_instants_are_merged_in_the_drivers_clock_and_histograms_add_up() -> None:
    # loader-1's clock runs 5,000 s ahead: merged without the offset, the run would last 5,000 s.
    loaders = [
        _loader(0, 0, [1000] * 100, 0.1),
        _loader(1, 5_000_000_000_000, [3000] * 100, 0.1),
    ]
    summary = merge_loaders(_run(), loaders, "2026-01-01T00:00:00Z", "local:2")
    assert summary.duration_s == 1.0
    assert (summary.requests, summary.ok, summary.processes) == (200, 200, 2)
    assert summary.latency_ms.p50 == 1.0
    assert summary.latency_ms.p99 == 3.0
    assert [loader.start_skew_ms for loader in summary.loaders] == [0.2, 0.2]
    assert [loader.clock_offset_ms for loader in summary.loaders] == [0.0, 5_000_000.0]
    assert summary.clock_uncertainty_ms == 0.05
    assert summary.warnings == []
    assert summary.valid
    assert not summary.partial


def test_a_loader_that_fell_behind_is_named_in_the_warnings() -> None:
    loaders = [_loader(0, 0, [1000] * 100, 0.1), _loader(1, 0, [1000] * 100, 0.95)]
    summary = merge_loaders(_run(), loaders, "2026-01-01T00:00:00Z", "local:2")
    assert [loader.behind for loader in summary.loaders] == [False, True]
    assert "loader loader-1 (host-1) fell behind: CPU up to 0.95 of a core" in " ".join(
        summary.warnings
    )
    assert not summary.valid


def test_a_lost_loader_makes_the_run_partial_with_the_survivors_figures() -> None:
    survivor = _loader(0, 0, [1000] * 100, 0.1)
    lost = _loader(1, 0, [1000] * 100, 0.1)
    lost = LoaderRun(lost.name, lost.address, lost.plan, lost.clock, status="lost",
                     reason="its worker tcp://10.0.0.1:1 left the cluster")  # fmt: skip
    summary = merge_loaders(_run(), [survivor, lost], "2026-01-01T00:00:00Z", "local:2")
    assert summary.partial
    assert summary.partial_reason == (
        "1 of 2 loaders missing: loader-1 lost (its worker tcp://10.0.0.1:1 left the cluster)"
    )
    assert (summary.requests, summary.processes) == (100, 1)
    assert summary.loaders[1].status == "lost"
    assert summary.loaders[1].start_skew_ms is None
    assert not summary.valid


def test_a_closed_loops_skew_is_counted_from_the_start_instant() -> None:
    loader = _loader(0, 0, [1000], 0.1)
    assert loader.outcome is not None
    outcome = loader.outcome.model_copy(update={"t0_ns": 1_000_000_000 - 300_000})
    assert start_skew_ns(outcome, closed=True) == 500_000
    assert start_skew_ns(outcome, closed=False) == 200_000


def test_the_text_report_lists_each_loader_and_a_partial_run() -> None:
    from loadgen.cli.render import render_report
    from loadgen.metrics.histogram import new_hdr as empty

    survivor = _loader(0, 0, [1000] * 100, 0.1)
    lost = _loader(1, 0, [1000] * 100, 0.1)
    lost = LoaderRun(lost.name, lost.address, lost.plan, lost.clock, status="lost",
                     reason="its worker left the cluster")  # fmt: skip
    summary = merge_loaders(_run(), [survivor, lost], "2026-01-01T00:00:00Z", "local:2")
    text = render_report(summary, empty())
    assert "Loaders (local:2): start skew 0.200 ms, clocks known to ±0.050 ms" in text
    assert "loader-0   host-0  1 proc  offset +0.000 ±0.050 ms  skew 0.200 ms" in text
    assert "loader-1   tcp://10.0.0.1:1" in text
    assert "PARTIAL: 1 of 2 loaders missing: loader-1 lost (its worker left the cluster)" in text
