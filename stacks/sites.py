"""Where a stack's platform runs, and what stands around it: on machines of ours (HAProxy in
front, the FTP server on its own machine) or on an existing cluster (NodePorts on a node, the
FTP server in the cluster), with kube-prometheus-stack on every Kubernetes stack."""

from __future__ import annotations

from typing import Any

import pulumi

from components.endpoint import Endpoint
from components.existing_cluster import ExistingCluster
from components.ftp_in_cluster import FtpInCluster, FtpInClusterArgs
from components.ftp_server import FtpServer, FtpServerArgs
from components.function_image import FunctionImage
from components.haproxy import Haproxy, HaproxyArgs, PlatformFront
from components.k8s_cluster import ROLE_LABEL, K8sCluster
from components.monitoring import Monitoring, MonitoringArgs
from components.monitoring_config import GRAFANA_NODE_PORT
from components.monitoring_config import PROMETHEUS_NODE_PORT as MONITORING_PROMETHEUS_PORT
from components.naming import Naming
from components.node_pool import PrivateNetwork
from components.nomad_cluster import NomadCluster
from components.object_storage import (
    ObjectStorageArgs,
    ObjectStorageInCluster,
    ObjectStorageNomad,
    ObjectStorageNomadArgs,
    ObjectStorageSwarm,
    ObjectStorageSwarmArgs,
)
from components.openwhisk_config import NAMESPACE as OPENWHISK_NAMESPACE
from components.openwhisk_config import RELEASE as OPENWHISK_RELEASE
from components.openwhisk_config import metrics_components
from components.swarm_cluster import SwarmCluster
from contract.machines import Role
from stacks.clusters import Cluster, KubernetesCluster
from stacks.config import StackConfig
from stacks.platforms import PLATFORMS, Exposed, Site, once_ready


def monitoring_on(config: StackConfig, cluster: KubernetesCluster, *, ours: bool) -> Monitoring:
    """kube-prometheus-stack on a Kubernetes stack, scraping the stack's framework; on a k3s
    cluster of `ours`, its control components go on the server."""
    return Monitoring(
        "monitoring",
        MonitoringArgs(
            provider=cluster.provider,
            openfaas=config.framework == "openfaas",
            openwhisk_namespace=OPENWHISK_NAMESPACE if config.framework == "openwhisk" else None,
            openwhisk_release=OPENWHISK_RELEASE,
            openwhisk_components=metrics_components(config.openwhisk.scheduler),
            knative=config.framework == "knative",
            k3s=ours,
            control_taint=cluster.server_taint if ours else None,
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


def in_existing_cluster(
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
    monitoring = monitoring_on(config, cluster, ours=False)

    def expose(front: PlatformFront, prometheus: pulumi.Input[list[str]] | None) -> Exposed:
        # OpenWhisk's chart serves TLS on its NodePort with its self-signed certificate.
        endpoint = Endpoint("https" if front.tls else "http", node, front.port)
        return Exposed(endpoint, endpoint.url, prometheus_url=None, insecure_tls=front.tls)

    site = Site(config, cluster, None, monitoring, None, None, expose)
    return {
        **PLATFORMS[(config.orchestrator, config.framework)](site),
        "ftp": ftp.outputs,
        **monitoring_outputs(monitoring, f"http://{node}:{MONITORING_PROMETHEUS_PORT}", node),
        **object_storage_on(config, cluster),
    }


def object_storage_on(config: StackConfig, cluster: Cluster | ExistingCluster) -> dict[str, object]:
    """With `objectStorage: true`, the S3-compatible server for `thumbnail` in the Kubernetes
    cluster, on the Swarm manager or as a Nomad job, seeded; its `object_storage` output.
    Nothing otherwise."""
    if not config.platform.object_storage:
        return {}
    if isinstance(cluster, SwarmCluster):
        on_swarm = ObjectStorageSwarm(
            "object-storage",
            ObjectStorageSwarmArgs(
                manager_connection=cluster.manager_connection,
                manager_instance_id=cluster.manager_instance_id,
                cluster_ready=cluster.ready,
            ),
        )
        return {"object_storage": on_swarm.outputs}
    if isinstance(cluster, NomadCluster):
        on_nomad = ObjectStorageNomad(
            "object-storage",
            ObjectStorageNomadArgs(
                server_connection=cluster.server_connection,
                server_instance_id=cluster.server_instance_id,
                server_ip=cluster.server_ip,
                workers=cluster.workers,
                nomad_token=cluster.token,
                cluster_ready=cluster.ready,
            ),
        )
        return {"object_storage": on_nomad.outputs}
    if not isinstance(cluster, (K8sCluster, ExistingCluster)):
        raise TypeError(f"objectStorage is not available on {type(cluster).__name__}")
    storage = ObjectStorageInCluster("object-storage", ObjectStorageArgs(cluster.provider))
    return {"object_storage": storage.outputs}


def on_machines(
    config: StackConfig,
    naming: Naming,
    network: PrivateNetwork,
    cluster: Cluster,
    image: FunctionImage | None = None,
) -> tuple[list[Role], dict[str, object]]:
    """The serverless platform, HAProxy in front of it and the FTP server beside it; with the
    suite's `image`, the `registry` output, handed out once OpenFaaS can deploy from it.

    Returns the machine roles it added and its outputs (no output is ever filled with a
    placeholder).
    """
    versions = config.platform
    # A k3s cluster (the k8s orchestrator's) gets kube-prometheus-stack beside its framework.
    monitoring = (
        monitoring_on(config, cluster, ours=True) if isinstance(cluster, K8sCluster) else None
    )
    # kube-prometheus-stack's Prometheus runs on the k3s server, behind HAProxy's 9090.
    server = cluster.managers.apply(lambda ips: ips[0])
    monitored = server.apply(lambda ip: [f"{ip}:{MONITORING_PROMETHEUS_PORT}"])
    fronts: list[Haproxy] = []

    def expose(front: PlatformFront, prometheus: pulumi.Input[list[str]] | None) -> Exposed:
        haproxy = Haproxy(
            "haproxy",
            HaproxyArgs(
                naming=naming,
                network=network,
                size=config.size("haproxy"),
                haproxy_version=versions.haproxy_version,
                platform=front,
                workers=cluster.workers,
                prometheus=prometheus,
            ),
        )
        fronts.append(haproxy)
        return Exposed(
            haproxy.gateway, haproxy.gateway_url, haproxy.prometheus_url, insecure_tls=False
        )

    site: Site[Any] = Site(
        config, cluster, network, monitoring, monitored if monitoring else None, image, expose
    )
    outputs = PLATFORMS[(config.orchestrator, config.framework)](site)
    if monitoring is not None:
        (haproxy,) = fronts
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
    return ["haproxy", "ftp"], {
        **outputs,
        "ftp": ftp.outputs,
        **object_storage_on(config, cluster),
    }
