"""The OpenWhisk Helm chart, fetched when the program starts, pinned to a commit and verified.

apache/openwhisk-deploy-kube publishes no usable chart release (1.0.0 is from 2020), and the
chart reads its runtimes manifest (prewarm stem cells) from a file inside its own folder. So
the program needs a local checkout of the chart, and `helm.v3.Release(chart=<path>)` reads that
path already at preview, before any command resource could run: the chart is fetched here, in
the program itself, idempotently, through `components.pinned_source` (GitHub's archive of the
commit, verified by the folder's git tree hash, kept in the user's cache: only the first
preview needs the network).

Each stack gets a copy of the verified chart with its own runtimes file
(`runtimes-<sha256 prefix>.json`), whose name goes into the values: a prewarm change is a
visible diff of the release.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from components.pinned_source import PinnedFetchError, PinnedTree, cache_dir, fetch_tree

CHART_DIR = "helm/openwhisk"

#: master of 2024 (chart 1.0.1, images ef725a6): the commit ../shared/specs was taken from.
OPENWHISK_CHART = PinnedTree(
    repository="apache/openwhisk-deploy-kube",
    commit="108f327580f04c51dc4b29ac0beff024cfd6f2f9",
    tree="8d642c78c44671ad788bce9975a7f63840dda858",
    path=CHART_DIR,
)


class ChartError(RuntimeError):
    """The chart cannot be used as configured (the message says why); a user-facing error."""


class ChartFetchError(ChartError):
    """The chart could not be fetched or is not the pinned one (the message says which)."""


def fetch_chart(source: PinnedTree = OPENWHISK_CHART, *, cache: Path | None = None) -> Path:
    """The verified chart folder of `source`, downloaded once and kept in the cache."""
    try:
        return fetch_tree(source, cache=cache)
    except PinnedFetchError as exc:
        raise ChartFetchError(f"the OpenWhisk chart: {exc}") from None


def copies_dir(cache: Path | None = None) -> Path:
    """Where the per-stack copies of the chart (with their runtimes files) are kept."""
    return (cache or cache_dir()) / "openwhisk-charts"


def runtimes_file_name(runtimes: dict[str, Any]) -> str:
    """The runtimes file's name in the chart: its content hash, so values change with it."""
    return f"runtimes-{hashlib.sha256(canonical_json(runtimes)).hexdigest()[:16]}.json"


def canonical_json(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def chart_with_runtimes(
    chart: Path, runtimes: dict[str, Any], *, into: Path | None = None
) -> tuple[Path, str]:
    """A copy of the verified chart holding `runtimes` as its runtimes file, in `into`
    (default: `copies_dir()`); returns the copy's path and the file's name (for
    `whisk.runtimes`). Copies are reused when they exist."""
    name = runtimes_file_name(runtimes)
    into = into or copies_dir()
    into.mkdir(parents=True, exist_ok=True)
    copy = into / f"{chart.name}+{name.removesuffix('.json')}"
    if not (copy / name).is_file():
        staging = Path(tempfile.mkdtemp(prefix=".copy-", dir=into))
        try:
            shutil.copytree(chart, staging, dirs_exist_ok=True)
            (staging / name).write_bytes(canonical_json(runtimes))
            shutil.rmtree(copy, ignore_errors=True)
            staging.rename(copy)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return copy, name
