"""Importing `loadgen.cli` stays cheap: each worker process the coordinator spawns imports it again.

multiprocessing's spawn start method re-imports the parent's main module in each child; for the
`loadgen` console script that module does `from loadgen.cli import main`. When that pulled in
every command (typer, rich, the results models, the campaign loop), each measured segment of
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


def test_hit_imports_no_analysis_plotting_pulumi_or_campaign_code() -> None:
    """`loadgen hit` runs on an app holding only itself (`LIGHT_COMMANDS`): none of these is
    imported before, during or after its run (against a closed port: no server needed)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unwanted = ("matplotlib", "scipy", "pulumi", "pyarrow", "numpy", "httpx",
                "loadgen.experiments", "loadgen.platforms", "loadgen.analysis", "loadgen.report",
                "loadgen.cli.run", "loadgen.cli.application")  # fmt: skip
    probe_code = (
        "import sys\n"
        f"sys.argv = ['loadgen', 'hit', '-n', '1', '--processes', '1', "
        f"'http://127.0.0.1:{port}/', '--json']\n"
        "from loadgen.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {unwanted!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe_code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "[]"
    assert '"valid": false' in done.stdout  # the run itself happened
