"""Values of the OpenWhisk chart and its runtimes manifest, from plain settings.

What the seeds switched (scheduler, container factory, prewarm, idle timeout) plus what a load
test needs: the namespace throttles (60 invocations a minute and 30 concurrent by default) and
action limits raised, the container pool and the number of invokers sized by the stack, the
controller's, invokers' (and scheduler's) Prometheus `/metrics` on without the chart's own
Prometheus and Grafana, the external API URL the stack exports, and the parts a benchmark does
not use (alarm and kafka providers) or that use APIs removed in Kubernetes 1.25 (pod disruption
budgets) off. Every key set here exists in the chart's values.yaml, and the chart reads each
(tests render it with a real Helm engine).

Metrics (apache/openwhisk ef725a6, the chart's images): `GET /metrics` on a component's HTTP
port needs both `whisk.metrics.kamon-enabled` (the chart's `metrics.kamonEnabled` sets
`METRICS_KAMON`, nothing else) and `whisk.metrics.prometheus-enabled` (no environment fallback
in application.conf: a `-D` flag through the chart's `<component>.options`). The chart's
`metrics.prometheusEnabled` would do the same through a config file but also deploys a
Prometheus 2.14 and a Grafana 6.3 (admin/admin, anonymous access, served at `/monitoring` of the
API): the stack's kube-prometheus-stack scrapes the components instead (PodMonitors), allowed in
by `metrics_network_policy` where the chart's policies stop other namespaces.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from components.endpoint import Endpoint
from components.openwhisk_chart import ChartError

API_NODE_PORT = 31001
NAMESPACE = "openwhisk"
RELEASE = "owdev"
#: The namespace of the chart's guest subject, whose key the stack exports.
GUEST_NAMESPACE = "guest"
#: The images the pinned chart ships (whisk.versions.openwhisk.gitTag, short form).
IMAGE_TAG = "ef725a6"
#: busybox for the chart's init containers, pinned instead of the chart's `latest`
#: (docker-library/official-images 06e240455e77 lists 1.37.0).
BUSYBOX_TAG = "1.37.0"
ROLE_LABEL_KEY = "openwhisk-role"
#: Action logs are read from the container runtime's log driver instead of being pulled from
#: every container after each activation, which would cost the benchmark its throughput.
LOG_STORE = "org.apache.openwhisk.core.containerpool.logging.LogDriverLogStoreProvider"
#: Turns on `/metrics` (with METRICS_KAMON); see the module docstring.
METRICS_OPTION = "-Dwhisk.metrics.prometheus-enabled=true"


def metrics_components(scheduler: Literal["default", "new"]) -> tuple[str, ...]:
    """The components serving `/metrics`. Each one's pods are labelled `name: <release>-<it>`
    and name their HTTP port after it (chart templates controller-pod.yaml, invoker-pod.yaml,
    scheduler-pod.yaml)."""
    return ("controller", "invoker", *(("scheduler",) if scheduler == "new" else ()))


@dataclass(frozen=True)
class Scraper:
    """The pods that read the metrics ports: their namespace and labels."""

    namespace: str
    labels: dict[str, str]


def metrics_network_policy(
    scheduler: Literal["default", "new"], scraper: Scraper
) -> dict[str, Any]:
    """The one NetworkPolicy the stack adds to OpenWhisk's namespace: `scraper`'s pods may
    reach the metrics port of the metrics components, nothing more.

    The chart's own policies (`isolateUserActions`, on by default: templates/network-policy.yaml)
    deny every other namespace, except the frontends (controller, nginx, API gateway), so a
    Prometheus outside the namespace could not reach an invoker or the scheduler. Ports are the
    named container ports, so each pod opens only its own."""
    components = metrics_components(scheduler)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{RELEASE}-allow-metrics-scrape", "namespace": NAMESPACE},
        "spec": {
            "podSelector": {
                "matchExpressions": [
                    {
                        "key": "name",
                        "operator": "In",
                        "values": [f"{RELEASE}-{component}" for component in components],
                    }
                ]
            },
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    # One peer with both selectors: those pods of that namespace only.
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": scraper.namespace}
                            },
                            "podSelector": {"matchLabels": dict(scraper.labels)},
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": component} for component in components],
                }
            ],
        },
    }


@dataclass(frozen=True)
class Prewarm:
    kind: str
    memory_mb: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Prewarm:
        """KIND:MEMORY_MB:COUNT, where KIND itself holds a colon (python:3)."""
        kind, memory, count = text.rsplit(":", 2)
        return cls(kind, int(memory), int(count))


@dataclass(frozen=True)
class OpenWhiskSettings:
    invokers: int
    invoker_label: str
    """Value of the workers' `openwhisk-role` label."""
    core_label: str | None
    """Value of the server's `openwhisk-role` label (and taint); None: no core node."""
    scheduler: Literal["default", "new"] = "default"
    container_factory: Literal["kubernetes", "docker"] = "kubernetes"
    idle_timeout_s: int = 600
    action_time_max_s: int = 300
    action_memory_max_mb: int = 2048
    action_concurrency_max: int = 1
    invokes_per_minute: int = 999_999
    concurrent_invokes: int = 999_999
    user_memory_mb: int = 2048
    storage_class: str | None = None

    def sized(self, capacity: Capacity) -> OpenWhiskSettings:
        return replace(self, invokers=capacity.invokers, user_memory_mb=capacity.user_memory_mb)


