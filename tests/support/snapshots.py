"""Golden files for rendered artifacts: a change to what machines run shows up in review.

Run `UPDATE_SNAPSHOTS=1 make test` to rewrite them after an intended change.
"""

from __future__ import annotations

import os
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"


def assert_snapshot(name: str, rendered: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered)
    assert path.exists(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 once"
    assert rendered == path.read_text(), f"{path.name} changed: review, then UPDATE_SNAPSHOTS=1"
