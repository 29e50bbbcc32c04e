"""Who can reach what, read from rendered manifests: pods, Services, NetworkPolicies and the
Prometheus Operator's monitors, evaluated as Kubernetes does.

- Pods are the pod templates of the workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet,
  Job, CronJob, Pod), without Helm test hooks, plus the pods the Prometheus Operator makes from
  a `Prometheus` / `Alertmanager` resource (their labels and ports as the operator sets them:
  prometheus-operator v0.93.0, b9090747, pkg/prometheus/server/operator.go `makeSelectorLabels`,
  pkg/prometheus/common.go `MakeContainerPorts`, pkg/operator/config_reloader.go `reloader-web`
  8080, pkg/alertmanager/operator.go and statefulset.go; kube-prometheus-stack 88.5.3 ships
  v0.93.1).
- NetworkPolicy (networking.k8s.io/v1): a pod selected by any policy of a type is isolated for
  that direction and only what some rule of those policies allows gets through; `from`/`to`
  peers are podSelector (the policy's namespace), namespaceSelector (namespaces by labels, with
  the automatic `kubernetes.io/metadata.name`), both (AND) or ipBlock; ports by number (with
  endPort) or by the destination pod's port name, protocol TCP unless given; no ports or no
  peers means all. Host-network pods are outside policy.
- Monitors: a Prometheus selects PodMonitors/ServiceMonitors by its selectors (none when unset,
  all when `{}`); a monitor's namespaceSelector is `any`, `matchNames`, or its own namespace.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Labels = Mapping[str, str]

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
NAMESPACED_DEFAULT = "default"
#: Operator-made pods (prometheus-operator v0.93.0, see the module docstring).
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
ALERTMANAGER_MESH_PORT = 9094
RELOADER_PORT = 8080


@dataclass(frozen=True)
class Port:
    name: str | None
    number: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class Pod:
    """A pod as a workload's template describes it (`owner`: kind namespace/name)."""

    owner: str
    namespace: str
    labels: tuple[tuple[str, str], ...]
    ports: tuple[Port, ...] = ()
    host_network: bool = False

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def port(self, ref: str | int) -> Port | None:
        """The container port a name or number refers to."""
        for port in self.ports:
            if port.name == ref or port.number == ref:
                return port
        return None


@dataclass(frozen=True)
class External:
    """A client outside the pod network (HAProxy, a user), by address."""

    address: str


Peer = Pod | External


def make_pod(
    owner: str, namespace: str, labels: Labels, ports: Iterable[Port] = (), host: bool = False
) -> Pod:
    items = tuple(sorted((str(k), str(v)) for k, v in labels.items()))
    return Pod(owner, namespace, items, tuple(ports), host)


