"""OpenFaaS on Nomad: the job rendered by `components.openfaas_nomad_config`, submitted from the
first server with the management token, credentials in the job's Nomad Variable."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_command import remote

from components.openfaas_images import CE_GATEWAY_LIMITS, GATEWAY_IMAGE, image_tag
from components.openfaas_nomad_config import (
    FUNCTION_NAMESPACE,
    PROVIDER_IMAGE,
    VARIABLE_PATH,
    render_job,
)
from components.remote_step import remote_step

#: jsiebens/faas-nomad itself has no caps, but it cannot be shown to scale from zero reliably
#: (v0.5.0 counts healthy allocations, not registered instances; the fix a240dd08 is in no
#: release), and the Community Edition gateway in front of it clamps every scale request to
#: 1..5 replicas (`components.openfaas_images`). So: no scale to zero (forced cold starts remove
#: and redeploy the function), at most 5 replicas, no idler.
NOMAD_LIMITS = dict(CE_GATEWAY_LIMITS)
READY_TIMEOUT_S = 900


@dataclass(frozen=True)
class OpenFaasNomadArgs:
    server_connection: remote.ConnectionArgs
    server_instance_id: pulumi.Input[str]
    server_ip: pulumi.Input[str]
    managers: pulumi.Input[list[str]]
    workers: pulumi.Input[list[str]]
    nomad_token: pulumi.Input[str]
    consul_token: pulumi.Input[str]
    vault_token: pulumi.Input[str]
    cluster_ready: list[pulumi.Resource]


def variable_body(items: dict[str, str]) -> str:
    """The PUT /v1/var body of the job's variable."""
    return json.dumps({"Namespace": "default", "Path": VARIABLE_PATH, "Items": items})


class OpenFaasNomad(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: OpenFaasNomadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:openfaas:OpenFaasNomad", name, None, opts)
        password = random.RandomPassword(
            f"{name}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        job = pulumi.Output.all(args.server_ip, args.managers, args.workers).apply(
            lambda v: render_job(v[0], [*v[1], *v[2]])
        )
        variable = pulumi.Output.all(
            password.result, args.nomad_token, args.consul_token, args.vault_token
        ).apply(
            lambda v: variable_body(
                {
                    "basic_auth_user": "admin",
                    "basic_auth_password": v[0],
                    "nomad_token": v[1],
                    "consul_token": v[2],
                    "vault_token": v[3],
                }
            )
        )
        deploy = remote_step(
            f"{name}-deploy",
            connection=args.server_connection,
            step="openfaas-nomad",
            params={
                "NODE_IP": args.server_ip,
                "WORKER_IPS": args.workers,
                "JOB": job,
                "READY_TIMEOUT_S": READY_TIMEOUT_S,
            },
            secrets={"NOMAD_TOKEN": args.nomad_token, "VARIABLE": variable},
            triggers=[args.server_instance_id],
            parent=self,
            depends_on=args.cluster_ready,
        )
        self.password = pulumi.Output.secret(password.result)
        self.namespace = FUNCTION_NAMESPACE
        self.limits = NOMAD_LIMITS
        self.versions = {
            "gateway": image_tag(GATEWAY_IMAGE),
            "provider": f"faas-nomad {image_tag(PROVIDER_IMAGE)}",
        }
        self.ready: list[pulumi.Resource] = [deploy]
        self.register_outputs({"deploy": deploy.id})
