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

OPENFAAS_CHART_REPO = "https://openfaas.github.io/faas-netes/"
#: Chart 15.0.6 (faas-netes master 662ce9ce, 2026-05-13); it has no appVersion, so the images
#: it ships are recorded here for the reports.
OPENFAAS_CHART_VERSION = "15.0.6"
PROVIDER_IMAGE = "ghcr.io/openfaas/faas-netes:0.18.17"
GATEWAY_NODE_PORT = 31112
NAMESPACE = "openfaas"
FUNCTION_NAMESPACE = "openfaas-fn"
BASIC_AUTH_USER = "admin"

#: OpenFaaS Community Edition's limits on Kubernetes (faas-netes pkg/handlers): at most 15
#: functions and 5 replicas each, no scale to zero, no idler.
CE_LIMITS = {"max_functions": 15, "max_replicas": 5, "scale_to_zero": False, "idler": False}
#: With a Pro licence those caps are gone and scale to zero works; faasbench does not deploy
#: Pro's idler, so natural cold starts still need it installed by the user.
PRO_LIMITS = {"max_functions": None, "max_replicas": None, "scale_to_zero": True, "idler": False}


def openfaas_values(
    *, pro: bool, control_taint: str | None = None, control_label: str | None = None
) -> dict[str, object]:
    """Chart values (every key exists in chart 15.0.6's values.yaml or is read by its
    templates: see tests/components/test_openfaas_k8s.py). Without a control placement (an
    existing cluster, whose nodes are not ours to taint), the scheduler places everything."""
    values: dict[str, object] = {
        "functionNamespace": FUNCTION_NAMESPACE,
        "basic_auth": True,
        "generateBasicAuth": False,
        "openfaasPro": pro,
        "serviceType": "NodePort",
        "exposeServices": True,
        "gateway": {
            "nodePort": GATEWAY_NODE_PORT,
            # The provider's upstream timeout must stay below the gateway's read/write ones.
            "readTimeout": "5m5s",
            "writeTimeout": "5m5s",
            "upstreamTimeout": "5m",
            "scaleFromZero": True,
        },
        "faasnetes": {"readTimeout": "5m5s", "writeTimeout": "5m5s"},
        "queueWorker": {"ackWait": "5m5s"},
        "prometheus": {"create": True},
        "alertmanager": {"create": True},
    }
    if control_label is not None:
        label_key, _, label_value = control_label.partition("=")
        values["nodeSelector"] = {label_key: label_value}
    if control_taint is not None:
        taint_key, _, rest = control_taint.partition("=")
        taint_value, _, effect = rest.partition(":")
        values["tolerations"] = [
            {"key": taint_key, "operator": "Equal", "value": taint_value, "effect": effect}
        ]
    return values


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
