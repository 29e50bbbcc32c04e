"""OpenFaaS on Docker Swarm as a compose file and its Prometheus/Alertmanager configuration,
rendered from plain values (pure functions; `docker stack config` validates the result).

This is the last OpenFaaS Swarm stack (openfaas/faas 802461dd, September 2020; faas-swarm is
archived): gateway, basic-auth plugin, faas-swarm provider, NATS Streaming, queue worker,
Prometheus and Alertmanager with the rule that scales functions on invocation rate, images
pinned as that stack pinned them. Added here: cAdvisor and node-exporter on every node (the
stack's Prometheus only scraped the gateway), every control service placed on the manager
(functions run on workers, by constraint), basic auth on, 5-minute timeouts, and the network
MTU on the `functions` overlay.
"""

from __future__ import annotations

import hashlib

import yaml

GATEWAY_IMAGE = "openfaas/gateway:0.18.18"
BASIC_AUTH_IMAGE = "openfaas/basic-auth-plugin:0.18.18"
PROVIDER_IMAGE = "openfaas/faas-swarm:0.9.0"
NATS_IMAGE = "nats-streaming:0.17.0"
QUEUE_WORKER_IMAGE = "openfaas/queue-worker:0.11.2"
PROMETHEUS_IMAGE = "prom/prometheus:v2.11.0"
ALERTMANAGER_IMAGE = "prom/alertmanager:v0.18.0"
CADVISOR_IMAGE = "ghcr.io/google/cadvisor:v0.60.5"
NODE_EXPORTER_IMAGE = "prom/node-exporter:v1.12.1"
STACK = "func"
SECRETS = ("basic-auth-user", "basic-auth-password")
ON_MANAGER = ["node.labels.faasbench.role == manager", "node.platform.os == linux"]
RESTART = {"condition": "on-failure", "delay": "5s", "max_attempts": 20, "window": "380s"}


def prometheus_config() -> str:
    """Scrape the gateway, cAdvisor and node-exporter on every node; alert to Alertmanager."""

    def tasks(job: str, service: str, port: int) -> dict[str, object]:
        return {
            "job_name": job,
            "scrape_interval": "5s",
            "dns_sd_configs": [
                {"names": [f"tasks.{service}"], "type": "A", "port": port, "refresh_interval": "5s"}
            ],
        }

    return yaml.safe_dump(
        {
            "global": {
                "scrape_interval": "15s",
                "evaluation_interval": "15s",
                "external_labels": {"monitor": "faas-monitor"},
            },
            "rule_files": ["alert.rules.yml"],
            "scrape_configs": [
                {
                    "job_name": "prometheus",
                    "scrape_interval": "5s",
                    "static_configs": [{"targets": ["localhost:9090"]}],
                },
                tasks("gateway", "gateway", 8082),
                tasks("cadvisor", "cadvisor", 8080),
                tasks("node-exporter", "node-exporter", 9100),
            ],
            "alerting": {
                "alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]
            },
        },
        sort_keys=False,
    )


def alert_rules() -> str:
    """The stack's scaling rule: more than 5 successful invocations per second of a function
    (over 10 s) fires an alert, which Alertmanager posts to the gateway to scale it up."""
    return yaml.safe_dump(
        {
            "groups": [
                {
                    "name": "prometheus/alert.rules",
                    "rules": [
                        {"alert": "service_down", "expr": "up == 0"},
                        {
                            "alert": "APIHighInvocationRate",
                            "expr": 'sum(rate(gateway_function_invocation_total{code="200"}'
                            "[10s])) BY (function_name) > 5",
                            "for": "5s",
                            "labels": {"service": "gateway", "severity": "major"},
                            "annotations": {
                                "description": "High invocation total on "
                                "{{ $labels.function_name }}",
                                "summary": "High invocation total on {{ $labels.function_name }}",
                            },
                        },
                    ],
                }
            ]
        },
        sort_keys=False,
    )


def alertmanager_config() -> str:
    """Route the gateway's alerts to its /system/alert endpoint, with basic auth."""
    return yaml.safe_dump(
        {
            "route": {
                "group_by": ["alertname", "cluster", "service"],
                "group_wait": "5s",
                "group_interval": "10s",
                "repeat_interval": "30s",
                "receiver": "scale-up",
                "routes": [
                    {"match": {"service": "gateway", "receiver": "scale-up", "severity": "major"}}
                ],
            },
            "inhibit_rules": [
                {
                    "source_match": {"severity": "critical"},
                    "target_match": {"severity": "warning"},
                    "equal": ["alertname", "cluster", "service"],
                }
            ],
            "receivers": [
                {
                    "name": "scale-up",
                    "webhook_configs": [
                        {
                            "url": "http://gateway:8080/system/alert",
                            "send_resolved": True,
                            "http_config": {
                                "basic_auth": {
                                    "username": "admin",
                                    "password_file": "/run/secrets/basic-auth-password",
                                }
                            },
                        }
                    ],
                }
            ],
        },
        sort_keys=False,
    )


def config_files() -> dict[str, str]:
    """File name -> content of the configuration the compose file refers to."""
    return {
        "prometheus.yml": prometheus_config(),
        "alert.rules.yml": alert_rules(),
        "alertmanager.yml": alertmanager_config(),
    }


