"""Resource metrics of a function's instances from the stack's Prometheus, as `metrics.json`.

Queries depend on where the function runs, because each orchestrator labels containers its own
way (see docs/platforms.md for each query):

- k8s: cAdvisor (kubelet) series carry `namespace` and `pod`; a function's pods are
  `<fn>-<replicaset>-<id>` in the function namespace. Replicas come from kube-state-metrics
  (`kube_deployment_status_replicas_available`) with kube-prometheus-stack, else the gateway.
- swarm: cAdvisor on every node labels containers with the service name,
  `container_label_com_docker_swarm_service_name`.
- nomad: the client agents' allocation metrics, labelled with the `task`.
- local: the local target labels its series with `function_name` (kept per series, unsummed).

Elsewhere than k8s with kube-state-metrics, replicas are the gateway's `gateway_service_count`,
whose `function_name` is `<fn>` (Swarm) or `<fn>.<namespace>` (faas-netes, faas-nomad).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from contract.outputs import Orchestrator, Prometheus
from loadgen.results.models import MetricsFile, Series

from .base import PlatformError


@dataclass(frozen=True)
class Query:
    name: str
    unit: str
    promql: str


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def queries(
    orchestrator: Orchestrator,
    kind: str,
    function: str,
    namespace: str | None,
    rate_window: str = "30s",
) -> list[Query]:
    """The PromQL for CPU (cores), memory (bytes) and replicas of one function."""
    fn = _quote(function)
    fn_re = _quote(re.escape(function))
    gateway = Query(
        "replicas", "count", f'max(gateway_service_count{{function_name=~"{fn_re}(\\\\..*)?"}})'
    )
    if orchestrator == "k8s":
        ns = _quote(namespace or "openfaas-fn")
        match = f'namespace="{ns}", pod=~"{fn_re}-.*", container!="", container!="POD"'
        replicas = (
            Query(
                "replicas",
                "count",
                # OpenFaaS's Deployment is the function's name; Knative's are its revisions'
                # (`<fn>-00001-deployment`), of which old ones sit at zero.
                f'sum(kube_deployment_status_replicas_available{{namespace="{ns}", '
                f'deployment=~"{fn_re}(-[0-9]+-deployment)?"}})',
            )
            if kind == "kube-prometheus-stack"
            else gateway
        )
        return [
            Query("cpu", "cores", f"sum by (pod) ({_cpu_rate(match, rate_window)})"),
            Query(
                "memory", "bytes", f"sum by (pod) (container_memory_working_set_bytes{{{match}}})"
            ),
            replicas,
        ]
    if orchestrator == "swarm":
        match = f'container_label_com_docker_swarm_service_name="{fn}"'
        by = "container_label_com_docker_swarm_task_name"
        return [
            Query("cpu", "cores", f"sum by ({by}) ({_cpu_rate(match, rate_window)})"),
            Query(
                "memory", "bytes", f"sum by ({by}) (container_memory_working_set_bytes{{{match}}})"
            ),
            gateway,
        ]
    if orchestrator == "nomad":
        match = f'task="{fn}"'
        return [
            Query(
                "cpu", "MHz", f"sum by (alloc_id) (nomad_client_allocs_cpu_total_ticks{{{match}}})"
            ),
            Query(
                "memory",
                "bytes",
                f"sum by (alloc_id) (nomad_client_allocs_memory_usage{{{match}}})",
            ),
            gateway,
        ]
    match = f'function_name="{fn}"'
    return [
        Query("cpu", "cores", _cpu_rate(match, rate_window)),
        Query("memory", "bytes", f"container_memory_working_set_bytes{{{match}}}"),
        gateway,
    ]


def _cpu_rate(match: str, rate_window: str) -> str:
    return f"rate(container_cpu_usage_seconds_total{{{match}}}[{rate_window}])"


class PrometheusMetrics:
    """Range queries against the stack's Prometheus (`prometheus.url`)."""

    def __init__(
        self,
        prometheus: Prometheus,
        orchestrator: Orchestrator,
        namespace: str | None,
        *,
        step_s: float = 1.0,
        rate_window: str = "30s",
        timeout_s: float = 30.0,
    ) -> None:
        self._url = prometheus.url.rstrip("/")
        self._kind = prometheus.kind
        self._orchestrator = orchestrator
        self._namespace = namespace
        self._step_s = step_s
        self._rate_window = rate_window
        self._client = httpx.AsyncClient(timeout=timeout_s)

    def queries(self, function: str) -> list[Query]:
        return queries(self._orchestrator, self._kind, function, self._namespace, self._rate_window)

    async def fetch(self, function: str, start_s: float, end_s: float) -> MetricsFile:
        """Every series of the function between `start_s` and `end_s` (unix seconds)."""
        series: list[Series] = []
        for query in self.queries(function):
            series.extend(await self._range(query, function, start_s, end_s))
        return MetricsFile(series=series)

    async def _range(
        self, query: Query, function: str, start_s: float, end_s: float
    ) -> list[Series]:
        params = {
            "query": query.promql,
            "start": f"{start_s:.3f}",
            "end": f"{end_s:.3f}",
            "step": f"{self._step_s:g}",
        }
        where = f"Prometheus: {query.name} of function {function!r}"
        try:
            response = await self._client.get(f"{self._url}/api/v1/query_range", params=params)
        except httpx.TransportError as exc:
            raise PlatformError(f"{where}: cannot reach Prometheus ({type(exc).__name__})") from exc
        try:
            document = response.json()
        except ValueError:
            document = {}
        if response.status_code != 200 or document.get("status") != "success":
            error = str(document.get("error", ""))[:200]
            raise PlatformError(f"{where}: HTTP {response.status_code} {error}".rstrip())
        return [
            Series(
                name=query.name,
                unit=query.unit,
                labels=item.get("metric", {}),
                points=[(float(t), float(v)) for t, v in item.get("values", [])],
            )
            for item in document["data"]["result"]
        ]

    async def aclose(self) -> None:
        await self._client.aclose()
