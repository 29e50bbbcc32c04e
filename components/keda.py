"""KEDA on Kubernetes: the pinned `keda` chart and, by mode, the HTTP add-on (with a NodePort
before its interceptors, which HAProxy fronts) or the queue (Redis, its password generated
here and exported as a secret, and the TriggerAuthentication every queue ScaledObject uses).

Functions themselves (Deployments with their ScaledObject or HTTPScaledObject) are created by
the loader when a campaign deploys them (`loadgen.platforms.keda`, `contract.keda_objects`).
KEDA's operator and metrics server are scraped through the PodMonitors its chart makes, the
add-on's scaler through one of ours: kube-prometheus-stack must be installed first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.keda_config import (
    CHART_REPO,
    HTTP_ADD_ON_CHART,
    HTTP_ADD_ON_CHART_VERSION,
    HTTP_ADD_ON_RELEASE,
    KEDA_CHART,
    KEDA_CHART_VERSION,
    KEDA_RELEASE,
    NAMESPACE,
    QUEUE_VERSION,
    add_on_pod_monitor,
    http_add_on_values,
    interceptor_node_port,
    keda_values,
    queue_internal_address,
    queue_objects,
)
from contract.keda import FUNCTION_NAMESPACE, PASSWORD_KEY, QUEUE_SECRET, KedaMode
from contract.keda_objects import trigger_authentication


@dataclass(frozen=True)
class KedaArgs:
    provider: k8s.Provider
    mode: KedaMode
    control_taint: str | None = None
    control_label: str | None = None
    #: Installed first: kube-prometheus-stack (its PodMonitor CRD).
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class Keda(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:keda:Keda", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespaces = [
            k8s.core.v1.Namespace(
                f"{name}-{namespace}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace),
                opts=on_cluster,
            )
            for namespace in (NAMESPACE, FUNCTION_NAMESPACE)
        ]
        placement = {"control_taint": args.control_taint, "control_label": args.control_label}
        keda = k8s.helm.v3.Release(
            f"{name}-release",
            name=KEDA_RELEASE,
            chart=KEDA_CHART,
            version=KEDA_CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPO),
            namespace=NAMESPACE,
            values=keda_values(**placement),
            timeout=900,
            opts=pulumi.ResourceOptions.merge(
                on_cluster, pulumi.ResourceOptions(depends_on=[*namespaces, *args.depends_on])
            ),
        )
        after_keda = pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=[*namespaces, keda])
        )
        self.ready: list[pulumi.Resource] = [keda]
        self.versions: dict[str, str] = {"keda": KEDA_CHART_VERSION}
        self.queue_password: pulumi.Output[str] | None = None
        self.queue_internal_address: str | None = None
        if args.mode == "http":
            add_on = k8s.helm.v3.Release(
                f"{name}-http-add-on",
                name=HTTP_ADD_ON_RELEASE,
                chart=HTTP_ADD_ON_CHART,
                version=HTTP_ADD_ON_CHART_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPO),
                namespace=NAMESPACE,
                values=http_add_on_values(**placement),
                timeout=900,
                opts=after_keda,
            )
            front = k8s.yaml.v2.ConfigGroup(
                f"{name}-interceptor",
                objs=[interceptor_node_port(), add_on_pod_monitor()],
                opts=pulumi.ResourceOptions.merge(
                    after_keda, pulumi.ResourceOptions(depends_on=[add_on])
                ),
            )
            self.ready += [add_on, front]
            self.versions["http_add_on"] = HTTP_ADD_ON_CHART_VERSION
        else:
            password = random.RandomPassword(
                f"{name}-queue-password",
                length=32,
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            secret = k8s.core.v1.Secret(
                f"{name}-queue-secret",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=QUEUE_SECRET, namespace=FUNCTION_NAMESPACE
                ),
                string_data={PASSWORD_KEY: password.result},
                opts=pulumi.ResourceOptions.merge(
                    on_cluster, pulumi.ResourceOptions(depends_on=namespaces)
                ),
            )
            queue = k8s.yaml.v2.ConfigGroup(
                f"{name}-queue",
                objs=[*queue_objects(), trigger_authentication()],
                opts=pulumi.ResourceOptions.merge(
                    after_keda, pulumi.ResourceOptions(depends_on=[secret])
                ),
            )
            self.ready.append(queue)
            self.queue_password = pulumi.Output.secret(password.result)
            self.queue_internal_address = queue_internal_address()
            self.versions["queue"] = QUEUE_VERSION
        self.register_outputs({"status": keda.status})
