"""A real OpenSSH server on 127.0.0.1 for `--remote` tests: its own host key, config and
authorized key, started on an ephemeral port and stopped by the test.

The "remote" is this machine, so installing faasbench there must not download anything: the
server's sessions get `PYTHONPATH` pointing at a directory of links to this test environment's
installed dependencies (faasbench itself left out, and one small dependency left out and
served from a wheelhouse instead), and `python3` is this interpreter's base. The remote venv
then installs the freshly built faasbench wheel offline (`--wheelhouse`), taking the one
dependency from the wheelhouse and finding the others satisfied.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from dataclasses import dataclass
from importlib.metadata import distribution
from pathlib import Path

from support.servers import free_port

SSHD = Path("/usr/sbin/sshd")
#: Served from the wheelhouse, so the offline install has something real to install.
FROM_WHEELHOUSE = "pyftpdlib"


def sshd_available() -> str | None:
    """Why the tests cannot run here, or None."""
    if not SSHD.is_file():
        return "needs /usr/sbin/sshd (openssh-server)"
    if os.geteuid() != 0:
        return "needs root (sshd with its own config, logging in as root)"
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "needs the OpenSSH client"
    return None


def generate_key(path: Path) -> str:
    """A fresh ed25519 key pair at `path` (private) and `path.pub`; returns the private key."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "faasbench-test", "-f", str(path)],
        check=True,
    )
    return path.read_text()


def dependency_site(directory: Path) -> Path:
    """Links to every installed distribution of this environment but faasbench and
    FROM_WHEELHOUSE (no .pth files: PYTHONPATH entries do not process them)."""
    site = Path(sysconfig.get_paths()["purelib"])
    directory.mkdir(parents=True)
    skipped = ("faasbench", "_editable_impl_faasbench", FROM_WHEELHOUSE, "__pycache__")
    for entry in site.iterdir():
        if entry.name.startswith(skipped) or entry.suffix == ".pth":
            continue
        (directory / entry.name).symlink_to(entry)
    return directory


def repack_wheel(name: str, wheelhouse: Path) -> Path:
    """A wheel of an installed pure-Python distribution, rebuilt from its files: a real wheel
    for the offline install without any download."""
    dist = distribution(name)
    site = Path(sysconfig.get_paths()["purelib"])
    info_dir = next(site.glob(f"{name}-{dist.version}.dist-info"))
    tag = next(
        line.split(":", 1)[1].strip()
        for line in (info_dir / "WHEEL").read_text().splitlines()
        if line.startswith("Tag:")
    )
    wheelhouse.mkdir(parents=True, exist_ok=True)
    path = wheelhouse / f"{name}-{dist.version}-{tag}.whl"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    skipped = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json", "uv_build.json"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for file in dist.files or []:
            relative = file.as_posix()
            if relative.startswith("..") or "__pycache__" in relative:
                continue
            if relative.startswith(info_dir.name) and Path(relative).name in skipped:
                continue
            data = (site / relative).read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            writer.writerow([relative, f"sha256={digest.decode()}", len(data)])
            wheel.writestr(relative, data)
        writer.writerow([f"{info_dir.name}/RECORD", "", ""])
        wheel.writestr(f"{info_dir.name}/RECORD", record.getvalue())
    return path


@dataclass
class Sshd:
    port: int
    process: subprocess.Popen[bytes]
    client_key: str
    log: Path
    host_public_key: str = ""

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_sshd(base: Path, deps_site: Path) -> Sshd:
    """sshd -D on 127.0.0.1:<ephemeral>, root login by key only, sessions given the
    dependency site and this interpreter as `python3`."""
    base.mkdir(parents=True, exist_ok=True)
    generate_key(base / "host_key")
    client_key = generate_key(base / "client_key")
    shutil.copy(base / "client_key.pub", base / "authorized_keys")
    shims = base / "bin"
    shims.mkdir()
    (shims / "python3").symlink_to(Path(sys._base_executable).resolve())  # type: ignore[attr-defined]
    # sshd's privilege separation directory, which the system service would create.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    port = free_port()
    config = base / "sshd_config"
    config.write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {base / "host_key"}
PidFile none
AuthorizedKeysFile {base / "authorized_keys"}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
SetEnv PYTHONPATH={deps_site} PATH={shims}:/usr/local/bin:/usr/bin:/bin
"""
    )
    log = base / "sshd.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)], stdout=handle, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                host_key = (base / "host_key.pub").read_text()
                return Sshd(port, process, client_key, log, host_key)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"sshd did not listen on port {port}: {log.read_text()}")
