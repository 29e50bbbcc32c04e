"""Cloud-init documents: valid for cloud-init itself, reviewed as golden files, and the setup
script they run: strict, named steps, the "done" sentinel only on success, a failure marker
naming the failed step, which the remote steps' wait turns into an error with the log's tail."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.sandbox import Sandbox
from support.snapshots import assert_snapshot
from support.validators import cloud_init_schema

from components.cloud_init import (
    CLOUD_INIT_FAILED,
    CLOUD_INIT_SENTINEL,
    NODE_PACKAGES,
    SETUP_LOG,
    SETUP_SCRIPT,
    SETUP_SOURCE,
    bastion_cloud_config,
    node_cloud_config,
    render_cloud_config,
)
from components.remote_step import render_step


def test_bastion_cloud_config_is_valid() -> None:
    cloud_init_schema(bastion_cloud_config())


def test_bastion_cloud_config_snapshot() -> None:
    assert_snapshot("bastion.cloud-config.yaml", bastion_cloud_config())


@pytest.mark.parametrize("containers", [True, False])
def test_node_cloud_config_is_valid(containers: bool) -> None:
    cloud_init_schema(node_cloud_config("faasbench-test-worker-0", containers=containers))


def test_bastion_allows_many_proxied_connections_and_no_passwords() -> None:
    document = yaml.safe_load(bastion_cloud_config())
    assert document["ssh_pwauth"] is False
    [sshd] = [f for f in document["write_files"] if f["path"].startswith("/etc/ssh/")]
    settings = dict(line.split(" ", 1) for line in sshd["content"].splitlines())
    assert settings["PasswordAuthentication"] == "no"
    assert settings["AllowTcpForwarding"] == "yes"
    assert int(settings["MaxStartups"].split(":")[0]) >= 100


def test_the_validator_rejects_a_broken_document() -> None:
    broken = render_cloud_config({"packages": "chrony", "runcmd": {"not": "a list"}})
    with pytest.raises(AssertionError, match="runcmd"):
        cloud_init_schema(broken)


def setup_script(document: str) -> str:
    [script] = [
        f["content"] for f in yaml.safe_load(document)["write_files"] if f["path"] == SETUP_SCRIPT
    ]
    return str(script)


@pytest.mark.parametrize("document", ["node", "bastion"])
def test_cloud_init_only_writes_files_and_runs_the_setup_script(document: str) -> None:
    """cloud-init's own `packages` and multi-command `runcmd` carry on past failures."""
    text = (
        node_cloud_config("n1", containers=True) if document == "node" else bastion_cloud_config()
    )
    parsed = yaml.safe_load(text)
    assert parsed["runcmd"] == [[SETUP_SCRIPT]]
    assert not {"packages", "package_update", "package_upgrade", "bootcmd"} & set(parsed)
    [setup] = [f for f in parsed["write_files"] if f["path"] == SETUP_SCRIPT]
    assert setup["permissions"] == "0755"
    assert setup["content"].startswith("#!/bin/bash\n")


