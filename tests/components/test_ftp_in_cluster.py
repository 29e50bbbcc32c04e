"""The in-cluster FTP server (existing clusters): its manifests against the Kubernetes API
schema, its container command run for real in a sandbox (fake apt, real vsftpd on 127.0.0.1),
and the component under mocks."""

from __future__ import annotations

import ftplib
import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import kubernetes_validate
import pytest
from support.sandbox import Sandbox
from support.servers import free_port, free_port_range

from components.ftp_in_cluster_config import (
    FTP_IMAGE,
    FtpPod,
    ftp_container_script,
    ftp_host,
    ftp_manifests,
)
from contract.ftp import seeded_file_sha256

PASSWORD = "GENSECRETftpcluster0123456789abc"
SIZE = 300_001
SEED = "faasbench-lab-ftp-test-file"
#: The oldest Kubernetes still supported upstream when this was written, and the newest schema.
KUBERNETES_VERSIONS = ["1.32.0", "1.36.0"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_are_valid_kubernetes_objects(version: str) -> None:
    manifests = ftp_manifests(FtpPod(seed=SEED, test_file_bytes=SIZE))
    assert [m["kind"] for m in manifests] == [
        "ConfigMap",
        "Deployment",
        "Service",
        "NetworkPolicy",
    ]
    for manifest in manifests:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_the_pod_is_pinned_private_and_gets_its_password_from_a_secret() -> None:
    manifests = {m["kind"]: m for m in ftp_manifests(FtpPod(seed=SEED, test_file_bytes=SIZE))}
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == FTP_IMAGE
    assert ":" in FTP_IMAGE
    assert not FTP_IMAGE.endswith(":latest")
    [env] = container["env"]
    assert env["valueFrom"]["secretKeyRef"] == {"name": "ftp-credentials", "key": "password"}
    assert pod["automountServiceAccountToken"] is False
    service = manifests["Service"]["spec"]
    # Headless: the name resolves to the pod, so passive data ports need no mapping.
    assert service["clusterIP"] == "None"
    assert "type" not in service
    ingress = manifests["NetworkPolicy"]["spec"]["ingress"]
    assert ingress == [
        {
            "from": [{"namespaceSelector": {}}],
            "ports": [
                {"protocol": "TCP", "port": 21},
                {"protocol": "TCP", "port": 20000, "endPort": 21999},
            ],
        }
    ]
    script = manifests["ConfigMap"]["data"]["ftp.sh"]
    assert "APT_SNAPSHOT=20251229T000000Z" in script
    assert "seccomp_sandbox=NO" in script
    assert "listen_address" not in script
    assert "pasv_address" not in script
    annotations = manifests["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["faasbench/script-sha256"] == hashlib.sha256(script.encode()).hexdigest()
    assert ftp_host() == "ftp.faasbench.svc"


def test_the_passive_range_and_its_policy_follow_the_sessions_allowed() -> None:
    manifests = {
        m["kind"]: m for m in ftp_manifests(FtpPod(seed=SEED, test_file_bytes=SIZE, max_clients=50))
    }
    [rule] = manifests["NetworkPolicy"]["spec"]["ingress"]
    assert rule["ports"][1] == {"protocol": "TCP", "port": 20000, "endPort": 20199}
    script = manifests["ConfigMap"]["data"]["ftp.sh"]
    assert "pasv_min_port=20000" in script
    assert "pasv_max_port=20199" in script
    assert "max_clients=50" in script


def test_a_changed_test_file_changes_the_pod_template() -> None:
    def annotation(size: int) -> str:
        deployment = ftp_manifests(FtpPod(seed=SEED, test_file_bytes=size))[1]
        return deployment["spec"]["template"]["metadata"]["annotations"]["faasbench/script-sha256"]

    assert annotation(SIZE) != annotation(SIZE + 1)


def wait_for_ftp(port: int, server: object) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            ftplib.FTP().connect("127.0.0.1", port, timeout=1)
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:  # type: ignore[attr-defined]
                output = server.stdout.read() if server.stdout else ""  # type: ignore[attr-defined]
                raise AssertionError(f"vsftpd did not start: {output}") from None
            time.sleep(0.1)


@pytest.fixture
def container(tmp_path: Path) -> Iterator[tuple[int, Sandbox]]:
    port = free_port()
    pod = FtpPod(
        seed=SEED,
        test_file_bytes=SIZE,
        port=port,
        max_clients=4,
        passive_ports=free_port_range(4),
        listen_address="127.0.0.1",
        policy_rc_d="/usr/local/sbin/policy-rc.d",
    )
    sandbox = Sandbox.create(
        tmp_path / "pod",
        {"available": {"vsftpd": ["3.0.3-13+b2"], "openssl": ["3.0.17-1~deb12u3"]}},
    )
    # The pod's environment carries the password (from the Kubernetes secret).
    command = f"export FTP_PASSWORD={PASSWORD}\n{ftp_container_script(pod)}"
    server = sandbox.start(command)
    try:
        wait_for_ftp(port, server)
        yield port, sandbox
    finally:
        server.terminate()
        server.wait(timeout=10)
        sandbox.remove()


def download(port: int) -> bytes:
    client = ftplib.FTP()
    client.connect("127.0.0.1", port, timeout=10)
    client.login("faasbench", PASSWORD)
    client.set_pasv(True)
    buffer = io.BytesIO()
    client.retrbinary("RETR testfile.bin", buffer.write)
    client.quit()
    return buffer.getvalue()


def test_the_container_command_installs_from_the_snapshot_and_serves_the_seeded_file(
    container: tuple[int, Sandbox],
) -> None:
    port, sandbox = container
    data = download(port)
    assert len(data) == SIZE
    assert hashlib.sha256(data).hexdigest() == seeded_file_sha256(SEED, SIZE)
    installs = [c for c in sandbox.calls() if c[:1] == ["apt-get"] and "install" in c]
    assert len(installs) == 1
    assert "vsftpd=3.0.3-13+b2" in installs[0]
    assert "openssl=3.*" in installs[0]
    sources = sandbox.path("/etc/apt/sources.list.d/snapshot.list").read_text()
    assert "debian-security/20251229T000000Z" in sources
    assert sandbox.path("/usr/local/sbin/policy-rc.d").read_text().endswith("exit 101\n")
    assert not [c for c in sandbox.calls() if PASSWORD in " ".join(c)]
    client = ftplib.FTP()
    client.connect("127.0.0.1", port, timeout=10)
    with pytest.raises(ftplib.error_perm):
        client.login("anonymous", "guest@")
    client.close()


def test_the_component_under_mocks_keeps_the_password_in_the_secret_only() -> None:
    import pulumi_kubernetes as k8s
    from pydantic import SecretStr
    from support.pulumi_mocks import FAKE_KUBECONFIG, resolve, run_under_mocks

    from components.existing_cluster import ExistingCluster, ExistingClusterArgs
    from components.ftp_in_cluster import FtpInCluster, FtpInClusterArgs

    def body() -> dict[str, object]:
        cluster = ExistingCluster(
            "k8s", ExistingClusterArgs(kubeconfig=SecretStr(FAKE_KUBECONFIG), storage_class=None)
        )
        assert isinstance(cluster.provider, k8s.Provider)
        ftp = FtpInCluster(
            "ftp", FtpInClusterArgs(provider=cluster.provider, seed=SEED, test_file_bytes=SIZE)
        )
        return {k: resolve(v) for k, v in ftp.outputs.items()}

    mocks, outputs = run_under_mocks(body, stack="lab")
    assert outputs["host"] == "ftp.faasbench.svc"
    assert outputs["test_file_sha256"] == seeded_file_sha256(SEED, SIZE)
    secrets = mocks.of_type("kubernetes:core/v1:Secret")
    [secret] = [r for r in secrets if r.name == "ftp-credentials"]
    assert secret.inputs["stringData"]["password"] == outputs["password"]
    assert "stringData" in secret.secret_inputs
    [group] = mocks.of_type("kubernetes:yaml/v2:ConfigGroup")
    assert str(outputs["password"]) not in str(group.inputs)
    assert [o["kind"] for o in group.inputs["objs"]][1] == "Deployment"
