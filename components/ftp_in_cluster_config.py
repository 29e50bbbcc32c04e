"""What the in-cluster FTP component renders, kept pure: the pod's vsftpd script and the
Kubernetes manifests (ConfigMap, Deployment, headless Service, NetworkPolicy) of the FTP server
for stacks with no machine of their own (`cloud: existing`); `components.ftp_in_cluster`
applies them.

The image is pinned by its dated tag, and its packages come from snapshot.debian.org at that
same date, so vsftpd and openssl never move under a benchmark. Functions reach the server by
the DNS name of a headless service (the pod's own address, so passive data connections need no
port mapping); a network policy admits pods of the cluster only, on the control port and the
passive range. Nothing is exposed outside the cluster.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from components.remote_step import render_step
from contract.ftp import (
    DEFAULT_MAX_CLIENTS,
    FTP_HOME,
    FTP_PORT,
    FTP_USER,
    TEST_FILE,
    FtpSettings,
    passive_range,
    render_vsftpd,
    seeded_file_key,
    seeded_file_sha256,
)

#: Debian's official image of 2025-12-29 (docker-library repo-info: built from
#: snapshot.debian.org/archive/debian/20251229T000000Z).
FTP_IMAGE = "debian:bookworm-20251229"
APT_SNAPSHOT = "20251229T000000Z"
#: The one vsftpd version bookworm ever had.
VSFTPD_VERSION = "3.0.3-13+b2"
NAMESPACE = "faasbench"
NAME = "ftp"
CREDENTIALS_SECRET = "ftp-credentials"  # noqa: S105 (the Secret object's name)
SCRIPT_DIR = "/opt/faasbench"
LABELS = {"app.kubernetes.io/name": "faasbench-ftp", "app.kubernetes.io/part-of": "faasbench"}


@dataclass(frozen=True)
class FtpPod:
    """What the in-cluster FTP server is made of (plain values)."""

    seed: str
    test_file_bytes: int
    namespace: str = NAMESPACE
    image: str = FTP_IMAGE
    apt_snapshot: str = APT_SNAPSHOT
    vsftpd_version: str = VSFTPD_VERSION
    policy_rc_d: str = "/usr/sbin/policy-rc.d"
    port: int = FTP_PORT
    max_clients: int = DEFAULT_MAX_CLIENTS
    passive_ports: tuple[int, int] | None = None
    """None: sized from `max_clients`."""
    listen_address: str | None = None

    @property
    def passive(self) -> tuple[int, int]:
        """The passive data ports vsftpd uses and the network policy admits."""
        return self.passive_ports or passive_range(self.max_clients)


def ftp_host(namespace: str = NAMESPACE) -> str:
    """The server's name from any pod (the cluster domain comes from the pods' DNS search)."""
    return f"{NAME}.{namespace}.svc"


def ftp_container_script(pod: FtpPod) -> str:
    """The container's command: install from the snapshot, seed, exec vsftpd."""
    config = render_vsftpd(
        FtpSettings(
            user=FTP_USER,
            listen_address=pod.listen_address,
            port=pod.port,
            max_clients=pod.max_clients,
            passive_ports=pod.passive,
            in_container=True,
        )
    )
    return render_step(
        "ftp-container",
        {
            "APT_SNAPSHOT": pod.apt_snapshot,
            "VSFTPD_VERSION": pod.vsftpd_version,
            "POLICY_RC_D": pod.policy_rc_d,
            "FTP_USER": FTP_USER,
            "FTP_HOME": FTP_HOME,
            "TEST_FILE": TEST_FILE,
            "TEST_FILE_BYTES": pod.test_file_bytes,
            "TEST_FILE_KEY": seeded_file_key(pod.seed).hex(),
            "TEST_FILE_SHA256": seeded_file_sha256(pod.seed, pod.test_file_bytes),
            "CONFIG": config,
        },
    )


def ftp_manifests(pod: FtpPod) -> list[dict[str, Any]]:
    """ConfigMap (the script), Deployment, headless Service and NetworkPolicy; the credentials
    Secret is made separately because its value is generated."""
    script = ftp_container_script(pod)
    low, high = pod.passive
    metadata = {"namespace": pod.namespace, "labels": LABELS}
    ports = [{"name": "ftp", "containerPort": pod.port, "protocol": "TCP"}]
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{NAME}-script", **metadata},
            "data": {"ftp.sh": script},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME, **metadata},
            "spec": {
                "replicas": 1,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": LABELS},
                "template": {
                    "metadata": {
                        "labels": LABELS,
                        # A changed script is a changed pod template: the pod is replaced.
                        "annotations": {
                            "faasbench/script-sha256": hashlib.sha256(script.encode()).hexdigest()
                        },
                    },
                    "spec": {
                        "automountServiceAccountToken": False,
                        "containers": [
                            {
                                "name": "vsftpd",
                                "image": pod.image,
                                "imagePullPolicy": "IfNotPresent",
                                "command": ["bash", f"{SCRIPT_DIR}/ftp.sh"],
                                "env": [
                                    {
                                        "name": "FTP_PASSWORD",
                                        "valueFrom": {
                                            "secretKeyRef": {
                                                "name": CREDENTIALS_SECRET,
                                                "key": "password",
                                            }
                                        },
                                    }
                                ],
                                "ports": ports,
                                # Packages come from the snapshot at first start: allow for a
                                # slow mirror before the pod counts as failed.
                                "startupProbe": {
                                    "tcpSocket": {"port": pod.port},
                                    "periodSeconds": 10,
                                    "failureThreshold": 90,
                                },
                                "readinessProbe": {
                                    "tcpSocket": {"port": pod.port},
                                    "periodSeconds": 5,
                                },
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "64Mi"},
                                    "limits": {"memory": "256Mi"},
                                },
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["NET_RAW", "MKNOD"]},
                                },
                                "volumeMounts": [{"name": "script", "mountPath": SCRIPT_DIR}],
                            }
                        ],
                        "volumes": [{"name": "script", "configMap": {"name": f"{NAME}-script"}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": NAME, **metadata},
            "spec": {
                "clusterIP": "None",
                "selector": LABELS,
                "ports": [{"name": "ftp", "port": pod.port, "targetPort": pod.port}],
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
                        "ports": [
                            {"protocol": "TCP", "port": pod.port},
                            {"protocol": "TCP", "port": low, "endPort": high},
                        ],
                    }
                ],
            },
        },
    ]
