"""The HAProxy machine: the front for function traffic (`gateway_url`) and for Prometheus.

Backends are the platform's gateway port on every worker (k3s NodePort, Swarm/Nomad 8080,
OpenWhisk's 31001 over TLS with a self-signed certificate); the configuration is rendered by
`contract.haproxy`, which the local target uses too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.cloud_init import node_cloud_config
from components.endpoint import Endpoint
from components.naming import Naming
from components.node_pool import NodePoolArgs, PrivateNetwork
from components.remote_step import machine_step
from contract.haproxy import (
    HaproxyBackend,
    HaproxyServer,
    HaproxySettings,
    render_haproxy,
)

GATEWAY_PORT = 8080
STATS_PORT = 8404
PROMETHEUS_PORT = 9090


@dataclass(frozen=True)
class PlatformFront:
    """Where the platform answers on each worker, and how HAProxy checks it."""

    name: str
    port: int
    health_path: str
    tls: bool = False
    #: Checked on another port, with a Host header (Kourier's internal `/ready`).
    check_port: int | None = None
    health_host: str | None = None


@dataclass(frozen=True)
class HaproxyArgs:
    naming: Naming
    network: PrivateNetwork
    size: str
    haproxy_version: str
    platform: PlatformFront
    workers: pulumi.Input[list[str]]
    #: host:port of the Prometheus to expose on port 9090 (several: whichever answers its
    #: readiness check, e.g. the worker Nomad placed it on), if any.
    prometheus: pulumi.Input[list[str]] | None = None


def haproxy_settings(
    platform: PlatformFront, workers: list[str], prometheus: list[str] | None
) -> HaproxySettings:
    """The stack's HAProxy settings from plain values (tested without Pulumi)."""
    prometheus_backend = None
    if prometheus:
        servers = []
        for index, address in enumerate(prometheus):
            host, _, port = address.rpartition(":")
            servers.append(HaproxyServer(f"prometheus-{index}", host, int(port)))
        prometheus_backend = HaproxyBackend("prometheus", servers, health_path="/-/ready")
    return HaproxySettings(
        backends=[
            HaproxyBackend(
                platform.name,
                [HaproxyServer(f"worker-{i}", ip, platform.port) for i, ip in enumerate(workers)],
                health_path=platform.health_path,
                tls=platform.tls,
                check_port=platform.check_port,
                health_host=platform.health_host,
            )
        ],
        gateway_bind=f"*:{GATEWAY_PORT}",
        stats_bind=f"*:{STATS_PORT}",
        prometheus=prometheus_backend,
        prometheus_bind=f"*:{PROMETHEUS_PORT}",
        log_target="/dev/log local0",
    )


class Haproxy(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: HaproxyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:lb:Haproxy", name, None, opts)
        hostname = args.naming.name("haproxy")
        pool = args.network.node_pool(
            f"{name}-machine",
            NodePoolArgs(
                role="haproxy",
                count=1,
                size=args.size,
                user_data=[node_cloud_config(hostname, containers=False)],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        machine = pool.machines[0]
        config = pulumi.Output.all(args.workers, args.prometheus).apply(
            lambda v: render_haproxy(haproxy_settings(args.platform, v[0], v[1]))
        )
        step = machine_step(
            f"{name}-install",
            machine,
            "haproxy-server",
            params={"HAPROXY_VERSION": args.haproxy_version, "CONFIG": config},
            parent=self,
        )
        ready = pulumi.Output.all(machine.private_ip, step.id).apply(lambda v: v[0])
        self.address = machine.private_ip
        #: The front for function traffic (known before HAProxy is installed: platforms that
        #: announce their own URL take it from here); `gateway_url` once it serves.
        self.gateway: pulumi.Output[Endpoint] = machine.private_ip.apply(
            lambda ip: Endpoint("http", ip, GATEWAY_PORT)
        )
        self.gateway_url = pulumi.Output.all(self.gateway, step.id).apply(lambda v: v[0].url)
        self.prometheus_url = ready.apply(lambda ip: f"http://{ip}:{PROMETHEUS_PORT}")
        self.register_outputs({"gateway_url": self.gateway_url, "address": self.address})
