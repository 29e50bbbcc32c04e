"""The OpenFaaS control plane every orchestrator runs: the images chart `openfaas` 15.0.6 ships.

faas-netes 662ce9ce (2026-05-13, the commit that made chart 15.0.6) pins these in
`chart/openfaas/values.yaml` for Community Edition; the Swarm and Nomad stacks run the same
gateway, queue worker, NATS Streaming, Prometheus and Alertmanager, so the three OpenFaaS stacks
differ only in their provider (faas-netes, faas-swarm, faas-nomad). Where each tag is shown to
exist: docs/versions.md.

Gateway 0.27.x is the Community Edition gateway, and that bounds what any provider behind it can
do: its scale handler clamps every `POST /system/scale-function` to 1..5 replicas
(openfaas/faas 0.27.13 `gateway/scaling/ranges.go`, `MakeHorizontalScalingHandler`), and its
alert-driven autoscaling stops at 5 too (`gateway/handlers/alerthandler.go`). So no OpenFaaS
stack of faasbench scales a function to zero or past 5 replicas without OpenFaaS Pro.
"""

from __future__ import annotations

GATEWAY_IMAGE = "ghcr.io/openfaas/gateway:0.27.13"
QUEUE_WORKER_IMAGE = "ghcr.io/openfaas/queue-worker:0.14.2"
#: NATS Streaming: what gateway 0.27 and queue worker 0.14 speak (stan.go); CE only.
NATS_IMAGE = "nats-streaming:0.25.6"
PROMETHEUS_IMAGE = "prom/prometheus:v3.11.3"
ALERTMANAGER_IMAGE = "prom/alertmanager:v0.32.1"

#: The Community Edition gateway's scaling range (openfaas/faas 0.27.13
#: gateway/scaling/ranges.go: DefaultMinReplicas 1, DefaultMaxReplicas 5, applied to every
#: scale request by MakeHorizontalScalingHandler).
CE_GATEWAY_MAX_REPLICAS = 5
#: What a Swarm or Nomad stack can promise behind that gateway: any number of functions (only
#: faas-netes CE counts them), at most 5 replicas, never zero, no idler.
CE_GATEWAY_LIMITS = {
    "max_functions": None,
    "max_replicas": CE_GATEWAY_MAX_REPLICAS,
    "scale_to_zero": False,
    "idler": False,
}


def image_tag(image: str) -> str:
    """The tag of a `name:tag` reference (what the reports record as a version)."""
    return image.rsplit(":", 1)[1]
