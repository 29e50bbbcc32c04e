"""Monitoring for Kubernetes stacks: the `kube-prometheus-stack` chart as a Helm release, its
Grafana admin Secret and the dashboard ConfigMap; what they hold is rendered by
`components.monitoring_config`.

Choices, and why:

- `helm.v3.Release`, not Chart v4: the chart installs its admission webhook certificates with
  Helm hook jobs, which only a real Helm release runs; the timeout is long because the release
  waits for the CRDs, the operator and Prometheus on a fresh cluster.
- The Grafana admin password is generated here and handed over as our own Secret through
  `grafana.admin.existingSecret`, not as `grafana.adminPassword`: Helm stores values in its
  release record and Pulumi would have to mark the whole `values` input secret, hiding every
  other value from previews. The password stays a secret Output of this component.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.monitoring_config import (
    APP_VERSION,
    CHART_NAME,
    CHART_REPO,
    CHART_VERSION,
    GRAFANA_ADMIN_SECRET,
    GRAFANA_ADMIN_USER,
    GRAFANA_NODE_PORT,
    GRAFANA_PASSWORD_KEY,
    GRAFANA_USER_KEY,
    NAMESPACE,
    OPENWHISK_COMPONENTS,
    PROMETHEUS_NODE_PORT,
    RELEASE_NAME,
    SCRAPER,
    dashboard,
    monitoring_values,
)
from components.openwhisk_config import RELEASE as OPENWHISK_RELEASE


@dataclass(frozen=True)
class MonitoringArgs:
    provider: k8s.Provider
    #: Whether the stack runs OpenFaaS (scrape its gateway, chart its functions).
    openfaas: bool = False
    #: The OpenWhisk release's namespace; None where the stack has no OpenWhisk.
    openwhisk_namespace: str | None = None
    openwhisk_release: str = OPENWHISK_RELEASE
    #: The OpenWhisk components that serve metrics (each gets a PodMonitor).
    openwhisk_components: tuple[str, ...] = OPENWHISK_COMPONENTS
    #: Whether the stack runs Knative Serving (its activator, autoscaler, queue-proxies).
    knative: bool = False
    #: A k3s cluster of faasbench's (its scheduler, controller manager, etcd and proxy hide
    #: their metrics); False for existing clusters, whatever they run.
    k3s: bool = False
    control_taint: str | None = None
    control_label: str | None = None
    #: A storage class for Prometheus's volume; None keeps the operator's emptyDir.
    storage_class: str | None = None


class Monitoring(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:monitoring:Monitoring", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAMESPACE, labels={"role": "monitoring"}),
            opts=on_cluster,
        )
        in_namespace = pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=[namespace])
        )
        password = random.RandomPassword(
            f"{name}-grafana-password",
            length=32,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        admin = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=GRAFANA_ADMIN_SECRET, namespace=NAMESPACE),
            string_data={
                GRAFANA_USER_KEY: GRAFANA_ADMIN_USER,
                GRAFANA_PASSWORD_KEY: pulumi.Output.secret(password.result),
            },
            opts=in_namespace,
        )
        board = dashboard(
            openfaas=args.openfaas,
            openwhisk_namespace=args.openwhisk_namespace,
            knative=args.knative,
        )
        # Picked up by the chart's Grafana sidecar (label grafana_dashboard=1, all namespaces).
        dashboards = k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="faasbench-dashboard",
                namespace=NAMESPACE,
                labels={"grafana_dashboard": "1"},
            ),
            data={"faasbench-functions.json": json.dumps(board, indent=1)},
            opts=in_namespace,
        )
        release = k8s.helm.v3.Release(
            f"{name}-release",
            name=RELEASE_NAME,
            chart=CHART_NAME,
            version=CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPO),
            namespace=NAMESPACE,
            values=monitoring_values(
                openfaas=args.openfaas,
                openwhisk_namespace=args.openwhisk_namespace,
                openwhisk_release=args.openwhisk_release,
                openwhisk_components=args.openwhisk_components,
                knative=args.knative,
                k3s=args.k3s,
                control_taint=args.control_taint,
                control_label=args.control_label,
                storage_class=args.storage_class,
            ),
            timeout=1200,
            opts=pulumi.ResourceOptions.merge(
                on_cluster, pulumi.ResourceOptions(depends_on=[namespace, admin])
            ),
        )
        self.prometheus_node_port = PROMETHEUS_NODE_PORT
        self.grafana_node_port = GRAFANA_NODE_PORT
        self.grafana_user = GRAFANA_ADMIN_USER
        self.scraper = SCRAPER
        self.grafana_password = pulumi.Output.secret(password.result)
        self.versions = {"chart": CHART_VERSION, "prometheus_operator": APP_VERSION}
        #: Depend on these to act once Prometheus and Grafana are installed.
        self.ready: list[pulumi.Resource] = [release, dashboards]
        self.register_outputs(
            {
                "status": release.status,
                "prometheus_node_port": self.prometheus_node_port,
                "grafana_node_port": self.grafana_node_port,
                "grafana_password": self.grafana_password,
            }
        )
