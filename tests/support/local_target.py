"""Helpers for the local target's tests: the CLI as a subprocess, a client for the gateway
(through HAProxy, as a benchmark reaches it), process checks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


def run_cli(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadgen", "local", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pid_alive(pid: int) -> bool:
    """True while the pid runs (a zombie, finished but not yet reaped, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def wait_until(condition: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class LocalTarget:
    directory: Path
    outputs: dict[str, Any]
    client: httpx.Client

    @property
    def url(self) -> str:
        return str(self.outputs["gateway_url"])

    @property
    def auth(self) -> tuple[str, str]:
        openfaas = self.outputs["openfaas"]
        return openfaas["username"], openfaas["password"]

    def system(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.client.request(method, f"{self.url}/system/{path}", json=body, auth=self.auth)

    def deploy(self, name: str, function: str, **env: str) -> httpx.Response:
        deployment = {
            "service": name,
            "image": "faasbench-functions:local",
            "envVars": {"FUNCTION": function, **env},
        }
        return self.system("POST", "functions", deployment)

    def scale(self, name: str, replicas: int) -> httpx.Response:
        return self.system(
            "POST", f"scale-function/{name}", {"serviceName": name, "replicas": replicas}
        )

    def status(self, name: str) -> dict[str, Any]:
        response = self.system("GET", f"function/{name}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_available(self, name: str, replicas: int) -> None:
        wait_until(
            lambda: self.status(name)["availableReplicas"] == replicas,
            what=f"{replicas} available replicas of {name}",
        )

    def invoke(self, name: str, path: str = "", **params: Any) -> httpx.Response:
        return self.client.post(f"{self.url}/function/{name}{path}", json=params or None)

    def replica_pids(self) -> set[int]:
        return {
            json.loads(p.read_text())["pid"] for p in (self.directory / "replicas").glob("*.json")
        }

    def process_pids(self) -> dict[str, int]:
        state = json.loads((self.directory / "state.json").read_text())
        return {p["name"]: p["pid"] for p in state["processes"]}


def start_target(base: Path, *args: str, state: str = "state") -> LocalTarget:
    """`loadgen local up` with its state in `base/state` (`.faasbench-local` is the default
    the commands find without --stack-outputs)."""
    directory = base / state
    result = run_cli("up", "--dir", str(directory), *args, cwd=base)
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = json.loads((directory / "outputs.json").read_text())
    client = httpx.Client(timeout=90, trust_env=False)
    return LocalTarget(directory, outputs, client)


def stop_target(target: LocalTarget) -> None:
    target.client.close()
    result = run_cli("down", "--dir", str(target.directory), cwd=target.directory.parent)
    assert result.returncode == 0, result.stdout + result.stderr
