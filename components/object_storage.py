"""The object storage for `thumbnail` (`objectStorage: true`): Versity S3 Gateway with the seeded
inputs, rendered by `components.object_storage_config`, in a Kubernetes cluster or on the Swarm
manager. The root account's secret key is generated here and handed over as a Kubernetes Secret
or a Docker secret; the output carries it as a Pulumi secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi_command import remote

from components.object_storage_config import (
    CREDENTIALS_SECRET,
    LABELS,
    ObjectStorage,
    endpoint,
    object_storage_manifests,
    object_storage_outputs,
    swarm_endpoint,
    swarm_step_params,
)
from components.remote_step import remote_step

#: How long the Swarm step waits for the overlay (OpenFaaS's stack, deployed beside it after
#: the faas-swarm image is built), then for the server and the seeding.
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
