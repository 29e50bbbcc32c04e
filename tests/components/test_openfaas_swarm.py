"""OpenFaaS on Swarm: the compose file checked by `docker stack config`, and what it says."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.snapshots import assert_snapshot

from components.openfaas_swarm_config import (
    config_files,
    openfaas_swarm_compose,
    render_compose,
)


def stack_config(directory: Path, compose: str) -> subprocess.CompletedProcess[str]:
    """`docker stack config` (offline: the client alone) on the compose file and its configs."""
    (directory / "docker-compose.yml").write_text(compose)
    for name, content in config_files().items():
        (directory / name).write_text(content)
    return subprocess.run(
        ["docker", "stack", "config", "--compose-file", "docker-compose.yml"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )


def test_docker_accepts_the_stack(tmp_path: Path) -> None:
    result = stack_config(tmp_path, render_compose(1450))
    assert result.returncode == 0, result.stderr
    merged = yaml.safe_load(result.stdout)
    assert set(merged["services"]) == {
        "gateway", "basic-auth-plugin", "faas-swarm", "nats", "queue-worker", "prometheus",
        "alertmanager", "cadvisor", "node-exporter",
    }  # fmt: skip


def test_the_validator_catches_a_broken_stack(tmp_path: Path) -> None:
    broken = openfaas_swarm_compose(1450)
    services: Any = broken["services"]
    services["gateway"]["deploy"]["restart_policy"]["max_attempts"] = "twenty"
    result = stack_config(tmp_path, yaml.safe_dump(broken))
    assert result.returncode != 0
    assert "max_attempts" in result.stderr


def test_stack_snapshot() -> None:
    assert_snapshot("openfaas-swarm-compose.yml", render_compose(1500))


@pytest.fixture
def compose() -> dict[str, Any]:
    return openfaas_swarm_compose(1450)


def test_every_image_is_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        assert ":" in image, name
        assert not image.endswith(":latest"), name


def test_control_on_the_manager_exporters_everywhere(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        deploy = service["deploy"]
        if name in ("cadvisor", "node-exporter"):
            assert deploy["mode"] == "global"
        else:
            assert "node.labels.faasbench.role == manager" in deploy["placement"]["constraints"]


def test_auth_timeouts_and_network(compose: dict[str, Any]) -> None:
    gateway = compose["services"]["gateway"]["environment"]
    assert gateway["basic_auth"] == "true"
    assert gateway["auth_proxy_url"] == "http://basic-auth-plugin:8080/validate"
    assert gateway["upstream_timeout"] == "5m"
    assert gateway["read_timeout"] == gateway["write_timeout"] == "5m5s"
    assert compose["services"]["faas-swarm"]["environment"]["DOCKER_API_VERSION"] == "1.30"
    assert compose["secrets"] == {
        "basic-auth-user": {"external": True},
        "basic-auth-password": {"external": True},
    }
    network = compose["networks"]["functions"]
    assert network["attachable"] is True
    assert network["driver_opts"] == {"com.docker.network.driver.mtu": "1450"}


def test_prometheus_scrapes_resources_and_alerts_scale_functions() -> None:
    files = config_files()
    prometheus = yaml.safe_load(files["prometheus.yml"])
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert set(jobs) == {"prometheus", "gateway", "cadvisor", "node-exporter"}
    assert jobs["gateway"]["dns_sd_configs"][0] == {
        "names": ["tasks.gateway"], "type": "A", "port": 8082, "refresh_interval": "5s",
    }  # fmt: skip
    rules = yaml.safe_load(files["alert.rules.yml"])["groups"][0]["rules"]
    [scaling] = [r for r in rules if r["alert"] == "APIHighInvocationRate"]
    assert "gateway_function_invocation_total" in scaling["expr"]
    alertmanager = yaml.safe_load(files["alertmanager.yml"])
    [hook] = alertmanager["receivers"][0]["webhook_configs"]
    assert hook["url"] == "http://gateway:8080/system/alert"
    assert hook["http_config"]["basic_auth"]["password_file"] == "/run/secrets/basic-auth-password"


def test_changed_configuration_gets_new_swarm_config_names(compose: dict[str, Any]) -> None:
    names = {key: value["name"] for key, value in compose["configs"].items()}
    assert all(name.startswith(key + "_") for key, name in names.items())
    assert len(set(names.values())) == 3
