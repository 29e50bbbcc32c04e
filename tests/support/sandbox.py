"""Run rendered remote steps for real, on this machine, without touching it.

Each run happens in fresh mount and network namespaces (`unshare`): /etc is a copy (with an
Ubuntu 24.04 os-release), /usr/local, /opt, /var/lib, /var/log, /srv and /run are empty folders
of the sandbox, and the machine's private address sits on a veth `ens5` interface. Tools that
would change the host or reach the network (apt-get, systemctl, curl, docker, git, k3s/kubectl,
nomad, consul, ...) are fakes from `shims/fake_tool.py` first on PATH; everything else (bash,
install, awk, sha256sum, ip) is real.
Folders persist between runs of one sandbox, so a second run sees the first one's files.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FAKES = [
    "curl", "cloud-init", "systemctl", "kubectl", "apt-get", "apt-mark", "dpkg-query", "gpg",
    "sleep", "modprobe", "sysctl", "docker", "nomad", "consul", "vault", "sudo", "git",
]  # fmt: skip
BOUND = {
    "etc": "/etc",
    "usr_local": "/usr/local",
    "opt": "/opt",
    "var_lib": "/var/lib",
    "srv": "/srv",
    "run": "/run",
    "var_log": "/var/log",
}
UBUNTU_NOBLE = """PRETTY_NAME="Ubuntu 24.04.3 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.3 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=noble
"""


@dataclass
class Sandbox:
    root: Path

    @classmethod
    def create(cls, root: Path, state: dict[str, Any] | None = None) -> Sandbox:
        sandbox = cls(root)
        shims = root / "shims"
        shims.mkdir(parents=True)
        fake = Path(__file__).parent / "shims" / "fake_tool.py"
        for tool in FAKES:
            path = shims / tool
            # sh, not a `#!python` line: a shebang cannot name a path with spaces. `-S`: the
            # fakes need only the standard library, and every call starts a Python.
            code = f"import sys; sys.path.insert(0, {str(fake.parent)!r}); import fake_tool; "
            code += f"fake_tool.main({tool!r})"
            path.write_text(
                f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -S -c {shlex.quote(code)} "$@"\n'
            )
            path.chmod(0o755)
        for folder in BOUND:
            (root / folder).mkdir()
        subprocess.run(["cp", "-a", "/etc/.", str(root / "etc")], check=True)
        os_release = root / "etc" / "os-release"
        if os_release.is_symlink() or os_release.exists():
            os_release.unlink()
        os_release.write_text(UBUNTU_NOBLE)
        (root / "etc" / "systemd" / "system").mkdir(parents=True, exist_ok=True)
        for folder in (
            "usr_local/bin",
            "usr_local/sbin",
            "usr_local/lib",
            "var_lib/faasbench",
            "run/vsftpd",
        ):
            (root / folder).mkdir(parents=True)
        (root / "var_lib" / "faasbench" / "cloud-init.done").write_text("")
        (root / "state.json").write_text(json.dumps(state or {}))
        (root / "calls.jsonl").write_text("")
        return sandbox

    def path(self, absolute: str) -> Path:
        """Where a machine path lives in the sandbox (for checking files a step wrote)."""
        for folder, mount in BOUND.items():
            if absolute == mount or absolute.startswith(mount + "/"):
                return self.root / folder / absolute[len(mount) + 1 :]
        raise ValueError(f"{absolute} is outside the sandbox's writable folders")

    def _command(self, ip: str | None) -> list[str]:
        """unshare + setup, then `bash -s`; without `ip`, the host's network is kept (for
        real servers a test connects to on 127.0.0.1)."""
        mounts = " && ".join(
            f"mount --bind {shlex.quote(str(self.root / folder))} {mount}"
            for folder, mount in BOUND.items()
        )
        network = ""
        if ip:
            network = (
                "ip link set lo up; ip link add ens5 type veth peer name ens5-peer; "
                f"ip addr add {shlex.quote(ip)}/24 dev ens5; ip link set ens5 up; "
            )
        setup = (
            f"set -e; {network}{mounts}; "
            f"export PATH={shlex.quote(str(self.root / 'shims'))}:/usr/sbin:/usr/bin:/sbin:/bin; "
            f"export SHIM_STATE={shlex.quote(str(self.root / 'state.json'))} "
            f"SHIM_LOG={shlex.quote(str(self.root / 'calls.jsonl'))}; "
            "exec bash -s"
        )
        namespaces = ["--mount", "--net"] if ip else ["--mount"]
        return ["unshare", *namespaces, "--propagation", "private", "bash", "-c", setup]

    def start(self, script: str) -> subprocess.Popen[str]:
        """Run `script` in the background, in the sandbox's folders but the host's network."""
        process = subprocess.Popen(
            self._command(None),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdin is not None
        process.stdin.write(script)
        process.stdin.close()
        return process

    def run(
        self, script: str, *, ip: str | None = "10.0.2.10", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self._command(ip),
            input=script,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"step failed ({result.returncode}):\n{result.stderr}")
        return result

    def calls(self) -> list[list[str]]:
        text = (self.root / "calls.jsonl").read_text()
        return [json.loads(line) for line in text.splitlines() if line]

    def clear_calls(self) -> None:
        (self.root / "calls.jsonl").write_text("")

    def state(self) -> dict[str, Any]:
        return json.loads((self.root / "state.json").read_text())

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
