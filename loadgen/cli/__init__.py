"""The `loadgen` command line: one module per command, registered on one Typer app.

The app is built in `loadgen.cli.application` on first use, not when this package is imported:
the console script imports `main` from here, and every worker process the coordinator spawns
re-imports the parent's main module (multiprocessing's spawn start method), so a heavy import
here would be paid again before every measured segment.
"""

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loadgen.cli.application import app as app

#: Commands that run on an app holding only themselves: importing every command (the campaign
#: loop, the platforms, the results models) would come before `hit`'s first request.
LIGHT_COMMANDS = ("hit", "inspect", "export")


def main() -> None:
    """Console-script entry point."""
    if len(sys.argv) > 1 and sys.argv[1] in LIGHT_COMMANDS:
        from importlib import import_module

        from loadgen.cli.base import new_app

        app = new_app()
        import_module(f"loadgen.cli.{sys.argv[1]}").register(app)
    else:
        from loadgen.cli.application import app
    app()


def __getattr__(name: str) -> Any:
    if name == "app":
        from loadgen.cli.application import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
