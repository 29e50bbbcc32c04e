"""A project, a backend and a fake `pulumi` on PATH (tests/support/fake_pulumi.py) for
`faasbench`, run as a user runs it: a subprocess (the fixture `world`, tests/faasbench/)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from typer.testing import CliRunner, Result

from support import fake_pulumi

ROOT = Path(__file__).resolve().parents[2]
#: A stack config the cost estimate prices: 6 AWS machines, about $0.34 an hour.
STACK_CONFIG = {
    "faasbench:cloud": "aws",
    "aws:region": "us-east-1",
    "faasbench:allowedSshCidrs": "203.0.113.7/32",
    "faasbench:ttlHours": 2,
}
#: One small cell (what the run stage is given when no target answers, it fails at once).
CAMPAIGN = {
    "name": "tiny",
    "number_of_runs": 1,
    "functions": {"echo": {"params": {"message": "hi"}}},
    "experiments": [
        {"name": "users", "kind": "users", "functions": ["echo"], "users": [1], "requests": 5}
    ],
}


@dataclass
class World:
    base: Path
    env: dict[str, str]
    project: Path
    campaign: Path
    study: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return Path(self.env["FAKE_PULUMI_LOG"])

    def faasbench(
        self, *args: str, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "faasbench", *args],
            cwd=self.base,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def invoke(self, *args: str, **env: str) -> Result:
        """`faasbench ARGS` in this process (the fake CLI still runs as a subprocess): what
        needs no signal, without paying for a new interpreter's imports."""
        from faasbench.cli import app

        cleared: dict[str, str | None] = {
            key: None
            for key in os.environ
            if key.startswith(("PULUMI_", "FAKE_PULUMI_", "AWS_", "OS_"))
        }
        runner = CliRunner()
        previous = Path.cwd()
        os.chdir(self.base)
        try:
            return runner.invoke(app, list(args), env={**cleared, **self.env, **env})
        finally:
            os.chdir(previous)

    def study_args(self, *extra: str) -> list[str]:
        return [
            "study", "dev", str(self.campaign), "--project", str(self.project),
            "--dir", str(self.study), *extra,
        ]  # fmt: skip

    def pulumi(
        self, *args: str, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """The fake CLI itself, as the Automation API calls it (for setting up the backend)."""
        return subprocess.run(
            ["pulumi", "--non-interactive", *args],
            cwd=self.project,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    def calls(self) -> list[list[str]]:
        """Every CLI call so far, without the `--non-interactive` every call carries."""
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [[a for a in json.loads(x)["argv"] if a != "--non-interactive"] for x in lines]

    def commands(self) -> list[str]:
        """The calls' commands: `up`, `destroy`, `stack init`, `config set`, ..."""
        named = []
        for argv in self.calls():
            words = [a for a in argv if not a.startswith("-")]
            two = words[0] in ("stack", "config") and len(words) > 1
            named.append(" ".join(words[:2]) if two else words[0])
        return named

    def state(self) -> dict[str, object]:
        return json.loads((self.study / "study.json").read_text())

    def stack_config(self) -> dict[str, object]:
        return yaml.safe_load((self.project / "Pulumi.dev.yaml").read_text())["config"]


def make_world(tmp_path: Path) -> World:
    bin_dir = tmp_path / "bin"
    fake_pulumi.install(bin_dir)
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": STACK_CONFIG}))
    campaign = tmp_path / "tiny.yaml"
    campaign.write_text(yaml.safe_dump(CAMPAIGN))
    # Outputs that are not a faasbench stack's (no `cloud`): the run stage fails before it
    # starts `loadgen run` (the tests of failures after up; the end-to-end test gives the local
    # target's outputs instead).
    outputs = tmp_path / "broken-outputs.json"
    outputs.write_text(json.dumps({"gateway_url": "http://127.0.0.1:9"}))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PULUMI_", "FAKE_PULUMI_", "AWS_", "OS_"))
    }
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'backend'}",
        FAKE_PULUMI_LOG=str(tmp_path / "pulumi-calls.jsonl"),
        FAKE_PULUMI_OUTPUTS=str(outputs),
    )
    return World(tmp_path, env, project, campaign, tmp_path / "study")
