"""The loader's install (`pip install .`, what `loadgen remote` puts on a loader) brings no Pulumi:
the Pulumi SDKs are the default uv group `pulumi`, which `uv sync` installs for `pulumi up`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_pulumi_is_a_default_uv_group_not_a_dependency() -> None:
    pyproject = _pyproject()
    project = pyproject["project"]
    assert isinstance(project, dict)
    assert not [d for d in project["dependencies"] if d.startswith("pulumi")]
    groups = pyproject["dependency-groups"]
    assert isinstance(groups, dict)
    assert {d.split(">")[0].split("=")[0] for d in groups["pulumi"]} >= {
        "pulumi",
        "pulumi-aws",
        "pulumi-openstack",
        "pulumi-kubernetes",
    }
    tool = pyproject["tool"]
    assert isinstance(tool, dict)
    assert "pulumi" in tool["uv"]["default-groups"]
    packages = tool["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert "stacks" not in packages
    assert "components" not in packages


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv")
def test_the_wheel_installs_a_loader_without_pulumi(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv is not None
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, capture_output=True, text=True, timeout=600, check=False, env=env, cwd=tmp_path
        )

    built = run(uv, "build", "--wheel", "--quiet", "--out-dir", str(tmp_path / "dist"), str(ROOT))
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("faasbench-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
    assert not {"stacks", "components"} & top
    assert {"loadgen", "contract", "functions", "faasbench"} <= top

    venv = tmp_path / "venv"
    assert run(uv, "venv", "--quiet", "--python", sys.executable, str(venv)).returncode == 0
    python = str(venv / "bin" / "python")
    installed = run(uv, "pip", "install", "--quiet", "--python", python, str(wheel))
    assert installed.returncode == 0, installed.stderr

    listed = run(uv, "pip", "list", "--python", python, "--format", "freeze")
    assert listed.returncode == 0, listed.stderr
    names = [line.split("==")[0].lower() for line in listed.stdout.splitlines()]
    assert "faasbench" in names
    assert [name for name in names if name.startswith("pulumi")] == []

    loadgen = str(venv / "bin" / "loadgen")
    for args in ([], ["hit"], ["estimate"], ["invoke"]):
        done = run(loadgen, *args, "--help")
        assert done.returncode == 0, (args, done.stderr)
    # The `faasbench` script is installed too: it needs the Pulumi SDK, and says so.
    faasbench = str(venv / "bin" / "faasbench")
    assert run(faasbench, "--help").returncode == 0
    swept = run(faasbench, "sweep")
    assert swept.returncode == 2
    assert "the Pulumi SDK is not installed here" in swept.stderr
