"""`ftp`: downloads the seeded test file from the FTP server (passive mode) and verifies its size
and SHA-256; the network-bound function.

Settings come from parameters, else from the environment the deployment sets (parameters win,
so one deployment can be pointed elsewhere per call):

    host      FTP_HOST              expected_bytes   FTP_TEST_FILE_BYTES
    port      FTP_PORT (21)         expected_sha256  FTP_TEST_FILE_SHA256
    user      FTP_USER              file             FTP_TEST_FILE
    password  FTP_PASSWORD          timeout_s        (30)

The file is hashed as it streams, so its size does not matter for memory. Control and data
connections are closed on every path (context managers), so a long run cannot leak descriptors.
In passive mode ftplib connects to the control connection's peer address, not the one in the
server's PASV reply, which keeps working behind NAT and container networks.
"""

from __future__ import annotations

import ftplib
import hashlib
import os
import time
from collections.abc import Mapping
from typing import Any

from ._params import FloatParam, FunctionError, IntParam, TextParam, required

_BLOCK = 64 * 1024
MAX_BYTES = 2**40


#: Parameter name -> the environment variable that supplies it when the call does not.
ENVIRONMENT = {
    "host": "FTP_HOST",
    "port": "FTP_PORT",
    "user": "FTP_USER",
    "password": "FTP_PASSWORD",
    "file": "FTP_TEST_FILE",
    "expected_bytes": "FTP_TEST_FILE_BYTES",
    "expected_sha256": "FTP_TEST_FILE_SHA256",
}
HOST = TextParam("host")
PORT = IntParam("port", ftplib.FTP_PORT, 1, 65535)
USER = TextParam("user", default="anonymous")
PASSWORD = TextParam("password", default="")
FILE = TextParam("file")
EXPECTED_BYTES = IntParam("expected_bytes", 0, 0, MAX_BYTES)
EXPECTED_SHA256 = TextParam(
    "expected_sha256", pattern=r"[0-9a-fA-F]{64}", rule="64 hexadecimal digits"
)
TIMEOUT_S = FloatParam("timeout_s", 30.0, 0.1, 600.0)
PARAMS = (HOST, PORT, USER, PASSWORD, FILE, EXPECTED_BYTES, EXPECTED_SHA256, TIMEOUT_S)


def _settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """Validated settings: parameters over environment variables over defaults."""
    merged: dict[str, Any] = {
        name: os.environ.get(env) or None for name, env in ENVIRONMENT.items()
    }
    merged.update({k: params[k] for k in (*ENVIRONMENT, "timeout_s") if params.get(k) is not None})
    sha = EXPECTED_SHA256.read(merged)
    return {
        "host": required(HOST.read(merged), "host", ENVIRONMENT["host"]),
        "port": PORT.read(merged),
        "user": USER.read(merged),
        "password": PASSWORD.read(merged),
        "file": required(FILE.read(merged), "file", ENVIRONMENT["file"]),
        "expected_bytes": None if merged["expected_bytes"] is None else EXPECTED_BYTES.read(merged),
        "expected_sha256": None if sha is None else sha.lower(),
        "timeout_s": TIMEOUT_S.read(merged),
    }


def download(
    host: str, port: int, user: str, password: str, path: str, timeout_s: float
) -> tuple[int, str, float, float]:
    """(bytes, sha256, connect_ms, transfer_ms) of `path`, streamed and hashed in passive mode."""
    digest = hashlib.sha256()
    size = 0

    def on_block(block: bytes) -> None:
        nonlocal size
        size += len(block)
        digest.update(block)

    stage = "connect"
    start = time.perf_counter_ns()
    try:
        with ftplib.FTP(timeout=timeout_s) as client:  # noqa: S321 (the benchmark's target)
            client.connect(host, port)
            stage = "login"
            client.login(user, password)
            client.set_pasv(True)
            connected = time.perf_counter_ns()
            stage = f"download of {path!r}"
            client.retrbinary(f"RETR {path}", on_block, blocksize=_BLOCK)
            done = time.perf_counter_ns()
    except ftplib.all_errors as exc:
        raise FunctionError(f"ftp {stage} at {host}:{port} failed: {exc}") from exc
    return size, digest.hexdigest(), (connected - start) / 1e6, (done - connected) / 1e6


def main(params: Mapping[str, Any]) -> dict[str, Any]:
    settings = _settings(params)
    size, sha256, connect_ms, transfer_ms = download(
        settings["host"],
        settings["port"],
        settings["user"],
        settings["password"],
        settings["file"],
        settings["timeout_s"],
    )
    expected_bytes, expected_sha256 = settings["expected_bytes"], settings["expected_sha256"]
    if expected_bytes is not None and size != expected_bytes:
        raise FunctionError(f"ftp: {settings['file']} has {size} bytes, expected {expected_bytes}")
    if expected_sha256 is not None and sha256 != expected_sha256:
        raise FunctionError(
            f"ftp: {settings['file']} has sha256 {sha256}, expected {expected_sha256}"
        )
    return {
        "file": settings["file"],
        "bytes": size,
        "sha256": sha256,
        "verified_bytes": expected_bytes is not None,
        "verified_sha256": expected_sha256 is not None,
        "connect_ms": round(connect_ms, 3),
        "transfer_ms": round(transfer_ms, 3),
        "mib_per_s": round(size / 1048576 / (transfer_ms / 1000), 3) if transfer_ms > 0 else None,
    }
