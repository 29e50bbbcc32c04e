"""The serverless platforms, one registry entry per (orchestrator, framework): each deploys
its framework on a cluster and says what the stack exports about it.

An entry gets a `Site`: the cluster, the stack's configuration and `expose`, which puts a
front before the platform (HAProxy on machines of ours, NodePorts on an existing cluster). A
new platform is one entry here plus its component.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pulumi

from components.endpoint import Endpoint
from components.function_image import FunctionImage
from components.haproxy import PlatformFront
from components.k8s_cluster import ROLE_LABEL
from components.monitoring import Monitoring
from components.node_pool import PrivateNetwork
from components.nomad_cluster import NomadCluster
from components.openfaas_k8s import OpenFaasK8s, OpenFaasK8sArgs
from components.openfaas_k8s_config import BASIC_AUTH_USER, FUNCTION_NAMESPACE, GATEWAY_NODE_PORT
from components.openfaas_nomad import OpenFaasNomad, OpenFaasNomadArgs
from components.openfaas_nomad_config import GATEWAY_PORT as NOMAD_GATEWAY_PORT
from components.openfaas_nomad_config import PROMETHEUS_PORT as NOMAD_PROMETHEUS_PORT
from components.openfaas_swarm import GATEWAY_PORT as SWARM_GATEWAY_PORT
from components.openfaas_swarm import PROMETHEUS_PORT as SWARM_PROMETHEUS_PORT
from components.openfaas_swarm import OpenFaasSwarm, OpenFaasSwarmArgs
from components.openwhisk import OpenWhisk, OpenWhiskArgs
from components.openwhisk_config import (
    API_NODE_PORT,
    GUEST_NAMESPACE,
    Capacity,
    OpenWhiskSettings,
    Prewarm,
    plan_capacity,
)
from components.swarm_cluster import SwarmCluster
from stacks.clusters import KubernetesCluster, role_label
from stacks.config import Framework, Orchestrator, StackConfig
from stacks.platform_knative import knative

C = TypeVar("C")


@dataclass(frozen=True)
class Exposed:
    """The front `Site.expose` put before a platform."""

    #: Where clients reach the platform (OpenWhisk announces it in its own configuration).
    gateway: pulumi.Input[Endpoint]
    gateway_url: pulumi.Input[str]
    #: HAProxy's Prometheus front; None on an existing cluster, which has no HAProxy.
    prometheus_url: pulumi.Input[str] | None
    #: The front serves TLS with a self-signed certificate.
    insecure_tls: bool


@dataclass(frozen=True)
class Site(Generic[C]):
    """Where a platform is deployed: the cluster, and how its front is made."""

    config: StackConfig
    cluster: C
    #: The stack's machines; None on an existing cluster.
    network: PrivateNetwork | None
    #: kube-prometheus-stack on a Kubernetes stack, else None.
    monitoring: Monitoring | None
    #: What HAProxy fronts as Prometheus when the stack has kube-prometheus-stack.
    monitored: pulumi.Input[list[str]] | None
    #: The suite's function image, where the stack builds one.
    image: FunctionImage | None
    expose: Callable[[PlatformFront, pulumi.Input[list[str]] | None], Exposed]

    @property
    def ours(self) -> bool:
        """The cluster is a k3s cluster of ours (not an existing one, whose nodes are not)."""
        return self.network is not None


@dataclass(frozen=True)
class DeployedOpenFaas:
    """What HAProxy fronts and what the stack exports about an OpenFaaS deployment."""

    front: PlatformFront
    #: The platform's own Prometheus (host:port list for HAProxy); None where the stack's
    #: monitoring is kube-prometheus-stack.
    prometheus: pulumi.Input[list[str]] | None
    outputs: dict[str, object]
    ready: list[pulumi.Resource]


PlatformEntry = Callable[[Site[Any]], dict[str, object]]


def once_ready(url: pulumi.Input[str], ready: list[pulumi.Resource]) -> pulumi.Output[str]:
    """`url`, handed out only once the platform behind it is installed."""
    return pulumi.Output.all(url, *[r.urn for r in ready]).apply(lambda values: values[0])


def registry_output(image: FunctionImage, ready: list[pulumi.Resource]) -> dict[str, object]:
    """The `registry` output: where the images went, the suite's image and, where the stack
    builds other languages (`functionLanguages`), their images by language; each handed out
    once the platform that runs it is installed."""
    output: dict[str, object] = {"url": image.url, "image": once_ready(image.image, ready)}
    if image.images:
        output["images"] = {
            language: once_ready(reference, ready) for language, reference in image.images.items()
        }
    return output


def openfaas_k8s(site: Site[KubernetesCluster]) -> DeployedOpenFaas:
    """OpenFaaS on Kubernetes; control components go on the k3s server (an existing cluster's
    nodes are not ours)."""
    cluster, platform = site.cluster, site.config.platform
    k8s = OpenFaasK8s(
        "openfaas",
        OpenFaasK8sArgs(
            provider=cluster.provider,
            control_taint=cluster.server_taint if site.ours else None,
            control_label=f"{ROLE_LABEL}=server" if site.ours else None,
            pro_license=platform.openfaas_license,
            chart_version=platform.openfaas_chart_version,
        ),
    )
    # Kubernetes stacks are monitored by kube-prometheus-stack (`Site.monitoring`).
    return DeployedOpenFaas(
        front=PlatformFront("openfaas", GATEWAY_NODE_PORT, "/healthz"),
        prometheus=None,
        outputs={
            "password": k8s.password,
            "namespace": FUNCTION_NAMESPACE,
            "limits": k8s.limits,
            "versions": k8s.versions,
        },
        ready=k8s.ready,
    )


def openfaas_swarm(site: Site[SwarmCluster]) -> DeployedOpenFaas:
    """OpenFaaS (faas-swarm) on the Swarm manager."""
    cluster = site.cluster
    swarm = OpenFaasSwarm(
        "openfaas",
        OpenFaasSwarmArgs(
            manager_connection=cluster.manager_connection,
            manager_instance_id=cluster.manager_instance_id,
            mtu=cluster.mtu,
            cluster_ready=cluster.ready,
        ),
    )
    return DeployedOpenFaas(
        front=PlatformFront("openfaas", SWARM_GATEWAY_PORT, "/healthz"),
        prometheus=cluster.manager_ip.apply(lambda ip: [f"{ip}:{SWARM_PROMETHEUS_PORT}"]),
        outputs={
            "password": swarm.password,
            # Swarm has no namespaces (faas-swarm lists none): null in the contract.
            "namespace": None,
            "limits": swarm.limits,
            "versions": swarm.versions,
        },
        ready=swarm.ready,
    )


def openfaas_nomad(site: Site[NomadCluster]) -> DeployedOpenFaas:
    """OpenFaaS (faas-nomad) as a Nomad job."""
    cluster = site.cluster
    nomad = OpenFaasNomad(
        "openfaas",
        OpenFaasNomadArgs(
            server_connection=cluster.server_connection,
            server_instance_id=cluster.server_instance_id,
            server_ip=cluster.server_ip,
            managers=cluster.managers,
            workers=cluster.workers,
            nomad_token=cluster.token,
            consul_token=cluster.consul_token,
            vault_token=cluster.vault_token,
            cluster_ready=cluster.ready,
        ),
    )
    # Nomad servers are not clients: the OpenFaaS job runs on a worker; HAProxy finds it.
    return DeployedOpenFaas(
        front=PlatformFront("openfaas", NOMAD_GATEWAY_PORT, "/healthz"),
        prometheus=cluster.workers.apply(
            lambda ips: [f"{ip}:{NOMAD_PROMETHEUS_PORT}" for ip in ips]
        ),
        outputs={
            "password": nomad.password,
            "namespace": nomad.namespace,
            "limits": nomad.limits,
            "versions": nomad.versions,
        },
        ready=nomad.ready,
    )


def openfaas(
    deploy: Callable[[Site[C]], DeployedOpenFaas],
) -> Callable[[Site[C]], dict[str, object]]:
    """The entry of OpenFaaS on one orchestrator: `deploy` it, then its front; the `openfaas`
    output, the bundled Prometheus behind HAProxy and, with the suite's image, `registry`."""

    def entry(site: Site[C]) -> dict[str, object]:
        platform = deploy(site)
        exposed = site.expose(platform.front, site.monitored or platform.prometheus)
        gateway_url = once_ready(exposed.gateway_url, platform.ready)
        outputs: dict[str, object] = {
            "gateway_url": gateway_url,
            "openfaas": {"url": gateway_url, "username": BASIC_AUTH_USER, **platform.outputs},
        }
        if exposed.prometheus_url is not None:
            outputs["prometheus"] = {"url": exposed.prometheus_url, "kind": "openfaas-bundled"}
        if site.image is not None:
            outputs["registry"] = registry_output(site.image, platform.ready)
        return outputs

    return entry


