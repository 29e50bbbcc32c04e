"""`loadgen doctor` against the local target: all right, then each thing broken on purpose."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from support.local_target import LocalTarget
from support.servers import free_port


def doctor(outputs: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return subprocess.run(
        [sys.executable, "-m", "loadgen", "doctor", "--stack-outputs", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_a_healthy_local_target_passes_every_check(target: LocalTarget, tmp_path: Path) -> None:
    result = doctor(target.outputs, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("gateway", "gateway auth", "prometheus", "ftp"):
        assert f"│ {name} " in result.stdout
    assert "FAIL" not in result.stdout
    assert "test file 1048576 bytes" in result.stdout


def test_each_broken_endpoint_is_named_with_the_reason(target: LocalTarget, tmp_path: Path) -> None:
    broken = copy.deepcopy(target.outputs)
    broken["openfaas"]["password"] = "not-the-password"
    broken["ftp"]["password"] = "not-the-ftp-password"
    broken["prometheus"]["url"] = f"http://127.0.0.1:{free_port()}"
    result = doctor(broken, tmp_path)
    assert result.returncode == 1
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert "ok" in lines["gateway"]
    assert "401 unauthorized: the credentials in the outputs are wrong" in lines["gateway auth"]
    assert "connection refused or unreachable" in lines["prometheus"]
    assert "refused" in lines["ftp"]
    assert "not right: gateway auth, prometheus, ftp" in result.stderr
    # Credentials are used, never shown.
    assert "not-the-password" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_missing_outputs_are_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "loadgen", "doctor", "--stack-outputs", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "none.json" in result.stderr
    assert "Traceback" not in result.stderr
