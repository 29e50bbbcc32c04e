"""README's commands are the ones CI and the Makefile really run."""

from __future__ import annotations

import re
import subprocess

from support.pulumi_mocks import ROOT


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^\s*(make test)\s*$", ci, flags=re.MULTILINE)
    assert commands == ["make test"]
    assert "make test" in readme


def test_makefile_test_target_runs_lint_and_pytest() -> None:
    result = subprocess.run(
        ["make", "-n", "test", "-C", str(ROOT)], capture_output=True, text=True, check=True
    )
    assert "ruff check" in result.stdout
    assert "pytest" in result.stdout


def test_bootstrap_script_passes_shellcheck() -> None:
    result = subprocess.run(
        ["shellcheck", str(ROOT / "scripts" / "bootstrap.sh"), str(ROOT / ".ci" / "run")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
