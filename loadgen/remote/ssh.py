"""SSH to the loader with the stack's key: the key lives in a 0600 temporary file for the run
only (never on a command line), host keys are accepted on first use into a known_hosts file
kept next to the results, and ssh's failures become one sentence naming user@host."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: ssh's own exit status for connection and authentication failures.
SSH_FAILED = 255
#: Exit status of the remote scripts when python3 is missing or too old.
NO_PYTHON = 3


class RemoteError(RuntimeError):
    """A remote step failed; the message names the host and never holds a secret."""


@dataclass(frozen=True)
class SshTarget:
    """Where campaigns run, and how ssh reaches it: directly, or through `proxy` (the bastion,
    for a machine in the private network; the key never lands on the proxy)."""

    host: str
    user: str
    port: int
    key_file: Path
    known_hosts: Path
    proxy: SshTarget | None = None

    @property
    def name(self) -> str:
        """user@host, with the port where it is not 22 (for messages)."""
        where = f"{self.user}@{self.host}"
        return where if self.port == 22 else f"{where} (port {self.port})"

    def options(self) -> list[str]:
        """ssh options shared by every call: the stack's key only, no prompts, and host keys
        accepted on first use into the results' own known_hosts."""
        return [
            "-i",
            str(self.key_file),
            "-p",
            str(self.port),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "HashKnownHosts=no",
            "-o",
            "ConnectTimeout=20",
            "-o",
            "ServerAliveInterval=15",
            "-o",
            "ServerAliveCountMax=4",
            "-o",
            "LogLevel=ERROR",
            *(["-o", f"ProxyCommand={self.proxy.proxy_command()}"] if self.proxy else []),
        ]

    def proxy_command(self) -> str:
        """An ssh ProxyCommand through this host (`ssh ... -W %h:%p`), with its own options;
        `%` in paths is doubled, since ssh expands `%` tokens there."""
        words = [*self.options(), "-W", "%h:%p", f"{self.user}@{self.host}"]
        escaped = [word if word == "%h:%p" else word.replace("%", "%%") for word in words]
        return " ".join(["ssh", *map(shlex.quote, escaped)])

    def argv(self, script: str, *args: str) -> list[str]:
        """ssh running a POSIX sh script with positional arguments, whatever the login shell."""
        remote = " ".join(["sh", "-c", shlex.quote(script), "sh", *map(shlex.quote, args)])
        return ["ssh", *self.options(), f"{self.user}@{self.host}", remote]

    def run(
        self,
        script: str,
        *args: str,
        stdin: int | IO[bytes] | None = subprocess.DEVNULL,
        timeout: float | None = 600,
    ) -> subprocess.CompletedProcess[str]:
        """Run a script and capture its output; ssh's own failures raise `RemoteError`."""
        try:
            result = subprocess.run(
                self.argv(script, *args),
                stdin=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RemoteError(f"{self.name}: no answer in {timeout:.0f} s") from None
        if result.returncode == SSH_FAILED:
            raise RemoteError(describe_ssh_failure(self, result.stderr))
        return result


def describe_ssh_failure(target: SshTarget, stderr: str) -> str:
    """One sentence for ssh's exit status 255, from its (secret-free) message."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "no message"
    text = stderr.lower()
    if "permission denied" in text or "too many authentication failures" in text:
        return f"cannot log in to {target.name}: the stack's ssh_private_key was refused ({last})"
    if "host key verification failed" in text or "identification has changed" in text:
        return (
            f"the host key of {target.name} differs from the one recorded in "
            f"{target.known_hosts}: if the machine was replaced, delete that file ({last})"
        )
    if any(
        word in text
        for word in ("connection refused", "timed out", "no route", "could not resolve",
                     "network is unreachable", "connection closed", "connection reset")
    ):  # fmt: skip
        return f"cannot reach {target.name}: {last}"
    return f"ssh to {target.name} failed: {last}"


@contextmanager
def private_key_file(key: str) -> Iterator[Path]:
    """The key in a 0600 file inside a 0700 temporary directory, removed on the way out."""
    with tempfile.TemporaryDirectory(prefix="faasbench-ssh-") as directory:
        path = Path(directory) / "id"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            # OpenSSH refuses a key file without its final newline.
            handle.write(key if key.endswith("\n") else key + "\n")
        yield path
