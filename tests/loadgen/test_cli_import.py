"""Importing `loadgen.cli` stays cheap: every worker process the runner spawns imports it again.

multiprocessing's spawn start method re-imports the parent's main module in each child; for the
`loadgen` console script that module does `from loadgen.cli import main`. When that pulled in
every command (typer, rich, the results models, the campaign runner), each measured segment of
a campaign paid about a second of imports before its worker was ready.
"""

import subprocess
import sys

import typer

HEAVY = ("typer", "rich", "loadgen.cli.run", "loadgen.results.models", "loadgen.analysis")


def test_importing_the_console_script_module_loads_no_command() -> None:
    probe = (
        "import sys; from loadgen.cli import main; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_app_is_still_importable_from_the_package() -> None:
    from loadgen.cli import app

    assert isinstance(app, typer.Typer)
    assert {c.name for c in app.registered_commands} >= {"hit", "run", "aggregate", "report"}
