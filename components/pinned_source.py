"""Upstream files and folders pinned by commit and content hash, kept in the user's cache.

One helper for everything faasbench takes from a public repository at a fixed commit: the
OpenWhisk chart the program installs, and the specs and charts the tests render and validate
against. Each is fetched once, verified every time it is used, and reused from the cache, so
only the first use needs the network (`pulumi preview` after the first is offline).

- A folder (`PinnedTree`) comes from GitHub's archive of the commit; only its path is
  extracted (regular files and folders only, no links, nothing outside it), and its git tree
  hash must equal the pinned one, computed exactly as git does (blobs, modes, sorted entries):
  every byte and executable bit is checked against the commit, not against a tarball whose
  compression GitHub may change.
- A file (`PinnedFile`) comes from raw.githubusercontent.com at the commit, checked by sha256.
- A release asset (`ReleaseAsset`, e.g. Knative's generated manifests, which no commit holds)
  comes from the release's download URL, checked by its pinned sha256, else by the sha256 the
  release's own checksums file lists (kept in the cache on first use, so a later change of
  that file upstream cannot change what is accepted).
- The cache is content-addressed (`<cache>/trees/<tree hash>`, `<cache>/files/<sha256>`):
  a cached copy that no longer matches its hash is fetched again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import httpx

DOWNLOAD_TIMEOUT_S = 120


class PinnedFetchError(RuntimeError):
    """A pinned source could not be fetched, or is not what was pinned (the message says)."""


@dataclass(frozen=True)
class PinnedTree:
    """One commit of a repository's folder, and the git tree hash of that folder."""

    repository: str
    commit: str
    tree: str
    path: str
    host: str = "https://github.com"

    @property
    def archive_url(self) -> str:
        return f"{self.host}/{self.repository}/archive/{self.commit}.tar.gz"

    @property
    def label(self) -> str:
        return f"{self.repository}@{self.commit[:7]}:{self.path}"


@dataclass(frozen=True)
class PinnedFile:
    """One commit of a repository's file, and the sha256 of its bytes."""

    repository: str
    commit: str
    path: str
    sha256: str
    host: str = "https://raw.githubusercontent.com"

    @property
    def url(self) -> str:
        return f"{self.host}/{self.repository}/{self.commit}/{self.path}"

    @property
    def label(self) -> str:
        return f"{self.repository}@{self.commit[:7]}:{self.path}"


@dataclass(frozen=True)
class ReleaseAsset:
    """A file attached to a GitHub release, its tag, and (where known) the sha256 of its bytes;
    without one, the release's `checksums` file (sha256sum format) says what it must be."""

    repository: str
    tag: str
    name: str
    sha256: str | None = None
    checksums: str = "checksums.txt"
    host: str = "https://github.com"

    def _download_url(self, name: str) -> str:
        return f"{self.host}/{self.repository}/releases/download/{self.tag}/{name}"

    @property
    def url(self) -> str:
        return self._download_url(self.name)

    @property
    def checksums_url(self) -> str:
        return self._download_url(self.checksums)

    @property
    def label(self) -> str:
        return f"{self.repository}@{self.tag}:{self.name}"


def cache_dir() -> Path:
    """Where verified sources are kept: $FAASBENCH_CACHE_DIR, else the user's cache folder."""
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
            raise PinnedFetchError(f"{child} is a link; pinned folders have none")
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
            raise PinnedFetchError(f"{child} is not a regular file or folder")
        entries.append((sort_key, f"{mode} {child.name}".encode() + b"\0" + bytes.fromhex(digest)))
    body = b"".join(entry for _, entry in sorted(entries, key=lambda e: e[0].encode()))
    return hashlib.sha1(b"tree %d\0" % len(body) + body, usedforsecurity=False).hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download(url: str, what: str) -> bytes:
    try:
        response = httpx.get(url, follow_redirects=True, timeout=DOWNLOAD_TIMEOUT_S)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise PinnedFetchError(f"could not download {what} from {url}: {exc}") from None
    return response.content


