"""What the object storage for `thumbnail` is made of, kept pure: the pinned S3-compatible server
(Versity S3 Gateway, posix backend), the seeding job that creates the bucket and uploads the
seeded inputs, and their Kubernetes manifests (Deployment, Service, NetworkPolicy, seeding Job
and the ConfigMap it runs from). `components.object_storage` applies them; a stack has them
only with `objectStorage: true`.

The server keeps objects on an `emptyDir` (a benchmark's inputs are seeded again by the job, its
results are scratch), with object metadata in a sidecar directory, so the volume needs no
extended attributes. Its root account's keys come from a Secret the component fills from a
generated password. Functions reach it by the service's DNS name on port 7070; a network policy
admits pods of the cluster only, and nothing is exposed outside it.

The seeding job runs the suite's own seeding code (`python -m functions.thumbnail seed`: the
sources of `functions/_params.py`, `_s3.py` and `thumbnail.py` in a ConfigMap) in the Python
image the function image is built from, so the cluster holds the very bytes the local target
seeds and the function expects. It retries until the server answers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from functions._s3 import DEFAULT_REGION
from functions.thumbnail import SEEDED_SIZES

#: Versity S3 Gateway v1.7.0 (versity/versitygw tag v1.7.0, 2026-07-14), by tag and digest.
SERVER_IMAGE = (
    "docker.io/versity/versitygw:v1.7.0"
    "@sha256:c4cbd9d9cb8dedbb055ac788dbd02635651b9b1cebac95b095b3217231aa87ad"
)
#: The base of `functions/Dockerfile`: the seeding job runs stdlib Python only.
SEED_IMAGE = "python:3.12.8-slim-bookworm"
KIND = "versitygw"
#: Its own namespace: the in-cluster FTP server owns `faasbench`.
NAMESPACE = "faasbench-storage"
NAME = "object-storage"
SEED_JOB = "object-storage-seed"
CREDENTIALS_SECRET = "object-storage-credentials"  # noqa: S105 (the Secret object's name)
PORT = 7070
BUCKET = "faasbench"
ACCESS_KEY = "faasbench"
REGION = DEFAULT_REGION
#: The largest the data volume may grow (seeded inputs plus every stored thumbnail).
DATA_LIMIT = "20Gi"
LABELS = {
    "app.kubernetes.io/name": "faasbench-object-storage",
    "app.kubernetes.io/part-of": "faasbench",
}
SEED_LABELS = {
    "app.kubernetes.io/name": "faasbench-object-storage-seed",
    "app.kubernetes.io/part-of": "faasbench",
}
#: The suite's modules the seeding job imports (`functions/<name>.py`).
SEED_MODULES = ("__init__", "_params", "_s3", "thumbnail")
_FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"
SEED_DIR = "/opt/faasbench"
SEED_COMMAND = ["python", "-m", "functions.thumbnail", "seed"]


@dataclass(frozen=True)
class ObjectStorage:
    """The server and its seeding, as plain values."""

    namespace: str = NAMESPACE
    image: str = SERVER_IMAGE
    seed_image: str = SEED_IMAGE
    port: int = PORT
    bucket: str = BUCKET
    access_key: str = ACCESS_KEY
    region: str = REGION
    sizes: tuple[int, ...] = SEEDED_SIZES


def endpoint(storage: ObjectStorage) -> str:
    """The server as functions reach it (the cluster domain comes from the pods' DNS search)."""
    return f"http://{NAME}.{storage.namespace}.svc:{storage.port}"


def seed_sources() -> dict[str, str]:
    """ConfigMap key -> source of the modules the seeding job runs."""
    return {f"{name}.py": (_FUNCTIONS / f"{name}.py").read_text() for name in SEED_MODULES}


def server_args(storage: ObjectStorage) -> list[str]:
    """versitygw's command line: listen on the port, posix backend on /data, metadata in a
    sidecar directory (no extended attributes needed on the volume)."""
    return ["--port", f":{storage.port}", "posix", "--sidecar", "/meta", "/data"]


def _key_ref(key: str) -> dict[str, Any]:
    return {"secretKeyRef": {"name": CREDENTIALS_SECRET, "key": key}}


def object_storage_manifests(storage: ObjectStorage) -> list[dict[str, Any]]:
    """Deployment, Service, NetworkPolicy, the seeding ConfigMap and Job; the credentials Secret
    is made separately because its value is generated."""
    metadata = {"namespace": storage.namespace, "labels": LABELS}
    sources = seed_sources()
    digest = hashlib.sha256("".join(sources[k] for k in sorted(sources)).encode()).hexdigest()
    security = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["NET_RAW", "MKNOD"]}}
    server = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, **metadata},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": "versitygw",
                            "image": storage.image,
                            "imagePullPolicy": "IfNotPresent",
                            "args": server_args(storage),
                            "env": [
                                {"name": "ROOT_ACCESS_KEY_ID", "valueFrom": _key_ref("access")},
                                {
                                    "name": "ROOT_SECRET_ACCESS_KEY",
                                    "valueFrom": _key_ref("secret"),
                                },
                                {"name": "VGW_REGION", "value": storage.region},
                            ],
                            "ports": [{"name": "s3", "containerPort": storage.port}],
                            "readinessProbe": {
                                "tcpSocket": {"port": storage.port},
                                "periodSeconds": 5,
                            },
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"memory": "1Gi"},
                            },
                            "securityContext": security,
                            "volumeMounts": [
                                {"name": "data", "mountPath": "/data"},
                                {"name": "meta", "mountPath": "/meta"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "data", "emptyDir": {"sizeLimit": DATA_LIMIT}},
                        {"name": "meta", "emptyDir": {}},
                    ],
                },
            },
        },
    }
    seed_env = [
        {"name": "S3_ENDPOINT", "value": endpoint(storage)},
        {"name": "S3_BUCKET", "value": storage.bucket},
        {"name": "S3_REGION", "value": storage.region},
        {"name": "S3_ACCESS_KEY", "valueFrom": _key_ref("access")},
        {"name": "S3_SECRET_KEY", "valueFrom": _key_ref("secret")},
    ]
    seed = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": SEED_JOB, "namespace": storage.namespace, "labels": SEED_LABELS},
        "spec": {
            # Retries until the server answers (a pulled image, a ready pod).
            "backoffLimit": 20,
            "template": {
                "metadata": {
                    "labels": SEED_LABELS,
                    "annotations": {"faasbench/seed-sha256": digest},
                },
                "spec": {
                    "restartPolicy": "OnFailure",
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": "seed",
                            "image": storage.seed_image,
                            "imagePullPolicy": "IfNotPresent",
                            # `-m` puts the working directory first on the path.
                            "command": SEED_COMMAND,
                            "workingDir": SEED_DIR,
                            "env": seed_env,
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"memory": "512Mi"},
                            },
                            "securityContext": security,
                            "volumeMounts": [
                                {"name": "functions", "mountPath": f"{SEED_DIR}/functions"}
                            ],
                        }
                    ],
                    "volumes": [{"name": "functions", "configMap": {"name": SEED_JOB}}],
                },
            },
        },
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": SEED_JOB, **metadata},
            "data": sources,
        },
        server,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": NAME, **metadata},
            "spec": {
                "selector": LABELS,
                "ports": [{"name": "s3", "port": storage.port, "targetPort": storage.port}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": NAME, **metadata},
            "spec": {
                "podSelector": {"matchLabels": LABELS},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"namespaceSelector": {}}],
                        "ports": [{"protocol": "TCP", "port": storage.port}],
                    }
                ],
            },
        },
        seed,
    ]


