"""Request-level rows of a cell or group, its runs' requests pooled: counts, errors, latency
and service-time distributions, cold and warm subsets, cold-start flags, platform phases and
resource usage."""

from collections.abc import Sequence

import numpy as np

from loadgen.analysis.cold_starts import cold_start_cost_rows
from loadgen.analysis.requests import COLD, UNKNOWN, WARM, Requests
from loadgen.analysis.runs import Run, to_ms
from loadgen.analysis.stats import exact_percentile
from loadgen.analysis.table import Rows
from loadgen.results.models import MetricsFile


def request_rows(rows: Rows, runs: Sequence[Run]) -> None:
    """Counts, errors, latency, service time, cold starts and platform phases, pooled."""
    requests = [run.requests for run in runs]
    total = sum(r.count for r in requests)
    ok = sum(int(r.ok.sum()) for r in requests)
    errors: dict[str, int] = {}
    for r in requests:
        names, counts = np.unique(r.error[~r.ok].astype(str), return_counts=True)
        for name, count in zip(names, counts, strict=True):
            errors[str(name)] = errors.get(str(name), 0) + int(count)
    rows.add("requests", "count", total, "1")
    rows.add("requests", "ok", ok, "1")
    rows.add("requests", "dropped", sum(r.dropped for r in requests), "1")
    rows.add("requests", "warmup", sum(r.warmup for r in requests), "1")
    rows.add("errors", "total", total - ok, "1")
    for name in sorted(errors):
        rows.add("errors", name, errors[name], "1")
    rows.add("error_rate", "value", (total - ok) / total if total else 0.0, "1")
    latency = np.concatenate([run.latency_ms for run in runs])
    service = np.concatenate([to_ms(r.service_ns[r.ok]) for r in requests])
    rows.distribution("latency_ms", latency, "all")
    rows.distribution("service_ms", service, "all")
    cold = np.concatenate([r.cold[r.ok] for r in requests])
    for subset, flag in (("cold", COLD), ("warm", WARM)):
        chosen = latency[cold == flag]
        rows.add("requests", "ok", int(chosen.size), "1", subset=subset)
        rows.distribution("latency_ms", chosen, subset)
    _cold_rows(rows, requests)
    cold_start_cost_rows(rows, [part for run in runs for part in run.cold_starts])
    _platform_rows(rows, requests)


def _cold_rows(rows: Rows, requests: Sequence[Requests]) -> None:
    meta = np.concatenate([r.meta_cold for r in requests])
    platform = np.concatenate([r.platform_cold for r in requests])
    combined = np.concatenate([r.cold for r in requests])
    both = (meta != UNKNOWN) & (platform != UNKNOWN)
    instances = {i for r in requests for i in r.instance if i is not None}
    rows.add("cold_start", "cold", int((combined == COLD).sum()), "1")
    rows.add("cold_start", "warm", int((combined == WARM).sum()), "1")
    rows.add("cold_start", "unknown", int((combined == UNKNOWN).sum()), "1")
    rows.add("cold_start", "function_reported", int((meta != UNKNOWN).sum()), "1")
    rows.add("cold_start", "platform_reported", int((platform != UNKNOWN).sum()), "1")
    rows.add("cold_start", "both_reported", int(both.sum()), "1")
    agreement = float((meta[both] == platform[both]).mean()) if both.any() else None
    rows.add("cold_start", "agreement_rate", agreement, "1")
    rows.add("cold_start", "instances", len(instances), "1")


def _platform_rows(rows: Rows, requests: Sequence[Requests]) -> None:
    """OpenWhisk wait/init/run and Kubernetes phases of the requests the platform reported."""
    components: dict[str, list[tuple[float, int]]] = {}
    matched = 0
    reported = 0
    for r in requests:
        reported += len(r.platform)
        cold = r.cold
        for index in np.flatnonzero(r.platform_index >= 0):
            matched += 1
            record = r.platform[int(r.platform_index[index])]
            values = {"wait": record.wait_ms, "init": record.init_ms, "run": record.run_ms}
            values.update({f"phase:{name}": ms for name, ms in record.phases.items()})
            for name, ms in values.items():
                if ms is not None:
                    components.setdefault(name, []).append((ms, int(cold[index])))
    rows.add("platform", "reported", reported, "1")
    rows.add("platform", "matched", matched, "1")
    for name in sorted(components):
        pairs = np.asarray(components[name], dtype=np.float64)
        for subset, keep in (
            ("all", np.ones(len(pairs), dtype=bool)),
            ("cold", pairs[:, 1] == COLD),
            ("warm", pairs[:, 1] == WARM),
        ):
            values = pairs[keep, 0]
            metric = f"platform_{name}_ms"
            rows.add(metric, "count", int(values.size), "1", subset=subset)
            if values.size:
                rows.add(metric, "mean", float(values.mean()), "ms", subset=subset)
                rows.add(metric, "p50", exact_percentile(values, 50), "ms", subset=subset)
                rows.add(metric, "p99", exact_percentile(values, 99), "ms", subset=subset)


def resource_rows(rows: Rows, metrics: MetricsFile | None) -> None:
    if metrics is None:
        return
    for series in metrics.series:
        labels = ",".join(f"{k}={v}" for k, v in sorted(series.labels.items()))
        metric = f"resource:{series.name}" + (f"{{{labels}}}" if labels else "")
        values = np.asarray([value for _, value in series.points], dtype=np.float64)
        if values.size:
            rows.add(metric, "mean", float(values.mean()), series.unit)
            rows.add(metric, "max", float(values.max()), series.unit)