def go_float_string(number: float) -> str:
    """How Helm's `quote` prints a number from values (Go's %v of a float64: the shortest
    digits, exponent form from 1e+06 on), e.g. 50000000 -> "5e+07"."""
    digits = Decimal(repr(float(number))).normalize()
    exponent = digits.adjusted()
    if exponent < -4 or exponent >= 6:
        mantissa = digits.scaleb(-exponent).normalize()
        return f"{mantissa:f}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"
    return f"{digits:f}"


def invoker_options(settings: OpenWhiskSettings) -> str:
    """JVM -D flags for the invoker (the chart's `invoker.options`). They sit in a
    double-quoted environment value and pass the start script's `eval`: no quotes, no `$`."""
    return " ".join(
        [
            f"-Dwhisk.container-proxy.timeouts.idle-container={settings.idle_timeout_s}s",
            f"-Dwhisk.spi.LogStoreProvider={LOG_STORE}",
            METRICS_OPTION,
        ]
    )


def openwhisk_values(
    settings: OpenWhiskSettings,
    *,
    api: Endpoint,
    runtimes_file: str,
    system_auth: str,
    guest_auth: str,
) -> dict[str, Any]:
    """The chart values. `api` is the endpoint clients use and the stack exports (HAProxy's
    front, or the API's NodePort on a node of an existing cluster): the chart only announces it
    (API gateway URLs, its certificate's name, NOTES), actions keep the in-cluster nginx.
    `runtimes_file` is the manifest written into the chart; the auth keys are the `uuid:key`
    pairs generated by the stack (the chart's defaults are public)."""
    limits = {
        "actionsInvokesPerminute": settings.invokes_per_minute,
        "actionsInvokesConcurrent": settings.concurrent_invokes,
        "triggersFiresPerminute": settings.invokes_per_minute,
        "actions": {
            "time": {"max": f"{settings.action_time_max_s}s"},
            "memory": {"max": f"{settings.action_memory_max_mb}m"},
            "concurrency": {"max": settings.action_concurrency_max},
        },
    }
    for number in (settings.invokes_per_minute, settings.concurrent_invokes):
        rendered = go_float_string(number)
        if not rendered.isdigit():
            raise ValueError(f"limit {number} would reach OpenWhisk as {rendered!r}")
    values: dict[str, Any] = {
        "whisk": {
            "ingress": {
                "apiHostName": api.host,
                "apiHostPort": api.port,
                "apiHostProto": api.scheme,
                "type": "NodePort",
            },
            "auth": {"system": system_auth, "guest": guest_auth},
            "limits": limits,
            "containerPool": {"userMemory": f"{settings.user_memory_mb}m"},
            "runtimes": runtimes_file,
        },
        "nginx": {"httpsNodePort": API_NODE_PORT},
        "controller": {"options": METRICS_OPTION},
        "invoker": {
            "options": invoker_options(settings),
            "containerFactory": {
                "impl": settings.container_factory,
                "enableConcurrency": settings.action_concurrency_max > 1,
                "kubernetes": {"replicaCount": settings.invokers},
            },
        },
        "scheduler": {"enabled": settings.scheduler == "new"},
        # kamonEnabled deploys nothing; prometheusEnabled would deploy a second Prometheus and
        # Grafana (see the module docstring).
        "metrics": {"kamonEnabled": True, "prometheusEnabled": False},
        "providers": {"alarm": {"enabled": False}, "kafka": {"enabled": False}},
        # The chart's readiness init containers default to busybox:latest (docs/versions.md).
        "busybox": {"imageTag": BUSYBOX_TAG},
        # The chart's PDBs are policy/v1beta1, which Kubernetes no longer serves.
        "pdb": {"enable": False},
        "affinity": {"enabled": True, "invokerNodeLabel": settings.invoker_label},
        "toleration": {"enabled": settings.core_label is not None},
    }
    if settings.scheduler == "new":
        values["scheduler"]["options"] = METRICS_OPTION
    if settings.core_label is not None:
        values["affinity"]["coreNodeLabel"] = settings.core_label
        values["affinity"]["edgeNodeLabel"] = settings.core_label
        values["toleration"]["coreValue"] = settings.core_label
        values["toleration"]["edgeValue"] = settings.core_label
    if settings.storage_class is not None:
        values["k8s"] = {
            "persistence": {
                "hasDefaultStorageClass": False,
                "explicitStorageClass": settings.storage_class,
            }
        }
    return values


