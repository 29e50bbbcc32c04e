"""OpenFaaS on Nomad: the job's field names are Nomad's, no secret is in it, and it wires the
provider, auth and metrics as intended."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from support.nomad_api import check_fields
from support.snapshots import assert_snapshot

from components.openfaas_nomad import variable_body
from components.openfaas_nomad_config import (
    VARIABLE_PATH,
    alertmanager_config,
    openfaas_nomad_job,
    prometheus_config,
    render_job,
)

WORKERS = ["10.0.2.21", "10.0.2.22"]


@pytest.fixture
def job() -> dict[str, Any]:
    return openfaas_nomad_job(server_ip="10.0.2.20", agents=["10.0.2.20", *WORKERS])


def test_every_field_is_a_nomad_api_field(job: dict[str, Any]) -> None:
    assert check_fields("Job", job, "Job") > 20


def test_request_body_shape_and_snapshot() -> None:
    body = render_job("10.0.2.20", ["10.0.2.20", *WORKERS])
    parsed = json.loads(body)
    assert set(parsed) == {"Job"}
    assert_snapshot("openfaas-nomad-job.json", body)


def test_durations_are_nanoseconds(job: dict[str, Any]) -> None:
    group = job["TaskGroups"][0]
    check = group["Services"][0]["Checks"][0]
    assert check["Interval"] == 5_000_000_000
    assert isinstance(group["RestartPolicy"]["Delay"], int)


def test_tasks_share_a_bridge_network_with_the_gateway_published(job: dict[str, Any]) -> None:
    group = job["TaskGroups"][0]
    network = group["Networks"][0]
    assert network["Mode"] == "bridge"
    assert {(p["Label"], p["Value"], p["To"]) for p in network["ReservedPorts"]} == {
        ("gateway", 8080, 8080),
        ("prometheus", 9090, 9090),
    }
    tasks = {task["Name"]: task for task in group["Tasks"]}
    assert set(tasks) == {
        "nats",
        "queue-worker",
        "gateway",
        "provider",
        "prometheus",
        "alertmanager",
    }
    gateway = tasks["gateway"]["Env"]
    assert gateway["functions_provider_url"] == "http://127.0.0.1:8081/"
    assert gateway["basic_auth"] == "true"
    assert gateway["upstream_timeout"] == "5m"
    provider = tasks["provider"]["Env"]
    assert provider["port"] == "8081"
    assert provider["job_namespace"] == "openfaas-fn"
    assert provider["nomad_addr"] == "http://10.0.2.20:4646"


def test_credentials_come_from_the_jobs_variable_not_the_job(job: dict[str, Any]) -> None:
    text = json.dumps(job)
    for key in ("basic_auth_password", "nomad_token", "consul_token", "vault_token"):
        assert f".{key} }}" in text
    assert f'nomadVar \\"{VARIABLE_PATH}\\"' in text
    tasks = {task["Name"]: task for task in job["TaskGroups"][0]["Tasks"]}
    env_file = [t for t in tasks["provider"]["Templates"] if t.get("Envvars")]
    assert len(env_file) == 1
    for task in tasks.values():
        for secret_name in ("nomad_token", "vault_token", "consul_token"):
            assert secret_name not in task["Env"]
    body = json.loads(variable_body({"basic_auth_password": "p"}))
    assert body == {
        "Namespace": "default",
        "Path": VARIABLE_PATH,
        "Items": {"basic_auth_password": "p"},
    }


def test_prometheus_scrapes_allocation_metrics_and_alerts_scale() -> None:
    config = yaml.safe_load(prometheus_config(["10.0.2.20", *WORKERS]))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    nomad = jobs["nomad"]
    assert nomad["metrics_path"] == "/v1/metrics"
    assert nomad["params"] == {"format": ["prometheus"]}
    assert nomad["static_configs"][0]["targets"] == [
        "10.0.2.20:4646",
        "10.0.2.21:4646",
        "10.0.2.22:4646",
    ]
    alertmanager = yaml.safe_load(alertmanager_config())
    [hook] = alertmanager["receivers"][0]["webhook_configs"]
    assert hook["url"] == "http://localhost:8080/system/alert"
    assert hook["http_config"]["basic_auth"]["password_file"] == "/secrets/basic-auth-password"


def test_a_mistyped_field_would_be_caught(job: dict[str, Any]) -> None:
    job["TaskGroups"][0]["Tasks"][0]["Resource"] = {"CPU": 1}
    with pytest.raises(AssertionError, match=r"not fields of api\.Task"):
        check_fields("Job", job, "Job")
