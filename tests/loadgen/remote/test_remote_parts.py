"""The pieces of `--remote` that need no SSH: what the loader gets (outputs without the SSH key,
trace files beside the experiment), the wheel's content hash, ssh's failures in one sentence."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.sshd import FROM_WHEELHOUSE, repack_wheel

from contract.outputs import StackOutputs
from loadgen.experiments.campaign_file import load_experiment
from loadgen.remote.campaign import campaign_files, loader_of, remote_outputs
from loadgen.remote.scripts import INSTALL
from loadgen.remote.ssh import RemoteError, SshTarget, describe_ssh_failure
from loadgen.remote.wheel import bundled_pip, content_hash, project_root, wheel_packages

OUTPUTS = {
    "cloud": "aws",
    "orchestrator": "k8s",
    "framework": "openfaas",
    "bastion": {"host": "203.0.113.7", "user": "ubuntu"},
    "ssh_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n",
    "ftp": {"host": "10.0.1.9", "port": 21, "user": "bench", "password": "ftp-secret",
            "test_file": "f.bin", "test_file_bytes": 1, "test_file_sha256": "00"},
    "future_key": {"kept": True},
}  # fmt: skip


def test_the_loader_gets_every_secret_but_the_ssh_key() -> None:
    outputs = StackOutputs.model_validate(OUTPUTS)
    document = json.loads(remote_outputs(outputs))
    assert "ssh_private_key" not in document
    assert document["ftp"]["password"] == "ftp-secret"
    assert document["future_key"] == {"kept": True}
    assert StackOutputs.model_validate(document).bastion == outputs.bastion


def test_the_loader_is_the_bastion_unless_one_is_exported() -> None:
    outputs = StackOutputs.model_validate(OUTPUTS)
    assert loader_of(outputs).host == "203.0.113.7"
    other = {**OUTPUTS, "loader": {"host": "203.0.113.8", "user": "bench"}}
    assert loader_of(StackOutputs.model_validate(other)).user == "bench"
    existing = {"cloud": "existing", "orchestrator": "k8s", "framework": "openfaas"}
    with pytest.raises(RemoteError, match="neither loader nor bastion"):
        loader_of(StackOutputs.model_validate(existing))


def test_traces_travel_with_the_experiment(tmp_path: Path) -> None:
    (tmp_path / "traces").mkdir()
    (tmp_path / "traces" / "near.csv").write_text("x\n")
    (tmp_path / "far.csv").write_text("x\n")
    experiment = tmp_path / "campaign" / "experiment.yaml"
    experiment.parent.mkdir()
    (experiment.parent / "traces").symlink_to(tmp_path / "traces")
    trace = {"kind": "trace", "functions": ["echo"], "mapping": {"echo": "abc"}, "minutes": 1}
    document = {
        "name": "t",
        "functions": {"echo": {}},
        "experiments": [
            {**trace, "name": "near", "file": "traces/near.csv"},
            {**trace, "name": "far", "file": "../far.csv"},
        ],
    }
    experiment.write_text(yaml.safe_dump(document))
    text, traces = campaign_files(experiment, load_experiment(experiment))
    assert traces == {
        "traces/near.csv": experiment.parent / "traces/near.csv",
        "traces/1-far.csv": experiment.parent / "../far.csv",
    }
    rewritten = yaml.safe_load(text)
    assert [e["file"] for e in rewritten["experiments"]] == ["traces/near.csv", "traces/1-far.csv"]


def test_a_multi_trace_experiment_takes_its_three_files_along(tmp_path: Path) -> None:
    experiment = tmp_path / "campaign" / "experiment.yaml"
    experiment.parent.mkdir()
    multi = {"name": "day", "kind": "multi-trace", "sample": 4, "minutes": 1}
    files = {"invocations": "inv.csv", "durations": "../d/day.csv", "memory": "../m/day.csv"}
    document = {
        "name": "t",
        "functions": {"synthetic": {}},
        "experiments": [{**multi, **files}],
    }
    experiment.write_text(yaml.safe_dump(document))
    text, traces = campaign_files(experiment, load_experiment(experiment))
    assert traces == {
        "inv.csv": experiment.parent / "inv.csv",
        "traces/0-durations-day.csv": experiment.parent / "../d/day.csv",
        "traces/0-memory-day.csv": experiment.parent / "../m/day.csv",
    }
    [rewritten] = yaml.safe_load(text)["experiments"]
    assert [rewritten[f] for f in ("invocations", "durations", "memory")] == [
        "inv.csv",
        "traces/0-durations-day.csv",
        "traces/0-memory-day.csv",
    ]


def test_the_content_hash_covers_the_wheel_packages() -> None:
    root = project_root()
    # The loader's packages (and faasbench, whose console script the wheel declares), not the
    # Pulumi program (`stacks`, `components`).
    assert set(wheel_packages(root)) == {"functions", "loadgen", "contract", "faasbench"}
    assert content_hash(root) == content_hash(root)
    assert len(content_hash(root)) == 16


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ("ubuntu@203.0.113.7: Permission denied (publickey).", "cannot log in to ubuntu@"),
        ("ssh: connect to host 203.0.113.7 port 22: Connection refused", "cannot reach ubuntu@"),
        ("Host key verification failed.", "differs from the one recorded"),
        ("kex_exchange_identification: something odd", "ssh to ubuntu@203.0.113.7 failed"),
    ],
)
def test_ssh_failures_name_user_and_host(stderr: str, expected: str) -> None:
    target = SshTarget("203.0.113.7", "ubuntu", 22, Path("key"), Path("known_hosts"))
    assert expected in describe_ssh_failure(target, stderr)


def test_a_debian_python_finds_its_pip_wheel_outside_ensurepip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian's and Ubuntu's ensurepip has no _bundled folder: its wheels are in
    /usr/share/python-wheels (python3-pip-whl)."""
    import ensurepip

    from loadgen.remote import wheel as wheel_module

    stripped = tmp_path / "ensurepip"
    stripped.mkdir()
    monkeypatch.setattr(ensurepip, "__file__", str(stripped / "__init__.py"))
    debian = tmp_path / "python-wheels"
    debian.mkdir()
    monkeypatch.setattr(wheel_module, "DEBIAN_WHEELS", debian)
    assert bundled_pip() is None
    (debian / "setuptools-66.1.1-py3-none-any.whl").write_bytes(b"")
    (debian / "pip-23.0.1-py3-none-any.whl").write_bytes(b"")
    assert bundled_pip() == debian / "pip-23.0.1-py3-none-any.whl"
    (stripped / "_bundled").mkdir()
    (stripped / "_bundled" / "pip-24.0-py3-none-any.whl").write_bytes(b"")
    assert bundled_pip() == stripped / "_bundled" / "pip-24.0-py3-none-any.whl"


