"""The local target's processes and state directory: start a process in its own session and
record it at once in state.json, wait until it is ready, list what still runs, and `down`: stop
every recorded process and remove the state (results/ and the user's files stay).

Processes run in their own session (a Ctrl-C after `up` does not reach them) and are recorded as
soon as they start, so `down` stops whatever a crashed or interrupted `up` left.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import loadgen
from loadgen.local.procs import Tracked, stop, write_json

LOOPBACK = "127.0.0.1"
#: Seconds each process gets to become ready.
READY_TIMEOUT_S = 60.0
#: What `down` removes; anything else in the directory (results/ above all) is left alone.
_STATE_ENTRIES = (
    "state.json", "outputs.json", "gateway.json", "gateway.addr", "ftp.json", "ftp.addr",
    "haproxy.cfg", "prometheus.yml", "prometheus", "ftp", "replicas", "logs",
    "s3.json", "s3.addr", "s3",
)  # fmt: skip
#: Stop order: the gateway first, so it stops its replicas cleanly itself.
_STOP_ORDER = ("haproxy", "gateway", "prometheus", "ftp", "s3")
_PROJECT_ROOT = str(Path(loadgen.__file__).resolve().parents[1])

Reporter = Callable[[str], None]


class LocalError(Exception):
    """A failure `up` or `down` reports as one clear message (no traceback)."""


def faasbench_version() -> str:
    try:
        return version("faasbench")
    except PackageNotFoundError:
        return "unknown"


# State ----------------------------------------------------------------------------------------


def read_state(directory: Path) -> dict[str, Any]:
    try:
        return json.loads((directory / "state.json").read_text())
    except FileNotFoundError:
        return {"processes": []}
    except ValueError as exc:
        raise LocalError(f"{directory / 'state.json'} is damaged ({exc}); remove it") from None


def tracked(directory: Path) -> list[Tracked]:
    """Every process the state names: the main ones, then the gateway's replicas."""
    state = read_state(directory)
    processes = [Tracked.from_json(p) for p in state.get("processes", [])]
    processes.sort(key=lambda p: _STOP_ORDER.index(p.name) if p.name in _STOP_ORDER else 99)
    for path in sorted((directory / "replicas").glob("*.json")):
        try:
            processes.append(Tracked.from_json(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError):
            continue  # being written or removed by the gateway right now
    return processes


def running(directory: Path) -> list[Tracked]:
    return [p for p in tracked(directory) if p.alive()]


class State:
    """The state file, rewritten as each process starts so a crash leaves an accurate record."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: list[Tracked] = []
        self.ports: dict[str, int] = {}

    def add(self, process: Tracked) -> None:
        self.processes.append(process)
        self.save()

    def save(self) -> None:
        write_json(
            self.directory / "state.json",
            {
                "version": faasbench_version(),
                "processes": [p.to_json() for p in self.processes],
                "ports": self.ports,
            },
        )


# Processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def check_port_free(port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            raise LocalError(f"port {LOOPBACK}:{port} is in use ({exc.strerror})") from None


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def spawn(name: str, argv: list[str], directory: Path, state: State) -> subprocess.Popen[bytes]:
    logs = directory / "logs"
    logs.mkdir(exist_ok=True)
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = _PROJECT_ROOT + (os.pathsep + path if path else "")
    with (logs / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=directory,
            env=env,
            start_new_session=True,
        )
    try:
        state.add(Tracked.of(name, process.pid))
    except ProcessLookupError:
        process.wait()
        raise LocalError(f"{name} exited at once:\n{log_tail(logs / f'{name}.log')}") from None
    return process


def wait_ready(
    name: str,
    process: subprocess.Popen[bytes],
    directory: Path,
    ready: Callable[[], bool],
    timeout_s: float = READY_TIMEOUT_S,
) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None:
            tail = log_tail(directory / "logs" / f"{name}.log")
            raise LocalError(f"{name} exited with {process.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise LocalError(f"{name} was not ready within {timeout_s:g} s (see logs/{name}.log)")
        time.sleep(0.02)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback URL)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def read_addr(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text())["port"])
    except (OSError, ValueError, KeyError):
        return None


# down ----------------------------------------------------------------------------------------


def down(directory: Path, report: Reporter, keep_logs: bool = False) -> list[str]:
    """Stop every tracked process that is still the one started, remove the state (results/
    and anything else not ours stay). Returns what was stopped; idempotent."""
    directory = directory.resolve()
    if not directory.is_dir():
        return []
    stopped: list[str] = []
    # The gateway's replicas are listed after it: it stops them itself when it can.
    for process in tracked(directory):
        if process.alive():
            report(f"stopping {process.name} (pid {process.pid})")
            if stop(process):
                stopped.append(process.name)
    for leftover in tracked(directory):  # replicas started while the gateway was stopping
        if stop(leftover):
            stopped.append(leftover.name)
    for name in _STATE_ENTRIES:
        if keep_logs and name == "logs":
            continue
        path = directory / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    for tmp in directory.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: results or the user's own files
        directory.rmdir()
    return stopped