def _versioned(name: str, content: str) -> str:
    """Swarm configs are immutable: a changed file gets a new name, so redeploys work."""
    return f"{name}_{hashlib.sha256(content.encode()).hexdigest()[:12]}"


def _service(image: str, *, manager: bool = True, **extra: object) -> dict[str, object]:
    deploy: dict[str, object] = {"restart_policy": RESTART}
    if manager:
        deploy["placement"] = {"constraints": ON_MANAGER}
    return {"image": image, "networks": ["functions"], "deploy": deploy, **extra}


def openfaas_swarm_compose(mtu: int) -> dict[str, object]:
    """The compose file (format 3.8) for `docker stack deploy -c - func`."""
    files = config_files()
    auth_env = {"basic_auth": "true", "secret_mount_path": "/run/secrets/"}
    secrets = list(SECRETS)
    gateway = _service(
        GATEWAY_IMAGE,
        ports=["8080:8080"],
        environment={
            "functions_provider_url": "http://faas-swarm:8080/",
            "read_timeout": "5m5s",
            "write_timeout": "5m5s",
            "upstream_timeout": "5m",
            "dnsrr": "true",
            "faas_nats_address": "nats",
            "faas_nats_port": "4222",
            "direct_functions": "true",
            "direct_functions_suffix": "",
            "scale_from_zero": "true",
            "max_idle_conns": "1024",
            "max_idle_conns_per_host": "1024",
            "auth_proxy_url": "http://basic-auth-plugin:8080/validate",
            "auth_proxy_pass_body": "false",
            **auth_env,
        },
        secrets=secrets,
    )
    return {
        "version": "3.8",
        "services": {
            "gateway": gateway,
            "basic-auth-plugin": _service(
                BASIC_AUTH_IMAGE,
                environment={
                    "secret_mount_path": "/run/secrets/",
                    "user_filename": "basic-auth-user",
                    "pass_filename": "basic-auth-password",
                },
                secrets=secrets,
            ),
            "faas-swarm": _service(
                PROVIDER_IMAGE,
                volumes=["/var/run/docker.sock:/var/run/docker.sock"],
                environment={
                    "read_timeout": "5m5s",
                    "write_timeout": "5m5s",
                    "DOCKER_API_VERSION": "1.30",
                    **auth_env,
                },
                secrets=secrets,
            ),
            "nats": _service(NATS_IMAGE, command="--store memory --cluster_id faas-cluster"),
            "queue-worker": _service(
                QUEUE_WORKER_IMAGE,
                environment={
                    "max_inflight": "1",
                    "ack_wait": "5m5s",
                    "gateway_invoke": "true",
                    "faas_gateway_address": "gateway",
                    **auth_env,
                },
                secrets=secrets,
            ),
            "prometheus": _service(
                PROMETHEUS_IMAGE,
                ports=["9090:9090"],
                environment={"no_proxy": "gateway"},
                command=["--config.file=/etc/prometheus/prometheus.yml"],
                configs=[
                    {"source": "prometheus_config", "target": "/etc/prometheus/prometheus.yml"},
                    {"source": "prometheus_rules", "target": "/etc/prometheus/alert.rules.yml"},
                ],
            ),
            "alertmanager": _service(
                ALERTMANAGER_IMAGE,
                environment={"no_proxy": "gateway"},
                command=["--config.file=/alertmanager.yml", "--storage.path=/alertmanager"],
                configs=[{"source": "alertmanager_config", "target": "/alertmanager.yml"}],
                secrets=["basic-auth-password"],
            ),
            "cadvisor": {
                "image": CADVISOR_IMAGE,
                "networks": ["functions"],
                "volumes": [
                    "/:/rootfs:ro",
                    "/var/run:/var/run:ro",
                    "/sys:/sys:ro",
                    "/var/lib/docker/:/var/lib/docker:ro",
                    "/dev/disk/:/dev/disk:ro",
                ],
                "command": ["--docker_only=true", "--housekeeping_interval=5s"],
                "deploy": {"mode": "global", "restart_policy": RESTART},
            },
            "node-exporter": {
                "image": NODE_EXPORTER_IMAGE,
                "networks": ["functions"],
                "volumes": ["/:/host:ro,rslave"],
                "command": ["--path.rootfs=/host"],
                "deploy": {"mode": "global", "restart_policy": RESTART},
            },
        },
        "networks": {
            "functions": {
                "driver": "overlay",
                "attachable": True,
                "labels": {"openfaas": "true"},
                "driver_opts": {"com.docker.network.driver.mtu": str(mtu)},
            }
        },
        "configs": {
            "prometheus_config": {
                "file": "./prometheus.yml",
                "name": _versioned("prometheus_config", files["prometheus.yml"]),
            },
            "prometheus_rules": {
                "file": "./alert.rules.yml",
                "name": _versioned("prometheus_rules", files["alert.rules.yml"]),
            },
            "alertmanager_config": {
                "file": "./alertmanager.yml",
                "name": _versioned("alertmanager_config", files["alertmanager.yml"]),
            },
        },
        "secrets": {name: {"external": True} for name in SECRETS},
    }


def render_compose(mtu: int) -> str:
    return yaml.safe_dump(openfaas_swarm_compose(mtu), sort_keys=False)
