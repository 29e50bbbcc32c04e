"""Self-diagnosis: was the load generator, not the target, the bottleneck, and if sends left
late, what does the evidence say made them late?

A measurement is reported `valid: false`, with one warning per reason, when the client could
not keep up (a process used more than 80% of a core), when sends were late (scheduling lag
p99 above 2 ms and above a tenth of the latency p99), when open-loop arrivals were dropped, or
when the run itself was cut short or lost data.

Late sends have one of two causes, told apart by the loader's own CPU share: a loader process
above the CPU limit is a **client bottleneck**; a loader below it was kept from running on time
by its host (**busy host**: other processes, or a noisy virtual machine), which the host's
load, CPU busy share and steal share (`loadgen.metrics.host`) then show. Either way open-loop
latency is timed from the intended send, so the lag is inside it: nothing is hidden, but the
latency may overstate the platform's by up to the lag. `late_sends` is the one rule, used by
`loadgen hit` (through `diagnose`) and by `aggregate` for every cell.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from loadgen.metrics.summary import HostLoad

CPU_LIMIT = 0.80
#: A run where more than this share of the measured requests failed describes the failures,
#: not the service: it is invalid.
ERROR_SHARE_LIMIT = 0.5
SCHED_LAG_P99_LIMIT_MS = 2.0
SCHED_LAG_SHARE_LIMIT = 0.10

LagCause = Literal["client", "host", "unknown"]

LATENCY_NOTE = (
    "latency stays valid: it is timed from the intended send, so the lag is inside it and "
    "nothing is hidden, but it may overstate the platform's latency by up to the lag"
)


@dataclass(frozen=True)
class LateSends:
    """Open-loop sends that left late, with their cause and what that means for latency."""

    cause: LagCause
    headline: str
    """The cause in words shared by every run it concerns."""
    detail: str
    """This run's figures: lag, latency, loader CPU, host load."""
    advice: str

    @property
    def message(self) -> str:
        """Everything but the figures (equal for every run with this cause)."""
        return f"{self.headline}; {LATENCY_NOTE}; {self.advice}"

    def text(self) -> str:
        """One sentence with the figures, as `loadgen hit` prints it."""
        return f"{self.headline} ({self.detail}); {LATENCY_NOTE}; {self.advice}"


def is_late(sched_lag_p99_ms: float | None, latency_p99_ms: float | None) -> bool:
    """Lag p99 above 2 ms and above a tenth of the latency p99."""
    return (
        sched_lag_p99_ms is not None
        and latency_p99_ms is not None
        and sched_lag_p99_ms > SCHED_LAG_P99_LIMIT_MS
        and sched_lag_p99_ms > SCHED_LAG_SHARE_LIMIT * latency_p99_ms
    )


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def host_text(hosts: Sequence[HostLoad]) -> str:
    """The host's figures in words; several engine runs (a cell's segments) give their peaks."""
    several = len(hosts) > 1
    peak = "up to " if several else ""
    loads = [
        value for host in hosts for value in (host.load1_start, host.load1_end) if value is not None
    ]
    cpus = {host.cpus for host in hosts if host.cpus is not None}
    busy = [host.cpu_busy for host in hosts if host.cpu_busy is not None]
    steal = [host.cpu_steal for host in hosts if host.cpu_steal is not None]
    parts: list[str] = []
    if loads:
        if several or len(loads) == 1:
            load = f"host load {peak}{_number(max(loads))}"
        else:
            load = f"host load {_number(loads[0])} → {_number(loads[1])}"
        if len(cpus) == 1:
            load += f" on {next(iter(cpus))} CPUs"
        parts.append(load)
    if busy:
        parts.append(f"CPUs {peak}{max(busy):.0%} busy")
    if steal:
        parts.append(f"steal {peak}{max(steal):.0%}")
    return ", ".join(parts) if parts else "host load not recorded"


