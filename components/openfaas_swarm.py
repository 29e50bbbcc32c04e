"""OpenFaaS on Docker Swarm: the faas-swarm image built on the manager, then the rendered stack
deployed there, basic auth from a generated password. Functions are deployed with the worker
constraint by the load generator's adapter (`components.swarm_cluster.WORKER_CONSTRAINT`)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_command import remote

from components import faas_swarm_image
from components.openfaas_images import CE_GATEWAY_LIMITS, GATEWAY_IMAGE, image_tag
from components.openfaas_swarm_config import config_files, render_compose
from components.remote_step import remote_step

GATEWAY_PORT = 8080
PROMETHEUS_PORT = 9090
#: faas-swarm itself has no caps, but the Community Edition gateway in front of it clamps every
#: scale request to 1..5 replicas (`components.openfaas_images`): no scale to zero, at most 5
#: replicas; no idler is deployed.
SWARM_LIMITS = dict(CE_GATEWAY_LIMITS)
READY_TIMEOUT_S = 900


@dataclass(frozen=True)
class OpenFaasSwarmArgs:
    manager_connection: remote.ConnectionArgs
    manager_instance_id: pulumi.Input[str]
    mtu: pulumi.Input[int]
    cluster_ready: list[pulumi.Resource]


class OpenFaasSwarm(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: OpenFaasSwarmArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:openfaas:OpenFaasSwarm", name, None, opts)
        password = random.RandomPassword(
            f"{name}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        files = config_files()
        # The control services run on the manager only, so the provider image built there is
        # the one they use (its name resolves nowhere else; see components.faas_swarm_image).
        provider_image = remote_step(
            f"{name}-provider-image",
            connection=args.manager_connection,
            step="faas-swarm-image",
            params=faas_swarm_image.step_params(),
            triggers=[args.manager_instance_id],
            parent=self,
            depends_on=args.cluster_ready,
        )
        deploy = remote_step(
            f"{name}-deploy",
            connection=args.manager_connection,
            step="openfaas-swarm",
            params={
                "COMPOSE": pulumi.Output.from_input(args.mtu).apply(render_compose),
                "PROMETHEUS_YML": files["prometheus.yml"],
                "ALERT_RULES_YML": files["alert.rules.yml"],
                "ALERTMANAGER_YML": files["alertmanager.yml"],
                "READY_TIMEOUT_S": READY_TIMEOUT_S,
            },
            secrets={"BASIC_AUTH_PASSWORD": password.result},
            triggers=[args.manager_instance_id],
            parent=self,
            depends_on=[*args.cluster_ready, provider_image],
        )
        self.password = pulumi.Output.secret(password.result)
        self.limits = SWARM_LIMITS
        self.versions = {
            "gateway": image_tag(GATEWAY_IMAGE),
            "provider": (
                f"faas-swarm {faas_swarm_image.SOURCE_VERSION} "
                f"(built from {faas_swarm_image.SOURCE_COMMIT[:12]})"
            ),
        }
        self.ready: list[pulumi.Resource] = [deploy]
        self.register_outputs({"provider_image": provider_image.id, "deploy": deploy.id})
