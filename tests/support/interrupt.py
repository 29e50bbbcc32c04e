"""Starting a command the way a terminal's shell starts one in the foreground, for tests that
press Ctrl-C (send SIGINT) and expect the command to act on it.

A shell without job control starts background commands with SIGINT ignored, and a process
keeps an ignored SIGINT across exec (Python then installs no KeyboardInterrupt handler). So
under `make test &`, or any script that backgrounds the tests, a SIGINT sent to a `loadgen`
that the tests started would do nothing. `interruptible()` resets SIGINT to its default before
exec-ing the command, as an interactive shell does.
"""

from __future__ import annotations

import sys

_RESET = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def interruptible(argv: list[str]) -> list[str]:
    """`argv` (its first word a path to an executable) with SIGINT at its default."""
    return [sys.executable, "-c", _RESET, *argv]
