"""The OpenFaaS API subset, proxying and metrics of the local target with CE limits on, end to
end: real HAProxy, gateway, replicas, FTP server, object storage and Prometheus."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from pathlib import Path

import pytest
from support.local_target import LocalTarget, run_cli, wait_until

from contract.outputs import StackOutputs
from functions import thumbnail
from functions._s3 import Credentials, S3Client
from loadgen.platforms.env import function_env


def test_outputs_follow_the_contract(ce_target: LocalTarget) -> None:
    path = ce_target.directory / "outputs.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    outputs = StackOutputs.model_validate(ce_target.outputs)
    kinds = (outputs.cloud, outputs.orchestrator, outputs.framework)
    assert kinds == ("local", "local", "openfaas")
    assert outputs.openfaas is not None
    assert outputs.openfaas.url == outputs.gateway_url
    assert outputs.openfaas.namespace is None
    assert outputs.openfaas.versions.provider == "local"
    assert outputs.openfaas.versions.gateway.startswith("local-")
    limits = outputs.openfaas.limits
    assert (limits.max_functions, limits.max_replicas, limits.scale_to_zero) == (15, 5, False)
    assert outputs.ftp is not None
    assert outputs.ftp.host == "127.0.0.1"
    assert outputs.ftp.test_file_bytes == 1024 * 1024
    if shutil.which("prometheus"):
        assert outputs.prometheus is not None
        assert outputs.prometheus.kind == "local"
    else:
        assert outputs.prometheus is None


def test_system_api_needs_basic_auth(ce_target: LocalTarget) -> None:
    client, url = ce_target.client, ce_target.url
    assert client.get(f"{url}/healthz").status_code == 200
    assert client.get(f"{url}/system/functions").status_code == 401
    wrong = client.get(f"{url}/system/functions", auth=("admin", "not-the-password"))
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Basic")
    deploy = client.post(f"{url}/system/functions", json={"service": "x", "image": "y"})
    assert deploy.status_code == 401
    assert ce_target.system("GET", "functions").status_code == 200


def test_deploy_then_cold_and_warm_calls_through_haproxy(ce_target: LocalTarget) -> None:
    assert ce_target.deploy("echo", "echo").status_code == 202
    first = ce_target.invoke("echo", "/sub/path?q=1", x=1)
    assert first.status_code == 200, first.text
    assert first.json()["result"] == {"q": "1", "x": 1}
    assert first.json()["meta"]["cold"] is True
    assert first.headers["x-call-id"]
    assert float(first.headers["x-duration-seconds"]) >= 0
    second = ce_target.client.get(f"{ce_target.url}/function/echo", headers={"X-Call-Id": "c-1"})
    assert second.json()["meta"]["cold"] is False
    assert second.json()["meta"]["instance"] == first.json()["meta"]["instance"]
    assert second.headers["x-call-id"] == "c-1"
    listed = {f["name"]: f for f in ce_target.system("GET", "functions").json()}
    assert listed["echo"]["replicas"] == 1
    assert listed["echo"]["availableReplicas"] == 1
    assert listed["echo"]["invocationCount"] >= 2
    assert listed["echo"]["envVars"] == {"FUNCTION": "echo"}


def test_deployments_are_checked(ce_target: LocalTarget) -> None:
    ce_target.deploy("dup", "echo")
    assert ce_target.deploy("dup", "echo").status_code == 409
    no_function = ce_target.system("POST", "functions", {"service": "anon", "image": "x"})
    assert no_function.status_code == 400
    assert "FUNCTION" in no_function.text
    assert ce_target.deploy("bogus", "no-such-function").status_code == 400
    assert ce_target.deploy("Bad_Name", "echo").status_code == 400
    labelled = ce_target.system(
        "POST",
        "functions",
        {
            "service": "labelled",
            "image": "x",
            "labels": {"com.openfaas.faasbench.function": "echo"},
        },
    )
    assert labelled.status_code == 202
    assert ce_target.invoke("labelled").json()["meta"]["function"] == "echo"
    assert ce_target.invoke("no-such-function").status_code == 404
    for name in ("dup", "labelled"):
        assert ce_target.system("DELETE", "functions", {"functionName": name}).status_code == 200
    assert ce_target.system("DELETE", "functions", {"functionName": "dup"}).status_code == 404
    assert ce_target.system("GET", "function/dup").status_code == 404


def test_scale_to_three_spreads_calls_over_three_instances(ce_target: LocalTarget) -> None:
    ce_target.deploy("spread", "echo")
    assert ce_target.scale("spread", 3).status_code == 202
    ce_target.wait_available("spread", 3)
    instances = {ce_target.invoke("spread").json()["meta"]["instance"] for _ in range(9)}
    assert len(instances) == 3


def test_ce_limits_refuse_six_replicas_and_zero(ce_target: LocalTarget) -> None:
    ce_target.deploy("capped", "echo")
    six = ce_target.scale("capped", 6)
    assert six.status_code == 400
    assert "at most 5 replicas" in six.text
    zero = ce_target.scale("capped", 0)
    assert zero.status_code == 400
    assert "scale to zero" in zero.text
    assert ce_target.status("capped")["replicas"] == 1


def test_put_replaces_every_replica(ce_target: LocalTarget) -> None:
    ce_target.deploy("redeploy", "echo")
    ce_target.scale("redeploy", 2)
    ce_target.wait_available("redeploy", 2)
    before = {ce_target.invoke("redeploy").json()["meta"]["instance"] for _ in range(6)}
    update = {
        "service": "redeploy",
        "image": "faasbench-functions:local",
        "envVars": {"FUNCTION": "echo", "MARK": "2"},
    }
    assert ce_target.system("PUT", "functions", update).status_code == 200
    assert ce_target.status("redeploy")["envVars"]["MARK"] == "2"
    after = [ce_target.invoke("redeploy").json()["meta"] for _ in range(6)]
    assert {m["instance"] for m in after}.isdisjoint(before)
    assert any(m["cold"] for m in after)
    ce_target.wait_available("redeploy", 2)
    missing = {"service": "nothing-here", "image": "x", "envVars": {"FUNCTION": "echo"}}
    assert ce_target.system("PUT", "functions", missing).status_code == 404


def test_ftp_function_downloads_and_verifies_the_seeded_file(ce_target: LocalTarget) -> None:
    ftp = ce_target.outputs["ftp"]
    env = {
        "FTP_HOST": ftp["host"],
        "FTP_PORT": str(ftp["port"]),
        "FTP_USER": ftp["user"],
        "FTP_PASSWORD": ftp["password"],
        "FTP_TEST_FILE": ftp["test_file"],
        "FTP_TEST_FILE_BYTES": str(ftp["test_file_bytes"]),
        "FTP_TEST_FILE_SHA256": ftp["test_file_sha256"],
    }
    assert ce_target.deploy("ftp", "ftp", **env).status_code == 202
    response = ce_target.invoke("ftp")
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["bytes"] == ftp["test_file_bytes"]
    assert result["sha256"] == ftp["test_file_sha256"]
    assert result["verified_bytes"] is True
    assert result["verified_sha256"] is True
    wrong = ce_target.invoke("ftp", password="wrong-password")
    assert wrong.status_code == 500


def test_thumbnail_reads_the_seeded_input_and_stores_its_result(ce_target: LocalTarget) -> None:
    outputs = StackOutputs.model_validate(ce_target.outputs)
    storage = outputs.object_storage
    assert storage is not None
    assert (storage.kind, storage.input_sizes) == ("local", list(thumbnail.SEEDED_SIZES))
    assert storage.endpoint.startswith("http://127.0.0.1:")
    env = function_env("thumbnail", outputs)
    assert env["S3_SECRET_KEY"] == storage.secret_key.get_secret_value()
    assert ce_target.deploy("thumbnail", "thumbnail", **env).status_code == 202
    response = ce_target.invoke("thumbnail", input_size=262144, width=64)
    assert response.status_code == 200, response.text
    document = response.json()
    result = document["result"]
    assert result["input_sha256"] == hashlib.sha256(thumbnail.seed_image(262144)).hexdigest()
    assert set(document["meta"]["timings"]) == {"fetch_ms", "compute_ms", "store_ms"}
    client = S3Client(
        storage.endpoint,
        Credentials(storage.access_key, storage.secret_key.get_secret_value()),
    )
    stored = client.get_object(storage.bucket, result["output_key"])
    assert hashlib.sha256(stored).hexdigest() == result["output_sha256"]
    missing = ce_target.invoke("thumbnail", input_size=5000)
    assert missing.status_code == 500
    assert "no input object inputs/5000.ppm" in missing.json()["error"]


def test_metrics_count_calls_and_measure_replicas(ce_target: LocalTarget) -> None:
    ce_target.deploy("measured", "echo")
    instance = ce_target.invoke("measured").json()["meta"]["instance"]
    ce_target.invoke("measured")
    text = ce_target.client.get(f"{ce_target.url}/metrics").text
    assert 'gateway_function_invocation_total{function_name="measured",code="200"} 2' in text
    assert 'gateway_functions_seconds_count{function_name="measured",code="200"} 2' in text
    assert 'gateway_service_count{function_name="measured"} 1' in text
    labels = f'function_name="measured",container="measured",pod="measured-{instance}"'
    cpu = [line for line in text.splitlines() if line.startswith("container_cpu_usage")]
    memory = [line for line in text.splitlines() if line.startswith("container_memory_working")]
    assert any(labels in line and float(line.split()[-1]) > 0 for line in cpu)
    assert any(labels in line and float(line.split()[-1]) > 1_000_000 for line in memory)


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus is not installed")
def test_prometheus_has_the_replica_memory_series(ce_target: LocalTarget) -> None:
    ce_target.deploy("scraped", "echo")
    instance = ce_target.invoke("scraped").json()["meta"]["instance"]
    url = ce_target.outputs["prometheus"]["url"]

    def series() -> list[dict[str, object]]:
        response = ce_target.client.get(
            f"{url}/api/v1/query",
            params={"query": 'container_memory_working_set_bytes{function_name="scraped"}'},
        )
        assert response.status_code == 200
        return response.json()["data"]["result"]

    found = wait_until(series, timeout=30, what="the series in Prometheus")
    assert found[0]["metric"]["instance_id"] == instance
    assert float(found[0]["value"][1]) > 0


def test_up_when_up_says_so(ce_target: LocalTarget) -> None:
    result = run_cli("up", "--dir", str(ce_target.directory), cwd=ce_target.directory.parent)
    assert result.returncode == 0
    assert "already up" in result.stderr
    assert ce_target.client.get(f"{ce_target.url}/healthz").status_code == 200


def test_function_limit_is_fifteen(ce_target: LocalTarget) -> None:
    present = len(ce_target.system("GET", "functions").json())
    added = []
    for index in range(15 - present):
        name = f"filler-{index}"
        # Zero replicas are refused with CE limits: each filler gets one, started lazily.
        assert ce_target.deploy(name, "echo").status_code == 202
        added.append(name)
    sixteenth = ce_target.deploy("sixteenth", "echo")
    assert sixteenth.status_code == 400
    assert "at most 15 functions" in sixteenth.text
    for name in added:
        ce_target.system("DELETE", "functions", {"functionName": name})


def test_replicas_listen_on_loopback_whatever_the_deployment_says(
    ce_target: LocalTarget,
) -> None:
    assert ce_target.deploy("pinned", "echo", HOST="0.0.0.0", PORT="80").status_code == 202
    assert ce_target.invoke("pinned").status_code == 200
    records = [json.loads(p.read_text()) for p in (ce_target.directory / "replicas").glob("*")]
    ports = [r["port"] for r in records if r["function"] == "pinned"]
    assert len(ports) == 1
    listening = {
        line.split()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[3] == "0A"
    }
    assert f"0100007F:{ports[0]:04X}" in listening
    assert "00000000:0050" not in listening
