"""`loadgen run --remote` end to end against a real sshd on 127.0.0.1, with the local target
as the stack: the remote venv installed offline from a wheelhouse, the campaign run over SSH,
results copied back, resume reusing the venv, Ctrl-C forwarded, clear SSH errors, and no
secret on any command line or in any output."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from support.local_target import LocalTarget, start_target, stop_target, wait_until
from support.sshd import (
    FROM_WHEELHOUSE,
    Sshd,
    dependency_site,
    free_port,
    generate_key,
    repack_wheel,
    sshd_available,
    start_sshd,
)

from loadgen.experiments.campaign_file import load_experiment
from loadgen.experiments.cells import expand
from loadgen.results.tree import open_results

pytestmark = pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available()))

BASE = {
    "name": "remote-ci",
    "number_of_runs": 1,
    "seed": 5,
    "processes": 1,
    "timeouts": {"deploy_s": 60, "ready_s": 60, "request_s": 30},
    "functions": {"echo": {"params": {"message": "hi"}}},
}
SMALL = {
    **BASE,
    "experiments": [
        {"name": "users", "kind": "users", "functions": ["echo"], "users": [1, 2],
         "requests": 20},
        {"name": "open", "kind": "rates", "functions": ["echo"], "rates": [20], "duration_s": 1,
         "arrival": "constant"},
    ],
}  # fmt: skip
LONG = {
    **BASE,
    "name": "remote-stop",
    "experiments": [
        {"name": "open", "kind": "rates", "functions": ["echo"], "rates": [20, 21, 22],
         "duration_s": 4, "arrival": "constant"},
    ],
}  # fmt: skip


@dataclass
class Remote:
    sshd: Sshd
    directory: Path
    wheelhouse: Path
    outputs: Path
    target: LocalTarget
    ssh_log: Path
    bin: Path

    def secrets(self) -> list[str]:
        openfaas = self.target.outputs["openfaas"]["password"]
        ftp = self.target.outputs["ftp"]["password"]
        key_body = self.sshd.client_key.splitlines()[1]
        return [openfaas, ftp, key_body]


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    base = tmp_path_factory.mktemp("remote")
    (base / "target").mkdir()
    target = start_target(base / "target")
    sshd = start_sshd(base / "sshd", dependency_site(base / "deps"))
    wheelhouse = base / "wheelhouse"
    repack_wheel(FROM_WHEELHOUSE, wheelhouse)
    document = dict(target.outputs)
    document["bastion"] = {"host": "127.0.0.1", "user": "root"}
    document["ssh_private_key"] = sshd.client_key
    outputs = base / "outputs.json"
    outputs.write_text(json.dumps(document))
    outputs.chmod(0o600)
    # Every ssh the local loadgen starts goes through this wrapper, which logs its argv.
    bin_dir = base / "bin"
    bin_dir.mkdir()
    ssh_log = base / "ssh-argv.log"
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {ssh_log}\nexec /usr/bin/ssh "$@"\n')
    wrapper.chmod(0o755)
    try:
        yield Remote(sshd, base / "loader", wheelhouse, outputs, target, ssh_log, bin_dir)
    finally:
        sshd.stop()
        stop_target(target)


def command(remote: Remote, experiment: Path, results: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "loadgen", "run", str(experiment), "--stack-outputs",
            str(remote.outputs), "--results", str(results), "--remote", "--ssh-port",
            str(remote.sshd.port), "--remote-dir", str(remote.directory), "--wheelhouse",
            str(remote.wheelhouse), *extra]  # fmt: skip


def environment(remote: Remote) -> dict[str, str]:
    return {**os.environ, "PATH": f"{remote.bin}:{os.environ['PATH']}"}


def loadgen_remote(
    remote: Remote, experiment: Path, results: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(remote, experiment, results, *extra),
        cwd=experiment.parent,
        env=environment(remote),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def experiment_file(directory: Path, document: dict[str, object]) -> Path:
    path = directory / "experiment.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def cell_ids(results: Path) -> list[str]:
    cells = results / "cells"
    if not cells.is_dir():
        return []
    return sorted(p.name for p in cells.iterdir() if (p / "cell.json").is_file())


def remote_processes(remote: Remote) -> list[str]:
    """Command lines of processes running from the remote directory (the remote loadgen)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(remote.directory) in argv and "loadgen" in argv:
            found.append(argv)
    return found


def assert_no_secret(remote: Remote, *texts: str) -> None:
    for secret in remote.secrets():
        for text in texts:
            assert secret not in text


