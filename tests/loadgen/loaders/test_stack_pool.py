"""`stack_pool` for real: a stack whose loaders (two, both 127.0.0.1) and bastion are a real
sshd on loopback. The wheel is installed offline from a wheelhouse, the scheduler and workers
start over SSH with the run's certificates, a `distributed.Client` with the yielded address
and Security runs tasks on both workers over TLS, a client without the certificates is
refused, and everything is stopped and removed after, also on Ctrl-C in the `with` body with
the scheduler reached through an SSH forward by the bastion."""

from __future__ import annotations

import os
import socket
import ssl
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.servers import free_port, free_port_range
from support.sshd import (
    FROM_WHEELHOUSE,
    Sshd,
    dependency_site,
    repack_wheel,
    sshd_available,
    start_sshd,
)

from contract.outputs import StackOutputs
from loadgen.loaders.stack import PoolOptions, stack_pool
from loadgen.loaders.stack_tls import make_certificates

pytestmark = [
    pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available())),
    # Building and installing the wheel, then two pools of a scheduler and two workers.
    pytest.mark.slow,
]


@dataclass
class Loopback:
    sshd: Sshd
    wheelhouse: Path
    remote_dir: Path
    outputs: StackOutputs

    def options(self, reach: str) -> PoolOptions:
        return PoolOptions(
            ssh_port=self.sshd.port,
            remote_dir=str(self.remote_dir),
            wheelhouse=self.wheelhouse,
            reach=reach,  # type: ignore[arg-type]
            start_timeout_s=90,
        )


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loopback]:
    base = tmp_path_factory.mktemp("pool")
    sshd = start_sshd(base / "sshd", dependency_site(base / "deps"))
    wheelhouse = base / "wheelhouse"
    repack_wheel(FROM_WHEELHOUSE, wheelhouse)
    scheduler = free_port()
    first, last = free_port_range(8)
    outputs = StackOutputs.model_validate(
        {
            "cloud": "aws",
            "orchestrator": "k8s",
            "framework": "openfaas",
            "bastion": {"host": "127.0.0.1", "user": "root"},
            "ssh_private_key": sshd.client_key,
            "loaders": {
                "hosts": [{"host": "127.0.0.1", "user": "root"}] * 2,
                "scheduler": f"tls://127.0.0.1:{scheduler}",
                "worker_ports": {"first": first, "last": last},
            },
        }
    )
    try:
        yield Loopback(sshd, wheelhouse, base / "loader", outputs)
    finally:
        sshd.stop()


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def answers_without_a_certificate(address: str, ca_file: Path) -> bool:
    """Whether the scheduler accepts a TLS client that trusts its CA but has no certificate of
    its own (it must not: mutual TLS). An accepted Dask connection starts with the server's
    handshake message, or at least stays open; a refused one ends in an alert or EOF."""
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(ca_file))
    context.check_hostname = False
    try:
        with (
            socket.create_connection((host, int(port)), timeout=10) as raw,
            context.wrap_socket(raw) as tls,
        ):
            return tls.recv(1) != b""
    except TimeoutError:
        return True
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return False


def assert_torn_down(loopback: Loopback, work_dir: Path) -> None:
    assert loopback.outputs.loaders is not None
    assert not listening(loopback.outputs.loaders.scheduler_port)
    sessions = loopback.remote_dir / "dask"
    assert not sessions.exists() or not list(sessions.iterdir()), "certificates left behind"
    assert not (work_dir / "tls" / "driver-key.pem").exists()
    logs = {p.name for p in (work_dir / "logs").iterdir()}
    assert {"loader-0-scheduler.log", "loader-0-worker.log", "loader-1-worker.log"} <= logs


def test_a_client_runs_tasks_on_every_loader_over_tls_and_all_is_stopped_after(
    loopback: Loopback, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from distributed import Client

    work_dir = tmp_path / "pool"
    with stack_pool(loopback.outputs, work_dir, options=loopback.options("auto")) as (
        address,
        security,
    ):
        assert address == loopback.outputs.loaders.scheduler  # type: ignore[union-attr]
        key = work_dir / "tls" / "driver-key.pem"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        with Client(address, security=security, timeout=30) as client:
            workers = client.scheduler_info(n_workers=-1)["workers"]
            assert sorted(w["name"] for w in workers.values()) == ["loader-0", "loader-1"]
            assert all(addr.startswith("tls://127.0.0.1:") for addr in workers)
            pids = client.run(os.getpid)
            assert len(set(pids.values())) == 2
            assert os.getpid() not in pids.values()
            # A task, placed on each worker in turn, runs there and its result comes back.
            for worker in workers:
                future = client.submit(sum, [1, 2, 3], workers=[worker], pure=False)
                assert future.result(timeout=30) == 6
        # Without the run's certificates: no TLS at all, another CA's, or TLS without one.
        with pytest.raises(TypeError, match="TLS expects a `ssl_context`"):
            Client(address, timeout=5)
        stranger = make_certificates(["127.0.0.1"], tmp_path / "stranger").security()
        with pytest.raises(OSError, match="TLS certificate does not match"):
            Client(address, security=stranger, timeout=5)
        assert not answers_without_a_certificate(address, work_dir / "tls" / "ca.pem")
    assert_torn_down(loopback, work_dir)
    progress = capfd.readouterr().err
    for line in ("installing faasbench", "starting the scheduler", "2 worker(s) joined",
                 "stopping the workers and the scheduler"):  # fmt: skip
        assert line in progress


def test_through_the_bastion_and_torn_down_on_ctrl_c(loopback: Loopback, tmp_path: Path) -> None:
    from distributed import Client

    work_dir = tmp_path / "pool"
    lines: list[str] = []
    seen: list[str] = []

    def campaign() -> None:
        with stack_pool(
            loopback.outputs, work_dir, options=loopback.options("forward"), echo=lines.append
        ) as (address, security):
            seen.append(address)
            with Client(address, security=security, timeout=30) as client:
                assert client.submit(pow, 2, 10, pure=False).result(timeout=30) == 1024
            raise KeyboardInterrupt  # Ctrl-C in the middle of the campaign

    with pytest.raises(KeyboardInterrupt):
        campaign()
    [address] = seen
    assert address != loopback.outputs.loaders.scheduler  # type: ignore[union-attr]
    assert address.startswith("tls://127.0.0.1:")
    assert_torn_down(loopback, work_dir)
    assert any("reusing" in line for line in lines), "the venv of the same code is reused"
    assert any("through root@127.0.0.1" in line for line in lines)
