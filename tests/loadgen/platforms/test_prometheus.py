"""Resource metrics through a real Prometheus scraping a local exporter twice a second."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.servers import free_port

from contract.outputs import Prometheus
from loadgen.platforms import PlatformError
from loadgen.platforms.prometheus import PrometheusMetrics, queries
from loadgen.results.models import MetricsFile

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
CPU_CORES = 0.5
MEMORY = {"a": 100_000_000, "b": 200_000_000}
#: What a test fetches: the last RANGE_S seconds, rates over RATE_WINDOW_S (4 scrapes).
RANGE_S = 3
RATE_WINDOW_S = 2

pytestmark = pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="prometheus absent")


class Exporter:
    """Serves each orchestrator's metric names for function `fn` (two instances, a and b):
    CPU counters growing at CPU_CORES seconds per second, fixed memory, two replicas."""

    def __init__(self) -> None:
        self.started = time.time()
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def render(self) -> str:
        # The counter carries the instant it was read (Prometheus keeps exposed timestamps),
        # so its rate is exact however late this machine runs the scrape or this handler.
        stamp = int(time.time() * 1000)
        cpu = CPU_CORES * (stamp / 1000 - self.started)
        lines = []
        for i, (pod, memory) in enumerate(MEMORY.items()):
            k8s = f'namespace="openfaas-fn",pod="fn-7d9f-{pod}",container="fn"'
            swarm = (
                'container_label_com_docker_swarm_service_name="fn",'
                f'container_label_com_docker_swarm_task_name="fn.{i + 1}.x{pod}"'
            )
            local = f'function_name="fn",instance_id="{pod}"'
            for labels in (k8s, swarm, local):
                lines.append(f"container_cpu_usage_seconds_total{{{labels}}} {cpu:.6f} {stamp}")
                lines.append(f"container_memory_working_set_bytes{{{labels}}} {memory}")
            lines.append(f'nomad_client_allocs_cpu_total_ticks{{task="fn",alloc_id="{pod}"}} 250')
            lines.append(f'nomad_client_allocs_memory_usage{{task="fn",alloc_id="{pod}"}} {memory}')
        # Another function's series, which no query may pick up.
        lines.append('container_memory_working_set_bytes{namespace="openfaas-fn",pod="fnx-1"} 7')
        lines.append('container_memory_working_set_bytes{function_name="fnx"} 7')
        lines.append(
            'kube_deployment_status_replicas_available{namespace="openfaas-fn",deployment="fn"} 2'
        )
        lines.append('gateway_service_count{function_name="fn.openfaas-fn"} 2')
        # Knative: a Deployment per revision (the old one at zero), another function's beside.
        for deployment, available in (
            ("fn-00001-deployment", 0),
            ("fn-00002-deployment", 3),
            ("fnx-00001-deployment", 5),
        ):
            lines.append(
                "kube_deployment_status_replicas_available"
                f'{{namespace="knative-fn",deployment="{deployment}"}} {available}'
            )
        for pod, memory in MEMORY.items():
            labels = f'namespace="knative-fn",pod="fn-00002-deployment-5f7c-{pod}",container="fn"'
            lines.append(f"container_memory_working_set_bytes{{{labels}}} {memory}")
        return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exporter = Exporter()
    tmp = tmp_path_factory.mktemp("prometheus")
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 500ms, scrape_timeout: 400ms, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: fn\n    static_configs: [{{targets: ['127.0.0.1:{exporter.port}']}}]\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "Prometheus did not become ready"
            time.sleep(0.2)
        # Scraping starts a while after readiness: wait until the series reach back over the
        # range a test fetches plus its rate window, so every fetched rate has a full window.
        query = {"query": "count_over_time(up[30s])"}
        while True:
            response = httpx.get(f"{url}/api/v1/query", params=query, timeout=2)
            result = response.json()["data"]["result"]
            if result and float(result[0]["value"][1]) >= (RANGE_S + RATE_WINDOW_S) * 2 + 1:
                break
            assert time.monotonic() < deadline + 30, "Prometheus did not scrape the exporter"
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        exporter.server.shutdown()


def fetch(url: str, orchestrator: str, kind: str, namespace: str = "openfaas-fn") -> MetricsFile:
    async def scenario() -> MetricsFile:
        metrics = PrometheusMetrics(
            Prometheus(url=url, kind=kind),
            orchestrator,
            namespace,
            rate_window=f"{RATE_WINDOW_S}s",
        )
        try:
            now = time.time()
            return await metrics.fetch("fn", now - RANGE_S, now)
        finally:
            await metrics.aclose()

    return asyncio.run(scenario())


@pytest.mark.parametrize(
    ("orchestrator", "kind", "cpu_series", "cpu_value"),
    [
        ("k8s", "kube-prometheus-stack", 2, CPU_CORES),
        ("k8s", "openfaas-bundled", 2, CPU_CORES),
        ("swarm", "openfaas-bundled", 2, CPU_CORES),
        ("nomad", "openfaas-bundled", 2, 250.0),
        ("local", "local", 2, CPU_CORES),
    ],
)
def test_range_queries_return_the_exporters_points(
    prometheus: str, orchestrator: str, kind: str, cpu_series: int, cpu_value: float
) -> None:
    document = fetch(prometheus, orchestrator, kind)
    by_name: dict[str, list] = {}
    for series in document.series:
        by_name.setdefault(series.name, []).append(series)
        assert series.points, series
        times = [t for t, _ in series.points]
        assert times == sorted(times)
    assert set(by_name) == {"cpu", "memory", "replicas"}
    assert len(by_name["cpu"]) == cpu_series
    for series in by_name["cpu"]:
        assert len(series.points) >= RANGE_S
        assert all(v == pytest.approx(cpu_value, rel=0.01) for _, v in series.points), series
    memory = sorted(series.points[-1][1] for series in by_name["memory"])
    assert memory == sorted(MEMORY.values())
    assert [s.points[-1][1] for s in by_name["replicas"]] == [2.0]
    # The document is the results tree's metrics.json shape.
    MetricsFile.model_validate_json(document.model_dump_json())


def test_knative_replicas_are_the_revisions_deployments_summed(prometheus: str) -> None:
    document = fetch(prometheus, "k8s", "kube-prometheus-stack", namespace="knative-fn")
    by_name: dict[str, list] = {}
    for series in document.series:
        by_name.setdefault(series.name, []).append(series)
    assert [s.points[-1][1] for s in by_name["replicas"]] == [3.0]
    memory = sorted(series.points[-1][1] for series in by_name["memory"])
    assert memory == sorted(MEMORY.values())


def test_queries_are_valid_promql_and_escape_names() -> None:
    import promql_parser

    for orchestrator in ("k8s", "swarm", "nomad", "local"):
        for query in queries(orchestrator, "kube-prometheus-stack", 'we"ird', "openfaas-fn"):
            promql_parser.parse(query.promql)


def test_prometheus_errors_are_platform_errors(prometheus: str) -> None:
    async def scenario() -> None:
        metrics = PrometheusMetrics(
            Prometheus(url=prometheus, kind="local"), "local", None, rate_window="not-a-duration"
        )
        try:
            with pytest.raises(PlatformError, match="cpu of function 'fn': HTTP 400"):
                await metrics.fetch("fn", time.time() - 5, time.time())
        finally:
            await metrics.aclose()
        metrics = PrometheusMetrics(
            Prometheus(url="http://127.0.0.1:9", kind="local"), "local", None
        )
        try:
            with pytest.raises(PlatformError, match="cannot reach Prometheus"):
                await metrics.fetch("fn", time.time() - 5, time.time())
        finally:
            await metrics.aclose()

    asyncio.run(scenario())
