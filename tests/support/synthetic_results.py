"""Synthetic results trees written with the real RecordWriter, for tests and the report demo.

Each run draws log-normal latencies with a chosen p50 and p99; a run-to-run factor (log-normal,
median 1) shifts every latency of a run, so the campaign's true p50 is exactly `p50_ms`.
Run `PYTHONPATH=tests python -m support.synthetic_results OUT` for two demo campaigns.
"""

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from loadgen.engine.errors import ERROR_NAMES, ErrorKind
from loadgen.record.format import FLAG_WARMUP, RecordHeader, record_file_name
from loadgen.record.writer import RecordWriter

EPOCH = 1_000_000_000_000
WALL_ANCHOR = 1_750_000_000_000_000_000
Z99 = 2.3263478740408408
"""Standard normal 99th percentile: p99 = p50 · exp(sigma · Z99) for a log-normal."""


@dataclass(frozen=True)
class CellSpec:
    """One run of one function at one sweep point."""

    function: str = "echo"
    mode: str = "closed"
    sweep_name: str = "users"
    sweep_value: float | int | None = 10
    run: int = 0
    requests: int = 200
    p50_ms: float = 20.0
    p99_ms: float = 80.0
    run_factor: float = 1.0
    """Multiplies every latency of the run (the run-to-run variation)."""
    error_rate: float = 0.0
    cold_starts: int = 0
    """The first this many requests are cold and land on a new instance."""
    cold_factor: float = 1.0
    """Multiplies the latency of the cold requests."""
    warmup: int = 0
    processes: int = 1
    status: str = "complete"
    reason: str | None = None
    cold_method: str | None = None
    platform: str | None = "openwhisk"
    """Write platform.jsonl: 'openwhisk' (wait/init/run), 'kubernetes' (phases) or None."""
    platform_disagree: float = 0.0
    """Share of requests whose platform cold flag contradicts the function's."""
    metrics: bool = True
    sched_lag_ms: float = 0.0
    seed: int = 0
    client_cpu: tuple[float, ...] | None = None
    """Write the campaign loop's summary.json with these loader CPU shares (one per process)."""
    host: dict[str, float | int | None] | None = None
    """...and this host load (`HostLoad`'s fields) in it."""
    cold_segments: tuple[tuple[float, float] | None, ...] = ()
    """Write summary.json with one segment per request, as `loadgen run` does for a cold
    experiment: (to_ready_ms, ready_to_send_ms) of a forced cold start before request i, or
    None for an idle wait (a natural cold start)."""
    language: str | None = None
    memory_mb: int | None = None
    input_size: int | None = None
    """The cell dimensions, written to cell.json only when given (None: a cell.json written
    before they existed)."""


@dataclass(frozen=True)
class CampaignSpec:
    name: str = "demo"
    cloud: str = "openstack"
    orchestrator: str = "k8s"
    framework: str = "openfaas"
    gateway: str = "0.27.0"
    provider: str = "0.18.0"
    instance_types: dict[str, str] = field(default_factory=lambda: {"worker": "m1.large"})
    cold_start_methods: tuple[str, ...] = ("scale-to-zero",)
    cells: tuple[CellSpec, ...] = ()
    node_roles: dict[str, object] = field(
        default_factory=lambda: {"worker": ["worker-1", "worker-2"], "control": ["control-1"]}
    )
    outputs: dict[str, object] = field(
        default_factory=lambda: {"gateway_url": "http://gateway.test"}
    )


def lognormal_ms(rng: np.random.Generator, size: int, p50: float, p99: float) -> np.ndarray:
    sigma = np.log(p99 / p50) / Z99
    return np.exp(np.log(p50) + sigma * rng.standard_normal(size))


def cell_id(spec: CellSpec) -> str:
    point = "" if spec.sweep_value is None else f"-{spec.sweep_name}{spec.sweep_value:g}"
    method = f"-{spec.cold_method}" if spec.cold_method else ""
    variant = "".join(
        f"-{part}{value}"
        for part, value in (("", spec.language), ("m", spec.memory_mb), ("in", spec.input_size))
        if value is not None
    )
    return f"{spec.function}-{spec.mode}{point}{method}{variant}-r{spec.run}"


