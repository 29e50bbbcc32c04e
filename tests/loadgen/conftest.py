"""Fixtures: real servers on 127.0.0.1 for the load generator's tests.

- `haproxy`: HAProxy answering with `http-request return` (the fast, realistic target);
- `scripted_server`: a small asyncio HTTP/1.1 server whose behaviour depends on the path
  (chunked bodies, close-delimited bodies, delays, stalls, resets, garbage, HEAD, 100-continue);
- `tls_server`: the same server behind TLS with a self-signed certificate made in the test;
- `target`: a local target per test module, so campaigns and probes run against the real thing.
"""

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from support.loadgen_servers import (
    HAPROXY_CONFIG,
    META_BODY,
    ScriptedServer,
    Target,
    wait_for_port,
)
from support.local_target import LocalTarget, start_target, stop_target
from support.servers import free_port, self_signed_context


@pytest.fixture(scope="session")
def haproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    binary = shutil.which("haproxy")
    if binary is None:
        pytest.fail("haproxy is not installed (make bootstrap installs it)")
    port = free_port()
    config = tmp_path_factory.mktemp("haproxy") / "haproxy.cfg"
    meta_headers = " ".join(
        [
            "hdr X-Call-Id call-123",
            "hdr X-Openwhisk-Activation-Id act-9",
            "hdr X-Custom custom-1",
            "if { path /meta }",
        ]
    )
    config.write_text(HAPROXY_CONFIG.format(port=port, meta=META_BODY, meta_headers=meta_headers))
    process = subprocess.Popen(
        [binary, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for_port(port)
        yield Target(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def scripted_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScriptedServer]:
    context = self_signed_context(tmp_path_factory.mktemp("tls"))
    server = ScriptedServer(tls=context).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    """A fresh target for the module, so what one module deploys never meets another's."""
    running = start_target(tmp_path_factory.mktemp("target"))
    try:
        yield running
    finally:
        stop_target(running)
