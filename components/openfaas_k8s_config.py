"""What the OpenFaaS-on-Kubernetes component renders, kept pure: the `openfaas` chart's pinned
version and values (faas-netes), its namespaces and NodePort, and Community Edition's limits.
`components.openfaas_k8s` installs them.
"""

from __future__ import annotations

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
