"""The FTP server: the real setup step in a sandbox, then a real vsftpd on 127.0.0.1 serving the
seeded file in passive mode to the one user, and refusing anonymous logins and writes."""

from __future__ import annotations

import ftplib
import hashlib
import io
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.sandbox import Sandbox
from support.servers import free_port, free_port_range

from components.remote_step import render_step
from contract.ftp import (
    FtpSettings,
    render_vsftpd,
    seeded_file_bytes,
    seeded_file_key,
    seeded_file_sha256,
)

USER = "faasbench-ftp"
PASSWORD = "GENSECRETftp0123456789abcdefghij"
SIZE = 1024 * 1024 + 17


def test_seeded_file_is_what_openssl_makes_on_the_machine(tmp_path: Path) -> None:
    seed = "faasbench-aws"
    out = tmp_path / "file"
    subprocess.run(
        [
            "bash",
            "-c",
            f"openssl enc -aes-128-ctr -K {seeded_file_key(seed).hex()} -iv {'0' * 32} "
            f"-nosalt -in <(head -c {SIZE} /dev/zero) -out {out}",
        ],
        check=True,
    )
    data = out.read_bytes()
    assert len(data) == SIZE
    assert data == seeded_file_bytes(seed, SIZE)
    assert hashlib.sha256(data).hexdigest() == seeded_file_sha256(seed, SIZE)
    assert seeded_file_sha256("another-seed", SIZE) != seeded_file_sha256(seed, SIZE)


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[tuple[int, Sandbox]]:
    port = free_port()
    settings = FtpSettings(
        listen_address="127.0.0.1",
        passive_address="127.0.0.1",
        user=USER,
        port=port,
        max_clients=4,
        passive_ports=free_port_range(4),
    )
    script = render_step(
        "ftp-server",
        {
            "VSFTPD_VERSION": "3.0.*",
            "FTP_USER": USER,
            "FTP_HOME": "/srv/ftp",
            "TEST_FILE": "testfile.bin",
            "TEST_FILE_BYTES": SIZE,
            "TEST_FILE_KEY": seeded_file_key("faasbench-test").hex(),
            "TEST_FILE_SHA256": seeded_file_sha256("faasbench-test", SIZE),
            "CONFIG": render_vsftpd(settings),
        },
        {"FTP_PASSWORD": PASSWORD},
    )
    sandbox = Sandbox.create(tmp_path / "ftp", {"available": {"vsftpd": ["3.0.5-0ubuntu3.1"]}})
    for _ in range(2):
        sandbox.run(script, ip=None)
    assert not [c for c in sandbox.calls() if c[:2] == ["apt-get", "install"]][1:], "installs once"
    server = sandbox.start("exec /usr/sbin/vsftpd /etc/vsftpd.conf")
    deadline = time.monotonic() + 10
    while True:
        try:
            ftplib.FTP().connect("127.0.0.1", port, timeout=1).startswith("220")
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read() if server.stdout else ""
                raise AssertionError(f"vsftpd did not start: {output}") from None
            time.sleep(0.1)
    yield port, sandbox
    server.terminate()
    server.wait(timeout=10)
    sandbox.remove()


def connect(port: int) -> ftplib.FTP:
    client = ftplib.FTP()
    client.connect("127.0.0.1", port, timeout=10)
    return client


def test_the_user_downloads_the_seeded_file_in_passive_mode(
    ftp_server: tuple[int, Sandbox],
) -> None:
    port, sandbox = ftp_server
    client = connect(port)
    client.login(USER, PASSWORD)
    client.set_pasv(True)
    buffer = io.BytesIO()
    client.retrbinary("RETR testfile.bin", buffer.write)
    client.quit()
    data = buffer.getvalue()
    assert len(data) == SIZE
    assert hashlib.sha256(data).hexdigest() == seeded_file_sha256("faasbench-test", SIZE)
    # The password went to chpasswd on stdin, never on a command line.
    assert not [c for c in sandbox.calls() if PASSWORD in " ".join(c)]


