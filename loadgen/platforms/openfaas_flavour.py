"""The editions of OpenFaaS: a `Flavour` per orchestrator and its known confounds.

What differs between OpenFaaS installations, decided from the stack's outputs: the edition's name
for messages, whether scaling to zero exists (else a forced cold start removes and redeploys the
function), the confounds a report names and how asynchronous calls are queued.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.outputs import Orchestrator

from .base import ColdMethod

CE_IMAGE_PULL = (
    "OpenFaaS CE pulls function images with imagePullPolicy Always: every new pod, forced cold "
    "starts included, pays a registry round trip (manifest check) before starting"
)
CE_ASYNC_QUEUE = (
    "OpenFaaS Community Edition queues asynchronous calls in memory (NATS, lost on a restart) "
    "and its queue worker runs one call at a time: completion latency includes that queue"
)
PRO_ASYNC_QUEUE = (
    "asynchronous calls wait in the gateway's NATS queue for a queue worker: completion latency "
    "includes that queue"
)
LOCAL_ASYNC_QUEUE = (
    "the local target's bounded queue holds asynchronous calls (loadgen local up --async-queue; "
    "one queue worker with CE limits, --async-workers without): completion latency includes it"
)
SWARM_PROXY = (
    "every function call passes through faas-swarm's proxy (gateway 0.27 has no direct mode), "
    "which looks the function's service up with a Docker API call per request"
)
SWARM_IMAGE_PULL = (
    "Swarm nodes try to pull a task's image by its tag before starting it (faas-swarm does not "
    "pin functions by digest): new replicas and forced cold starts include a registry round trip"
)


@dataclass(frozen=True)
class Flavour:
    """What differs between OpenFaaS installations, decided from the stack's outputs."""

    edition: str
    cold_start_method: ColdMethod
    confounds: tuple[str, ...] = ()
    async_queue: str = PRO_ASYNC_QUEUE


def flavour(orchestrator: Orchestrator, scale_to_zero: bool) -> Flavour:
    """The flavour of an OpenFaaS stack: scale to zero where the provider allows it."""
    method: ColdMethod = "scale-to-zero" if scale_to_zero else "redeploy"
    if orchestrator == "k8s":
        if scale_to_zero:
            return Flavour("OpenFaaS Pro on Kubernetes", method)
        return Flavour("OpenFaaS Community Edition", method, (CE_IMAGE_PULL,), CE_ASYNC_QUEUE)
    if orchestrator == "swarm":
        return Flavour("faas-swarm", method, (SWARM_PROXY, SWARM_IMAGE_PULL))
    if orchestrator == "local":
        return Flavour("the local target", method, (), LOCAL_ASYNC_QUEUE)
    return Flavour("faas-nomad", method)