def matches(selector: Mapping[str, Any] | None, labels: Labels) -> bool:
    """A label selector (matchLabels and matchExpressions; `{}` selects everything)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = [str(v) for v in expression.get("values") or []]
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in {"In", "NotIn", "Exists", "DoesNotExist"}:
            raise ValueError(f"unknown selector operator {operator}")
    return True


def _ports(containers: Sequence[Mapping[str, Any]]) -> list[Port]:
    return [
        Port(p.get("name"), int(p["containerPort"]), p.get("protocol", "TCP"))
        for container in containers
        for p in container.get("ports") or []
    ]


def _template(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    kind = obj.get("kind")
    if kind in WORKLOAD_KINDS:
        return obj["spec"]["template"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    if kind == "Pod":
        return obj
    return None


def _is_test_hook(obj: Mapping[str, Any]) -> bool:
    hooks = (obj.get("metadata", {}).get("annotations") or {}).get("helm.sh/hook", "")
    return "test" in [h.strip() for h in hooks.split(",")]


def _operator_pods(obj: Mapping[str, Any], namespace: str) -> list[Pod]:
    kind, name, spec = obj["kind"], obj["metadata"]["name"], obj.get("spec", {})
    extra = (spec.get("podMetadata") or {}).get("labels") or {}
    owner = f"{kind} {namespace}/{name}"
    host = bool(spec.get("hostNetwork"))
    web = spec.get("portName") or "web"
    reloader = Port("reloader-web", RELOADER_PORT)
    common = {
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "app.kubernetes.io/instance": name,
    }
    if kind == "Prometheus":
        shards = int(spec.get("shards") or 1)
        return [
            make_pod(
                owner,
                namespace,
                {
                    **extra,
                    **common,
                    "app.kubernetes.io/name": "prometheus",
                    "operator.prometheus.io/name": name,
                    "operator.prometheus.io/shard": str(shard),
                    "prometheus": name,
                },
                [Port(web, PROMETHEUS_PORT), reloader],
                host,
            )
            for shard in range(shards)
        ]
    return [
        make_pod(
            owner,
            namespace,
            {**extra, **common, "app.kubernetes.io/name": "alertmanager", "alertmanager": name},
            [
                Port(web, ALERTMANAGER_PORT),
                Port("mesh-tcp", ALERTMANAGER_MESH_PORT),
                Port("mesh-udp", ALERTMANAGER_MESH_PORT, "UDP"),
                reloader,
            ],
            host,
        )
    ]


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    labels: Mapping[str, str]
    selector: Mapping[str, str] | None
    type: str
    ports: tuple[Mapping[str, Any], ...]


@dataclass
class Cluster:
    """The objects of a stack, each with its namespace resolved."""

    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    pods: list[Pod] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    policies: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    monitors: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    prometheuses: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)

    @classmethod
    def of(cls, releases: Iterable[tuple[str, Iterable[Mapping[str, Any]]]]) -> Cluster:
        """From (default namespace, objects) pairs: a release's objects go to its namespace
        unless they name another."""
        cluster = cls()
        for default, objs in releases:
            for obj in objs:
                cluster.add(obj, default)
        return cluster

    def namespace_labels(self, name: str) -> dict[str, str]:
        return {**self.namespaces.get(name, {}), "kubernetes.io/metadata.name": name}

    def add(self, obj: Mapping[str, Any], default: str = NAMESPACED_DEFAULT) -> None:
        kind = obj.get("kind")
        metadata = obj.get("metadata", {})
        if kind == "Namespace":
            self.namespaces[metadata["name"]] = dict(metadata.get("labels") or {})
            return
        namespace = metadata.get("namespace") or default
        self.namespaces.setdefault(namespace, {})
        template = _template(obj)
        if template is not None and not _is_test_hook(obj):
            spec = template.get("spec", {})
            self.pods.append(
                make_pod(
                    f"{kind} {namespace}/{metadata['name']}",
                    namespace,
                    (template.get("metadata") or {}).get("labels") or {},
                    _ports(spec.get("containers") or []),
                    bool(spec.get("hostNetwork")),
                )
            )
        elif kind in {"Prometheus", "Alertmanager"}:
            self.pods += _operator_pods(obj, namespace)
            if kind == "Prometheus":
                self.prometheuses.append((namespace, obj))
        elif kind == "Service":
            spec = obj.get("spec", {})
            self.services.append(
                Service(
                    namespace,
                    metadata["name"],
                    metadata.get("labels") or {},
                    spec.get("selector"),
                    spec.get("type", "ClusterIP"),
                    tuple(spec.get("ports") or []),
                )
            )
        elif kind == "NetworkPolicy":
            self.policies.append((namespace, obj))
        elif kind in {"PodMonitor", "ServiceMonitor"}:
            self.monitors.append((namespace, obj))

    # --- NetworkPolicy ---------------------------------------------------------------------

    def _peer_matches(self, peer: Mapping[str, Any], policy_ns: str, other: Peer) -> bool:
        if "ipBlock" in peer:
            if not isinstance(other, External):
                return False
            block = peer["ipBlock"]
            address = ipaddress.ip_address(other.address)
            if address not in ipaddress.ip_network(block["cidr"]):
                return False
            return not any(address in ipaddress.ip_network(e) for e in block.get("except") or [])
        if not isinstance(other, Pod):
            return False
        if "namespaceSelector" in peer:
            if not matches(peer["namespaceSelector"], self.namespace_labels(other.namespace)):
                return False
        elif other.namespace != policy_ns:
            return False
        return "podSelector" not in peer or matches(peer["podSelector"], other.label_map)

    @staticmethod
    def _port_matches(rules: Sequence[Mapping[str, Any]] | None, port: Port) -> bool:
        if not rules:
            return True
        for rule in rules:
            if rule.get("protocol", "TCP") != port.protocol:
                continue
            wanted = rule.get("port")
            if wanted is None:
                return True
            if isinstance(wanted, str) and not wanted.isdigit():
                if wanted == port.name:
                    return True
                continue
            low, high = int(wanted), int(rule.get("endPort", wanted))
            if low <= port.number <= high:
                return True
        return False

    @staticmethod
    def _types(policy: Mapping[str, Any]) -> list[str]:
        spec = policy.get("spec", {})
        if spec.get("policyTypes"):
            return list(spec["policyTypes"])
        return ["Ingress", *(["Egress"] if "egress" in spec else [])]

    def _selecting(self, pod: Pod, direction: str) -> list[tuple[str, Mapping[str, Any]]]:
        return [
            (ns, policy)
            for ns, policy in self.policies
            if ns == pod.namespace
            and direction in self._types(policy)
            and matches(policy["spec"].get("podSelector", {}), pod.label_map)
        ]

    def allowed(self, source: Peer, target: Pod, port: Port) -> bool:
        """Whether `source` may open a connection to `target` on `port` (both directions of
        policy: the target's ingress and the source's egress)."""
        if not target.host_network:
            ingress = self._selecting(target, "Ingress")
            if ingress and not any(
                self._port_matches(rule.get("ports"), port)
                and (
                    not rule.get("from")
                    or any(self._peer_matches(p, ns, source) for p in rule["from"])
                )
                for ns, policy in ingress
                for rule in policy["spec"].get("ingress") or []
            ):
                return False
        if isinstance(source, Pod) and not source.host_network:
            egress = self._selecting(source, "Egress")
            if egress and not any(
                self._port_matches(rule.get("ports"), port)
                and (
                    not rule.get("to") or any(self._peer_matches(p, ns, target) for p in rule["to"])
                )
                for ns, policy in egress
                for rule in policy["spec"].get("egress") or []
            ):
                return False
        return True

    def open_connections(
        self, sources: Iterable[Peer], extra_ports: Iterable[Port] = ()
    ) -> set[tuple[Peer, Pod, Port]]:
        """Every (source, pod, port) allowed, over the pods' declared ports and `extra_ports`."""
        found = set()
        for target in self.pods:
            for port in {*target.ports, *extra_ports}:
                for source in sources:
                    if self.allowed(source, target, port):
                        found.add((source, target, port))
        return found

    # --- Services ---------------------------------------------------------------------------

    def service_pods(self, service: Service) -> list[Pod]:
        if not service.selector:
            return []
        return [
            p
            for p in self.pods
            if p.namespace == service.namespace
            and matches({"matchLabels": service.selector}, p.label_map)
        ]

    @staticmethod
    def target_port(service_port: Mapping[str, Any], pod: Pod) -> Port | None:
        target = service_port.get("targetPort", service_port["port"])
        if isinstance(target, str) and not target.isdigit():
            return pod.port(target)
        return pod.port(int(target))

    def node_port(self, number: int) -> tuple[Service, Mapping[str, Any]] | None:
        """The Service port exposing `number` on every node, if any."""
        for service in self.services:
            if service.type not in {"NodePort", "LoadBalancer"}:
                continue
            for port in service.ports:
                if port.get("nodePort") == number:
                    return service, port
        return None

    # --- monitors ---------------------------------------------------------------------------

    def _monitor_namespaces(self, namespace: str, monitor: Mapping[str, Any]) -> list[str]:
        selector = monitor["spec"].get("namespaceSelector") or {}
        if selector.get("any"):
            return sorted(self.namespaces)
        return list(selector.get("matchNames") or [namespace])

    def selected_monitors(
        self, prometheus_ns: str, prometheus: Mapping[str, Any]
    ) -> list[tuple[str, Mapping[str, Any]]]:
        spec = prometheus.get("spec", {})
        kinds = {"PodMonitor": "podMonitor", "ServiceMonitor": "serviceMonitor"}
        chosen = []
        for namespace, monitor in self.monitors:
            field_ = kinds[monitor["kind"]]
            ns_selector = spec.get(f"{field_}NamespaceSelector")
            in_namespace = (
                namespace == prometheus_ns
                if ns_selector is None
                else matches(ns_selector, self.namespace_labels(namespace))
            )
            labels = monitor["metadata"].get("labels") or {}
            if in_namespace and matches(spec.get(f"{field_}Selector"), labels):
                chosen.append((namespace, monitor))
        return chosen

    def scrape_targets(self, namespace: str, monitor: Mapping[str, Any]) -> list[Target]:
        """The targets of one monitor: for each endpoint, every pod and port it resolves to,
        or a Target with the problem that stops it."""
        spec = monitor["spec"]
        name = f"{monitor['kind']} {namespace}/{monitor['metadata']['name']}"
        namespaces = self._monitor_namespaces(namespace, monitor)
        targets: list[Target] = []
        if monitor["kind"] == "PodMonitor":
            pods = [
                p
                for p in self.pods
                if p.namespace in namespaces and matches(spec.get("selector", {}), p.label_map)
            ]
            for endpoint in spec.get("podMetricsEndpoints") or []:
                ref = endpoint.get("port", endpoint.get("portNumber", endpoint.get("targetPort")))
                label = f"{name} port {ref}"
                if not pods:
                    targets.append(Target(label, problem=f"selects no pod in {namespaces}"))
                for pod in pods:
                    port = pod.port(ref)
                    targets.append(
                        Target(label, pod, port, None if port else f"{pod.owner} has no port {ref}")
                    )
            return targets
        services = [
            s
            for s in self.services
            if s.namespace in namespaces and matches(spec.get("selector", {}), s.labels)
        ]
        for endpoint in spec.get("endpoints") or []:
            ref = endpoint.get("port", endpoint.get("targetPort"))
            label = f"{name} port {ref}"
            if not services:
                targets.append(Target(label, problem=f"selects no Service in {namespaces}"))
            for service in services:
                service_port = next(
                    (p for p in service.ports if ref in (p.get("name"), p.get("port"))), None
                )
                if service_port is None:
                    targets.append(
                        Target(label, problem=f"Service {service.name} has no port {ref}")
                    )
                    continue
                pods = self.service_pods(service)
                if not pods:
                    targets.append(Target(label, problem=f"Service {service.name} selects no pod"))
                for pod in pods:
                    port = self.target_port(service_port, pod)
                    problem = None if port else f"{pod.owner} has no port {service_port}"
                    targets.append(Target(label, pod, port, problem))
        return targets


@dataclass(frozen=True)
class Target:
    """One scrape target: the monitor endpoint, and the pod and port it reaches (or why not)."""

    endpoint: str
    pod: Pod | None = None
    port: Port | None = None
    problem: str | None = None
