"""The real tools that consume what we render, run on it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def require(tool: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is not installed: run scripts/bootstrap.sh (make test does)"
    return path


def cloud_init_schema(document: str) -> None:
    """`cloud-init schema --config-file`: fails the test with cloud-init's own message."""
    cloud_init = require("cloud-init")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "user-data"
        path.write_text(document)
        result = subprocess.run(
            [cloud_init, "schema", "--config-file", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode == 0, f"cloud-init schema: {result.stdout}{result.stderr}"
