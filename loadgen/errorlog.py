"""Where internal errors leave their tracebacks: one new file each, whose path the one-line
message gives, so a user sees a short message and a maintainer gets the whole story.

`$XDG_STATE_HOME/faasbench/errors/` (default `~/.local/state/faasbench/errors/`), else the
temporary directory's `faasbench-errors/` when that cannot be written.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def error_log_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(state) / "faasbench" / "errors"


def write_error_log(title: str, text: str) -> Path | None:
    """`text` (a traceback) in a new log file; None when no file could be written."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    name = f"loadgen-{stamp}-{os.getpid()}.log"
    content = f"{title}\nargv: {sys.argv!r}\ntime: {stamp}\n\n{text}"
    for folder in (error_log_dir(), Path(tempfile.gettempdir()) / "faasbench-errors"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            with path.open("x", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(content)
            return path
        except OSError:
            continue
    return None