def _extract_folder(archive: bytes, source: PinnedTree, into: Path) -> None:
    """The pinned folder of a GitHub archive (`<repo>-<commit>/<path>/...`) into `into`."""
    prefix = PurePosixPath(f"{source.repository.split('/')[1]}-{source.commit}") / source.path
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = PurePosixPath(member.name)
            if name != prefix and prefix not in name.parents:
                continue
            relative = name.relative_to(prefix)
            if name.is_absolute() or ".." in relative.parts:
                raise PinnedFetchError(f"archive member {member.name!r} escapes {source.path}")
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
                raise PinnedFetchError(f"archive member {member.name!r} is not a file or folder")


@contextlib.contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """A new folder beside `final` to fill; when the block ends without an error it replaces
    `final`, otherwise it is removed: a half-written or unverified folder is never kept."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=final.parent))
    try:
        yield staging
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_tree(source: PinnedTree, *, cache: Path | None = None) -> Path:
    """The verified folder of `source`, downloaded once and kept in the cache."""
    root = (cache or cache_dir()) / "trees"
    final = root / source.tree
    if final.is_dir() and git_tree_hash(final) == source.tree:
        return final
    archive = _download(source.archive_url, source.label)
    with staged_folder(final) as staging:
        try:
            _extract_folder(archive, source, staging)
        except tarfile.TarError as exc:
            raise PinnedFetchError(
                f"{source.archive_url} is not a readable archive: {exc}"
            ) from None
        found = git_tree_hash(staging)
        if found != source.tree:
            raise PinnedFetchError(
                f"{source.label} from {source.archive_url} has git tree {found}, "
                f"expected {source.tree}: refusing to use it"
            )
    return final


def _verified_file(url: str, label: str, sha256: str, cache: Path | None) -> Path:
    """The file `url` whose bytes hash to `sha256`, downloaded once and kept in the cache."""
    root = (cache or cache_dir()) / "files"
    final = root / sha256
    if final.is_file() and file_sha256(final) == sha256:
        return final
    root.mkdir(parents=True, exist_ok=True)
    data = _download(url, label)
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise PinnedFetchError(
            f"{label} from {url} has sha256 {found}, expected {sha256}: refusing to use it"
        )
    _write_atomically(root, final, data)
    return final


def _write_atomically(folder: Path, final: Path, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=".fetch-", dir=folder)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    Path(staging).replace(final)


def fetch_file(source: PinnedFile, *, cache: Path | None = None) -> Path:
    """The verified file of `source`, downloaded once and kept in the cache."""
    return _verified_file(source.url, source.label, source.sha256, cache)


def listed_sha256(checksums: str, name: str) -> str | None:
    """The sha256 a sha256sum-format listing gives `name` (`<hex>  <name>` or `<hex> *<name>`)."""
    for line in checksums.splitlines():
        digest, _, listed = line.strip().partition(" ")
        listed = listed.strip().removeprefix("*")
        if listed == name and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
            return digest
    return None


def release_asset_sha256(asset: ReleaseAsset, *, cache: Path | None = None) -> str:
    """The sha256 `asset` must have: its pinned one, else its release's checksums file's
    (fetched once per release and kept: later uses compare against the same listing)."""
    if asset.sha256 is not None:
        return asset.sha256
    owner_name = asset.repository.replace("/", "+")
    folder = (cache or cache_dir()) / "releases" / owner_name / asset.tag
    listing = folder / asset.checksums
    if not listing.is_file():
        data = _download(asset.checksums_url, f"{asset.repository}@{asset.tag}:{asset.checksums}")
        _write_atomically(folder, listing, data)
    found = listed_sha256(listing.read_text(errors="replace"), asset.name)
    if found is None:
        raise PinnedFetchError(
            f"{asset.checksums} of {asset.repository} {asset.tag} lists no sha256 for {asset.name}"
        )
    return found


def fetch_release_asset(asset: ReleaseAsset, *, cache: Path | None = None) -> tuple[Path, str]:
    """The verified file of `asset` (kept in the cache) and its sha256."""
    sha256 = release_asset_sha256(asset, cache=cache)
    return _verified_file(asset.url, asset.label, sha256, cache), sha256