def _header(spec: CellSpec, index: int, run_id: str, wall_anchor: int) -> RecordHeader:
    workload: dict[str, object]
    if spec.mode == "open":
        workload = {"kind": "open", "rate": float(spec.sweep_value or 10), "total": spec.requests}
    else:
        workload = {"kind": "closed", "users": int(spec.sweep_value or 1), "total": spec.requests}
    return RecordHeader(
        run_id=run_id,
        process_index=index,
        processes=spec.processes,
        monotonic_epoch_ns=EPOCH,
        wall_anchor_ns=wall_anchor,
        start_ns=0,
        hostname="synthetic",
        pid=1,
        loadgen_version="0",
        engine="http1",
        method="POST",
        url=f"http://gateway.test/function/{spec.function}",
        workload=workload,
        capture_headers=["x-call-id", "x-openwhisk-activation-id"],
        error_classes={int(code): name for code, name in ERROR_NAMES.items()},
    )


def write_cell(cells_dir: Path, spec: CellSpec, wall_anchor: int = WALL_ANCHOR) -> Path:
    """Write one cell directory; returns it. Latencies of ok requests are the drawn values."""
    rng = np.random.default_rng(spec.seed)
    directory = cells_dir / cell_id(spec)
    (directory / "records").mkdir(parents=True)
    total = spec.warmup + spec.requests
    latency_ms = lognormal_ms(rng, total, spec.p50_ms, spec.p99_ms) * spec.run_factor
    cold = np.zeros(total, dtype=bool)
    cold[spec.warmup : spec.warmup + spec.cold_starts] = True
    latency_ms[cold] *= spec.cold_factor
    latency_ns = np.maximum((latency_ms * 1e6).astype(np.int64), 1)
    lag_ns = (rng.exponential(spec.sched_lag_ms, total) * 1e6).astype(np.int64)
    gap_ns = int(spec.p50_ms * 1e6 / max(int(spec.sweep_value or 1), 1)) + 1
    intended = EPOCH + np.arange(total, dtype=np.int64) * gap_ns
    send = intended + (lag_ns if spec.mode == "open" else 0)
    end = send + latency_ns
    errors = rng.random(total) < spec.error_rate
    timeouts = errors & (rng.random(total) < 0.5)
    disagree = rng.random(total) < spec.platform_disagree
    run_id = f"run-{cell_id(spec)}"
    writers = [
        RecordWriter(
            directory / "records" / record_file_name(index),
            _header(spec, index, run_id, wall_anchor),
        )
        for index in range(spec.processes)
    ]
    platform_lines: list[str] = []
    for i in range(total):
        call_id = f"{run_id}-{i}"
        instance = f"{spec.function}-new-{i}" if cold[i] else f"{spec.function}-warm-{i % 3}"
        meta = {"function": spec.function, "instance": instance, "cold": bool(cold[i])}
        if timeouts[i]:
            error, status, meta_bytes = int(ErrorKind.TIMEOUT), 0, None
        elif errors[i]:
            error, status, meta_bytes = int(ErrorKind.HTTP), 500, None
        else:
            error, status = int(ErrorKind.NONE), 200
            meta_bytes = json.dumps(meta, separators=(",", ":")).encode()
        flags = FLAG_WARMUP if i < spec.warmup else 0
        writers[i % spec.processes].append(
            int(intended[i]),
            int(send[i]),
            int(end[i]),
            status,
            64,
            error,
            flags,
            [(0, call_id.encode())],
            meta_bytes,
        )
        if spec.platform is not None and not errors[i]:
            platform_lines.append(_platform_line(spec, rng, call_id, bool(cold[i] ^ disagree[i])))
    for writer in writers:
        writer.close(warmup_records=0, dropped=0, end_ns=int(end.max()), reason="completed")
    if platform_lines:
        (directory / "platform.jsonl").write_text("\n".join(platform_lines) + "\n")
    if spec.metrics:
        _write_metrics(directory, spec, rng, wall_anchor, intended, end)
    if spec.client_cpu is not None or spec.cold_segments:
        _write_summary(directory, spec, run_id, wall_anchor, send, end, errors)
    info = {
        "id": cell_id(spec),
        "function": spec.function,
        "mode": spec.mode,
        "sweep": {
            "name": spec.sweep_name,
            "value": None if spec.sweep_name == "none" else spec.sweep_value,
        },
        "run": spec.run,
        "cold_method": spec.cold_method,
        "status": spec.status,
        "reason": spec.reason,
        "started": "2025-06-15T12:00:00Z",
        "ended": "2025-06-15T12:05:00Z",
    }
    for name in ("language", "memory_mb", "input_size"):
        if getattr(spec, name) is not None:
            info[name] = getattr(spec, name)
    (directory / "cell.json").write_text(json.dumps(info, indent=2))
    return directory


