"""OpenFaaS on Kubernetes: the `openfaas` chart (faas-netes) as a Helm release, with its
namespaces and basic-auth secret created here from a generated password.

The chart's own `generateBasicAuth` makes the password in a pre-install hook whose value
Pulumi cannot read back, so it is off and the `basic-auth` secret is ours. OpenFaaS's control
components (gateway, provider, NATS, its own Prometheus for autoscaling alerts) run on the k3s
server next to the other
platforms' control planes (the chart's global nodeSelector and tolerations); functions run on
the agents (on an existing cluster, wherever its scheduler puts them). Gateway timeouts allow
5-minute functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import SecretStr

from components.openfaas_images import GATEWAY_IMAGE, image_tag
from components.openfaas_k8s_config import (
    BASIC_AUTH_USER,
    CE_LIMITS,
    FUNCTION_NAMESPACE,
    NAMESPACE,
    OPENFAAS_CHART_REPO,
    OPENFAAS_CHART_VERSION,
    PRO_LIMITS,
    PROVIDER_IMAGE,
    openfaas_values,
)


@dataclass(frozen=True)
class OpenFaasK8sArgs:
    provider: k8s.Provider
    control_taint: str | None = None
    control_label: str | None = None
    pro_license: SecretStr | None = None
    chart_version: str = OPENFAAS_CHART_VERSION


class OpenFaasK8s(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: OpenFaasK8sArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:openfaas:OpenFaasK8s", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespaces = [
            k8s.core.v1.Namespace(
                f"{name}-{namespace}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels={"role": role}),
                opts=on_cluster,
            )
            for namespace, role in (
                (NAMESPACE, "openfaas-system"),
                (FUNCTION_NAMESPACE, "openfaas-fn"),
            )
        ]
        password = random.RandomPassword(
            f"{name}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        in_namespace = pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=namespaces)
        )
        secrets = [
            k8s.core.v1.Secret(
                f"{name}-basic-auth",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="basic-auth", namespace=NAMESPACE),
                string_data={
                    "basic-auth-user": BASIC_AUTH_USER,
                    "basic-auth-password": password.result,
                },
                opts=in_namespace,
            )
        ]
        pro = args.pro_license is not None
        if args.pro_license is not None:
            secrets.append(
                k8s.core.v1.Secret(
                    f"{name}-license",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name="openfaas-license", namespace=NAMESPACE
                    ),
                    string_data={
                        "license": pulumi.Output.secret(args.pro_license.get_secret_value())
                    },
                    opts=in_namespace,
                )
            )
        release = k8s.helm.v3.Release(
            f"{name}-release",
            name="openfaas",
            chart="openfaas",
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=OPENFAAS_CHART_REPO),
            namespace=NAMESPACE,
            values=openfaas_values(
                pro=pro, control_taint=args.control_taint, control_label=args.control_label
            ),
            timeout=900,
            opts=pulumi.ResourceOptions.merge(
                on_cluster, pulumi.ResourceOptions(depends_on=[*namespaces, *secrets])
            ),
        )
        self.password = pulumi.Output.secret(password.result)
        #: Depend on these to act once OpenFaaS is installed.
        self.ready: list[pulumi.Resource] = [release]
        self.limits = PRO_LIMITS if pro else CE_LIMITS
        self.versions = {
            "gateway": image_tag(GATEWAY_IMAGE),
            "provider": f"faas-netes {image_tag(PROVIDER_IMAGE)}",
            "chart": args.chart_version,
        }
        self.register_outputs({"status": release.status})
