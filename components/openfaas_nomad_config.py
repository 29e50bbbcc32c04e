"""OpenFaaS on Nomad as a Nomad API job (JSON) and its Prometheus/Alertmanager configuration,
rendered from plain values (pure functions; field names are those of Nomad's `api` package).

One job, one group on a worker, bridge networking (the tasks share localhost): NATS Streaming,
the queue worker, the gateway, jsiebens/faas-nomad (the maintained Nomad provider) on :8081,
Prometheus and Alertmanager with the invocation-rate scaling rule. Images are the Kubernetes
chart's where the component is the same (`components.openfaas_images`: gateway 0.27.13, queue
worker, NATS, Prometheus, Alertmanager), so platforms differ by their provider. Credentials
come from a Nomad Variable (`nomad/jobs/openfaas`, readable by this job's tasks only) through
templates: none is in the job specification. Prometheus also scrapes every Nomad agent's
metrics, which include CPU and memory per allocation (function containers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import yaml

from components.nomad_config import CONSUL_HTTP, DATACENTER, NOMAD_HTTP, VAULT_HTTP
from components.openfaas_images import (
    ALERTMANAGER_IMAGE,
    GATEWAY_IMAGE,
    NATS_IMAGE,
    PROMETHEUS_IMAGE,
    QUEUE_WORKER_IMAGE,
)

JOB_ID = "openfaas"
VARIABLE_PATH = f"nomad/jobs/{JOB_ID}"
FUNCTION_NAMESPACE = "openfaas-fn"
GATEWAY_PORT = 8080
PROMETHEUS_PORT = 9090
PROVIDER_PORT = 8081

#: jsiebens/faas-nomad v0.5.0 (90febaa7, 2021-09-24), its last tag; its release workflow pushes
#: ghcr.io/jsiebens/faas-nomad:<tag> (evidence and its limits: docs/versions.md). Its
#: scale-from-zero fix (a240dd08, counting healthy Consul instances) is in no release; the
#: stack never scales a function to zero anyway (`components.openfaas_nomad.NOMAD_LIMITS`).
PROVIDER_IMAGE = "ghcr.io/jsiebens/faas-nomad:v0.5.0"

SECOND_NS = 1_000_000_000
TIMEOUTS = {"read_timeout": "5m5s", "write_timeout": "5m5s"}
AUTH = {"basic_auth": "true", "secret_mount_path": "/secrets"}


def _var(key: str) -> str:
    return f'{{{{ with nomadVar "{VARIABLE_PATH}" }}}}{{{{ .{key} }}}}{{{{ end }}}}'


def _secret_file(name: str, key: str) -> dict[str, object]:
    return {
        "DestPath": f"secrets/{name}",
        "EmbeddedTmpl": _var(key),
        "ChangeMode": "restart",
        "Perms": "0400",
    }


BASIC_AUTH_FILES = [
    _secret_file("basic-auth-user", "basic_auth_user"),
    _secret_file("basic-auth-password", "basic_auth_password"),
]


def prometheus_config(agents: Sequence[str]) -> str:
    """Scrape the gateway and every Nomad agent (node and allocation metrics)."""
    return yaml.safe_dump(
        {
            "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
            "rule_files": ["/local/alert.rules.yml"],
            "scrape_configs": [
                {
                    "job_name": "prometheus",
                    "static_configs": [{"targets": [f"localhost:{PROMETHEUS_PORT}"]}],
                },
                {
                    "job_name": "gateway",
                    "scrape_interval": "5s",
                    "static_configs": [{"targets": ["localhost:8082"]}],
                },
                {
                    "job_name": "nomad",
                    "scrape_interval": "5s",
                    "metrics_path": "/v1/metrics",
                    "params": {"format": ["prometheus"]},
                    "static_configs": [{"targets": [f"{ip}:{NOMAD_HTTP}" for ip in agents]}],
                },
            ],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["localhost:9093"]}]}]},
        },
        sort_keys=False,
    )


def alert_rules() -> str:
    """The same scaling rule as the Swarm stack and the chart."""
    return yaml.safe_dump(
        {
            "groups": [
                {
                    "name": "openfaas",
                    "rules": [
                        {
                            "alert": "APIHighInvocationRate",
                            "expr": 'sum(rate(gateway_function_invocation_total{code="200"}'
                            "[10s])) BY (function_name) > 5",
                            "for": "5s",
                            "labels": {"service": "gateway", "severity": "major"},
                            "annotations": {
                                "description": "High invocation total on "
                                "{{ $labels.function_name }}",
                            },
                        }
                    ],
                }
            ]
        },
        sort_keys=False,
    )


def alertmanager_config() -> str:
    return yaml.safe_dump(
        {
            "route": {
                "group_by": ["alertname", "service"],
                "group_wait": "5s",
                "group_interval": "10s",
                "repeat_interval": "30s",
                "receiver": "scale-up",
            },
            "receivers": [
                {
                    "name": "scale-up",
                    "webhook_configs": [
                        {
                            "url": f"http://localhost:{GATEWAY_PORT}/system/alert",
                            "send_resolved": True,
                            "http_config": {
                                "basic_auth": {
                                    "username": "admin",
                                    "password_file": "/secrets/basic-auth-password",
                                }
                            },
                        }
                    ],
                }
            ],
        },
        sort_keys=False,
    )


def _task(
    name: str,
    image: str,
    *,
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
    templates: list[dict[str, object]] | None = None,
    cpu: int = 100,
    memory_mb: int = 128,
) -> dict[str, object]:
    config: dict[str, object] = {"image": image}
    if args:
        config["args"] = args
    return {
        "Name": name,
        "Driver": "docker",
        "Config": config,
        "Env": env or {},
        "Templates": templates or [],
        "Resources": {"CPU": cpu, "MemoryMB": memory_mb},
        "LogConfig": {"MaxFiles": 5, "MaxFileSizeMB": 10},
    }


def openfaas_nomad_job(*, server_ip: str, agents: Sequence[str]) -> dict[str, object]:
    """The `Job` object for `POST /v1/jobs` ({"Job": ...})."""
    addresses = {
        "nomad_addr": f"http://{server_ip}:{NOMAD_HTTP}",
        "consul_addr": f"http://{server_ip}:{CONSUL_HTTP}",
        "vault_addr": f"http://{server_ip}:{VAULT_HTTP}",
    }
    provider_env_file = {
        "DestPath": "secrets/provider.env",
        "EmbeddedTmpl": "".join(
            f"{key}={_var(key)}\n" for key in ("nomad_token", "consul_token", "vault_token")
        ),
        "ChangeMode": "restart",
        "Envvars": True,
        "Perms": "0400",
    }
    tasks = [
        _task(
            "nats",
            NATS_IMAGE,
            args=["-m", "8222", "--store=memory", "--cluster_id=faas-cluster"],
        ),
        _task(
            "queue-worker",
            QUEUE_WORKER_IMAGE,
            env={
                "faas_nats_address": "localhost",
                "faas_nats_port": "4222",
                "faas_gateway_address": "localhost",
                "faas_gateway_port": str(GATEWAY_PORT),
                "gateway_invoke": "true",
                "ack_wait": "5m5s",
                "max_inflight": "1",
                **AUTH,
            },
            templates=BASIC_AUTH_FILES,
        ),
        _task(
            "gateway",
            GATEWAY_IMAGE,
            env={
                "functions_provider_url": f"http://127.0.0.1:{PROVIDER_PORT}/",
                "upstream_timeout": "5m",
                "faas_nats_address": "localhost",
                "faas_nats_port": "4222",
                "faas_prometheus_host": "localhost",
                "faas_prometheus_port": str(PROMETHEUS_PORT),
                "scale_from_zero": "true",
                "function_namespace": FUNCTION_NAMESPACE,
                "max_idle_conns": "1024",
                "max_idle_conns_per_host": "1024",
                **TIMEOUTS,
                **AUTH,
            },
            templates=BASIC_AUTH_FILES,
            cpu=200,
            memory_mb=256,
        ),
        _task(
            "provider",
            PROVIDER_IMAGE,
            env={
                "port": str(PROVIDER_PORT),
                **addresses,
                "job_namespace": FUNCTION_NAMESPACE,
                "job_datacenters": DATACENTER,
                **TIMEOUTS,
                **AUTH,
            },
            templates=[*BASIC_AUTH_FILES, provider_env_file],
            cpu=200,
            memory_mb=256,
        ),
        _task(
            "prometheus",
            PROMETHEUS_IMAGE,
            args=["--config.file=/local/prometheus.yml", "--storage.tsdb.retention.time=15d"],
            templates=[
                {
                    "DestPath": "local/prometheus.yml",
                    "EmbeddedTmpl": prometheus_config(agents),
                    "ChangeMode": "restart",
                    # The rules use Go template syntax of their own ({{ $labels }}).
                    "LeftDelim": "[[",
                    "RightDelim": "]]",
                },
                {
                    "DestPath": "local/alert.rules.yml",
                    "EmbeddedTmpl": alert_rules(),
                    "ChangeMode": "restart",
                    "LeftDelim": "[[",
                    "RightDelim": "]]",
                },
            ],
            cpu=200,
            memory_mb=512,
        ),
        _task(
            "alertmanager",
            ALERTMANAGER_IMAGE,
            args=["--config.file=/local/alertmanager.yml", "--storage.path=/alertmanager"],
            templates=[
                {
                    "DestPath": "local/alertmanager.yml",
                    "EmbeddedTmpl": alertmanager_config(),
                    "ChangeMode": "restart",
                },
                _secret_file("basic-auth-password", "basic_auth_password"),
            ],
        ),
    ]
    return {
        "ID": JOB_ID,
        "Name": JOB_ID,
        "Type": "service",
        "Namespace": "default",
        "Datacenters": [DATACENTER],
        "TaskGroups": [
            {
                "Name": JOB_ID,
                "Count": 1,
                "Networks": [
                    {
                        "Mode": "bridge",
                        "ReservedPorts": [
                            {"Label": "gateway", "Value": GATEWAY_PORT, "To": GATEWAY_PORT},
                            {
                                "Label": "prometheus",
                                "Value": PROMETHEUS_PORT,
                                "To": PROMETHEUS_PORT,
                            },
                        ],
                    }
                ],
                "Services": [
                    {
                        "Name": "openfaas-gateway",
                        "PortLabel": "gateway",
                        "Provider": "nomad",
                        "Checks": [
                            {
                                "Name": "gateway-healthz",
                                "Type": "http",
                                "Path": "/healthz",
                                "Interval": 5 * SECOND_NS,
                                "Timeout": 2 * SECOND_NS,
                            }
                        ],
                    }
                ],
                "RestartPolicy": {
                    "Attempts": 10,
                    "Interval": 600 * SECOND_NS,
                    "Delay": 5 * SECOND_NS,
                    "Mode": "delay",
                },
                "Tasks": tasks,
            }
        ],
    }


def render_job(server_ip: str, agents: Sequence[str]) -> str:
    """The request body for `POST /v1/jobs`."""
    return json.dumps({"Job": openfaas_nomad_job(server_ip=server_ip, agents=agents)}, indent=1)