def _write_summary(
    directory: Path,
    spec: CellSpec,
    run_id: str,
    wall_anchor: int,
    send: np.ndarray,
    end: np.ndarray,
    errors: np.ndarray,
) -> None:
    """The campaign loop's summary.json, each segment with the parts of the engine's summary that
    `aggregate` reads (the run id, the loader's CPU, the host's load): one segment, or with
    `cold_segments` one per cold start, request i the first request of segment i, its times on
    the wall clock of the records (the anchor plus the offset from the epoch)."""
    summary = {"run_id": run_id, "client_cpu": list(spec.client_cpu or ()), "host": spec.host}
    segments: list[dict[str, object]] = []
    if not spec.cold_segments:
        segments.append({"segment": 0, "summary": summary})
    for i, forced in enumerate(spec.cold_segments):
        index = spec.warmup + i
        send_wall = wall_anchor + int(send[index]) - EPOCH
        event: dict[str, object] = {
            "segment": i,
            "first_request": {
                "send_ns": send_wall,
                "end_ns": wall_anchor + int(end[index]) - EPOCH,
                "ok": not bool(errors[index]),
                "id": f"{run_id}-{index}",
            },
            "summary": summary,
        }
        if forced is None:
            event["idle_s"] = 630.0
        else:
            to_ready_ms, ready_to_send_ms = forced
            event["cold_start"] = {
                "method": spec.cold_method,
                "effective_ns": send_wall - round(ready_to_send_ms * 1e6),
                "cost_s": to_ready_ms / 1000,
            }
        segments.append(event)
    (directory / "summary.json").write_text(json.dumps({"segments": segments}, indent=2))


def _platform_line(spec: CellSpec, rng: np.random.Generator, call_id: str, cold: bool) -> str:
    line: dict[str, object] = {"id": call_id, "cold": cold}
    if spec.platform == "openwhisk":
        line["wait_ms"] = float(rng.uniform(1, 5))
        line["init_ms"] = float(rng.uniform(300, 600)) if cold else 0.0
        line["run_ms"] = float(rng.uniform(2, 10))
    else:
        line["phases"] = (
            {
                "scheduling": float(rng.uniform(5, 50)),
                "image_pull": float(rng.uniform(200, 900)),
                "container_start": float(rng.uniform(100, 300)),
                "ready": float(rng.uniform(50, 200)),
            }
            if cold
            else {}
        )
    return json.dumps(line)


def _write_metrics(
    directory: Path,
    spec: CellSpec,
    rng: np.random.Generator,
    wall_anchor: int,
    intended: np.ndarray,
    end: np.ndarray,
) -> None:
    start_s = (wall_anchor + int(intended[0]) - EPOCH) / 1e9
    stop_s = (wall_anchor + int(end.max()) - EPOCH) / 1e9
    times = np.linspace(start_s, stop_s, 12)
    series = [
        {
            "name": "cpu",
            "unit": "cores",
            "labels": {"node": node},
            "points": [
                [float(t), float(v)] for t, v in zip(times, rng.uniform(0.2, 1.8, 12), strict=True)
            ],
        }
        for node in ("worker-1", "worker-2")
    ]
    series.append(
        {
            "name": "memory",
            "unit": "MiB",
            "labels": {"node": "worker-1"},
            "points": [
                [float(t), float(v)] for t, v in zip(times, rng.uniform(800, 1200, 12), strict=True)
            ],
        }
    )
    (directory / "metrics.json").write_text(json.dumps({"series": series}))


