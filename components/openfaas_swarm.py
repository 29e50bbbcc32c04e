"""OpenFaaS on Docker Swarm: the rendered stack deployed on the manager, basic auth from a
generated password. Functions are deployed with the worker constraint by the load generator's
adapter (`components.swarm_cluster.WORKER_CONSTRAINT`)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_command import remote

from components.openfaas_swarm_config import (
    GATEWAY_IMAGE,
    PROVIDER_IMAGE,
    config_files,
    render_compose,
)
from components.remote_step import remote_step

GATEWAY_PORT = 8080
PROMETHEUS_PORT = 9090
#: faas-swarm has no function or replica caps; scale to zero works through the gateway's
#: scale API (scale_from_zero wakes a function); no idler is deployed.
SWARM_LIMITS = {"max_functions": None, "max_replicas": None, "scale_to_zero": True, "idler": False}
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
            depends_on=args.cluster_ready,
        )
        self.password = pulumi.Output.secret(password.result)
        self.limits = SWARM_LIMITS
        self.versions = {
            "gateway": GATEWAY_IMAGE.rsplit(":", 1)[1],
            "provider": f"faas-swarm {PROVIDER_IMAGE.rsplit(':', 1)[1]}",
        }
        self.ready: list[pulumi.Resource] = [deploy]
        self.register_outputs({"deploy": deploy.id})
