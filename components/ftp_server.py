"""The FTP server the network-bound function downloads from: vsftpd on its own machine, one
user with a generated password, read-only, reachable from inside the network only, serving a
seeded test file whose size and SHA-256 are exported (the function verifies each download)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components.cloud_init import node_cloud_config
from components.naming import Naming
from components.node_pool import NodePoolArgs, PrivateNetwork
from components.remote_step import machine_step
from contract.ftp import (
    DEFAULT_MAX_CLIENTS,
    FTP_HOME,
    FTP_USER,
    TEST_FILE,
    FtpSettings,
    ftp_outputs,
    render_vsftpd,
    seeded_file_key,
    seeded_file_sha256,
)


@dataclass(frozen=True)
class FtpServerArgs:
    naming: Naming
    network: PrivateNetwork
    size: str
    vsftpd_version: str
    test_file_bytes: int
    #: Concurrent sessions the server accepts; its passive port range is sized from it.
    max_clients: int = DEFAULT_MAX_CLIENTS


class FtpServer(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: FtpServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:ftp:FtpServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        pool = args.network.node_pool(
            f"{name}-machine",
            NodePoolArgs(
                role="ftp",
                count=1,
                size=args.size,
                user_data=[node_cloud_config(args.naming.name("ftp"), containers=False)],
            ),
            opts=child,
        )
        machine = pool.machines[0]
        # The seed only makes the content reproducible; it is not a secret.
        seed = args.naming.name("ftp-test-file")
        sha256 = seeded_file_sha256(seed, args.test_file_bytes)
        config = machine.private_ip.apply(
            lambda ip: render_vsftpd(
                FtpSettings(
                    user=FTP_USER,
                    listen_address=ip,
                    passive_address=ip,
                    max_clients=args.max_clients,
                )
            )
        )
        step = machine_step(
            f"{name}-install",
            machine,
            "ftp-server",
            params={
                "VSFTPD_VERSION": args.vsftpd_version,
                "FTP_USER": FTP_USER,
                "FTP_HOME": FTP_HOME,
                "TEST_FILE": TEST_FILE,
                "TEST_FILE_BYTES": args.test_file_bytes,
                "TEST_FILE_KEY": seeded_file_key(seed).hex(),
                "TEST_FILE_SHA256": sha256,
                "CONFIG": config,
            },
            secrets={"FTP_PASSWORD": password.result},
            parent=self,
        )
        self.host = pulumi.Output.all(machine.private_ip, step.id).apply(lambda v: v[0])
        self.password = pulumi.Output.secret(password.result)
        self.outputs = ftp_outputs(
            self.host, self.password, seed, args.test_file_bytes, args.max_clients
        )
        self.register_outputs({"host": self.host})
