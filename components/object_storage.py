"""The object storage for `thumbnail` (`objectStorage: true`): Versity S3 Gateway with the seeded
inputs, rendered by `components.object_storage_config`, in a Kubernetes cluster, on the Swarm
manager or as a Nomad job on a worker. The root account's secret key is generated here and
handed over as a Kubernetes Secret, a Docker secret or a Nomad Variable; the output carries it
as a Pulumi secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi_command import remote

from components.nomad_config import DATACENTER
from components.object_storage_config import (
    CREDENTIALS_SECRET,
    LABELS,
    ObjectStorage,
    endpoint,
    nomad_endpoint,
    nomad_variable_body,
    object_storage_manifests,
    object_storage_outputs,
    render_nomad_job,
    swarm_endpoint,
    swarm_step_params,
)
from components.remote_step import remote_step

#: How long a step waits: on Swarm for the overlay (OpenFaaS's stack, deployed beside it after
#: the faas-swarm image is built), then for the server and the seeding; on Nomad for the server.
SWARM_READY_TIMEOUT_S = 1800


@dataclass(frozen=True)
class ObjectStorageArgs:
    provider: k8s.Provider
    storage: ObjectStorage = field(default_factory=ObjectStorage)


class ObjectStorageInCluster(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ObjectStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:storage:ObjectStorageInCluster", name, None, opts)
        storage = args.storage
        child = pulumi.ResourceOptions(parent=self)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        secret_key = random.RandomPassword(
            f"{name}-secret-key", length=40, special=False, opts=child
        )
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=storage.namespace, labels=LABELS),
            opts=on_cluster,
        )
        in_namespace = pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=[namespace])
        )
        credentials = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=CREDENTIALS_SECRET, namespace=storage.namespace, labels=LABELS
            ),
            string_data={"access": storage.access_key, "secret": secret_key.result},
            opts=in_namespace,
        )
        server = k8s.yaml.v2.ConfigGroup(
            f"{name}-server",
            objs=object_storage_manifests(storage),
            opts=pulumi.ResourceOptions.merge(
                in_namespace, pulumi.ResourceOptions(depends_on=[namespace, credentials])
            ),
        )
        self.endpoint = pulumi.Output.all(server.urn).apply(lambda _: endpoint(storage))
        self.secret_key = pulumi.Output.secret(secret_key.result)
        self.outputs = object_storage_outputs(storage, self.endpoint, self.secret_key)
        self.register_outputs({"endpoint": self.endpoint})


@dataclass(frozen=True)
class ObjectStorageSwarmArgs:
    manager_connection: remote.ConnectionArgs
    manager_instance_id: pulumi.Input[str]
    cluster_ready: list[pulumi.Resource]
    storage: ObjectStorage = field(default_factory=ObjectStorage)


class ObjectStorageSwarm(pulumi.ComponentResource):
    """The stack `faasbench-storage` on the Swarm manager, on OpenFaaS's functions overlay, and
    its seeding (the `object-storage-swarm` step)."""

    def __init__(
        self, name: str, args: ObjectStorageSwarmArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:storage:ObjectStorageSwarm", name, None, opts)
        storage = args.storage
        secret_key = random.RandomPassword(
            f"{name}-secret-key", length=40, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        deploy = remote_step(
            f"{name}-deploy",
            connection=args.manager_connection,
            step="object-storage-swarm",
            params=swarm_step_params(storage, SWARM_READY_TIMEOUT_S),
            secrets={"SECRET_KEY": secret_key.result},
            triggers=[args.manager_instance_id],
            parent=self,
            depends_on=args.cluster_ready,
        )
        self.endpoint = pulumi.Output.all(deploy.id).apply(lambda _: swarm_endpoint(storage))
        self.secret_key = pulumi.Output.secret(secret_key.result)
        self.outputs = object_storage_outputs(storage, self.endpoint, self.secret_key)
        self.register_outputs({"endpoint": self.endpoint})


@dataclass(frozen=True)
class ObjectStorageNomadArgs:
    server_connection: remote.ConnectionArgs
    server_instance_id: pulumi.Input[str]
    server_ip: pulumi.Input[str]
    workers: pulumi.Input[list[str]]
    nomad_token: pulumi.Input[str]
    cluster_ready: list[pulumi.Resource]
    storage: ObjectStorage = field(default_factory=ObjectStorage)


class ObjectStorageNomad(pulumi.ComponentResource):
    """The job `object-storage` on the first worker (its port published on the private
    network), submitted from the first server with its Nomad Variable (the
    `object-storage-nomad` step); a poststart task of the job seeds it."""

    def __init__(
        self, name: str, args: ObjectStorageNomadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:storage:ObjectStorageNomad", name, None, opts)
        storage = args.storage
        secret_key = random.RandomPassword(
            f"{name}-secret-key", length=40, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        worker = pulumi.Output.from_input(args.workers).apply(lambda ips: ips[0])
        deploy = remote_step(
            f"{name}-deploy",
            connection=args.server_connection,
            step="object-storage-nomad",
            params={
                "NODE_IP": args.server_ip,
                "WORKER_IP": worker,
                "PORT": storage.port,
                "JOB": worker.apply(lambda ip: render_nomad_job(storage, ip, DATACENTER)),
                "READY_TIMEOUT_S": SWARM_READY_TIMEOUT_S,
            },
            secrets={
                "NOMAD_TOKEN": args.nomad_token,
                "VARIABLE": secret_key.result.apply(nomad_variable_body),
            },
            triggers=[args.server_instance_id],
            parent=self,
            depends_on=args.cluster_ready,
        )
        self.endpoint = pulumi.Output.all(worker, deploy.id).apply(
            lambda v: nomad_endpoint(storage, v[0])
        )
        self.secret_key = pulumi.Output.secret(secret_key.result)
        self.outputs = object_storage_outputs(storage, self.endpoint, self.secret_key)
        self.register_outputs({"endpoint": self.endpoint})
