"""What a user sees for a bad config: run __main__.py as the Pulumi language host would.

A subprocess per config, so an exception that escapes the program shows up as the traceback the
user would get, and the exit status is the program's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.pulumi_mocks import ROOT, project_defaults

HOST = ROOT / "tests" / "support" / "program_host.py"


def run_host(
    config: dict[str, str], secret: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    values = {f"faasbench:{k}": v for k, v in {**project_defaults(), **config}.items()}
    env = {
        **os.environ,
        "PULUMI_CONFIG": json.dumps(values),
        "PULUMI_CONFIG_SECRET_KEYS": json.dumps([f"faasbench:{k}" for k in secret]),
    }
    return subprocess.run(
        [sys.executable, str(HOST), str(ROOT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


CASES = [
    ({"cloud": "aws"}, "requires allowedSshCidrs"),
    ({"cloud": "aws", "allowedSshCidrs": "0.0.0.0/0"}, "allowPublicSsh: true"),
    (
        {
            "cloud": "aws",
            "allowedSshCidrs": "203.0.113.0/24",
            "orchestrator": "swarm",
            "framework": "openwhisk",
        },
        "openwhisk runs only on orchestrator k8s",
    ),
    ({"cloud": "azure", "allowedSshCidrs": "203.0.113.0/24"}, "faasbench:cloud = 'azure'"),
    (
        {"cloud": "aws", "allowedSshCidrs": "203.0.113.0/24", "wokerCount": "3"},
        "did you mean workerCount?",
    ),
    (
        {"cloud": "aws", "allowedSshCidrs": "not-a-cidr"},
        "faasbench:allowedSshCidrs[0] = 'not-a-cidr'",
    ),
    ({"cloud": "existing"}, "cloud existing requires kubeconfig"),
]


@pytest.mark.parametrize(("config", "expected"), CASES, ids=[c[1][:30] for c in CASES])
def test_bad_config_stops_with_one_readable_message(config: dict[str, str], expected: str) -> None:
    result = run_host(config)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "invalid faasbench stack configuration" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_good_config_runs_clean() -> None:
    result = run_host({"cloud": "aws", "allowedSshCidrs": "203.0.113.0/24"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