@pytest.mark.slow  # a whole campaign through ssh: about 25 s
def test_a_remote_campaign_installs_runs_copies_back_and_resumes(
    remote: Remote, tmp_path: Path
) -> None:
    experiment = experiment_file(tmp_path, SMALL)
    results = tmp_path / "results"
    first = loadgen_remote(remote, experiment, results)
    assert first.returncode == 0, first.stderr
    assert "installing faasbench" in first.stderr
    assert "3 cells done, 0 failed" in first.stdout
    venvs = sorted(remote.directory.glob("venv-*"))
    assert len(venvs) == 1
    assert (venvs[0] / ".faasbench-installed").is_file()
    # The wheelhouse's distribution was installed from it, offline.
    site = next(venvs[0].glob("lib/python3*/site-packages"))
    assert list(site.glob(f"{FROM_WHEELHOUSE}-*.dist-info"))
    assert list(site.glob("faasbench-*.dist-info"))

    tree = open_results(results)
    planned = sorted(c.id for c in expand(load_experiment(experiment), tmp_path))
    assert sorted(c.info.id for c in tree.cells) == planned
    assert {c.info.status for c in tree.cells} == {"complete"}
    # The host key was accepted on first use, into the results' own known_hosts.
    host_key = remote.sshd.host_public_key.split()[1]
    known = (results / ".known_hosts").read_text().split()
    assert known[:1] == [f"[127.0.0.1]:{remote.sshd.port}"]
    assert host_key in known
    campaign = remote.directory / "campaigns" / "remote-ci"
    assert not (campaign / "outputs.json").exists()
    assert remote.target.system("GET", "functions").json() == []

    # The key lived in a 0600 temporary file, now gone; no secret in any argv or output.
    argv_log = remote.ssh_log.read_text()
    key_files = set(re.findall(r"^-i (\S+) ", argv_log, re.MULTILINE))
    assert key_files
    assert not [path for path in key_files if Path(path).exists()]
    assert_no_secret(remote, argv_log, first.stdout, first.stderr, str(results / "manifest.json"))
    assert_no_secret(remote, (results / "manifest.json").read_text())

    again = loadgen_remote(remote, experiment, results, "--resume")
    assert again.returncode == 0, again.stderr
    assert "reusing" in again.stderr
    assert "installing faasbench" not in again.stderr
    assert "3 already done" in again.stdout
    assert sorted(remote.directory.glob("venv-*")) == venvs
    assert {c.info.status for c in open_results(results).cells} == {"complete"}


@pytest.mark.slow  # a whole campaign through ssh: about 25 s
def test_ctrl_c_stops_the_remote_run_and_what_was_done_comes_back(
    remote: Remote, tmp_path: Path
) -> None:
    experiment = experiment_file(tmp_path, LONG)
    results = tmp_path / "results"
    remote_results = remote.directory / "campaigns" / "remote-stop" / "results"
    process = subprocess.Popen(
        command(remote, experiment, results),
        cwd=tmp_path,
        env=environment(remote),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def second_cell_running() -> bool:
            incomplete = remote_results / ".incomplete"
            return bool(cell_ids(remote_results)) and any(
                (d / "records").is_dir() for d in incomplete.glob("*")
            )

        wait_until(second_cell_running, timeout=120, what="the remote run's second cell")
        assert remote_processes(remote)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "interrupting the campaign" in stderr
    assert "--resume" in stderr
    assert "Traceback" not in stderr
    wait_until(lambda: not remote_processes(remote), timeout=20, what="no remote loadgen left")
    done = cell_ids(results)
    assert 1 <= len(done) < 3
    assert done == cell_ids(remote_results)
    assert_no_secret(remote, stdout, stderr)

    resumed = loadgen_remote(remote, experiment, results, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(done)} already done" in resumed.stdout
    assert len(cell_ids(results)) == 3
    assert {c.info.status for c in open_results(results).cells} == {"complete"}


def test_a_refused_key_is_one_clear_error(remote: Remote, tmp_path: Path) -> None:
    document = json.loads(remote.outputs.read_text())
    document["ssh_private_key"] = generate_key(tmp_path / "other_key")
    (tmp_path / "other_key").unlink()
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(document))
    bad = dataclasses.replace(remote, outputs=outputs)
    result = loadgen_remote(bad, experiment_file(tmp_path, SMALL), tmp_path / "results")
    assert result.returncode == 1
    assert f"cannot log in to root@127.0.0.1 (port {remote.sshd.port})" in result.stderr
    assert "Traceback" not in result.stderr
    assert document["ssh_private_key"].splitlines()[1] not in result.stderr


def test_an_unreachable_loader_is_one_clear_error(remote: Remote, tmp_path: Path) -> None:
    nobody = dataclasses.replace(remote.sshd, port=free_port())
    closed = dataclasses.replace(remote, sshd=nobody)
    result = loadgen_remote(closed, experiment_file(tmp_path, SMALL), tmp_path / "results")
    assert result.returncode == 1
    assert "cannot reach root@127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
