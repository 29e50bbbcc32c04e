"""`loadgen local up` and `down`: start the local target's processes, track them, stop them.

Everything lives in one state directory (`.faasbench-local/` by default):

    state.json       the processes started (name, pid, start time) and their ports
    outputs.json     the stack outputs, 0600 (passwords)
    gateway.json     the gateway's settings, 0600; gateway.addr once it listens
    ftp.json         the FTP server's settings, 0600; ftp.addr once it listens
    haproxy.cfg      rendered by contract.haproxy, checked with `haproxy -c`
    prometheus.yml   and prometheus/, its data
    ftp/             the FTP root with the seeded test file
    replicas/        one <pid>.json per function replica (written by the gateway)
    logs/            each process's stdout and stderr
    results/         never created or removed here: a place for the user's results

Processes run in their own session (a Ctrl-C after `up` does not reach them) and are recorded as
soon as they start, so `down` stops whatever a crashed or interrupted `up` left.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import loadgen
from contract.ftp import TEST_FILE, seeded_file_bytes
from contract.haproxy import (
    HaproxyBackend,
    HaproxyServer,
    HaproxySettings,
    render_haproxy,
)
from contract.outputs import StackOutputs
from loadgen.local.limits import CE_MAX_FUNCTIONS, CE_MAX_REPLICAS
from loadgen.local.procs import Tracked, stop, write_json, write_private

DEFAULT_DIR = ".faasbench-local"
LOOPBACK = "127.0.0.1"
GATEWAY_USER = "admin"
FTP_USER = "faasbench"
#: The seed makes the test file reproducible; it is not a secret.
FTP_SEED = "faasbench-local-ftp-test-file"
FTP_FILE_BYTES = 1024 * 1024
#: Concurrent sessions the local FTP server accepts (exported as `ftp.max_clients`, which
#: `loadgen validate` compares with the users of ftp experiments).
FTP_MAX_CLIENTS = 512
#: Seconds each process gets to become ready.
READY_TIMEOUT_S = 60.0
#: What `down` removes; anything else in the directory (results/ above all) is left alone.
_STATE_ENTRIES = (
    "state.json", "outputs.json", "gateway.json", "gateway.addr", "ftp.json", "ftp.addr",
    "haproxy.cfg", "prometheus.yml", "prometheus", "ftp", "replicas", "logs",
)  # fmt: skip
#: Stop order: the gateway first, so it stops its replicas cleanly itself.
_STOP_ORDER = ("haproxy", "gateway", "prometheus", "ftp")
_PROJECT_ROOT = str(Path(loadgen.__file__).resolve().parents[1])

Reporter = Callable[[str], None]


class LocalError(Exception):
    """A failure `up` or `down` reports as one clear message (no traceback)."""


@dataclass(frozen=True)
class UpOptions:
    directory: Path
    replicas: int = 1
    ce_limits: bool = True
    port: int = 0
    """HAProxy's function front; 0: an ephemeral port."""
    force: bool = False


@dataclass
class UpResult:
    outputs_file: Path
    outputs: dict[str, Any]
    already_up: bool = False
    warnings: list[str] = field(default_factory=list)


def faasbench_version() -> str:
    try:
        return version("faasbench")
    except PackageNotFoundError:
        return "unknown"


# State ----------------------------------------------------------------------------------------


def _read_state(directory: Path) -> dict[str, Any]:
    try:
        return json.loads((directory / "state.json").read_text())
    except FileNotFoundError:
        return {"processes": []}
    except ValueError as exc:
        raise LocalError(f"{directory / 'state.json'} is damaged ({exc}); remove it") from None


def _tracked(directory: Path) -> list[Tracked]:
    """Every process the state names: the main ones, then the gateway's replicas."""
    state = _read_state(directory)
    processes = [Tracked.from_json(p) for p in state.get("processes", [])]
    processes.sort(key=lambda p: _STOP_ORDER.index(p.name) if p.name in _STOP_ORDER else 99)
    for path in sorted((directory / "replicas").glob("*.json")):
        try:
            processes.append(Tracked.from_json(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError):
            continue  # being written or removed by the gateway right now
    return processes


def running(directory: Path) -> list[Tracked]:
    return [p for p in _tracked(directory) if p.alive()]


class _State:
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


# Helpers --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _check_port_free(port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            raise LocalError(f"port {LOOPBACK}:{port} is in use ({exc.strerror})") from None


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _spawn(name: str, argv: list[str], directory: Path, state: _State) -> subprocess.Popen[bytes]:
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
        raise LocalError(f"{name} exited at once:\n{_log_tail(logs / f'{name}.log')}") from None
    return process


def _wait(
    name: str,
    process: subprocess.Popen[bytes],
    directory: Path,
    ready: Callable[[], bool],
    timeout_s: float = READY_TIMEOUT_S,
) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None:
            tail = _log_tail(directory / "logs" / f"{name}.log")
            raise LocalError(f"{name} exited with {process.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise LocalError(f"{name} was not ready within {timeout_s:g} s (see logs/{name}.log)")
        time.sleep(0.02)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback URL)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _read_addr(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text())["port"])
    except (OSError, ValueError, KeyError):
        return None


