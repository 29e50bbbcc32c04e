"""Who can reach what in each Kubernetes stack, read from its rendered manifests (see
tests/support/reachability.py for the semantics): every scrape target Prometheus is configured
for exists and Prometheus may reach it, what the program adds opens nothing else, and HAProxy
and the exported URLs point at NodePorts the manifests expose."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.reachability import Cluster, External, Port, make_pod
from support.stack_manifests import CASES, StackManifests, stack_manifests

from components.haproxy import GATEWAY_PORT
from components.pinned_source import PinnedTree

Stacks = Callable[[str], StackManifests]
OPENWHISK_CASES = [name for name in CASES if "openwhisk" in name]
K3S_CASES = [name for name in CASES if name.startswith("k3s-")]
EXISTING_CASES = [name for name in CASES if name.startswith("existing-")]

#: Monitors whose targets the cluster itself provides, so no rendered manifest holds them:
#: the API server (`default/kubernetes`), the kubelets (a Service the operator keeps), CoreDNS
#: (k3s's, in kube-system) and, on existing clusters, the control plane components k3s hides.
CLUSTER_PROVIDED = {
    "ServiceMonitor monitoring/monitoring-kube-prometheus-apiserver",
    "ServiceMonitor monitoring/monitoring-kube-prometheus-kubelet",
    "ServiceMonitor monitoring/monitoring-kube-prometheus-coredns",
}
CONTROL_PLANE = {
    "ServiceMonitor monitoring/monitoring-kube-prometheus-kube-controller-manager",
    "ServiceMonitor monitoring/monitoring-kube-prometheus-kube-scheduler",
    "ServiceMonitor monitoring/monitoring-kube-prometheus-kube-etcd",
    "ServiceMonitor monitoring/monitoring-kube-prometheus-kube-proxy",
}
#: OpenFaaS's chart cannot be rendered here (its licence keeps it out of the specs).
NOT_RENDERED = {"PodMonitor monitoring/openfaas-gateway"}


@pytest.fixture(scope="module")
def stacks(openwhisk_chart_source: PinnedTree, tmp_path_factory: pytest.TempPathFactory) -> Stacks:
    work = tmp_path_factory.mktemp("stacks")
    return lambda name: stack_manifests(name, openwhisk_chart_source, work)


# --- the evaluator itself ---------------------------------------------------------------------


def policy(namespace: str, selector: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"p{len(str(spec))}", "namespace": namespace},
        "spec": {"podSelector": selector, **spec},
    }


APP = make_pod("app", "apps", {"app": "web"}, [Port("http", 8080), Port("admin", 9000)])
NEIGHBOUR = make_pod("neighbour", "apps", {"app": "other"})
SCRAPER = make_pod("scraper", "monitoring", {"app.kubernetes.io/name": "prometheus"})
STRANGER = make_pod("stranger", "monitoring", {"app": "grafana"})


def evaluated(*objs: dict[str, Any]) -> Cluster:
    cluster = Cluster.of([("default", objs)])
    cluster.pods += [APP, NEIGHBOUR, SCRAPER, STRANGER]
    return cluster


def test_without_policies_everything_is_open_and_an_empty_policy_denies() -> None:
    assert evaluated().allowed(STRANGER, APP, APP.ports[0])
    deny = evaluated(policy("apps", {}, policyTypes=["Ingress"]))
    assert not deny.allowed(NEIGHBOUR, APP, APP.ports[0])
    assert not deny.allowed(External("203.0.113.9"), APP, APP.ports[0])
    # Policies of another namespace, or selecting other pods, change nothing.
    assert evaluated(policy("other", {}, policyTypes=["Ingress"])).allowed(
        NEIGHBOUR, APP, APP.ports[0]
    )
    assert evaluated(policy("apps", {"matchLabels": {"app": "x"}})).allowed(
        NEIGHBOUR, APP, APP.ports[0]
    )


def test_peers_ports_and_directions() -> None:
    both = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    scrape = evaluated(
        policy(
            "apps",
            {"matchLabels": {"app": "web"}},
            ingress=[{"from": [both], "ports": [{"port": "http"}]}],
        )
    )
    assert scrape.allowed(SCRAPER, APP, APP.ports[0])
    assert not scrape.allowed(SCRAPER, APP, APP.ports[1])  # another port
    assert not scrape.allowed(STRANGER, APP, APP.ports[0])  # AND: the namespace is not enough
    assert not scrape.allowed(NEIGHBOUR, APP, APP.ports[0])  # a pod selector alone: own namespace
    either = evaluated(
        policy(
            "apps",
            {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
            ingress=[
                {
                    "from": [
                        {"namespaceSelector": both["namespaceSelector"]},
                        {
                            "podSelector": {
                                "matchExpressions": [{"key": "app", "operator": "Exists"}]
                            }
                        },
                    ],
                    "ports": [{"protocol": "TCP", "port": 8000, "endPort": 8100}],
                }
            ],
        )
    )
    assert either.allowed(STRANGER, APP, APP.ports[0])  # OR: any namespace-selected pod
    assert either.allowed(NEIGHBOUR, APP, APP.ports[0])
    assert not either.allowed(NEIGHBOUR, APP, APP.ports[1])  # 9000 is outside 8000-8100
    assert not either.allowed(NEIGHBOUR, APP, Port("http", 8080, "UDP"))
    outside = evaluated(
        policy(
            "apps",
            {},
            ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}}]}],
        )
    )
    assert outside.allowed(External("10.0.2.15"), APP, APP.ports[0])
    assert not outside.allowed(External("10.9.0.1"), APP, APP.ports[0])
    assert not outside.allowed(NEIGHBOUR, APP, APP.ports[0])
    egress = evaluated(
        policy("monitoring", {}, policyTypes=["Egress"], egress=[{"ports": [{"port": 9000}]}])
    )
    assert egress.allowed(SCRAPER, APP, APP.ports[1])
    assert not egress.allowed(SCRAPER, APP, APP.ports[0])
    host = make_pod("host", "apps", {"app": "web"}, [Port("metrics", 9100)], host=True)
    assert evaluated(policy("apps", {}, policyTypes=["Ingress"])).allowed(
        SCRAPER, host, host.ports[0]
    )


# --- scrape targets ---------------------------------------------------------------------------


def expected_unresolved(case: str) -> set[str]:
    expected = set(CLUSTER_PROVIDED)
    if case.startswith("existing-"):
        expected |= CONTROL_PLANE
    if "openfaas" in case:
        expected |= NOT_RENDERED
    return expected


def test_the_monitors_prometheus_selects(stacks: Stacks) -> None:
    cluster = stacks("k3s-openwhisk-new").cluster()
    [(namespace, prometheus)] = cluster.prometheuses
    names = {
        f"{m['kind']} {m['metadata']['name']}"
        for _, m in cluster.selected_monitors(namespace, prometheus)
    }
    assert {
        "PodMonitor openwhisk-controller",
        "PodMonitor openwhisk-invoker",
        "PodMonitor openwhisk-scheduler",
        "ServiceMonitor monitoring-kube-state-metrics",
        "ServiceMonitor monitoring-prometheus-node-exporter",
    } <= names
    assert len(names) == len(cluster.monitors)


@pytest.mark.parametrize("case", CASES)
def test_every_scrape_target_exists_and_prometheus_may_reach_it(case: str, stacks: Stacks) -> None:
    cluster = stacks(case).cluster()
    [(namespace, prometheus)] = cluster.prometheuses
    scrapers = [p for p in cluster.pods if p.owner.startswith("Prometheus ")]
    assert scrapers
    unresolved: set[str] = set()
    unreachable: list[str] = []
    reached: set[str] = set()
    for monitor_ns, monitor in cluster.selected_monitors(namespace, prometheus):
        for target in cluster.scrape_targets(monitor_ns, monitor):
            if target.problem is not None:
                unresolved.add(target.endpoint.rsplit(" port ", 1)[0])
                continue
            assert target.pod is not None
            assert target.port is not None
            reached.add(target.pod.owner)
            if not all(cluster.allowed(s, target.pod, target.port) for s in scrapers):
                unreachable.append(f"{target.endpoint} -> {target.pod.owner}:{target.port.number}")
    assert unreachable == []
    assert unresolved == expected_unresolved(case)
    if "openwhisk" in case:
        components = {"controller", "invoker"} | ({"scheduler"} if case.endswith("-new") else set())
        assert {f"StatefulSet openwhisk/owdev-{c}" for c in components} <= reached


@pytest.mark.parametrize("case", OPENWHISK_CASES)
def test_what_the_program_adds_opens_only_the_metrics_ports(case: str, stacks: Stacks) -> None:
    stack = stacks(case)
    with_ours, without = stack.cluster(), stack.cluster(without_policies=True)
    probes = [make_pod(f"probe-{ns}", ns, {}) for ns in sorted(with_ours.namespaces)] + [
        make_pod("action", "openwhisk", {"user-action-pod": "true"}),
        External("203.0.113.9"),
    ]
    sources = [*with_ours.pods, *probes]
    extra = [Port(None, 12345)]
    opened = with_ours.open_connections(sources, extra) - without.open_connections(sources, extra)
    scrapers = {p for p in with_ours.pods if p.owner.startswith("Prometheus ")}
    metrics = {"controller": "controller", "invoker": "invoker", "scheduler": "scheduler"}
    for source, target, port in opened:
        component = target.label_map.get("name", "").removeprefix("owdev-")
        assert source in scrapers, (source, target, port)
        assert port.name == metrics.get(component), (source, target, port)
    assert {(t.owner, p.name) for _, t, p in opened} >= {
        ("StatefulSet openwhisk/owdev-invoker", "invoker")
    }


# --- HAProxy and the exported URLs against the NodePorts ------------------------------------


def haproxy_backends(stack: StackManifests) -> dict[str, tuple[bool, list[tuple[str, int]]]]:
    """Backend name: (TLS to the servers, [(address, port)]), from the haproxy.cfg the
    HAProxy machine is given."""
    [step] = [
        r for r in stack.run.mocks.of_type("command:remote:Command") if r.name == "haproxy-install"
    ]
    stdin = step.inputs["stdin"]
    lexer = shlex.shlex(stdin[stdin.index("\nCONFIG=") + len("\nCONFIG=") :], posix=True)
    lexer.whitespace_split = True
    config = lexer.get_token()
    assert config
    backends: dict[str, tuple[bool, list[tuple[str, int]]]] = {}
    current = ""
    for line in config.splitlines():
        words = line.split()
        if words[:1] == ["backend"]:
            current = words[1]
            backends[current] = (False, [])
        elif words[:1] == ["default-server"] and current:
            backends[current] = ("ssl" in words, backends[current][1])
        elif words[:1] == ["server"] and current:
            host, _, port = words[2].rpartition(":")
            backends[current][1].append((host, int(port)))
    return backends


def assert_node_port_serves(cluster: Cluster, number: int, *, tls: bool, client: str) -> None:
    found = cluster.node_port(number)
    assert found is not None, f"no rendered Service exposes NodePort {number}"
    service, service_port = found
    assert (service_port.get("name") == "https") == tls, (service.name, service_port)
    pods = cluster.service_pods(service)
    assert pods, f"Service {service.name} selects no pod"
    for pod in pods:
        port = cluster.target_port(service_port, pod)
        assert port is not None, f"{pod.owner} has no port {service_port}"
        assert cluster.allowed(External(client), pod, port), (
            f"{client} -> {pod.owner}:{port.number}"
        )


@pytest.mark.parametrize("case", K3S_CASES)
def test_haproxy_backends_are_node_ports_the_manifests_expose(case: str, stacks: Stacks) -> None:
    stack = stacks(case)
    cluster = stack.cluster()
    nodes = {*stack.run.value("nodes.workers"), *stack.run.value("nodes.managers")}
    haproxy = urlsplit(stack.run.value("gateway_url")).hostname
    assert haproxy is not None
    backends = haproxy_backends(stack)
    checked = []
    for name, (tls, servers) in backends.items():
        if name == "openfaas":
            continue  # the chart is not rendered here (see NOT_RENDERED)
        assert servers, name
        assert all(host in nodes for host, _ in servers), name
        for port in {port for _, port in servers}:
            assert_node_port_serves(cluster, port, tls=tls, client=haproxy)
            checked.append(name)
    expected = {"prometheus"} | ({"openwhisk"} if "openwhisk" in case else set())
    assert set(checked) == expected
    grafana = urlsplit(stack.run.value("grafana_url"))
    assert grafana.hostname in nodes
    assert grafana.port is not None
    assert_node_port_serves(cluster, grafana.port, tls=False, client=haproxy)
    if "openwhisk" in case:
        assert stack.run.value("gateway_url") == f"http://{haproxy}:{GATEWAY_PORT}"


@pytest.mark.parametrize("case", EXISTING_CASES)
def test_exported_urls_are_node_ports_the_manifests_expose(case: str, stacks: Stacks) -> None:
    stack = stacks(case)
    cluster = stack.cluster()
    for key in ("gateway_url", "openwhisk.api_host", "prometheus.url", "grafana_url"):
        url = urlsplit(stack.run.value(key))
        assert url.port is not None, key
        assert_node_port_serves(cluster, url.port, tls=url.scheme == "https", client="203.0.113.9")
