"""The OpenWhisk Helm chart, fetched when the program starts, pinned to a commit and verified.

apache/openwhisk-deploy-kube publishes no usable chart release (1.0.0 is from 2020), and the
chart reads its runtimes manifest (prewarm stem cells) from a file inside its own folder. So
the program needs a local checkout of the chart, and `helm.v3.Release(chart=<path>)` reads that
path already at preview, before any command resource could run: the chart is fetched here, in
the program itself, idempotently.

- The source is GitHub's archive of one commit; only `helm/openwhisk/` is extracted (regular
  files and folders only, no links, nothing outside it).
- Integrity: the extracted folder's git tree hash must equal the pinned one, computed exactly as
  git does (blobs, modes, sorted entries), so every byte and executable bit is checked against
  the commit, not against a tarball whose compression GitHub may change.
- The verified chart is cached per commit; each stack gets a copy with its own runtimes file
  (`runtimes-<sha256 prefix>.json`), whose name goes into the values: a prewarm change is a
  visible diff of the release.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

CHART_DIR = "helm/openwhisk"


@dataclass(frozen=True)
class ChartSource:
    """One commit of a repository's chart folder, and the git tree hash of that folder."""

    repository: str
    commit: str
    tree: str
    path: str = CHART_DIR
    host: str = "https://github.com"

    @property
    def archive_url(self) -> str:
        return f"{self.host}/{self.repository}/archive/{self.commit}.tar.gz"


#: master of 2024 (chart 1.0.1, images ef725a6): the commit ../shared/specs was taken from.
OPENWHISK_CHART = ChartSource(
    repository="apache/openwhisk-deploy-kube",
    commit="108f327580f04c51dc4b29ac0beff024cfd6f2f9",
    tree="8d642c78c44671ad788bce9975a7f63840dda858",
)


class ChartError(RuntimeError):
    """The chart cannot be used as configured (the message says why); a user-facing error."""


class ChartFetchError(ChartError):
    """The chart could not be fetched or is not the pinned one (the message says which)."""


def cache_dir() -> Path:
    """Where verified charts are kept: $FAASBENCH_CACHE_DIR, else the user's cache folder."""
    configured = os.environ.get("FAASBENCH_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "faasbench"


def git_tree_hash(folder: Path) -> str:
    """The hash git gives `folder` as a tree (files 100644 or 100755, sub-folders as trees)."""
    entries: list[tuple[str, bytes]] = []
    for child in folder.iterdir():
        if child.is_symlink():
            raise ChartFetchError(f"{child} is a link; the chart has none")
        if child.is_dir():
            mode, digest = "40000", git_tree_hash(child)
            sort_key = child.name + "/"
        elif child.is_file():
            data = child.read_bytes()
            mode = "100755" if child.stat().st_mode & 0o100 else "100644"
            blob = b"blob %d\0" % len(data) + data
            digest = hashlib.sha1(blob, usedforsecurity=False).hexdigest()
            sort_key = child.name
        else:
            raise ChartFetchError(f"{child} is not a regular file or folder")
        entries.append((sort_key, f"{mode} {child.name}".encode() + b"\0" + bytes.fromhex(digest)))
    body = b"".join(entry for _, entry in sorted(entries, key=lambda e: e[0].encode()))
    return hashlib.sha1(b"tree %d\0" % len(body) + body, usedforsecurity=False).hexdigest()


def _extract_chart(archive: bytes, source: ChartSource, into: Path) -> None:
    """The chart folder of a GitHub archive (`<repo>-<commit>/<path>/...`) into `into`."""
    prefix = PurePosixPath(f"{source.repository.split('/')[1]}-{source.commit}") / source.path
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = PurePosixPath(member.name)
            if name != prefix and prefix not in name.parents:
                continue
            relative = name.relative_to(prefix)
            if name.is_absolute() or ".." in relative.parts:
                raise ChartFetchError(f"archive member {member.name!r} escapes the chart folder")
            target = into / relative
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file always has content
                target.write_bytes(handle.read())
                target.chmod(0o755 if member.mode & 0o100 else 0o644)
            else:
                raise ChartFetchError(f"archive member {member.name!r} is not a file or folder")


def fetch_chart(source: ChartSource = OPENWHISK_CHART, *, cache: Path | None = None) -> Path:
    """The verified chart folder of `source`, downloaded once and kept in the cache."""
    root = (cache or cache_dir()) / "charts"
    final = root / f"{source.repository.replace('/', '+')}-{source.commit}"
    if final.is_dir() and git_tree_hash(final) == source.tree:
        return final
    root.mkdir(parents=True, exist_ok=True)
    try:
        response = httpx.get(source.archive_url, follow_redirects=True, timeout=120)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise ChartFetchError(
            f"could not download the OpenWhisk chart from {source.archive_url}: {exc}"
        ) from None
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=root))
    try:
        try:
            _extract_chart(response.content, source, staging)
        except tarfile.TarError as exc:
            raise ChartFetchError(
                f"{source.archive_url} is not a readable archive: {exc}"
            ) from None
        found = git_tree_hash(staging)
        if found != source.tree:
            raise ChartFetchError(
                f"the chart at {source.archive_url} ({source.path}) has git tree {found}, "
                f"expected {source.tree}: refusing to use it"
            )
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def runtimes_file_name(runtimes: dict[str, Any]) -> str:
    """The runtimes file's name in the chart: its content hash, so values change with it."""
    return f"runtimes-{hashlib.sha256(canonical_json(runtimes)).hexdigest()[:16]}.json"


def canonical_json(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def chart_with_runtimes(chart: Path, runtimes: dict[str, Any]) -> tuple[Path, str]:
    """A copy of the verified chart holding `runtimes` as its runtimes file; returns the copy's
    path and the file's name (for `whisk.runtimes`). Copies are reused when they exist."""
    name = runtimes_file_name(runtimes)
    copy = chart.parent / f"{chart.name}+{name.removesuffix('.json')}"
    if not (copy / name).is_file():
        staging = Path(tempfile.mkdtemp(prefix=".copy-", dir=chart.parent))
        try:
            shutil.copytree(chart, staging, dirs_exist_ok=True)
            (staging / name).write_bytes(canonical_json(runtimes))
            shutil.rmtree(copy, ignore_errors=True)
            staging.rename(copy)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return copy, name