def object_storage_outputs(
    storage: ObjectStorage, endpoint_url: object, secret_key: object
) -> dict[str, object]:
    """The `object_storage` output of the contract."""
    return {
        "endpoint": endpoint_url,
        "bucket": storage.bucket,
        "region": storage.region,
        "access_key": storage.access_key,
        "secret_key": secret_key,
        "input_sizes": list(storage.sizes),
        "kind": KIND,
    }


# --- Docker Swarm ----------------------------------------------------------------------------

SWARM_STACK = "faasbench-storage"
#: OpenFaaS's attachable overlay (stack `func`, network `functions`), where functions run.
SWARM_NETWORK = "func_functions"
SWARM_SECRET = "object-storage-secret-key"  # noqa: S105 (the Docker secret's name)
#: The service's own name resolves on every network it joins, whatever a function is called.
SWARM_HOST = f"{SWARM_STACK}_{NAME}"
#: The server reads the root key from environment variables only: a shell sets them from the
#: Docker secret file, so no key is in the service's spec (`$$`: compose's literal `$`).
_SWARM_ENTRYPOINT = 'ROOT_SECRET_ACCESS_KEY="$$(cat /run/secrets/{secret})" exec versitygw "$$@"'


def swarm_endpoint(storage: ObjectStorage) -> str:
    return f"http://{SWARM_HOST}:{storage.port}"


