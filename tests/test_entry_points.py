"""README's commands are the ones CI and the Makefile really run."""

from __future__ import annotations

import re
import subprocess

from support.pulumi_mocks import ROOT


def test_ci_runs_the_readme_test_command_then_the_slow_tier() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^\s*(make test(?:-slow)?)\s*$", ci, flags=re.MULTILINE)
    assert commands == ["make test", "make test-slow"]
    assert "make test" in readme


def test_make_test_runs_the_fast_tier_and_make_test_slow_the_rest() -> None:
    fast = subprocess.run(
        ["make", "-n", "test", "-C", str(ROOT)], capture_output=True, text=True, check=True
    )
    slow = subprocess.run(
        ["make", "-n", "test-slow", "-C", str(ROOT)], capture_output=True, text=True, check=True
    )
    [fast_pytest] = [line for line in fast.stdout.splitlines() if "pytest" in line]
    [slow_pytest] = [line for line in slow.stdout.splitlines() if "pytest" in line]
    # pyproject's addopts deselect the slow tier; `-m slow` comes after them and wins.
    assert "-m 'not slow'" in (ROOT / "pyproject.toml").read_text()
    assert "-m" not in fast_pytest.split()
    assert slow_pytest.split()[-2:] == ["-m", "slow"]


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