# up -------------------------------------------------------------------------------------------


def up(options: UpOptions, report: Reporter) -> UpResult:
    """Start the whole target and write outputs.json; on failure stop what was started."""
    directory = options.directory.resolve()
    if options.ce_limits and options.replicas > CE_MAX_REPLICAS:
        raise LocalError(
            f"--replicas {options.replicas}: CE limits allow at most {CE_MAX_REPLICAS} "
            "(use --no-ce-limits)"
        )
    if options.replicas < 1:
        raise LocalError("--replicas must be at least 1")
    if directory.exists() and not directory.is_dir():
        raise LocalError(f"{directory} exists and is not a directory")
    alive = running(directory) if directory.is_dir() else []
    if alive and not options.force:
        recorded = [Tracked.from_json(p) for p in _read_state(directory).get("processes", [])]
        dead = [p.name for p in recorded if not p.alive()]
        if dead or not (directory / "outputs.json").exists():
            raise LocalError(
                f"the local target in {directory} is partly down "
                f"({', '.join(dead) or 'up did not finish'}): run `loadgen local down` "
                "or `loadgen local up --force`"
            )
        outputs_file = directory / "outputs.json"
        outputs = json.loads(outputs_file.read_text()) if outputs_file.exists() else {}
        return UpResult(outputs_file, outputs, already_up=True)
    if directory.is_dir() and (alive or (directory / "state.json").exists()):
        report("stopping the previous local target" if alive else "clearing stale state")
        down(directory, report)
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise LocalError("haproxy is not installed (apt-get install haproxy)")
    prometheus = shutil.which("prometheus")
    if options.port:
        _check_port_free(options.port)
    directory.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "replicas"):
        (directory / sub).mkdir(exist_ok=True)
    state = _State(directory)
    try:
        return _start(options, directory, state, haproxy, prometheus, report)
    except BaseException:
        report("stopping what was started")
        down(directory, lambda _message: None, keep_logs=True)
        raise


def _start(
    options: UpOptions,
    directory: Path,
    state: _State,
    haproxy: str,
    prometheus: str | None,
    report: Reporter,
) -> UpResult:
    warnings: list[str] = []
    gateway_password = secrets.token_urlsafe(24)
    ftp_password = secrets.token_urlsafe(18)

    report("starting the gateway")
    gateway_config = {
        "state_dir": str(directory),
        "username": GATEWAY_USER,
        "password": gateway_password,
        "ce_limits": options.ce_limits,
        "default_replicas": options.replicas,
    }
    write_json(directory / "gateway.json", gateway_config)
    gateway = _spawn(
        "gateway",
        [sys.executable, "-m", "loadgen.local.gateway", str(directory / "gateway.json")],
        directory,
        state,
    )
    _wait("gateway", gateway, directory, lambda: (directory / "gateway.addr").exists())
    gateway_port = _read_addr(directory / "gateway.addr")
    if gateway_port is None:
        raise LocalError("the gateway wrote no address")
    state.ports["gateway"] = gateway_port
    _wait(
        "gateway", gateway, directory, lambda: _http_ok(f"http://{LOOPBACK}:{gateway_port}/healthz")
    )

    report("starting the FTP server")
    root = directory / "ftp"
    root.mkdir(exist_ok=True)
    content = seeded_file_bytes(FTP_SEED, FTP_FILE_BYTES)
    (root / TEST_FILE).write_bytes(content)
    ftp_config = {
        "root": str(root),
        "user": FTP_USER,
        "password": ftp_password,
        "addr_file": str(directory / "ftp.addr"),
        "max_connections": FTP_MAX_CLIENTS,
    }
    write_json(directory / "ftp.json", ftp_config)
    ftp = _spawn(
        "ftp",
        [sys.executable, "-m", "loadgen.local.ftp_server", str(directory / "ftp.json")],
        directory,
        state,
    )
    _wait("ftp", ftp, directory, lambda: _read_addr(directory / "ftp.addr") is not None)
    ftp_port = _read_addr(directory / "ftp.addr")
    assert ftp_port is not None
    state.ports["ftp"] = ftp_port

    prometheus_port = 0
    if prometheus is None:
        warnings.append(
            "prometheus is not installed: no metrics store (apt-get install prometheus)"
        )
    else:
        report("starting Prometheus")
        prometheus_port = _free_port()
        stats_port_for_scrape = _free_port()
        state.ports["haproxy_stats"] = stats_port_for_scrape
        _write_prometheus_config(directory, gateway_port, stats_port_for_scrape)
        process = _spawn(
            "prometheus",
            [
                prometheus,
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'prometheus'}",
                "--storage.tsdb.retention.time=2d",
                f"--web.listen-address={LOOPBACK}:{prometheus_port}",
                "--log.level=warn",
            ],
            directory,
            state,
        )
        state.ports["prometheus"] = prometheus_port
        _wait(
            "prometheus",
            process,
            directory,
            lambda: _http_ok(f"http://{LOOPBACK}:{prometheus_port}/-/ready"),
        )

    report("starting HAProxy")
    front = options.port or _free_port()
    stats = state.ports.get("haproxy_stats") or _free_port()
    prometheus_front = _free_port() if prometheus else 0
    settings = HaproxySettings(
        backends=[
            HaproxyBackend(
                name="gateway",
                servers=[HaproxyServer("gateway", LOOPBACK, gateway_port)],
                health_path="/healthz",
            )
        ],
        gateway_bind=f"{LOOPBACK}:{front}",
        stats_bind=f"{LOOPBACK}:{stats}",
        prometheus=HaproxyBackend(
            name="prometheus",
            servers=[HaproxyServer("prometheus", LOOPBACK, prometheus_port)],
            health_path="/-/healthy",
        )
        if prometheus
        else None,
        prometheus_bind=f"{LOOPBACK}:{prometheus_front}",
        check_interval_ms=1000,
        # Enough for a loopback benchmark and within a default descriptor limit.
        maxconn=4096,
        # Warnings and server state changes only: a line per request would cost CPU under load.
        log_target="stdout format raw local0 notice",
    )
    config = directory / "haproxy.cfg"
    write_private(config, render_haproxy(settings))
    check = subprocess.run(
        [haproxy, "-c", "-q", "-f", str(config)], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        raise LocalError(f"haproxy -c refused {config}:\n{(check.stdout + check.stderr).strip()}")
    process = _spawn("haproxy", [haproxy, "-db", "-f", str(config)], directory, state)
    state.ports.update({"haproxy": front, "haproxy_stats": stats})
    if prometheus_front:
        state.ports["haproxy_prometheus"] = prometheus_front
    state.save()
    gateway_url = f"http://{LOOPBACK}:{front}"
    _wait("haproxy", process, directory, lambda: _http_ok(f"{gateway_url}/healthz"))

    outputs = _outputs(
        options,
        gateway_url,
        gateway_password,
        ftp_port,
        ftp_password,
        content,
        f"http://{LOOPBACK}:{prometheus_front}" if prometheus_front else None,
    )
    outputs_file = directory / "outputs.json"
    write_json(outputs_file, outputs)
    report("ready")
    return UpResult(outputs_file, outputs, warnings=warnings)


def _write_prometheus_config(directory: Path, gateway_port: int, stats_port: int) -> None:
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "5s"},
        "scrape_configs": [
            {
                "job_name": "gateway",
                "static_configs": [{"targets": [f"{LOOPBACK}:{gateway_port}"]}],
            },
            {
                "job_name": "haproxy",
                "static_configs": [{"targets": [f"{LOOPBACK}:{stats_port}"]}],
            },
        ],
    }
    # JSON is YAML: no second serialiser needed.
    write_private(directory / "prometheus.yml", json.dumps(config, indent=2) + "\n")