def test_anonymous_and_wrong_passwords_are_refused(ftp_server: tuple[int, Sandbox]) -> None:
    port, _ = ftp_server
    for user, password in (("anonymous", "guest@"), ("ftp", ""), (USER, "wrong")):
        client = connect(port)
        with pytest.raises(ftplib.error_perm):
            client.login(user, password)
        client.close()


def test_writes_are_refused_and_the_user_is_chrooted(ftp_server: tuple[int, Sandbox]) -> None:
    port, _ = ftp_server
    client = connect(port)
    client.login(USER, PASSWORD)
    assert client.pwd() == "/"
    with pytest.raises(ftplib.error_perm):
        client.storbinary("STOR upload.bin", io.BytesIO(b"data"))
    with pytest.raises(ftplib.error_perm):
        client.mkd("newdir")
    client.cwd("..")
    assert client.nlst() == ["testfile.bin"]
    client.quit()


def test_vsftpd_config_refuses_a_bad_passive_range() -> None:
    with pytest.raises(ValueError, match="passive port range"):
        render_vsftpd(FtpSettings(user=USER, passive_ports=(30010, 30000)))
    with pytest.raises(ValueError, match="fewer ports than max_clients 500"):
        render_vsftpd(FtpSettings(user=USER, passive_ports=(30000, 30019)))


def vsftpd_settings(config: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in config.splitlines())


@pytest.mark.parametrize("max_clients", [1, 20, 500, 3000])
def test_the_passive_range_has_room_for_every_session(max_clients: int) -> None:
    settings = vsftpd_settings(render_vsftpd(FtpSettings(user=USER, max_clients=max_clients)))
    low, high = int(settings["pasv_min_port"]), int(settings["pasv_max_port"])
    # Each session holds one passive port while it transfers; vsftpd tries 9 random ports of
    # the range, so the range is several times the sessions, below the ephemeral ports.
    assert high - low + 1 >= 4 * max_clients
    assert 1024 <= low <= high < 32768
    assert settings["max_clients"] == settings["max_per_ip"] == str(max_clients)


def test_ftp_server_component_under_mocks() -> None:
    from support.pulumi_mocks import resolve, run_under_mocks

    from components.ftp_server import FtpServer, FtpServerArgs
    from components.naming import Naming
    from components.ssh_key import SshKeyPair
    from stacks.compose import build_network
    from stacks.read_config import load_stack_config

    config = load_stack_config({"cloud": "aws", "allowedSshCidrs": "203.0.113.0/24"})

    def body() -> dict[str, object]:
        naming = Naming("faasbench", "ftptest")
        network = build_network(config, naming, SshKeyPair("key"))
        server = FtpServer(
            "ftp",
            FtpServerArgs(
                naming=naming,
                network=network,
                size="t3a.medium",
                vsftpd_version="3.0.5-*",
                test_file_bytes=SIZE,
                max_clients=800,
            ),
        )
        return {k: resolve(v) for k, v in server.outputs.items()}

    mocks, outputs = run_under_mocks(body, stack="ftptest")
    [step] = mocks.of_type("command:remote:Command")
    assert "stdin" in step.secret_inputs
    assert outputs["test_file_sha256"] == seeded_file_sha256(
        "faasbench-ftptest-ftp-test-file", SIZE
    )
    assert outputs["test_file_bytes"] == SIZE
    assert outputs["port"] == 21
    assert outputs["password"] in step.inputs["stdin"]
    [machine] = [r for r in mocks.of_type("aws:ec2/instance:Instance") if "ftp" in r.name]
    assert f"listen_address={machine.outputs['privateIp']}" in step.inputs["stdin"]
    assert outputs["host"] == machine.outputs["privateIp"]
    assert outputs["max_clients"] == 800
    assert "max_clients=800\n" in step.inputs["stdin"]
    assert "pasv_max_port=23199\n" in step.inputs["stdin"]
