"""The object storage for `thumbnail` (`objectStorage: true`): its manifests against the
Kubernetes API schema, its Swarm stack against `docker stack config`, a private and pinned
server, the seeding command run for real from the shipped sources against an S3 server on
127.0.0.1, the Swarm entrypoint's shell, the Nomad job's fields, and the component under
mocks."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from support.nomad_api import check_fields

from components.object_storage_config import (
    SEED_IMAGE,
    SERVER_IMAGE,
    ObjectStorage,
    endpoint,
    nomad_variable_body,
    object_storage_manifests,
    render_nomad_job,
    render_swarm_compose,
    seed_sources,
    swarm_compose,
    swarm_step_params,
)
from components.remote_step import render_step
from functions import thumbnail
from functions._s3 import Credentials, S3Client
from loadgen.local.s3_server import S3Config, make_server

KUBERNETES_VERSIONS = ["1.32.0", "1.36.0"]


def by_kind(storage: ObjectStorage | None = None) -> dict[str, dict[str, Any]]:
    return {m["kind"]: m for m in object_storage_manifests(storage or ObjectStorage())}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_are_valid_kubernetes_objects(version: str) -> None:
    manifests = object_storage_manifests(ObjectStorage())
    assert [m["kind"] for m in manifests] == [
        "ConfigMap",
        "Deployment",
        "Service",
        "NetworkPolicy",
        "Job",
    ]
    for manifest in manifests:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_the_server_is_pinned_private_and_keyed_from_the_secret() -> None:
    manifests = by_kind()
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == SERVER_IMAGE
    assert "@sha256:" in SERVER_IMAGE
    assert container["args"] == ["--port", ":7070", "posix", "--sidecar", "/meta", "/data"]
    keys = {e["name"]: e.get("valueFrom") for e in container["env"]}
    assert keys["ROOT_ACCESS_KEY_ID"] == {
        "secretKeyRef": {"name": "object-storage-credentials", "key": "access"}
    }
    assert keys["ROOT_SECRET_ACCESS_KEY"] == {
        "secretKeyRef": {"name": "object-storage-credentials", "key": "secret"}
    }
    assert pod["automountServiceAccountToken"] is False
    service = manifests["Service"]["spec"]
    assert "type" not in service  # ClusterIP: nothing outside the cluster reaches it
    assert manifests["NetworkPolicy"]["spec"]["ingress"] == [
        {"from": [{"namespaceSelector": {}}], "ports": [{"protocol": "TCP", "port": 7070}]}
    ]
    assert endpoint(ObjectStorage()) == "http://object-storage.faasbench-storage.svc:7070"


def test_the_seeding_job_runs_the_suites_code_from_its_configmap() -> None:
    manifests = by_kind()
    sources = manifests["ConfigMap"]["data"]
    root = Path(__file__).resolve().parents[2]
    for name in ("__init__.py", "_params.py", "_s3.py", "thumbnail.py"):
        assert sources[name] == (root / "functions" / name).read_text()
    job = manifests["Job"]["spec"]["template"]
    [container] = job["spec"]["containers"]
    assert container["image"] == SEED_IMAGE
    assert container["command"] == ["python", "-m", "functions.thumbnail", "seed"]
    assert container["workingDir"] == "/opt/faasbench"
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["S3_ENDPOINT"] == "http://object-storage.faasbench-storage.svc:7070"
    assert env["S3_SECRET_KEY"] == {
        "secretKeyRef": {"name": "object-storage-credentials", "key": "secret"}
    }
    digest = hashlib.sha256("".join(sources[k] for k in sorted(sources)).encode()).hexdigest()
    assert job["metadata"]["annotations"]["faasbench/seed-sha256"] == digest


def test_the_seeding_command_uploads_every_seeded_input(tmp_path: Path) -> None:
    """The ConfigMap's files, laid out as the Job mounts them, run by an interpreter that sees
    nothing else (`-S -E`: no site-packages, where the repository is installed, no PYTHONPATH)
    against an S3 server on 127.0.0.1."""
    package = tmp_path / "opt" / "functions"
    package.mkdir(parents=True)
    for name, text in seed_sources().items():
        (package / name).write_text(text)
    config = S3Config(
        root=tmp_path / "s3", access_key="faasbench", secret_key="k" * 40, addr_file=tmp_path / "a"
    )
    server = make_server(config)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "S3_ENDPOINT": f"http://{host}:{port}",
            "S3_BUCKET": "faasbench",
            "S3_ACCESS_KEY": "faasbench",
            "S3_SECRET_KEY": "k" * 40,
        }
        completed = subprocess.run(
            [sys.executable, "-S", "-E", "-m", "functions.thumbnail", "seed"],
            cwd=package.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        client = S3Client(f"http://{host}:{port}", Credentials("faasbench", "k" * 40))
        for size in thumbnail.SEEDED_SIZES:
            data = client.get_object("faasbench", thumbnail.input_key(size))
            assert data == thumbnail.seed_image(size)
            assert f"{thumbnail.input_key(size)} sha256 {hashlib.sha256(data).hexdigest()}" in (
                completed.stdout
            )
        env["S3_SECRET_KEY"] = "wrong"
        refused = subprocess.run(
            [sys.executable, "-S", "-E", "-m", "functions.thumbnail", "seed"],
            cwd=package.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert refused.returncode == 1
    assert "403 SignatureDoesNotMatch" in refused.stderr
    assert "wrong" not in refused.stderr


def test_the_component_under_mocks_keeps_the_secret_key_in_the_secret_only() -> None:
    import pulumi_kubernetes as k8s
    from pydantic import SecretStr
    from support.pulumi_mocks import FAKE_KUBECONFIG, resolve, run_under_mocks

    from components.existing_cluster import ExistingCluster, ExistingClusterArgs
    from components.object_storage import ObjectStorageArgs, ObjectStorageInCluster

    def body() -> dict[str, object]:
        cluster = ExistingCluster(
            "k8s", ExistingClusterArgs(kubeconfig=SecretStr(FAKE_KUBECONFIG), storage_class=None)
        )
        assert isinstance(cluster.provider, k8s.Provider)
        storage = ObjectStorageInCluster("object-storage", ObjectStorageArgs(cluster.provider))
        return {k: resolve(v) for k, v in storage.outputs.items()}

    mocks, outputs = run_under_mocks(body, stack="lab")
    assert outputs["endpoint"] == "http://object-storage.faasbench-storage.svc:7070"
    assert outputs["input_sizes"] == [4096, 262144, 4194304]
    assert (outputs["bucket"], outputs["access_key"], outputs["kind"]) == (
        "faasbench",
        "faasbench",
        "versitygw",
    )
    [secret] = [
        r
        for r in mocks.of_type("kubernetes:core/v1:Secret")
        if r.name == "object-storage-credentials"
    ]
    assert secret.inputs["stringData"]["secret"] == outputs["secret_key"]
    assert "stringData" in secret.secret_inputs
    [group] = mocks.of_type("kubernetes:yaml/v2:ConfigGroup")
    assert str(outputs["secret_key"]) not in str(group.inputs)
    [namespace] = mocks.of_type("kubernetes:core/v1:Namespace")
    assert namespace.inputs["metadata"]["name"] == "faasbench-storage"


# --- Docker Swarm ----------------------------------------------------------------------------


def test_docker_accepts_the_swarm_stack(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(render_swarm_compose(ObjectStorage()))
    result = subprocess.run(
        ["docker", "stack", "config", "--compose-file", "docker-compose.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    merged = yaml.safe_load(result.stdout)
    service = merged["services"]["object-storage"]
    assert service["image"] == SERVER_IMAGE
    assert "ports" not in service  # nothing published: the overlay only
    assert service["networks"] == {"functions": None}
    assert merged["networks"]["functions"] == {"name": "func_functions", "external": True}
    assert service["secrets"] == [{"source": "object-storage-secret-key"}]
    assert service["deploy"]["placement"]["constraints"] == ["node.role == manager"]
    # The key reaches the server from the secret file, read by a shell: `$$` became `$`.
    entrypoint = service["entrypoint"]
    assert entrypoint[:2] == ["/bin/sh", "-c"]
    assert entrypoint[2] == (
        'ROOT_SECRET_ACCESS_KEY="$(cat /run/secrets/object-storage-secret-key)" exec versitygw "$@"'
    )
    assert "ROOT_SECRET_ACCESS_KEY" not in service["environment"]


def test_the_swarm_entrypoint_hands_the_secret_file_to_the_server(tmp_path: Path) -> None:
    """The entrypoint's shell, with the secret path moved into a temporary directory and a
    stand-in `versitygw` that prints what it gets."""
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "object-storage-secret-key").write_text("the-generated-key")
    (tmp_path / "versitygw").write_text(
        '#!/bin/sh\necho "key=$ROOT_SECRET_ACCESS_KEY id=$ROOT_ACCESS_KEY_ID args=$*"\n'
    )
    (tmp_path / "versitygw").chmod(0o755)
    services: Any = swarm_compose(ObjectStorage())["services"]
    service = services["object-storage"]
    script = service["entrypoint"][2].replace("$$", "$").replace("/run/secrets", str(secrets_dir))
    result = subprocess.run(
        ["/bin/sh", "-c", script, "versitygw", *service["command"]],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", **service["environment"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == (
        "key=the-generated-key id=faasbench args=--port :7070 posix --sidecar /meta /data"
    )


def test_the_swarm_step_seeds_with_the_suites_sources() -> None:
    params = swarm_step_params(ObjectStorage(), 60)
    root = Path(__file__).resolve().parents[2]
    assert params["SEED_THUMBNAIL_PY"] == (root / "functions" / "thumbnail.py").read_text()
    assert params["ENDPOINT"] == "http://faasbench-storage_object-storage:7070"
    assert params["NETWORK"] == "func_functions"
    script = render_step("object-storage-swarm", params, {"SECRET_KEY": "k"})
    assert "python -m functions.thumbnail seed" in script
    assert "-e S3_SECRET_KEY " in script


# --- Nomad -----------------------------------------------------------------------------------


def test_the_nomad_job_uses_nomads_fields_and_runs_on_the_worker() -> None:
    body = json.loads(render_nomad_job(ObjectStorage(), "10.0.2.21", "dc1"))
    job = body["Job"]
    assert check_fields("Job", job, "Job") > 10
    assert job["Constraints"] == [
        {"LTarget": "${attr.unique.network.ip-address}", "RTarget": "10.0.2.21", "Operand": "="}
    ]
    [group] = job["TaskGroups"]
    assert group["Networks"] == [
        {"Mode": "bridge", "ReservedPorts": [{"Label": "s3", "Value": 7070, "To": 7070}]}
    ]
    server, seed = group["Tasks"]
    assert server["Config"] == {
        "image": SERVER_IMAGE,
        "args": ["--port", ":7070", "posix", "--sidecar", "/meta", "/data"],
    }
    assert seed["Lifecycle"] == {"Hook": "poststart", "Sidecar": False}
    assert seed["Config"]["image"] == SEED_IMAGE
    assert seed["Env"]["S3_ENDPOINT"] == "http://127.0.0.1:7070"
    # The key comes from the job's Nomad Variable through templates, never from the job.
    for task, name in ((server, "ROOT_SECRET_ACCESS_KEY"), (seed, "S3_SECRET_KEY")):
        [key] = [t for t in task["Templates"] if t.get("Envvars")]
        assert key["EmbeddedTmpl"] == (
            f'{name}={{{{ with nomadVar "nomad/jobs/object-storage" }}}}'
            "{{ .secret_key }}{{ end }}\n"
        )
        assert key["DestPath"].startswith("secrets/")
    sources = {
        t["DestPath"]: t for t in seed["Templates"] if t["DestPath"].startswith("local/functions")
    }
    assert {path: t["EmbeddedTmpl"] for path, t in sources.items()} == {
        f"local/functions/{name}": text for name, text in seed_sources().items()
    }
    for template in sources.values():
        delimiters = (template["LeftDelim"], template["RightDelim"])
        assert not any(d in template["EmbeddedTmpl"] for d in delimiters)
    body_variable = json.loads(nomad_variable_body("generated"))
    assert body_variable == {
        "Namespace": "default",
        "Path": "nomad/jobs/object-storage",
        "Items": {"secret_key": "generated"},
    }
    assert "generated" not in render_nomad_job(ObjectStorage(), "10.0.2.21", "dc1")
