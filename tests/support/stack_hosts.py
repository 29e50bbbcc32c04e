"""A stack's machines as the remote-step tests see them: what every machine downloads and
installs (`world`), its steps grouped per host, the generated secrets to look for in command
lines, and a runner that runs a host's steps twice and checks the second run changes nothing."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
from pathlib import Path
from typing import Any

from components import faas_swarm_image
from support.pulumi_mocks import STEP_STDOUT, ProgramRun, Recorded, swarm_node_id
from support.sandbox import Sandbox

K3S_BINARY = "#!/bin/sh\necho fake k3s\n"
DOCKER_KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\ndocker\n-----END PGP PUBLIC KEY BLOCK-----"
HASHICORP_KEY = (
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\nhashicorp\n-----END PGP PUBLIC KEY BLOCK-----"
)
CNI_VERSION = "v9.9.9"


def cni_tarball() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for plugin in ("bridge", "host-local", "loopback", "portmap"):
            data = f"#!/bin/sh\necho {plugin}\n".encode()
            info = tarfile.TarInfo(f"./{plugin}")
            info.size = len(data)
            info.mode = 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


CNI_TGZ = cni_tarball()
#: What the fake GitHub serves for the pinned faas-swarm commit (a Go package's shape).
FAAS_SWARM_SOURCE = {
    "main.go": "package main\n",
    "vendor/modules.txt": "# github.com/docker/docker\n",
    "handlers/deploy.go": "package handlers\n",
}
CONFIG_OVERRIDES = {
    "workerCount": "2",
    "cniPluginsVersion": CNI_VERSION,
    "cniPluginsSha256": hashlib.sha256(CNI_TGZ).hexdigest(),
}


def world(run: ProgramRun) -> dict[str, Any]:
    """What every machine of the stack sees: downloads, package versions, cluster facts."""
    k3s_base = "https://github.com/k3s-io/k3s/releases/download/v1.36.3%2Bk3s1"
    k3s_sha = hashlib.sha256(K3S_BINARY.encode()).hexdigest()
    cni_url = (
        f"https://github.com/containernetworking/plugins/releases/download/{CNI_VERSION}/"
        f"cni-plugins-linux-amd64-{CNI_VERSION}.tgz"
    )
    distro = "~ubuntu.24.04~noble"
    randoms = {r.name: r.outputs.get("result") for r in run.mocks.resources}
    workers = [f"faasbench-aws-worker-{i}" for i in range(2)]
    return {
        "urls": {
            f"{k3s_base}/k3s": K3S_BINARY,
            f"{k3s_base}/sha256sum-amd64.txt": f"{k3s_sha}  k3s\n0000  k3s-airgap.tar\n",
            "https://download.docker.com/linux/ubuntu/gpg": DOCKER_KEY,
            "https://apt.releases.hashicorp.com/gpg": HASHICORP_KEY,
            cni_url: {"base64": base64.b64encode(CNI_TGZ).decode()},
            "http://127.0.0.1:8080/healthz": "OK",
            **{f"http://{ip}:8080/healthz": "OK" for ip in run.value("nodes.workers")[:1]},
        },
        "gpg_keys": {
            DOCKER_KEY: "9DC858229FC7DD38854AE2D88D81803C0EBFCD88",
            HASHICORP_KEY: "798AEC654E5C15428C8E42EEAA16FCBCA621E701",
        },
        "available": {
            "containerd.io": [f"1.7.29-1{distro}"],
            "docker-ce": [f"5:28.5.2-1{distro}"],
            "docker-ce-cli": [f"5:28.5.2-1{distro}"],
            "nomad": ["1.11.3-1"],
            "consul": ["1.22.6-1"],
            "vault": ["1.21.0-1"],
            "haproxy": ["2.8.5-1ubuntu3.3"],
            "vsftpd": ["3.0.5-0ubuntu3.1"],
        },
        "git_remotes": {
            faas_swarm_image.SOURCE_URL: {faas_swarm_image.SOURCE_COMMIT: FAAS_SWARM_SOURCE}
        },
        "consul_management_token": randoms.get("nomad-consul-management"),
        "expected_swarm_token": STEP_STDOUT["swarm-join-token"].strip(),
        "nomad_nodes": dict.fromkeys(workers, "ready"),
        "swarm_nodes": {swarm_node_id(ip): "ready" for ip in run.value("nodes.workers")},
    }


def steps_by_host(run: ProgramRun) -> dict[str, list[Recorded]]:
    hosts: dict[str, list[Recorded]] = {}
    for step in run.mocks.of_type("command:remote:Command"):
        hosts.setdefault(step.inputs["connection"]["host"], []).append(step)
    return hosts


def secrets_of(run: ProgramRun) -> set[str]:
    """Generated credentials (a Consul accessor id only names a token: not one of them)."""
    values = {
        r.outputs.get("result") or r.outputs.get("base64")
        for r in run.mocks.resources
        if r.typ.startswith("random:") and not r.name.endswith("-accessor")
    }
    values.add(STEP_STDOUT["swarm-join-token"].strip())
    return {v for v in values if v}


#: Calls that change a machine; a second run of a step must make none of them.
MUTATING = [
    re.compile(p)
    for p in (
        r"^apt-get .*\b(install|update)\b",
        r"^systemctl (restart|stop)\b",
        r"^curl .*--output",
        r"^curl .*--request (PUT|POST) .*(/swarm/join|/v1/acl/|/v1/sys/unseal|/token/create)",
        r"^docker (swarm init|swarm leave|network (create|rm))",
        r"^docker (stack (deploy|rm)|secret (create|rm)|run)\b",
        r"^vault (operator init|secrets enable|write)",
        r"^nomad setup",
        r"^gpg .*--dearmor",
        r"^docker (build|push|login|container (run|rm|start))\b",
        r"^git (-C \S+ )?(init|fetch|clone)\b",
    )
]


def mutations(calls: list[list[str]]) -> list[str]:
    lines = [" ".join(call) for call in calls]
    return [line for line in lines if any(p.search(line) for p in MUTATING)]


def run_host(tmp: Path, host: str, steps: list[Recorded], state: dict[str, Any]) -> Sandbox:
    sandbox = Sandbox.create(tmp / host, state)
    for index in range(2):
        sandbox.clear_calls()
        for step in steps:
            sandbox.run(step.inputs["stdin"], ip=host)
        if index == 1:
            changed = mutations(sandbox.calls())
            assert changed == [], f"second run on {host} changed things: {changed}"
    return sandbox
