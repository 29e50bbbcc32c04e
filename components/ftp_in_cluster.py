"""The FTP server inside a Kubernetes cluster, for stacks with no machine of their own
(`cloud: existing`): the same vsftpd configuration, account and seeded test file as the FTP
machine, run from a pinned Debian image (`components.ftp_in_cluster_config` renders it). Its
password is generated here and handed to the pod as a Secret.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.ftp_in_cluster_config import (
    CREDENTIALS_SECRET,
    LABELS,
    FtpPod,
    ftp_host,
    ftp_manifests,
)
from contract.ftp import DEFAULT_MAX_CLIENTS, ftp_outputs


@dataclass(frozen=True)
class FtpInClusterArgs:
    provider: k8s.Provider
    seed: str
    test_file_bytes: int
    #: Concurrent sessions the server accepts; its passive port range is sized from it.
    max_clients: int = DEFAULT_MAX_CLIENTS


class FtpInCluster(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: FtpInClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:ftp:FtpInCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        pod = FtpPod(
            seed=args.seed, test_file_bytes=args.test_file_bytes, max_clients=args.max_clients
        )
        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=pod.namespace, labels=LABELS),
            opts=on_cluster,
        )
        in_namespace = pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=[namespace])
        )
        credentials = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=CREDENTIALS_SECRET, namespace=pod.namespace, labels=LABELS
            ),
            string_data={"password": password.result},
            opts=in_namespace,
        )
        server = k8s.yaml.v2.ConfigGroup(
            f"{name}-server",
            objs=ftp_manifests(pod),
            opts=pulumi.ResourceOptions.merge(
                in_namespace, pulumi.ResourceOptions(depends_on=[namespace, credentials])
            ),
        )
        self.host = pulumi.Output.all(server.urn).apply(lambda _: ftp_host(pod.namespace))
        self.password = pulumi.Output.secret(password.result)
        self.outputs = ftp_outputs(
            self.host, self.password, args.seed, args.test_file_bytes, pod.max_clients
        )
        self.register_outputs({"host": self.host})
