"""OpenFaaS on Swarm: the compose file checked by `docker stack config`, what it says, and the
faas-swarm image built on the manager from its pinned source."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.sandbox import Sandbox
from support.snapshots import assert_snapshot
from support.stack_hosts import FAAS_SWARM_SOURCE

from components import faas_swarm_image
from components.openfaas_images import GATEWAY_IMAGE, QUEUE_WORKER_IMAGE
from components.openfaas_swarm_config import (
    DOCKER_API_VERSION,
    config_files,
    openfaas_swarm_compose,
    render_compose,
)
from components.remote_step import render_step


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
        "gateway", "faas-swarm", "nats", "queue-worker", "prometheus", "alertmanager",
        "cadvisor", "node-exporter",
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


#: Every variable gateway 0.27.13 reads (openfaas/faas 7926181684e5, gateway/types/readconfig.go).
GATEWAY_ENV = {
    "read_timeout", "write_timeout", "upstream_timeout", "functions_provider_url",
    "logs_provider_url", "faas_nats_address", "faas_nats_port", "faas_nats_cluster_name",
    "faas_nats_channel", "faas_prometheus_host", "faas_prometheus_port", "basic_auth",
    "secret_mount_path", "scale_from_zero", "max_idle_conns", "max_idle_conns_per_host",
    "auth_proxy_url", "auth_proxy_pass_body", "function_namespace",
}  # fmt: skip
#: Every variable queue worker 0.14.2 reads (openfaas/nats-queue-worker 619158b8, readconfig.go).
QUEUE_WORKER_ENV = {
    "faas_nats_address", "faas_nats_port", "faas_nats_cluster_name", "faas_nats_queue_group",
    "faas_gateway_address", "faas_gateway_port", "faas_print_body", "write_debug",
    "faas_max_reconnect", "faas_reconnect_delay", "ack_wait",
}  # fmt: skip


def test_the_control_plane_is_the_charts_and_reads_what_it_is_given(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["gateway"]["image"] == GATEWAY_IMAGE == "ghcr.io/openfaas/gateway:0.27.13"
    assert services["queue-worker"]["image"] == QUEUE_WORKER_IMAGE
    gateway = services["gateway"]["environment"]
    assert set(gateway) <= GATEWAY_ENV, set(gateway) - GATEWAY_ENV
    assert set(services["queue-worker"]["environment"]) <= QUEUE_WORKER_ENV
    # Basic auth is the gateway's own: no plugin, no proxy to one.
    assert gateway["basic_auth"] == "true"
    assert "auth_proxy_url" not in gateway
    assert not [name for name in services if "auth" in name]
    # Asynchronous calls need both NATS settings (UseNATS).
    assert (gateway["faas_nats_address"], gateway["faas_nats_port"]) == ("nats", "4222")
    assert gateway["functions_provider_url"] == "http://faas-swarm:8080/"
    # Swarm has no namespaces: the gateway is given none.
    assert "function_namespace" not in gateway


def test_auth_timeouts_and_network(compose: dict[str, Any]) -> None:
    gateway = compose["services"]["gateway"]["environment"]
    provider = compose["services"]["faas-swarm"]["environment"]
    assert gateway["upstream_timeout"] == "5m"
    assert gateway["read_timeout"] == gateway["write_timeout"] == "5m5s"
    # Every call is proxied by faas-swarm now: its timeouts must cover the gateway's upstream.
    assert provider["read_timeout"] == provider["write_timeout"] == "5m5s"
    assert provider["basic_auth"] == "true"
    assert compose["secrets"] == {
        "basic-auth-user": {"external": True},
        "basic-auth-password": {"external": True},
    }
    network = compose["networks"]["functions"]
    assert network["attachable"] is True
    assert network["driver_opts"] == {"com.docker.network.driver.mtu": "1450"}


def test_the_provider_speaks_an_api_version_docker_28_serves(compose: dict[str, Any]) -> None:
    provider = compose["services"]["faas-swarm"]
    assert provider["environment"]["DOCKER_API_VERSION"] == DOCKER_API_VERSION
    # faas-swarm's vendored client (1.39, no negotiation) inside Docker 28's 1.24 minimum and
    # below Docker 29's 1.44 minimum, which is why the stack pins Docker 28.
    version = tuple(int(part) for part in DOCKER_API_VERSION.split("."))
    assert (1, 24) <= version < (1, 44)
    assert provider["volumes"] == ["/var/run/docker.sock:/var/run/docker.sock"]


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
    [route] = alertmanager["route"]["routes"]
    assert route["matchers"] == ['service="gateway"', 'severity="major"']
    [hook] = alertmanager["receivers"][0]["webhook_configs"]
    assert hook["url"] == "http://gateway:8080/system/alert"
    assert hook["http_config"]["basic_auth"]["password_file"] == "/run/secrets/basic-auth-password"


def test_changed_configuration_gets_new_swarm_config_names(compose: dict[str, Any]) -> None:
    names = {key: value["name"] for key, value in compose["configs"].items()}
    assert all(name.startswith(key + "_") for key, name in names.items())
    assert len(set(names.values())) == 3


# --- the provider image -------------------------------------------------------------------


def test_the_provider_is_the_image_built_on_the_manager(compose: dict[str, Any]) -> None:
    image = compose["services"]["faas-swarm"]["image"]
    assert image == faas_swarm_image.image_reference()
    # A host that never resolves: Swarm's pre-start pull cannot fetch someone else's image.
    assert image.startswith("faasbench.invalid/faas-swarm:0.9.1-")
    assert (
        "node.labels.faasbench.role == manager"
        in (compose["services"]["faas-swarm"]["deploy"]["placement"]["constraints"])
    )


def test_the_dockerfile_builds_the_pinned_commit_in_gopath_mode() -> None:
    text = faas_swarm_image.dockerfile()
    froms = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert froms == ["golang:1.26.7-alpine3.23", "alpine:3.23.5"]
    assert "GO111MODULE=off" in text
    assert f"WORKDIR /go/src/{faas_swarm_image.GO_PACKAGE}" in text
    assert f"version.GitCommit={faas_swarm_image.SOURCE_COMMIT}" in text
    assert "version.Version=0.9.1" in text
    assert len(faas_swarm_image.SOURCE_COMMIT) == 40
    # BuildKit-only syntax would fail: the nodes' Docker has no buildx plugin.
    assert "--mount" not in text
    assert "<<" not in text


def test_a_changed_build_gets_a_new_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    before = faas_swarm_image.image_reference()
    monkeypatch.setattr(faas_swarm_image, "RUNTIME_IMAGE", "alpine:3.22.5")
    after = faas_swarm_image.image_reference()
    assert before != after
    assert after.startswith("faasbench.invalid/faas-swarm:0.9.1-")


def run_build(tmp_path: Path, state: dict[str, Any]) -> tuple[Sandbox, Any]:
    sandbox = Sandbox.create(tmp_path / "manager", state)
    script = render_step("faas-swarm-image", faas_swarm_image.step_params())
    return sandbox, sandbox.run(script, check=False)


def test_the_build_refuses_a_commit_other_than_the_pinned_one(tmp_path: Path) -> None:
    other = "0" * 40
    remote = {faas_swarm_image.SOURCE_COMMIT: FAAS_SWARM_SOURCE, other: FAAS_SWARM_SOURCE}
    sandbox, result = run_build(
        tmp_path,
        {
            "git_remotes": {faas_swarm_image.SOURCE_URL: remote},
            "git_heads": {faas_swarm_image.SOURCE_COMMIT: other},
        },
    )
    assert result.returncode == 1
    assert f"gave commit {other}, not the pinned {faas_swarm_image.SOURCE_COMMIT}" in (
        result.stderr
    )
    assert not [call for call in sandbox.calls() if call[:2] == ["docker", "build"]]


def test_the_build_fails_clearly_when_the_commit_cannot_be_fetched(tmp_path: Path) -> None:
    sandbox, result = run_build(tmp_path, {"git_remotes": {faas_swarm_image.SOURCE_URL: {}}})
    assert result.returncode == 1
    assert (
        f"could not fetch commit {faas_swarm_image.SOURCE_COMMIT} from "
        f"{faas_swarm_image.SOURCE_URL}" in result.stderr
    )
    assert not [call for call in sandbox.calls() if call[:2] == ["docker", "build"]]