def late_sends(
    *,
    sched_lag_p99_ms: float | None,
    latency_p99_ms: float | None,
    cpu_share: Sequence[float],
    hosts: Sequence[HostLoad] = (),
) -> LateSends | None:
    """None when sends were on time; else the cause the figures point to.

    `cpu_share` is every loader process's CPU time ÷ wall time (of every engine run concerned);
    `hosts` the host's figures of those runs. Without CPU shares the cause is `unknown`."""
    if not is_late(sched_lag_p99_ms, latency_p99_ms):
        return None
    assert sched_lag_p99_ms is not None
    assert latency_p99_ms is not None
    figures = f"sched_lag p99 {sched_lag_p99_ms:.3f} ms, latency p99 {latency_p99_ms:.3f} ms"
    if not cpu_share:
        return LateSends(
            "unknown",
            "late sends, cause not recorded: sched_lag p99 exceeds "
            f"{SCHED_LAG_P99_LIMIT_MS:g} ms and {SCHED_LAG_SHARE_LIMIT:.0%} of latency p99, and "
            "the run's summary holds no loader CPU figures to tell a saturated loader from a "
            "busy host",
            figures,
            "rerun with this loadgen to record them",
        )
    busiest = max(cpu_share)
    if len(cpu_share) == 1:
        loader = f"loader CPU {busiest:.0%} of a core"
    else:
        loader = f"busiest loader process {busiest:.0%} of a core"
    if busiest > CPU_LIMIT:
        return LateSends(
            "client",
            f"client-bottlenecked: sends were late (sched_lag p99 above "
            f"{SCHED_LAG_P99_LIMIT_MS:g} ms and {SCHED_LAG_SHARE_LIMIT:.0%} of latency p99) "
            f"while a loader process used more than {CPU_LIMIT:.0%} of a core",
            f"{figures}, {loader}, {host_text(hosts)}",
            "use more loader processes or machines, or a lower rate",
        )
    return LateSends(
        "host",
        f"busy host: sends were late (sched_lag p99 above {SCHED_LAG_P99_LIMIT_MS:g} ms and "
        f"{SCHED_LAG_SHARE_LIMIT:.0%} of latency p99) while no loader process used more than "
        f"{CPU_LIMIT:.0%} of a core: other work on the loader's host, or the host itself, kept "
        "it from running on time",
        f"{figures}, {loader}, {host_text(hosts)}",
        "run the loader on a quieter machine",
    )


def diagnose(
    *,
    cpu_share: list[float],
    sched_lag_p99_ms: float | None,
    latency_p99_ms: float | None,
    dropped: int,
    histogram_overflow: int,
    interrupted: bool,
    record_errors: list[str],
    requests: int,
    host: HostLoad | None = None,
    ok: int | None = None,
    errors: dict[str, int] | None = None,
) -> list[str]:
    """Reasons the run should not be trusted; empty when it is valid.

    Without an ok response nothing was measured, so the loader's CPU share (over a run that
    may have lasted a millisecond) says nothing and is not a warning."""
    warnings: list[str] = []
    failed = sum((errors or {}).values())
    if requests > 0 and failed > ERROR_SHARE_LIMIT * requests:
        classes = ", ".join(f"{name} {count:,}" for name, count in (errors or {}).items())
        share = "every request" if failed == requests else f"{failed:,} of {requests:,} requests"
        warnings.append(f"{share} failed ({classes}): the figures describe the failures")
    measured = ok is None or ok > 0
    for index, share in enumerate(cpu_share if measured else []):
        if share > CPU_LIMIT:
            warnings.append(
                f"client CPU {share:.0%} in process {index} (> {CPU_LIMIT:.0%}): "
                "the load generator may have been the bottleneck"
            )
    late = late_sends(
        sched_lag_p99_ms=sched_lag_p99_ms,
        latency_p99_ms=latency_p99_ms,
        cpu_share=cpu_share,
        hosts=() if host is None else (host,),
    )
    if late is not None:
        warnings.append(late.text())
    if dropped > 0:
        warnings.append(
            f"{dropped} requests dropped at max-inflight: the offered rate was not sent"
        )
    if histogram_overflow > 0:
        warnings.append(f"{histogram_overflow} values exceeded the histogram range (1 h)")
    if interrupted:
        warnings.append("the run was interrupted before it finished")
    warnings.extend(f"records incomplete: {error}" for error in record_errors)
    if requests == 0:
        warnings.append("no measured requests (is the warm-up longer than the run?)")
    return warnings
