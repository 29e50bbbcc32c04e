"""Which components a stack gets, for its (cloud, orchestrator, framework), and what it exports.

Cloud SDKs are touched only through the network components here; clusters receive the
resulting `PrivateNetwork` (its node pool factory and SSH access) and stay cloud-neutral.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.aws.network import AwsNetwork, AwsNetworkArgs
from components.endpoint import Endpoint
from components.existing_cluster import ExistingCluster, ExistingClusterArgs
from components.ftp_in_cluster import FtpInCluster, FtpInClusterArgs
from components.ftp_server import FtpServer, FtpServerArgs
from components.function_image import FunctionImage, FunctionImageArgs
from components.haproxy import Haproxy, HaproxyArgs, PlatformFront
from components.k8s_cluster import API_PORT, ROLE_LABEL, SERVER_TAINT, K8sCluster, K8sClusterArgs
from components.monitoring import GRAFANA_NODE_PORT, Monitoring, MonitoringArgs
from components.monitoring import PROMETHEUS_NODE_PORT as MONITORING_PROMETHEUS_PORT
from components.naming import Naming
from components.node_pool import ForwardedPort, PrivateNetwork
from components.nomad_cluster import NomadCluster, NomadClusterArgs
from components.openfaas_k8s import (
    BASIC_AUTH_USER,
    FUNCTION_NAMESPACE,
    GATEWAY_NODE_PORT,
    OpenFaasK8s,
    OpenFaasK8sArgs,
)
from components.openfaas_nomad import OpenFaasNomad, OpenFaasNomadArgs
from components.openfaas_nomad_config import GATEWAY_PORT as NOMAD_GATEWAY_PORT
from components.openfaas_nomad_config import PROMETHEUS_PORT as NOMAD_PROMETHEUS_PORT
from components.openfaas_swarm import GATEWAY_PORT as SWARM_GATEWAY_PORT
from components.openfaas_swarm import PROMETHEUS_PORT as SWARM_PROMETHEUS_PORT
from components.openfaas_swarm import OpenFaasSwarm, OpenFaasSwarmArgs
from components.openstack.network import OpenStackNetwork, OpenStackNetworkArgs
from components.openwhisk import OpenWhisk, OpenWhiskArgs
from components.openwhisk_config import (
    API_NODE_PORT,
    GUEST_NAMESPACE,
    ROLE_LABEL_KEY,
    Capacity,
    OpenWhiskSettings,
    Prewarm,
    Scraper,
    metrics_components,
    plan_capacity,
)
from components.openwhisk_config import NAMESPACE as OPENWHISK_NAMESPACE
from components.openwhisk_config import RELEASE as OPENWHISK_RELEASE
from components.registry_config import REGISTRY_PORT
from components.ssh_key import SshKeyPair
from components.swarm_cluster import SwarmCluster, SwarmClusterArgs
from contract.machines import Role
from stacks.config import StackConfig


def build_network(config: StackConfig, naming: Naming, key: SshKeyPair) -> PrivateNetwork:
    """The private network and bastion of a VM-based stack."""
    access = config.access
    common = {
        "naming": naming,
        "allowed_ssh_cidrs": access.allowed_ssh_cidrs or [],
        "ssh_user": access.ssh_user,
        "public_key_openssh": key.public_key_openssh,
        "private_key": key.private_key,
        "bastion_size": config.size("bastion"),
        "volume_size_gb": config.machines.volume_size_gb,
        "mtu": config.network_mtu,
        # The Pulumi CLI on the user's machine reaches the Kubernetes API through the bastion,
        # from kubeApiCidrs (default: allowedSshCidrs).
        "bastion_forwarded_ports": (
            (ForwardedPort(API_PORT, access.kube_api_sources, "kubeApiCidrs"),)
            if config.orchestrator == "k8s"
            else ()
        ),
        # The private registry on the bastion, for the cluster's nodes.
        "bastion_private_ports": (REGISTRY_PORT,) if config.images.mode == "private" else (),
    }
    if config.cloud == "aws":
        return AwsNetwork(
            "network",
            AwsNetworkArgs(aws=config.aws, cpu_credits=config.machines.cpu_credits, **common),
        )
    if config.cloud == "openstack":
        return OpenStackNetwork(
            "network", OpenStackNetworkArgs(openstack=config.openstack, **common)
        )
    raise ValueError(f"cloud {config.cloud} has no network of its own")


def machines_output(
    config: StackConfig, roles: list[Role], image: pulumi.Input[str]
) -> dict[str, object]:
    """The `machines` output: sizes and CPU credit modes of the roles this stack created."""
    return {
        "image": image,
        "sizes": {role: config.size(role) for role in roles},
        "cpu_credits": {role: config.cpu_credits(role) for role in roles},
    }


def server_taint(config: StackConfig) -> str:
    """The k3s server's taint: OpenWhisk's chart tolerates only `openwhisk-role=<core>`, so its
    stacks use that one to put OpenWhisk's core on the server."""
    core = role_label(config.cluster.server_node_labels)
    if config.framework == "openwhisk" and core is not None:
        return f"{ROLE_LABEL_KEY}={core}:NoSchedule"
    return SERVER_TAINT


