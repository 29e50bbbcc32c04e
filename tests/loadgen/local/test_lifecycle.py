"""Scale to zero without CE limits, and the target's lifecycle: down stops every process (also
after the gateway was killed), is idempotent, keeps results/; errors are clear messages."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
from pathlib import Path

import pytest
from support.local_target import pid_alive, run_cli, start_target, stop_target, wait_until


def test_scale_to_zero_then_a_call_waits_for_a_new_replica(tmp_path: Path) -> None:
    target = start_target(tmp_path, "--no-ce-limits")
    try:
        limits = target.outputs["openfaas"]["limits"]
        assert limits == {
            "max_functions": None,
            "max_replicas": None,
            "scale_to_zero": True,
            "idler": False,
        }
        target.deploy("echo", "echo")
        first = target.invoke("echo").json()["meta"]
        target.invoke("echo")
        old_pids = target.replica_pids()
        assert len(old_pids) == 1
        assert target.scale("echo", 0).status_code == 202
        target.wait_available("echo", 0)
        wait_until(lambda: not any(pid_alive(p) for p in old_pids), what="the replica to exit")
        response = target.invoke("echo")
        assert response.status_code == 200
        meta = response.json()["meta"]
        assert meta["cold"] is True
        assert meta["instance"] != first["instance"]
        assert float(response.headers["x-hold-seconds"]) > 0
        assert target.status("echo")["replicas"] == 1
        # A call right behind a scale to zero is held, not lost between the two.
        assert target.scale("echo", 0).status_code == 202
        assert target.invoke("echo").status_code == 200
        assert target.scale("echo", 6).status_code == 202
        target.wait_available("echo", 6)
    finally:
        stop_target(target)


def test_down_after_the_gateway_was_killed_stops_everything(tmp_path: Path) -> None:
    target = start_target(tmp_path, "--replicas", "2")
    target.deploy("echo", "echo")
    target.wait_available("echo", 2)
    processes = target.process_pids()
    replicas = target.replica_pids()
    assert set(processes) >= {"gateway", "haproxy", "ftp"}
    assert len(replicas) == 2
    (target.directory / "results").mkdir()
    (target.directory / "results" / "run.json").write_text("{}")
    target.client.close()

    os.kill(processes["gateway"], signal.SIGKILL)
    wait_until(lambda: not pid_alive(processes["gateway"]), what="the gateway to die")
    assert all(pid_alive(pid) for pid in replicas)  # orphans: only down can stop them now
    partly = run_cli("up", "--dir", str(target.directory), cwd=tmp_path)
    assert partly.returncode == 1
    assert "partly down (gateway)" in partly.stderr

    result = run_cli("down", "--dir", str(target.directory), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "stopped" in result.stderr
    left = [pid for pid in [*processes.values(), *replicas] if pid_alive(pid)]
    assert left == []
    assert sorted(p.name for p in target.directory.iterdir()) == ["results"]
    assert (target.directory / "results" / "run.json").read_text() == "{}"

    again = run_cli("down", "--dir", str(target.directory), cwd=tmp_path)
    assert again.returncode == 0
    assert "nothing was running" in again.stderr


def test_down_without_a_target_is_a_no_op(tmp_path: Path) -> None:
    result = run_cli("down", "--dir", str(tmp_path / "never"), cwd=tmp_path)
    assert result.returncode == 0
    assert "nothing was running" in result.stderr
    assert not (tmp_path / "never").exists()


def test_down_leaves_an_unrelated_process_with_a_recorded_pid_alone(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    # Our own pid, recorded with a start time it does not have: a reused pid after a reboot.
    record = f'{{"processes": [{{"name": "gateway", "pid": {os.getpid()}, "start_ticks": 1}}]}}'
    (state / "state.json").write_text(record)
    result = run_cli("down", "--dir", str(state), cwd=tmp_path)
    assert result.returncode == 0
    assert "nothing was running" in result.stderr
    assert not state.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replicas", "6"], "CE limits allow at most 5"),
        (["--replicas", "0"], "--replicas"),
    ],
)
def test_bad_options_are_refused_without_a_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli("up", "--dir", str(tmp_path / "state"), *args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "state" / "state.json").exists()


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("up", "--dir", str(tmp_path / "state"), "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    assert f"port 127.0.0.1:{port} is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_haproxy_up_refuses_to_start(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}
    result = run_cli("up", "--dir", str(tmp_path / "state"), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "haproxy is not installed" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_prometheus_up_works_and_says_so(tmp_path: Path) -> None:
    haproxy = shutil.which("haproxy")
    assert haproxy is not None, "haproxy is not installed (make bootstrap installs it)"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "haproxy").symlink_to(haproxy)
    env = {**os.environ, "PATH": str(bin_dir)}
    state = tmp_path / "state"
    result = run_cli("up", "--dir", str(state), cwd=tmp_path, env=env)
    try:
        assert result.returncode == 0, result.stderr
        assert "prometheus is not installed" in result.stderr
        outputs = json.loads((state / "outputs.json").read_text())
        assert "prometheus" not in outputs
        assert "prometheus" not in json.loads((state / "state.json").read_text())["ports"]
    finally:
        assert run_cli("down", "--dir", str(state), cwd=tmp_path).returncode == 0
    assert not state.exists()


def test_help_everywhere(tmp_path: Path) -> None:
    for args in (["--help"], ["up", "--help"], ["down", "--help"]):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 0
        assert "Usage" in result.stdout
    assert "--ce-limits" in run_cli("up", "--help", cwd=tmp_path).stdout