def test_the_setup_script_passes_shellcheck(tmp_path: Path) -> None:
    path = tmp_path / "faasbench-setup"
    path.write_text(setup_script(node_cloud_config("n1", containers=True)))
    result = subprocess.run(
        ["shellcheck", "--shell=bash", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_the_script_and_the_program_agree_on_paths() -> None:
    source = SETUP_SOURCE.read_text()
    for path in (CLOUD_INIT_SENTINEL, CLOUD_INIT_FAILED, SETUP_LOG):
        name = Path(path).name
        assert name in source, name
    lib = (SETUP_SOURCE.parent / "lib.sh").read_text()
    assert Path(CLOUD_INIT_SENTINEL).name in lib
    assert Path(CLOUD_INIT_FAILED).name in lib


def first_boot(
    tmp_path: Path, state: dict[str, Any]
) -> tuple[Sandbox, subprocess.CompletedProcess[str]]:
    """A fresh machine (no sentinel) running a worker's setup script under the fake tools."""
    available = {"available": {package: ["1.0-1ubuntu1"] for package in NODE_PACKAGES}}
    sandbox = Sandbox.create(tmp_path / "machine", {**available, **state})
    sandbox.path(CLOUD_INIT_SENTINEL).unlink()
    document = node_cloud_config("faasbench-test-worker-0", containers=True)
    for written in yaml.safe_load(document)["write_files"]:
        if written["path"].startswith("/etc/"):
            target = sandbox.path(written["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(written["content"])
    return sandbox, sandbox.run(setup_script(document), check=False)


def next_step() -> str:
    """A remote step, which first waits for the machine's setup (every machine's first does)."""
    return render_step(
        "docker-install",
        {"DOCKER_VERSION": "28.5.2", "CONTAINERD_VERSION": "1.7.29-1", "MTU": 1500},
    )


def test_a_successful_setup_writes_the_sentinel(tmp_path: Path) -> None:
    sandbox, result = first_boot(tmp_path, {})
    assert result.returncode == 0, sandbox.path(SETUP_LOG).read_text()
    assert sandbox.path(CLOUD_INIT_SENTINEL).exists()
    assert not sandbox.path(CLOUD_INIT_FAILED).exists()
    log = sandbox.path(SETUP_LOG).read_text()
    steps = [line.split("step ", 1)[1] for line in log.splitlines() if " step " in line]
    assert steps == ["sshd", "packages", "chrony", "kernel-modules", "sysctls", "finish"]
    calls = [" ".join(c) for c in sandbox.calls()]
    install = [c for c in calls if c.startswith("apt-get") and " install " in c]
    assert len(install) == 1
    assert install[0].endswith(" ".join(NODE_PACKAGES))
    assert "DPkg::Lock::Timeout=300" in install[0]
    assert "modprobe br_netfilter" in calls
    assert "sysctl -p /etc/sysctl.d/90-faasbench.conf" in calls


@pytest.mark.parametrize(
    ("tool", "step", "message"),
    [
        ("apt-get", "packages", "E: Failed to fetch"),
        ("systemctl", "sshd", "Failed to connect to bus"),
        ("modprobe", "kernel-modules", "modprobe: FATAL"),
        ("sysctl", "sysctls", "sysctl: cannot stat"),
    ],
)
def test_a_failed_step_leaves_no_sentinel_and_the_wait_names_it(
    tmp_path: Path, tool: str, step: str, message: str
) -> None:
    sandbox, result = first_boot(tmp_path, {"broken": {tool: "fail"}})
    assert result.returncode != 0
    assert f"faasbench-setup: FAILED at step {step}" in result.stderr
    assert not sandbox.path(CLOUD_INIT_SENTINEL).exists()
    marker = dict(
        line.split("=", 1) for line in sandbox.path(CLOUD_INIT_FAILED).read_text().splitlines()
    )
    assert marker["step"] == step
    assert marker["log"] == SETUP_LOG
    if tool == "apt-get":
        attempts = [c for c in sandbox.calls() if c[0] == "apt-get"]
        assert len(attempts) == 5, "apt is retried, a bounded number of times"
    # The next remote step on this machine fails at once, naming the step and the log's tail.
    sandbox.clear_calls()
    waited = sandbox.run(next_step(), check=False)
    assert waited.returncode == 1
    assert f"the machine's setup failed at step {step}" in waited.stderr
    assert f"last lines of {SETUP_LOG}" in waited.stderr
    assert message in waited.stderr


def test_cloud_init_ending_in_error_without_the_setup_is_reported(tmp_path: Path) -> None:
    sandbox = Sandbox.create(tmp_path / "machine", {"cloud_init": {"status": "error", "exit": 1}})
    sandbox.path(CLOUD_INIT_SENTINEL).unlink()
    sandbox.path("/var/log/cloud-init-output.log").write_text(
        "Cloud-init v. 25.1 running 'modules:final'\nfailed to run runcmd\n"
    )
    waited = sandbox.run(next_step(), check=False)
    assert waited.returncode == 1
    assert "cloud-init finished (exit 1) without the machine's setup completing" in waited.stderr
    assert "status: error" in waited.stderr
    assert "failed to run runcmd" in waited.stderr
