"""`loadgen local up`: start the local target's processes in order (gateway, FTP, object
storage, Prometheus, HAProxy), wait for each, and write outputs.json; on failure stop what was
started. `down` and the process bookkeeping are `loadgen.local.supervise`; the rendered files
`loadgen.local.configs`.

Everything lives in one state directory (`.faasbench-local/` by default):

    state.json       the processes started (name, pid, start time) and their ports
    outputs.json     the stack outputs, 0600 (passwords)
    gateway.json     the gateway's settings, 0600; gateway.addr once it listens
    ftp.json         the FTP server's settings, 0600; ftp.addr once it listens
    haproxy.cfg      rendered by contract.haproxy, checked with `haproxy -c`
    prometheus.yml   and prometheus/, its data
    ftp/             the FTP root with the seeded test file
    s3.json          the object storage's settings, 0600; s3.addr once it listens
    s3/              its buckets: the seeded thumbnail inputs and every stored result
    replicas/        one <pid>.json per function replica (written by the gateway)
    logs/            each process's stdout and stderr
    results/         never created or removed here: a place for the user's results
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.ftp import TEST_FILE, seeded_file_bytes
from functions._s3 import DEFAULT_REGION, Credentials, S3Client, S3Error
from functions.thumbnail import SEEDED_SIZES, seed_inputs
from loadgen.local.configs import (
    FTP_MAX_CLIENTS,
    FTP_USER,
    GATEWAY_USER,
    haproxy_config,
    stack_outputs,
    write_prometheus_config,
)
from loadgen.local.limits import CE_MAX_REPLICAS
from loadgen.local.procs import Tracked, write_json, write_private
from loadgen.local.supervise import (
    LOOPBACK,
    LocalError,
    Reporter,
    State,
    check_port_free,
    down,
    free_port,
    http_ok,
    read_addr,
    read_state,
    running,
    spawn,
    wait_ready,
)

DEFAULT_DIR = ".faasbench-local"
#: The seed makes the test file reproducible; it is not a secret.
FTP_SEED = "faasbench-local-ftp-test-file"
FTP_FILE_BYTES = 1024 * 1024
S3_BUCKET = "faasbench"
S3_ACCESS_KEY = "faasbench-local"


@dataclass(frozen=True)
class UpOptions:
    directory: Path
    replicas: int = 1
    ce_limits: bool = True
    port: int = 0
    """HAProxy's function front; 0: an ephemeral port."""
    force: bool = False
    async_workers: int = 1
    """Queue workers running `/async-function/` calls (CE limits: one)."""
    async_queue: int = 1000
    """Asynchronous calls waiting before the gateway answers 429."""


@dataclass
class UpResult:
    outputs_file: Path
    outputs: dict[str, Any]
    already_up: bool = False
    warnings: list[str] = field(default_factory=list)


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
    if options.async_workers < 1 or options.async_queue < 1:
        raise LocalError("--async-workers and --async-queue must be at least 1")
    if options.ce_limits and options.async_workers > 1:
        raise LocalError(
            f"--async-workers {options.async_workers}: Community Edition's queue worker runs one "
            "call at a time (use --no-ce-limits)"
        )
    if directory.exists() and not directory.is_dir():
        raise LocalError(f"{directory} exists and is not a directory")
    alive = running(directory) if directory.is_dir() else []
    if alive and not options.force:
        recorded = [Tracked.from_json(p) for p in read_state(directory).get("processes", [])]
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
        check_port_free(options.port)
    directory.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "replicas"):
        (directory / sub).mkdir(exist_ok=True)
    state = State(directory)
    try:
        return _start(options, directory, state, haproxy, prometheus, report)
    except BaseException:
        report("stopping what was started")
        down(directory, lambda _message: None, keep_logs=True)
        raise


