"""The object storage for `thumbnail` in a Kubernetes cluster (`objectStorage: true`): Versity S3
Gateway with the seeded inputs, rendered by `components.object_storage_config`. The root
account's secret key is generated here and handed to the pods as a Secret; the output carries it
as a Pulumi secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.object_storage_config import (
    CREDENTIALS_SECRET,
    LABELS,
    ObjectStorage,
    endpoint,
    object_storage_manifests,
    object_storage_outputs,
)


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