def swarm_compose(storage: ObjectStorage) -> dict[str, object]:
    """The stack `faasbench-storage`: the server on the manager (named volumes there), on
    OpenFaaS's functions overlay and no other network, no published port."""
    return {
        "version": "3.8",
        "services": {
            NAME: {
                "image": storage.image,
                "entrypoint": [
                    "/bin/sh",
                    "-c",
                    _SWARM_ENTRYPOINT.format(secret=SWARM_SECRET),
                    "versitygw",
                ],
                "command": server_args(storage),
                "environment": {
                    "ROOT_ACCESS_KEY_ID": storage.access_key,
                    "VGW_REGION": storage.region,
                },
                "secrets": [SWARM_SECRET],
                "networks": ["functions"],
                "volumes": ["data:/data", "meta:/meta"],
                "deploy": {
                    "replicas": 1,
                    "placement": {"constraints": ["node.role == manager"]},
                    "restart_policy": {"condition": "any", "delay": "5s"},
                    "resources": {"limits": {"memory": "1G"}},
                },
            }
        },
        "networks": {"functions": {"external": True, "name": SWARM_NETWORK}},
        "secrets": {SWARM_SECRET: {"external": True}},
        "volumes": {"data": {}, "meta": {}},
    }


def render_swarm_compose(storage: ObjectStorage) -> str:
    return yaml.safe_dump(swarm_compose(storage), sort_keys=False)


def swarm_step_params(storage: ObjectStorage, ready_timeout_s: int) -> dict[str, str | int]:
    """The `object-storage-swarm` step's parameters (the secret key is its one secret)."""
    sources = seed_sources()
    return {
        "COMPOSE": render_swarm_compose(storage),
        "NETWORK": SWARM_NETWORK,
        "ENDPOINT": swarm_endpoint(storage),
        "BUCKET": storage.bucket,
        "ACCESS_KEY": storage.access_key,
        "REGION": storage.region,
        "SEED_IMAGE": storage.seed_image,
        "SEED_INIT_PY": sources["__init__.py"],
        "SEED_PARAMS_PY": sources["_params.py"],
        "SEED_S3_PY": sources["_s3.py"],
        "SEED_THUMBNAIL_PY": sources["thumbnail.py"],
        "READY_TIMEOUT_S": ready_timeout_s,
    }


# --- Nomad -----------------------------------------------------------------------------------

NOMAD_JOB = "object-storage"
NOMAD_VARIABLE = f"nomad/jobs/{NOMAD_JOB}"
_SECOND_NS = 1_000_000_000
#: Delimiters of the templates that carry Python sources: nothing in them is a template.
_SOURCE_DELIMITERS = {"LeftDelim": "[[faasbench:", "RightDelim": ":faasbench]]"}


