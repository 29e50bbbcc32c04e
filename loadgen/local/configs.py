"""What `up` renders from the ports its processes got: haproxy.cfg (with the stacks' own
renderer, `contract.haproxy`), prometheus.yml and the stack outputs, checked against the
contract."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from contract.ftp import TEST_FILE
from contract.haproxy import HaproxyBackend, HaproxyServer, HaproxySettings, render_haproxy
from contract.outputs import StackOutputs
from loadgen.local.limits import CE_MAX_FUNCTIONS, CE_MAX_REPLICAS
from loadgen.local.procs import write_private
from loadgen.local.supervise import LOOPBACK, LocalError, faasbench_version

GATEWAY_USER = "admin"
FTP_USER = "faasbench"
#: Concurrent sessions the local FTP server accepts (exported as `ftp.max_clients`, which
#: `loadgen validate` compares with the users of ftp experiments).
FTP_MAX_CLIENTS = 512


def haproxy_config(
    front: int, stats: int, gateway_port: int, prometheus_port: int, prometheus_front: int,
    prometheus: bool,
) -> str:  # fmt: skip
    """haproxy.cfg: the function front to the gateway, the stats front, and (with Prometheus)
    a front to it; health checks every second."""
    return render_haproxy(
        HaproxySettings(
            backends=[
                HaproxyBackend(
                    name="gateway",
                    servers=[HaproxyServer("gateway", LOOPBACK, gateway_port)],
                    health_path="/healthz",
                )
            ],
            gateway_bind=f"{LOOPBACK}:{front}",
            stats_bind=f"{LOOPBACK}:{stats}",
            prometheus=HaproxyBackend(
                name="prometheus",
                servers=[HaproxyServer("prometheus", LOOPBACK, prometheus_port)],
                health_path="/-/healthy",
            )
            if prometheus
            else None,
            prometheus_bind=f"{LOOPBACK}:{prometheus_front}",
            check_interval_ms=1000,
            # Enough for a loopback benchmark and within a default descriptor limit.
            maxconn=4096,
            # Warnings and server state changes only: a line per request would cost CPU under load.
            log_target="stdout format raw local0 notice",
        )
    )


def write_prometheus_config(directory: Path, gateway_port: int, stats_port: int) -> None:
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "5s"},
        "scrape_configs": [
            {
                "job_name": "gateway",
                "static_configs": [{"targets": [f"{LOOPBACK}:{gateway_port}"]}],
            },
            {
                "job_name": "haproxy",
                "static_configs": [{"targets": [f"{LOOPBACK}:{stats_port}"]}],
            },
        ],
    }
    # JSON is YAML: no second serialiser needed.
    write_private(directory / "prometheus.yml", json.dumps(config, indent=2) + "\n")


def stack_outputs(
    ce_limits: bool,
    gateway_url: str,
    gateway_password: str,
    ftp_port: int,
    ftp_password: str,
    content: bytes,
    prometheus_url: str | None,
    object_storage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    outputs: dict[str, Any] = {
        "cloud": "local",
        "orchestrator": "local",
        "framework": "openfaas",
        "gateway_url": gateway_url,
        "openfaas": {
            "url": gateway_url,
            "username": GATEWAY_USER,
            "password": gateway_password,
            "namespace": None,
            "limits": {
                "max_functions": CE_MAX_FUNCTIONS if ce_limits else None,
                "max_replicas": CE_MAX_REPLICAS if ce_limits else None,
                "scale_to_zero": not ce_limits,
                "idler": False,
            },
            "versions": {"gateway": f"local-{faasbench_version()}", "provider": "local"},
        },
        "ftp": {
            "host": LOOPBACK,
            "port": ftp_port,
            "user": FTP_USER,
            "password": ftp_password,
            "test_file": TEST_FILE,
            "test_file_bytes": len(content),
            "test_file_sha256": hashlib.sha256(content).hexdigest(),
            "max_clients": FTP_MAX_CLIENTS,
        },
    }
    if object_storage is not None:
        outputs["object_storage"] = object_storage
    if prometheus_url:
        outputs["prometheus"] = {"url": prometheus_url, "kind": "local"}
    try:
        StackOutputs.model_validate(outputs)
    except ValidationError as exc:
        raise LocalError(f"the outputs do not match the stack output contract: {exc}") from None
    return outputs