def private_registry(config: StackConfig, network: PrivateNetwork) -> pulumi.Output[str] | None:
    """host:port of the stack's own registry (on the bastion), or None without one."""
    if config.images.mode != "private":
        return None
    return network.bastion_private_ip.apply(lambda ip: f"{ip}:{REGISTRY_PORT}")


def build_cluster(
    config: StackConfig, naming: Naming, network: PrivateNetwork
) -> tuple[K8sCluster | SwarmCluster | NomadCluster, dict[str, object]]:
    """The orchestrator cluster on the network's node pools, and its outputs. With a private
    registry, every node trusts it before the cluster counts as ready."""
    cluster_config = config.cluster
    machines = config.machines
    registry = private_registry(config, network)
    if config.orchestrator == "k8s":
        k8s = K8sCluster(
            "k8s",
            K8sClusterArgs(
                naming=naming,
                network=network,
                k3s_version=cluster_config.k3s_version,
                k3s_sha256=cluster_config.k3s_sha256,
                server_size=config.size("manager"),
                worker_size=config.size("worker"),
                worker_count=machines.worker_count,
                server_labels=cluster_config.server_node_labels,
                worker_labels=cluster_config.worker_node_labels,
                server_taint=server_taint(config),
                private_registry=registry,
            ),
        )
        return k8s, {
            "kubeconfig": k8s.kubeconfig,
            "kube_api_internal": k8s.api_internal,
            "nodes": {"managers": k8s.managers, "workers": k8s.workers},
        }
    if config.orchestrator == "swarm":
        swarm = SwarmCluster(
            "swarm",
            SwarmClusterArgs(
                naming=naming,
                network=network,
                docker_version=cluster_config.docker_version,
                containerd_version=cluster_config.containerd_version,
                manager_size=config.size("manager"),
                worker_size=config.size("worker"),
                worker_count=machines.worker_count,
                private_registry=registry,
            ),
        )
        return swarm, {
            "swarm": {"manager": swarm.manager_ip},
            "nodes": {"managers": swarm.managers, "workers": swarm.workers},
        }
    nomad = NomadCluster(
        "nomad",
        NomadClusterArgs(
            naming=naming,
            network=network,
            nomad_version=cluster_config.nomad_version,
            consul_version=cluster_config.consul_version,
            vault_version=cluster_config.vault_version,
            docker_version=cluster_config.docker_version,
            containerd_version=cluster_config.containerd_version,
            cni_version=cluster_config.cni_plugins_version,
            cni_sha256=cluster_config.cni_plugins_sha256,
            server_size=config.size("manager"),
            server_count=machines.manager_count,
            worker_size=config.size("worker"),
            worker_count=machines.worker_count,
            private_registry=registry,
        ),
    )
    return nomad, {
        "nomad": {
            "address": nomad.address,
            "token": nomad.token,
            "consul_address": nomad.consul_address,
            "consul_token": nomad.consul_token,
            "vault_address": nomad.vault_address,
            "vault_token": nomad.vault_token,
        },
        "nodes": {"managers": nomad.managers, "workers": nomad.workers},
    }


@dataclass(frozen=True)
class Platform:
    """What HAProxy fronts and what the stack exports about the framework."""

    front: PlatformFront
    #: The platform's own Prometheus (host:port list for HAProxy); None where the stack's
    #: monitoring is kube-prometheus-stack.
    prometheus: pulumi.Input[list[str]] | None
    outputs: dict[str, object]
    ready: list[pulumi.Resource]


Cluster = K8sCluster | ExistingCluster | SwarmCluster | NomadCluster