def _secret_key_env(name: str) -> dict[str, object]:
    """A template that puts the root secret key, from the job's Nomad Variable, in the task's
    environment as `name` (a file in the task's secrets/ directory, never in the job)."""
    return {
        "DestPath": f"secrets/{name.lower()}.env",
        "EmbeddedTmpl": (
            f'{name}={{{{ with nomadVar "{NOMAD_VARIABLE}" }}}}{{{{ .secret_key }}}}{{{{ end }}}}\n'
        ),
        "ChangeMode": "restart",
        "Envvars": True,
        "Perms": "0400",
    }


def nomad_endpoint(storage: ObjectStorage, worker_ip: str) -> str:
    return f"http://{worker_ip}:{storage.port}"


def nomad_job(storage: ObjectStorage, worker_ip: str, datacenter: str) -> dict[str, object]:
    """The `Job` of `POST /v1/jobs`: the server on the worker `worker_ip` (its port published
    there, on the private network), and a poststart task in the same group that seeds it over
    the group's shared localhost, retried by the restart policy until the server answers."""
    sources = seed_sources()
    server = {
        "Name": "versitygw",
        "Driver": "docker",
        "Config": {"image": storage.image, "args": server_args(storage)},
        "Env": {"ROOT_ACCESS_KEY_ID": storage.access_key, "VGW_REGION": storage.region},
        "Templates": [_secret_key_env("ROOT_SECRET_ACCESS_KEY")],
        "Resources": {"CPU": 200, "MemoryMB": 512},
        "LogConfig": {"MaxFiles": 5, "MaxFileSizeMB": 10},
    }
    seed = {
        "Name": "seed",
        "Driver": "docker",
        "Lifecycle": {"Hook": "poststart", "Sidecar": False},
        "Config": {
            "image": storage.seed_image,
            "command": SEED_COMMAND[0],
            "args": SEED_COMMAND[1:],
            "work_dir": "/local",
        },
        "Env": {
            "S3_ENDPOINT": f"http://127.0.0.1:{storage.port}",
            "S3_BUCKET": storage.bucket,
            "S3_REGION": storage.region,
            "S3_ACCESS_KEY": storage.access_key,
        },
        "Templates": [
            _secret_key_env("S3_SECRET_KEY"),
            *(
                {
                    "DestPath": f"local/functions/{name}",
                    "EmbeddedTmpl": text,
                    "ChangeMode": "noop",
                    "Perms": "0444",
                    **_SOURCE_DELIMITERS,
                }
                for name, text in sorted(sources.items())
            ),
        ],
        "Resources": {"CPU": 100, "MemoryMB": 256},
        "LogConfig": {"MaxFiles": 2, "MaxFileSizeMB": 5},
    }
    return {
        "ID": NOMAD_JOB,
        "Name": NOMAD_JOB,
        "Type": "service",
        "Namespace": "default",
        "Datacenters": [datacenter],
        "Constraints": [
            {
                "LTarget": "${attr.unique.network.ip-address}",
                "RTarget": worker_ip,
                "Operand": "=",
            }
        ],
        "TaskGroups": [
            {
                "Name": NOMAD_JOB,
                "Count": 1,
                "Networks": [
                    {
                        "Mode": "bridge",
                        "ReservedPorts": [
                            {"Label": "s3", "Value": storage.port, "To": storage.port}
                        ],
                    }
                ],
                "RestartPolicy": {
                    "Attempts": 30,
                    "Interval": 1800 * _SECOND_NS,
                    "Delay": 10 * _SECOND_NS,
                    "Mode": "delay",
                },
                "Tasks": [server, seed],
            }
        ],
    }


def render_nomad_job(storage: ObjectStorage, worker_ip: str, datacenter: str) -> str:
    return json.dumps({"Job": nomad_job(storage, worker_ip, datacenter)}, indent=1)


def nomad_variable_body(secret_key: str) -> str:
    """The PUT /v1/var body of the job's variable (the one secret)."""
    return json.dumps(
        {"Namespace": "default", "Path": NOMAD_VARIABLE, "Items": {"secret_key": secret_key}}
    )