def _outputs(
    options: UpOptions,
    gateway_url: str,
    gateway_password: str,
    ftp_port: int,
    ftp_password: str,
    content: bytes,
    prometheus_url: str | None,
) -> dict[str, Any]:
    outputs: dict[str, Any] = {
        "cloud": "local",
        "orchestrator": "local",
        "framework": "openfaas",
        "gateway_url": gateway_url,
        "openfaas": {
            "url": gateway_url,
            "username": GATEWAY_USER,
            "password": gateway_password,
            "namespace": None,
            "limits": {
                "max_functions": CE_MAX_FUNCTIONS if options.ce_limits else None,
                "max_replicas": CE_MAX_REPLICAS if options.ce_limits else None,
                "scale_to_zero": not options.ce_limits,
                "idler": False,
            },
            "versions": {"gateway": f"local-{faasbench_version()}", "provider": "local"},
        },
        "ftp": {
            "host": LOOPBACK,
            "port": ftp_port,
            "user": FTP_USER,
            "password": ftp_password,
            "test_file": TEST_FILE,
            "test_file_bytes": len(content),
            "test_file_sha256": hashlib.sha256(content).hexdigest(),
            "max_clients": FTP_MAX_CLIENTS,
        },
    }
    if prometheus_url:
        outputs["prometheus"] = {"url": prometheus_url, "kind": "local"}
    try:
        StackOutputs.model_validate(outputs)
    except ValidationError as exc:
        raise LocalError(f"the outputs do not match the stack output contract: {exc}") from None
    return outputs


# down -----------------------------------------------------------------------------------------


def down(directory: Path, report: Reporter, keep_logs: bool = False) -> list[str]:
    """Stop every tracked process that is still the one started, remove the state (results/
    and anything else not ours stay). Returns what was stopped; idempotent."""
    directory = directory.resolve()
    if not directory.is_dir():
        return []
    stopped: list[str] = []
    # The gateway's replicas are listed after it: it stops them itself when it can.
    for process in _tracked(directory):
        if process.alive():
            report(f"stopping {process.name} (pid {process.pid})")
            if stop(process):
                stopped.append(process.name)
    for leftover in _tracked(directory):  # replicas started while the gateway was stopping
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
