"""The loader pool's machines: their cloud-init (valid for cloud-init, a golden file, a setup
script that passes shellcheck and installs Python 3 with venv beside chrony) and the step that
checks each loader is ready, run for real in a sandbox."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from support.sandbox import Sandbox
from support.snapshots import assert_snapshot
from support.validators import cloud_init_schema

from components.cloud_init import (
    LOADER_PACKAGES,
    NODE_PACKAGES,
    SETUP_SCRIPT,
    loader_cloud_config,
    node_cloud_config,
)
from components.loader_pool import MIN_PYTHON
from components.remote_step import render_step

HOSTNAME = "faasbench-test-loader-0"


def setup_script(document: str) -> str:
    [script] = [
        f["content"] for f in yaml.safe_load(document)["write_files"] if f["path"] == SETUP_SCRIPT
    ]
    return str(script)


def test_loader_cloud_config_is_valid_and_reviewed() -> None:
    document = loader_cloud_config(HOSTNAME)
    cloud_init_schema(document)
    assert_snapshot("loader.cloud-config.yaml", document)


def test_a_loader_is_a_plain_node_plus_python_and_venv() -> None:
    loader = yaml.safe_load(loader_cloud_config(HOSTNAME))
    node = yaml.safe_load(node_cloud_config(HOSTNAME, containers=False))
    assert loader["hostname"] == HOSTNAME
    assert loader["runcmd"] == [[SETUP_SCRIPT]]
    assert not {"packages", "bootcmd"} & set(loader)
    # No container kernel settings: only sshd hardening and the setup script.
    assert [f["path"] for f in loader["write_files"]] == [f["path"] for f in node["write_files"]]
    assert set(LOADER_PACKAGES) == {*NODE_PACKAGES, "python3", "python3-venv"}
    assert "chrony" in LOADER_PACKAGES
    script = setup_script(loader_cloud_config(HOSTNAME))
    assert f"PACKAGES={shlex.quote(' '.join(LOADER_PACKAGES))}" in script
    assert "CONTAINER_KERNEL=false" in script


def test_the_loader_setup_script_passes_shellcheck(tmp_path: Path) -> None:
    path = tmp_path / "faasbench-setup"
    path.write_text(setup_script(loader_cloud_config(HOSTNAME)))
    result = subprocess.run(
        ["shellcheck", "--shell=bash", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def ready_step(min_python: str = MIN_PYTHON) -> str:
    return render_step("loader-ready", {"MIN_PYTHON": min_python})


def test_the_ready_step_passes_twice_on_a_set_up_loader_and_changes_nothing(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox.create(tmp_path / "loader", {"units": {"chrony.service": "active"}})
    try:
        for _ in range(2):
            result = sandbox.run(ready_step())
            assert "loader ready: python3 3." in result.stderr
            assert "with venv, chrony running" in result.stderr
        verbs = {tuple(call[:2]) for call in sandbox.calls()}
        assert verbs <= {("systemctl", "is-active")}, verbs
    finally:
        sandbox.remove()


@pytest.mark.parametrize(
    ("state", "min_python", "expected"),
    [
        ({}, MIN_PYTHON, "chrony is not running"),
        ({"units": {"chrony.service": "active"}}, "99.0", "faasbench needs 99.0 or later"),
    ],
)
def test_the_ready_step_names_what_is_missing(
    tmp_path: Path, state: dict[str, object], min_python: str, expected: str
) -> None:
    sandbox = Sandbox.create(tmp_path / "loader", state)
    try:
        result = sandbox.run(ready_step(min_python), check=False)
        assert result.returncode != 0
        assert expected in result.stderr
    finally:
        sandbox.remove()


def test_the_ready_step_waits_for_the_setup_and_reports_its_failure(tmp_path: Path) -> None:
    sandbox = Sandbox.create(tmp_path / "loader", {"units": {"chrony.service": "active"}})
    try:
        sandbox.path("/var/lib/faasbench/cloud-init.done").unlink()
        sandbox.path("/var/lib/faasbench/cloud-init.failed").write_text(
            "step=packages\nexit=100\nlog=/var/log/faasbench-setup.log\n"
        )
        log = sandbox.path("/var/log/faasbench-setup.log")
        log.write_text("E: Unable to locate python3-venv\n")
        result = sandbox.run(ready_step(), check=False)
        assert result.returncode != 0
        assert "setup failed at step packages" in result.stderr
        assert "python3-venv" in result.stderr
    finally:
        sandbox.remove()