def manifest(spec: CampaignSpec) -> dict[str, object]:
    return {
        "campaign": spec.name,
        "config_hash": "sha256:" + "0" * 16,
        "config": {"functions": sorted({cell.function for cell in spec.cells})},
        "tool_version": "0.1.0",
        "started": "2025-06-15T12:00:00Z",
        "ended": "2025-06-15T14:00:00Z",
        "seed": 7,
        "host": "loader-1",
        "clock": {"source": "chrony", "synced": True},
        "platform": {
            "cloud": spec.cloud,
            "orchestrator": spec.orchestrator,
            "framework": spec.framework,
            "versions": {"gateway": spec.gateway, "provider": spec.provider},
        },
        "node_roles": dict(spec.node_roles),
        "instance_types": dict(spec.instance_types),
        "cpu_credits": None,
        "cold_start_methods": list(spec.cold_start_methods),
        "outputs": dict(spec.outputs),
    }


def write_campaign(root: Path, spec: CampaignSpec) -> Path:
    """Write manifest.json and every cell of `spec` under `root`; returns `root`."""
    cells_dir = root / "cells"
    cells_dir.mkdir(parents=True, exist_ok=True)
    (root / "manifest.json").write_text(json.dumps(manifest(spec), indent=2))
    for index, cell in enumerate(spec.cells):
        write_cell(cells_dir, cell, WALL_ANCHOR + index * 600 * 10**9)
    return root


def grid(
    *,
    functions: tuple[str, ...] = ("echo",),
    users: tuple[int, ...] = (1, 10),
    runs: int = 5,
    requests: int = 200,
    p50_ms: float = 20.0,
    p99_ms: float = 80.0,
    run_cv: float = 0.1,
    seed: int = 0,
    **extra: object,
) -> tuple[CellSpec, ...]:
    """Closed-loop cells for every function × users value × run, with run-to-run variation."""
    rng = np.random.default_rng(seed)
    cells = []
    for function in functions:
        for value in users:
            for run in range(runs):
                factor = float(np.exp(run_cv * rng.standard_normal()))
                cells.append(
                    CellSpec(
                        function=function,
                        sweep_value=value,
                        run=run,
                        requests=requests,
                        p50_ms=p50_ms * (1 + 0.02 * value),
                        p99_ms=p99_ms * (1 + 0.02 * value),
                        run_factor=factor,
                        seed=int(rng.integers(2**31)),
                        **extra,
                    )
                )
    return tuple(cells)


def demo(out: Path) -> list[Path]:
    """Two campaigns (OpenFaaS on k8s, OpenWhisk on Nomad) with cold starts and a bad cell."""
    fast = grid(functions=("echo", "thumbnail"), users=(1, 10, 50), runs=8, cold_starts=3)
    slow = grid(
        functions=("echo", "thumbnail"),
        users=(1, 10, 50),
        runs=8,
        p50_ms=28.0,
        p99_ms=140.0,
        cold_starts=3,
        error_rate=0.02,
        seed=1,
    )
    extra = (
        CellSpec(
            function="echo",
            mode="cold",
            sweep_name="none",
            sweep_value=None,
            requests=20,
            cold_starts=20,
            cold_method="scale-to-zero",
            platform="kubernetes",
        ),
        CellSpec(function="echo", sweep_value=100, status="failed", reason="gateway timeout"),
        CellSpec(
            function="echo",
            mode="open",
            sweep_name="rate",
            sweep_value=50,
            requests=300,
            sched_lag_ms=8.0,
        ),
    )
    first = write_campaign(
        out / "openfaas-k8s", CampaignSpec(name="openfaas-k8s", cells=fast + extra)
    )
    second = write_campaign(
        out / "openwhisk-nomad",
        CampaignSpec(
            name="openwhisk-nomad",
            orchestrator="nomad",
            framework="openwhisk",
            gateway="2.0.0",
            provider="1.0.0",
            cells=slow,
        ),
    )
    return [first, second]


if __name__ == "__main__":
    for path in demo(Path(sys.argv[1])):
        sys.stdout.write(f"{path}\n")
