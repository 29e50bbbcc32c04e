"""The local gateway's `/metrics`, in Prometheus text format, under the names a cluster uses.

Gateway series carry the OpenFaaS gateway's names and labels (`gateway_function_invocation_total`,
`gateway_functions_seconds`, `gateway_service_count`); per-replica CPU and memory carry cAdvisor's
(`container_cpu_usage_seconds_total`, `container_memory_working_set_bytes`), read from
`/proc/<pid>/stat` and `/proc/<pid>/statm` at scrape time. So a query written for a cluster runs
unchanged against the local target's Prometheus.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Prometheus client defaults (what the OpenFaaS gateway uses), extended to the suite's longest
#: function (5 minutes).
BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip


@dataclass
class Histogram:
    """One labelled child of a histogram: per-bucket counts (not cumulative), sum and count."""

    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(BUCKETS, value)
        if index < len(BUCKETS):
            self.counts[index] += 1
        self.total += value
        self.count += 1


@dataclass(frozen=True)
class ReplicaSample:
    """What one replica process uses, for the cAdvisor-named series."""

    function: str
    instance_id: str
    pid: int
    cpu_seconds: float
    memory_bytes: int


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def render(
    invocations: dict[tuple[str, str], int],
    durations: dict[tuple[str, str], Histogram],
    replicas: dict[str, int],
    samples: Iterable[ReplicaSample],
) -> str:
    """The whole exposition: `invocations` and `durations` keyed by (function, code), `replicas`
    by function (available replicas, as OpenFaaS reports them)."""
    lines = [
        "# HELP gateway_function_invocation_total Function invocations through the gateway",
        "# TYPE gateway_function_invocation_total counter",
    ]
    for (function, code), value in sorted(invocations.items()):
        labels = _labels({"function_name": function, "code": code})
        lines.append(f"gateway_function_invocation_total{labels} {value}")
    lines += [
        "# HELP gateway_functions_seconds Function time taken, as the gateway proxied it",
        "# TYPE gateway_functions_seconds histogram",
    ]
    for (function, code), histogram in sorted(durations.items()):
        cumulative = 0
        for bound, count in zip(BUCKETS, histogram.counts, strict=True):
            cumulative += count
            labels = _labels({"function_name": function, "code": code, "le": repr(bound)})
            lines.append(f"gateway_functions_seconds_bucket{labels} {cumulative}")
        labels = _labels({"function_name": function, "code": code, "le": "+Inf"})
        lines.append(f"gateway_functions_seconds_bucket{labels} {histogram.count}")
        labels = _labels({"function_name": function, "code": code})
        lines.append(f"gateway_functions_seconds_sum{labels} {_number(histogram.total)}")
        lines.append(f"gateway_functions_seconds_count{labels} {histogram.count}")
    lines += [
        "# HELP gateway_service_count Available replicas per function",
        "# TYPE gateway_service_count gauge",
    ]
    for function, count in sorted(replicas.items()):
        lines.append(f"gateway_service_count{_labels({'function_name': function})} {count}")
    cpu = [
        "# HELP container_cpu_usage_seconds_total CPU time of a replica process (user + system)",
        "# TYPE container_cpu_usage_seconds_total counter",
    ]
    memory = [
        "# HELP container_memory_working_set_bytes Resident memory of a replica process",
        "# TYPE container_memory_working_set_bytes gauge",
    ]
    for sample in sorted(samples, key=lambda s: (s.function, s.pid)):
        labels = _labels(
            {
                "function_name": sample.function,
                "container": sample.function,
                "pod": f"{sample.function}-{sample.instance_id}",
                "instance_id": sample.instance_id,
                "pid": str(sample.pid),
            }
        )
        cpu.append(f"container_cpu_usage_seconds_total{labels} {_number(sample.cpu_seconds)}")
        memory.append(f"container_memory_working_set_bytes{labels} {sample.memory_bytes}")
    return "\n".join([*lines, *cpu, *memory]) + "\n"