def openfaas_on(config: StackConfig, cluster: Cluster) -> Platform | None:
    """OpenFaaS on the stack's orchestrator, or None where faasbench does not deploy it yet."""
    platform = config.platform
    if isinstance(cluster, K8sCluster | ExistingCluster):
        # Control components go on the k3s server; an existing cluster's nodes are not ours.
        ours = isinstance(cluster, K8sCluster)
        k8s = OpenFaasK8s(
            "openfaas",
            OpenFaasK8sArgs(
                provider=cluster.provider,
                control_taint=cluster.server_taint if ours else None,
                control_label=f"{ROLE_LABEL}=server" if ours else None,
                pro_license=platform.openfaas_license,
                chart_version=platform.openfaas_chart_version,
            ),
        )
        # Kubernetes stacks are monitored by kube-prometheus-stack (`monitoring_on`).
        return Platform(
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
    if isinstance(cluster, SwarmCluster):
        swarm = OpenFaasSwarm(
            "openfaas",
            OpenFaasSwarmArgs(
                manager_connection=cluster.manager_connection,
                manager_instance_id=cluster.manager_instance_id,
                mtu=cluster.mtu,
                cluster_ready=cluster.ready,
            ),
        )
        return Platform(
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
    if isinstance(cluster, NomadCluster):
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
        return Platform(
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
    return None


OPENWHISK_FRONT = PlatformFront("openwhisk", API_NODE_PORT, "/api/v1", tls=True)


def role_label(labels: list[str]) -> str | None:
    """The value of the `openwhisk-role` label among node labels, if any."""
    for label in labels:
        key, _, value = label.partition("=")
        if key == ROLE_LABEL_KEY:
            return value
    return None


def openwhisk_on(
    config: StackConfig,
    cluster: K8sCluster | ExistingCluster,
    api: pulumi.Input[Endpoint],
    scraper: Scraper,
    network: PrivateNetwork | None = None,
) -> OpenWhisk:
    """OpenWhisk on a Kubernetes cluster; `api` is the endpoint clients use (the one the stack
    exports), `scraper` the Prometheus let in to its metrics. With the stack's `network`,
    invokers and action memory are sized from the machines' memory and checked."""
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
    ours = isinstance(cluster, K8sCluster)
    settings = OpenWhiskSettings(
        invokers=ow.invokers or 1,
        invoker_label=invoker_label,
        core_label=role_label(config.cluster.server_node_labels) if ours else None,
        scheduler=ow.scheduler,
        container_factory=ow.container_factory,
        idle_timeout_s=ow.idle_timeout_s,
        action_time_max_s=ow.action_time_max_s,
        action_memory_max_mb=ow.action_memory_max_mb,
        action_concurrency_max=ow.action_concurrency_max,
        invokes_per_minute=ow.invokes_per_minute,
        concurrent_invokes=ow.concurrent_invokes,
        storage_class=cluster.storage_class if not ours else None,
    )
    prewarm = None if ow.prewarm is None else [Prewarm.parse(p) for p in ow.prewarm]
    return OpenWhisk(
        "openwhisk",
        OpenWhiskArgs(
            provider=cluster.provider,
            api=api,
            settings=settings,
            capacity=capacity,
            prewarm=prewarm,
            scraper=scraper,
        ),
    )


def openwhisk_outputs(
    config: StackConfig, openwhisk: OpenWhisk, api_host: pulumi.Input[str], *, insecure_tls: bool
) -> dict[str, object]:
    """The `openwhisk` output: the guest subject's API access."""
    return {
        "api_host": api_host,
        "auth": openwhisk.guest_auth,
        "namespace": GUEST_NAMESPACE,
        "insecure_tls": insecure_tls,
        "idle_timeout_s": config.openwhisk.idle_timeout_s,
        "versions": openwhisk.versions,
        "capacity": pulumi.Output.from_input(openwhisk.capacity).apply(
            lambda c: {
                "invokers": c.invokers,
                "user_memory_mb": c.user_memory_mb,
                "containers_per_invoker": c.containers_per_invoker,
            }
        ),
    }


def monitoring_on(config: StackConfig, cluster: K8sCluster | ExistingCluster) -> Monitoring:
    """kube-prometheus-stack on a Kubernetes stack, scraping the stack's framework."""
    ours = isinstance(cluster, K8sCluster)
    return Monitoring(
        "monitoring",
        MonitoringArgs(
            provider=cluster.provider,
            openfaas=config.framework == "openfaas",
            openwhisk_namespace=OPENWHISK_NAMESPACE if config.framework == "openwhisk" else None,
            openwhisk_release=OPENWHISK_RELEASE,
            openwhisk_components=metrics_components(config.openwhisk.scheduler),
            k3s=ours,
            control_taint=cluster.server_taint if isinstance(cluster, K8sCluster) else None,
            control_label=f"{ROLE_LABEL}=server" if ours else None,
            storage_class=cluster.storage_class,
        ),
    )


def monitoring_outputs(
    monitoring: Monitoring, prometheus_url: pulumi.Input[str], node: pulumi.Input[str]
) -> dict[str, object]:
    """`prometheus` (kube-prometheus-stack's), `grafana_url` and `grafana_password`."""
    grafana = pulumi.Output.from_input(node).apply(
        lambda host: f"http://{host}:{GRAFANA_NODE_PORT}"
    )
    return {
        "prometheus": {
            "url": once_ready(prometheus_url, monitoring.ready),
            "kind": "kube-prometheus-stack",
        },
        "grafana_url": once_ready(grafana, monitoring.ready),
        "grafana_password": monitoring.grafana_password,
    }


def once_ready(url: pulumi.Input[str], ready: list[pulumi.Resource]) -> pulumi.Output[str]:
    """`url`, handed out only once the platform behind it is installed."""
    return pulumi.Output.all(url, *[r.urn for r in ready]).apply(lambda values: values[0])


def build_in_cluster_platform(
    config: StackConfig, naming: Naming, cluster: ExistingCluster
) -> dict[str, object]:
    """The platform on an existing cluster, which has no machines of ours: the gateway (or
    OpenWhisk's API) and Prometheus are reached at their NodePorts on a node, and the FTP server
    runs in the cluster."""
    node = cluster.node_address
    ftp = FtpInCluster(
        "ftp",
        FtpInClusterArgs(
            provider=cluster.provider,
            seed=naming.name("ftp-test-file"),
            test_file_bytes=config.platform.ftp_test_file_bytes,
            max_clients=config.platform.ftp_max_clients,
        ),
    )
    monitoring = monitoring_on(config, cluster)
    common = {
        "ftp": ftp.outputs,
        **monitoring_outputs(monitoring, f"http://{node}:{MONITORING_PROMETHEUS_PORT}", node),
    }
    if config.framework == "openwhisk":
        # The chart's nginx serves TLS with its self-signed certificate on the NodePort.
        api = Endpoint("https", node, API_NODE_PORT)
        openwhisk = openwhisk_on(config, cluster, api, monitoring.scraper)
        api_url = once_ready(api.url, openwhisk.ready)
        return {
            "gateway_url": api_url,
            "openwhisk": openwhisk_outputs(config, openwhisk, api_url, insecure_tls=True),
            **common,
        }
    platform = openfaas_on(config, cluster)
    assert platform is not None  # OpenFaaS runs on every orchestrator
    gateway_url = once_ready(f"http://{node}:{platform.front.port}", platform.ready)
    return {
        "gateway_url": gateway_url,
        "openfaas": {"url": gateway_url, "username": BASIC_AUTH_USER, **platform.outputs},
        **common,
    }


def build_platform(
    config: StackConfig,
    naming: Naming,
    network: PrivateNetwork,
    cluster: K8sCluster | SwarmCluster | NomadCluster,
    image: FunctionImage | None = None,
) -> tuple[list[Role], dict[str, object]]:
    """The serverless platform, HAProxy in front of it and the FTP server beside it; with the
    suite's `image`, the `registry` output, handed out once OpenFaaS can deploy from it.

    Returns the machine roles it added and its outputs (no output is ever filled with a
    placeholder).
    """
    versions = config.platform

    def front(platform: PlatformFront, prometheus: pulumi.Input[list[str]] | None) -> Haproxy:
        return Haproxy(
            "haproxy",
            HaproxyArgs(
                naming=naming,
                network=network,
                size=config.size("haproxy"),
                haproxy_version=versions.haproxy_version,
                platform=platform,
                workers=cluster.workers,
                prometheus=prometheus,
            ),
        )

    outputs: dict[str, object]
    monitoring = monitoring_on(config, cluster) if isinstance(cluster, K8sCluster) else None
    # kube-prometheus-stack's Prometheus runs on the k3s server, behind HAProxy's 9090.
    server = cluster.managers.apply(lambda ips: ips[0])
    monitored = server.apply(lambda ip: [f"{ip}:{MONITORING_PROMETHEUS_PORT}"])
    if config.framework == "openwhisk":
        assert isinstance(cluster, K8sCluster)  # enforced by StackConfig
        assert monitoring is not None
        # OpenWhisk announces its API URL in its own configuration: HAProxy's front, the URL
        # the stack exports, so HAProxy comes first.
        haproxy = front(OPENWHISK_FRONT, monitored)
        openwhisk = openwhisk_on(config, cluster, haproxy.gateway, monitoring.scraper, network)
        gateway_url = once_ready(haproxy.gateway_url, openwhisk.ready)
        outputs = {
            "gateway_url": gateway_url,
            "openwhisk": openwhisk_outputs(config, openwhisk, gateway_url, insecure_tls=False),
        }
    else:
        platform = openfaas_on(config, cluster)
        assert platform is not None  # every orchestrator has OpenFaaS
        haproxy = front(platform.front, monitored if monitoring else platform.prometheus)
        gateway_url = once_ready(haproxy.gateway_url, platform.ready)
        outputs = {
            "gateway_url": gateway_url,
            "openfaas": {"url": gateway_url, "username": BASIC_AUTH_USER, **platform.outputs},
            "prometheus": {"url": haproxy.prometheus_url, "kind": "openfaas-bundled"},
        }
        if image is not None:
            outputs["registry"] = {
                "url": image.url,
                "image": once_ready(image.image, platform.ready),
            }
    if monitoring is not None:
        outputs.update(monitoring_outputs(monitoring, haproxy.prometheus_url, server))
    ftp = FtpServer(
        "ftp",
        FtpServerArgs(
            naming=naming,
            network=network,
            size=config.size("ftp"),
            vsftpd_version=versions.vsftpd_version,
            test_file_bytes=versions.ftp_test_file_bytes,
            max_clients=versions.ftp_max_clients,
        ),
    )
    return ["haproxy", "ftp"], {**outputs, "ftp": ftp.outputs}


def function_image(config: StackConfig, network: PrivateNetwork) -> FunctionImage | None:
    """The suite's image, built on the bastion and pushed, when a registry is configured."""
    images = config.images
    mode = images.mode
    if mode == "none":
        return None
    cluster = config.cluster
    return FunctionImage(
        "functions",
        FunctionImageArgs(
            mode=mode,
            bastion=network.ssh.bastion(),
            bastion_instance_id=network.bastion_instance_id,
            bastion_private_ip=network.bastion_private_ip,
            mtu=network.mtu,
            docker_version=cluster.docker_version,
            containerd_version=cluster.containerd_version,
            server=images.server,
            namespace=images.namespace,
            username=images.username,
            token=(
                pulumi.Output.secret(images.token.get_secret_value())
                if images.token is not None
                else None
            ),
        ),
    )


def compose(config: StackConfig, stack: str) -> dict[str, object]:
    """Create the stack's resources and return its outputs (keys of the output contract)."""
    outputs: dict[str, object] = {
        "cloud": config.cloud,
        "orchestrator": config.orchestrator,
        "framework": config.framework,
    }
    naming = Naming(env=config.env_name, stack=stack)
    if config.cloud == "existing":
        assert config.existing.kubeconfig is not None  # enforced by StackConfig
        existing = ExistingCluster(
            "k8s",
            ExistingClusterArgs(
                kubeconfig=config.existing.kubeconfig,
                storage_class=config.cluster.storage_class,
                node_address=config.existing.node_address,
            ),
        )
        outputs["kubeconfig"] = existing.kubeconfig
        outputs["kube_api_internal"] = existing.api_internal
        outputs.update(build_in_cluster_platform(config, naming, existing))
        return outputs
    key = SshKeyPair("ssh-key", user_key=config.access.ssh_private_key)
    network = build_network(config, naming, key)
    cluster, cluster_outputs = build_cluster(config, naming, network)
    image = function_image(config, network)
    platform_roles, platform_outputs = build_platform(config, naming, network, cluster, image)
    roles: list[Role] = ["bastion", "manager", "worker", *platform_roles]
    outputs["bastion"] = {"host": network.ssh.bastion_host, "user": network.ssh.user}
    # Campaigns run on the bastion by default (`loadgen run --remote`): it is inside the
    # network next to HAProxy and reachable by its public address.
    outputs["loader"] = {"host": network.ssh.bastion_host, "user": network.ssh.user}
    outputs["ssh_private_key"] = key.private_key
    outputs["machines"] = machines_output(config, roles, network.image)
    outputs.update(cluster_outputs)
    outputs.update(platform_outputs)
    return outputs