def runtimes_with_prewarm(
    runtimes: dict[str, Any], prewarm: list[Prewarm] | None
) -> dict[str, Any]:
    """The chart's runtimes manifest with exactly the stem cells asked for (None: unchanged).

    Kinds not listed get no stem cells, so a cold start of them is a real one."""
    result = copy.deepcopy(runtimes)
    if prewarm is None:
        return result
    wanted: dict[str, list[dict[str, Any]]] = {}
    for cell in prewarm:
        wanted.setdefault(cell.kind, []).append(
            {"initialCount": cell.count, "memory": f"{cell.memory_mb} MB"}
        )
    known = {runtime["kind"] for family in result["runtimes"].values() for runtime in family}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise ChartError(
            f"openwhiskPrewarm names runtime kinds the chart does not have: {', '.join(unknown)} "
            f"(it has {', '.join(sorted(known))})"
        )
    for family in result["runtimes"].values():
        for runtime in family:
            if runtime["kind"] in wanted:
                runtime["stemCells"] = wanted[runtime["kind"]]
            else:
                runtime.pop("stemCells", None)
    return result


#: What the long-running parts of the release need, in MiB, by their name in the chart (its
#: workloads are `<release>-<part>`; a test renders the chart and compares): the JVM heaps
#: (controller 1024, invoker 512, scheduler 1024) plus the JVM's own overhead, and typical
#: working sets of the rest. Estimates for the pre-flight check, not limits set on pods. The
#: core parts run on the server (the chart's core/edge affinity and toleration); `scheduler:
#: new` adds the scheduler and etcd (ElasticSearch comes only with the ElasticSearch activation
#: store, which the stack does not use).
CORE_MIB = {"controller": 1536, "couchdb": 512, "kafka": 1024, "zookeeper": 384, "nginx": 64,
            "redis": 128, "apigateway": 256}  # fmt: skip
NEW_SCHEDULER_MIB = {"scheduler": 1536, "etcd": 256}
#: Parts without a placement: the idle `wskadmin` shell (`tail -f /dev/null`) lands on a worker,
#: within AGENT_RESERVE_MIB.
UNPLACED_PARTS = ("wskadmin",)
#: kube-prometheus-stack on the server: Prometheus (its 1 GiB request), Grafana, operator,
#: kube-state-metrics.
MONITORING_MIB = 1024 + 256 + 128 + 128
INVOKER_MIB = 768
#: The operating system, kubelet/containerd and node-exporter on an agent; the k3s server
#: (API server, etcd/sqlite, controllers) on the server.
AGENT_RESERVE_MIB = 1024
SERVER_RESERVE_MIB = 1536
ACTION_SLOT_MIB = 256


def server_parts(scheduler: Literal["default", "new"]) -> dict[str, int]:
    """MiB of each long-running part of the release on the server, by its name in the chart."""
    return CORE_MIB | (NEW_SCHEDULER_MIB if scheduler == "new" else {})


@dataclass(frozen=True)
class Capacity:
    """How many invokers and how much action memory each, and what does not fit."""

    invokers: int
    user_memory_mb: int
    problems: tuple[str, ...] = ()

    @property
    def containers_per_invoker(self) -> int:
        """Warm containers of the default 256 MB an invoker holds before queueing."""
        return self.user_memory_mb // ACTION_SLOT_MIB


def plan_capacity(
    *,
    scheduler: Literal["default", "new"],
    workers: int,
    worker_mib: int,
    server_mib: int,
    invokers: int | None,
    user_memory_mb: int | None,
) -> Capacity:
    """Invokers (default: one per worker) and action memory (default: what a worker has left
    after its invokers), checked against what the machines hold. A user sweep past
    invokers × containers_per_invoker queues inside OpenWhisk: sizing from the workers keeps
    that point as far out as the machines allow, and says where it is."""
    count = invokers or workers
    per_worker = -(-count // workers)
    problems: list[str] = []
    spare = worker_mib - AGENT_RESERVE_MIB - per_worker * INVOKER_MIB
    if user_memory_mb is None:
        user_memory_mb = max(0, spare // per_worker // ACTION_SLOT_MIB * ACTION_SLOT_MIB)
        if user_memory_mb < ACTION_SLOT_MIB:
            problems.append(
                f"workers have {worker_mib} MiB: {per_worker} invoker(s) each leave no room for "
                f"one {ACTION_SLOT_MIB} MB action; use a larger workerSize or fewer "
                "openwhiskInvokers"
            )
    elif per_worker * user_memory_mb > spare:
        problems.append(
            f"openwhiskUserMemoryMb {user_memory_mb} × {per_worker} invoker(s) per worker needs "
            f"{per_worker * (user_memory_mb + INVOKER_MIB) + AGENT_RESERVE_MIB} MiB, workers have "
            f"{worker_mib} MiB"
        )
    core = server_parts(scheduler)
    needed = sum(core.values()) + MONITORING_MIB + SERVER_RESERVE_MIB
    if needed > server_mib:
        parts = ", ".join(f"{name} {mib}" for name, mib in core.items())
        problems.append(
            f"the k3s server has {server_mib} MiB; OpenWhisk's core ({parts}) with monitoring "
            f"({MONITORING_MIB}) and k3s ({SERVER_RESERVE_MIB}) needs about {needed} MiB: use a "
            "larger managerSize"
        )
    return Capacity(count, user_memory_mb, tuple(problems))