def test_a_python3_without_ensurepip_gets_pip_from_the_bundled_wheel(tmp_path: Path) -> None:
    """Ubuntu's python3 without python3-venv: `python3 -m venv` fails, so the install script
    makes the venv without pip and bootstraps pip from the wheel this Python ships."""
    pip_wheel = bundled_pip()
    if pip_wheel is None:
        pytest.skip("this Python ships no pip wheel")
    real = Path(sys._base_executable).resolve()  # type: ignore[attr-defined]
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "python3").write_text(
        "#!/bin/sh\n"
        'if [ "$1 $2" = "-m venv" ] && [ "$3" != "--without-pip" ]; then\n'
        '  echo "The virtual environment was not created successfully because ensurepip is '
        'not available." >&2; exit 1\n'
        "fi\n"
        f'exec {real} "$@"\n'
    )
    (shims / "python3").chmod(0o755)
    remote = tmp_path / "loader"
    (remote / "bootstrap").mkdir(parents=True)
    shutil.copy(pip_wheel, remote / "bootstrap")
    # A stand-in for faasbench's wheel: the script installs whatever wheel it is given.
    wheel = repack_wheel(FROM_WHEELHOUSE, remote / "wheels" / "h")
    (remote / "wheelhouse").mkdir()
    # The stand-in has no loadgen to check: check that its module imports instead.
    script = INSTALL.replace(
        '"$venv/bin/loadgen" --help', f'"$venv/bin/python" -c "import {FROM_WHEELHOUSE}"'
    )
    result = subprocess.run(
        ["sh", "-c", script,
         "sh", str(remote), "h", str(wheel.relative_to(remote)), "offline"],
        env={"PATH": f"{shims}:/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "bootstrapping pip" in result.stdout
    venv = remote / "venv-h"
    assert (venv / ".faasbench-installed").is_file()
    assert list(venv.glob(f"lib/python3*/site-packages/{FROM_WHEELHOUSE}-*.dist-info"))