OPENWHISK_FRONT = PlatformFront("openwhisk", API_NODE_PORT, "/api/v1", tls=True)


def openwhisk(site: Site[KubernetesCluster]) -> dict[str, object]:
    """OpenWhisk on Kubernetes. It announces its API URL in its own configuration: the front
    the stack exports, so the front comes first. With the stack's machines, invokers and action
    memory are sized from their memory and checked."""
    config, cluster, network = site.config, site.cluster, site.network
    assert site.monitoring is not None  # every Kubernetes stack has kube-prometheus-stack
    exposed = site.expose(OPENWHISK_FRONT, site.monitored)
    ow = config.openwhisk
    capacity: pulumi.Input[Capacity]
    if network is None:
        # An existing cluster's nodes are unknown at preview: take the config as it is.
        capacity = Capacity(ow.invokers or 1, ow.user_memory_mb or 2048)
    else:
        capacity = pulumi.Output.all(
            network.memory_mib(config.size("worker")), network.memory_mib(config.size("manager"))
        ).apply(
            lambda memory: plan_capacity(
                scheduler=ow.scheduler,
                workers=config.machines.worker_count,
                worker_mib=memory[0],
                server_mib=memory[1],
                invokers=ow.invokers,
                user_memory_mb=ow.user_memory_mb,
            )
        )
    invoker_label = role_label(config.cluster.worker_node_labels)
    assert invoker_label is not None  # enforced by StackConfig
    settings = OpenWhiskSettings(
        invokers=ow.invokers or 1,
        invoker_label=invoker_label,
        core_label=role_label(config.cluster.server_node_labels) if site.ours else None,
        scheduler=ow.scheduler,
        container_factory=ow.container_factory,
        idle_timeout_s=ow.idle_timeout_s,
        action_time_max_s=ow.action_time_max_s,
        action_memory_max_mb=ow.action_memory_max_mb,
        action_concurrency_max=ow.action_concurrency_max,
        invokes_per_minute=ow.invokes_per_minute,
        concurrent_invokes=ow.concurrent_invokes,
        storage_class=cluster.storage_class if not site.ours else None,
    )
    prewarm = None if ow.prewarm is None else [Prewarm.parse(p) for p in ow.prewarm]
    whisk = OpenWhisk(
        "openwhisk",
        OpenWhiskArgs(
            provider=cluster.provider,
            api=exposed.gateway,
            settings=settings,
            capacity=capacity,
            prewarm=prewarm,
            scraper=site.monitoring.scraper,
        ),
    )
    gateway_url = once_ready(exposed.gateway_url, whisk.ready)
    return {
        "gateway_url": gateway_url,
        "openwhisk": {
            "api_host": gateway_url,
            "auth": whisk.guest_auth,
            "namespace": GUEST_NAMESPACE,
            "insecure_tls": exposed.insecure_tls,
            "idle_timeout_s": ow.idle_timeout_s,
            "versions": whisk.versions,
            "capacity": pulumi.Output.from_input(whisk.capacity).apply(
                lambda c: {
                    "invokers": c.invokers,
                    "user_memory_mb": c.user_memory_mb,
                    "containers_per_invoker": c.containers_per_invoker,
                }
            ),
        },
    }


def _keda_entry(site: Site[KubernetesCluster]) -> dict[str, object]:
    from stacks.platform_keda import keda  # it builds on this module's Site

    return keda(site)


#: What each framework is on each orchestrator that runs it.
PLATFORMS: dict[tuple[Orchestrator, Framework], PlatformEntry] = {
    ("k8s", "openfaas"): openfaas(openfaas_k8s),
    ("swarm", "openfaas"): openfaas(openfaas_swarm),
    ("nomad", "openfaas"): openfaas(openfaas_nomad),
    ("k8s", "openwhisk"): openwhisk,
    ("k8s", "keda"): _keda_entry,
    ("k8s", "knative"): knative,
}
