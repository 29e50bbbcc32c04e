"""OpenFaaS on Docker Swarm as a compose file and its Prometheus/Alertmanager configuration,
rendered from plain values (pure functions; `docker stack config` validates the result).

The control plane is the one chart `openfaas` 15.0.6 runs on Kubernetes
(`components.openfaas_images`: gateway 0.27.13 with basic auth built in, NATS Streaming, queue
worker 0.14.2, Prometheus, Alertmanager with the rule that scales functions on invocation rate),
so the three OpenFaaS stacks differ only in their provider. The provider is faas-swarm 0.9.1,
the last release of the archived Swarm provider, built on the manager from its pinned source
(`components.faas_swarm_image`): no image of it can be shown to exist any more. OpenFaaS's last
Swarm stack (openfaas/faas 802461dd, 2020) is the model for the rest: the `functions` overlay,
the external basic-auth secrets, the Docker socket for the provider. Added here: cAdvisor and
node-exporter on every node, every control service placed on the manager (functions run on
workers, by constraint), 5-minute timeouts, and the network MTU on the `functions` overlay.

What gateway 0.27 changes against that old stack: it has no `direct_functions` mode any more
(removed in openfaas/faas a7d486ee, 2023), so every `/function/*` call goes through faas-swarm's
proxy, which looks the function's service up with a Docker API call per request (`dnsrr` stays
off: its random task pick reseeds with the current second, so one second's calls all land on
one task); basic auth is the gateway's own (no plugin); and the Community Edition gateway clamps
scale requests to 1..5 replicas (`components.openfaas_images`).
"""

from __future__ import annotations

import hashlib

import yaml

from components.faas_swarm_image import image_reference
from components.openfaas_images import (
    ALERTMANAGER_IMAGE,
    GATEWAY_IMAGE,
    NATS_IMAGE,
    PROMETHEUS_IMAGE,
    QUEUE_WORKER_IMAGE,
)

#: cAdvisor v0.60.5 is published on ghcr.io only (google/cadvisor publish-container.yml).
CADVISOR_IMAGE = "ghcr.io/google/cadvisor:v0.60.5"
NODE_EXPORTER_IMAGE = "prom/node-exporter:v1.12.1"
PROVIDER_IMAGE = image_reference()
#: The Docker Engine API version faas-swarm speaks: its vendored client's own default
#: (vendor/github.com/docker/docker/api/common.go at 0.9.1: DefaultVersion "1.39"; it does not
#: negotiate), which Docker 28 serves (its minimum is 1.24). Docker 29 raised the minimum to
#: 1.44 (moby/moby#51186), which is why the Swarm stack pins Docker 28.
DOCKER_API_VERSION = "1.39"
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
                    {
                        "receiver": "scale-up",
                        "matchers": ['service="gateway"', 'severity="major"'],
                    }
                ],
            },
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
    # Fresh copies: a caller changing one service must not change the module's constants.
    deploy: dict[str, object] = {"restart_policy": dict(RESTART)}
    if manager:
        deploy["placement"] = {"constraints": list(ON_MANAGER)}
    return {"image": image, "networks": ["functions"], "deploy": deploy, **extra}


def openfaas_swarm_compose(mtu: int) -> dict[str, object]:
    """The compose file (format 3.8) for `docker stack deploy -c - func`."""
    files = config_files()
    auth_env = {"basic_auth": "true", "secret_mount_path": "/run/secrets/"}
    timeouts = {"read_timeout": "5m5s", "write_timeout": "5m5s"}
    # Only what gateway 0.27 reads (openfaas/faas gateway/types/readconfig.go); no
    # function_namespace: Swarm has none, and faas-swarm lists none.
    gateway = _service(
        GATEWAY_IMAGE,
        ports=["8080:8080"],
        environment={
            "functions_provider_url": "http://faas-swarm:8080/",
            **timeouts,
            "upstream_timeout": "5m",
            # Asynchronous calls need both (UseNATS: address and port set).
            "faas_nats_address": "nats",
            "faas_nats_port": "4222",
            "faas_prometheus_host": "prometheus",
            "faas_prometheus_port": "9090",
            "scale_from_zero": "true",
            "max_idle_conns": "1024",
            "max_idle_conns_per_host": "1024",
            **auth_env,
        },
        secrets=list(SECRETS),
    )
    return {
        "version": "3.8",
        "services": {
            "gateway": gateway,
            "faas-swarm": _service(
                PROVIDER_IMAGE,
                volumes=["/var/run/docker.sock:/var/run/docker.sock"],
                environment={
                    **timeouts,
                    "DOCKER_API_VERSION": DOCKER_API_VERSION,
                    **auth_env,
                },
                secrets=list(SECRETS),
            ),
            "nats": _service(NATS_IMAGE, command="--store memory --cluster_id faas-cluster"),
            # Queue worker 0.14 reads only these (nats-queue-worker readconfig.go); it calls
            # /function/*, which is open, so it needs no credentials.
            "queue-worker": _service(
                QUEUE_WORKER_IMAGE,
                environment={
                    "faas_nats_address": "nats",
                    "faas_nats_port": "4222",
                    "faas_gateway_address": "gateway",
                    "faas_gateway_port": "8080",
                    "ack_wait": "5m5s",
                },
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
                "deploy": {"mode": "global", "restart_policy": dict(RESTART)},
            },
            "node-exporter": {
                "image": NODE_EXPORTER_IMAGE,
                "networks": ["functions"],
                "volumes": ["/:/host:ro,rslave"],
                "command": ["--path.rootfs=/host"],
                "deploy": {"mode": "global", "restart_policy": dict(RESTART)},
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