def _start(
    options: UpOptions,
    directory: Path,
    state: State,
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
        "async_workers": options.async_workers,
        "async_queue_size": options.async_queue,
    }
    write_json(directory / "gateway.json", gateway_config)
    gateway = spawn(
        "gateway",
        [sys.executable, "-m", "loadgen.local.gateway", str(directory / "gateway.json")],
        directory,
        state,
    )
    wait_ready("gateway", gateway, directory, lambda: (directory / "gateway.addr").exists())
    gateway_port = read_addr(directory / "gateway.addr")
    if gateway_port is None:
        raise LocalError("the gateway wrote no address")
    state.ports["gateway"] = gateway_port
    wait_ready(
        "gateway", gateway, directory, lambda: http_ok(f"http://{LOOPBACK}:{gateway_port}/healthz")
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
    ftp = spawn(
        "ftp",
        [sys.executable, "-m", "loadgen.local.ftp_server", str(directory / "ftp.json")],
        directory,
        state,
    )
    wait_ready("ftp", ftp, directory, lambda: read_addr(directory / "ftp.addr") is not None)
    ftp_port = read_addr(directory / "ftp.addr")
    assert ftp_port is not None
    state.ports["ftp"] = ftp_port

    object_storage = _start_object_storage(directory, state, report)

    prometheus_port = 0
    if prometheus is None:
        warnings.append(
            "prometheus is not installed: no metrics store (apt-get install prometheus)"
        )
    else:
        report("starting Prometheus")
        prometheus_port = free_port()
        stats_port_for_scrape = free_port()
        state.ports["haproxy_stats"] = stats_port_for_scrape
        write_prometheus_config(directory, gateway_port, stats_port_for_scrape)
        process = spawn(
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
        wait_ready(
            "prometheus",
            process,
            directory,
            lambda: http_ok(f"http://{LOOPBACK}:{prometheus_port}/-/ready"),
        )

    report("starting HAProxy")
    front = options.port or free_port()
    stats = state.ports.get("haproxy_stats") or free_port()
    prometheus_front = free_port() if prometheus else 0
    config = directory / "haproxy.cfg"
    write_private(
        config,
        haproxy_config(
            front, stats, gateway_port, prometheus_port, prometheus_front, prometheus is not None
        ),
    )
    check = subprocess.run(
        [haproxy, "-c", "-q", "-f", str(config)], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        raise LocalError(f"haproxy -c refused {config}:\n{(check.stdout + check.stderr).strip()}")
    process = spawn("haproxy", [haproxy, "-db", "-f", str(config)], directory, state)
    state.ports.update({"haproxy": front, "haproxy_stats": stats})
    if prometheus_front:
        state.ports["haproxy_prometheus"] = prometheus_front
    state.save()
    gateway_url = f"http://{LOOPBACK}:{front}"
    wait_ready("haproxy", process, directory, lambda: http_ok(f"{gateway_url}/healthz"))

    outputs = stack_outputs(
        options.ce_limits,
        gateway_url,
        gateway_password,
        ftp_port,
        ftp_password,
        content,
        f"http://{LOOPBACK}:{prometheus_front}" if prometheus_front else None,
        object_storage,
    )
    outputs_file = directory / "outputs.json"
    write_json(outputs_file, outputs)
    report("ready")
    return UpResult(outputs_file, outputs, warnings=warnings)


def _start_object_storage(directory: Path, state: State, report: Reporter) -> dict[str, Any]:
    """The S3-compatible server on loopback, with the bucket made and the `thumbnail` inputs
    seeded through it (signed requests, as any client would); its `object_storage` output."""
    report("starting the object storage")
    secret_key = secrets.token_urlsafe(30)
    write_json(
        directory / "s3.json",
        {
            "root": str(directory / "s3"),
            "access_key": S3_ACCESS_KEY,
            "secret_key": secret_key,
            "addr_file": str(directory / "s3.addr"),
        },
    )
    process = spawn(
        "s3",
        [sys.executable, "-m", "loadgen.local.s3_server", str(directory / "s3.json")],
        directory,
        state,
    )
    wait_ready("s3", process, directory, lambda: read_addr(directory / "s3.addr") is not None)
    port = read_addr(directory / "s3.addr")
    if port is None:
        raise LocalError("the object storage wrote no address")
    state.ports["s3"] = port
    endpoint = f"http://{LOOPBACK}:{port}"
    report("seeding the thumbnail inputs")
    client = S3Client(endpoint, Credentials(S3_ACCESS_KEY, secret_key))
    try:
        seed_inputs(client, S3_BUCKET)
    except S3Error as exc:
        raise LocalError(f"seeding the object storage failed: {exc}") from None
    return {
        "endpoint": endpoint,
        "bucket": S3_BUCKET,
        "region": DEFAULT_REGION,
        "access_key": S3_ACCESS_KEY,
        "secret_key": secret_key,
        "input_sizes": list(SEEDED_SIZES),
        "kind": "local",
    }
