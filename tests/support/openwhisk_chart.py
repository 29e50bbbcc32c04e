"""A stand-in for the OpenWhisk chart's GitHub archive, served on 127.0.0.1.

The real chart cannot be fetched in tests (and is never copied into the project), so a small
chart made of the upstream defaults in ../shared/specs (when present) is packed the way GitHub
packs a commit, and `OPENWHISK_CHART` is pointed at it with its real git tree hash."""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from components.openwhisk_chart import OPENWHISK_CHART
from components.pinned_source import PinnedTree, git_tree_hash
from support.specs import OPENWHISK_CHART_SPEC, SpecMissing, tree_path

#: Used when the pinned chart cannot be had: one runtime family, enough for prewarm tests.
MINIMAL_RUNTIMES = {
    "runtimes": {
        "python": [
            {
                "kind": "python:3",
                "default": True,
                "image": {"prefix": "openwhisk", "name": "action-python-v3.9", "tag": "1.0"},
                "deprecated": False,
                "attached": {"attachmentName": "codefile", "attachmentType": "text/plain"},
            }
        ]
    }
}


def write_chart(folder: Path) -> None:
    """A chart folder: Chart.yaml, values.yaml, runtimes.json, a template and a script."""
    (folder / "templates").mkdir(parents=True)
    (folder / "configMapFiles").mkdir()
    try:
        real: Path | None = tree_path(OPENWHISK_CHART_SPEC)
    except SpecMissing:
        real = None
    for name in ("Chart.yaml", "values.yaml", "runtimes.json"):
        if real is not None:
            (folder / name).write_bytes((real / name).read_bytes())
    if not (folder / "runtimes.json").is_file():
        (folder / "runtimes.json").write_text(json.dumps(MINIMAL_RUNTIMES, indent=2))
    if not (folder / "Chart.yaml").is_file():
        (folder / "Chart.yaml").write_text("apiVersion: v2\nname: openwhisk\nversion: 1.0.1\n")
    (folder / "templates" / "NOTES.txt").write_text("OpenWhisk\n")
    script = folder / "configMapFiles" / "init.sh"
    script.write_text("#!/bin/sh\necho init\n")
    script.chmod(0o755)


def pack_archive(folder: Path, source: PinnedTree) -> bytes:
    """A .tar.gz laid out as GitHub's archive of a commit (`<repo>-<commit>/<path>/...`)."""
    top = f"{source.repository.split('/')[1]}-{source.commit}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname=f"{top}/{source.path}")
        readme = tarfile.TarInfo(f"{top}/README.md")
        readme.size = 4
        tar.addfile(readme, io.BytesIO(b"top\n"))
    return buffer.getvalue()


@contextmanager
def serve_archives(archives: dict[str, bytes]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering the given paths; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = archives.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def archive_path(source: PinnedTree) -> str:
    return f"/{source.repository}/archive/{source.commit}.tar.gz"


@contextmanager
def local_chart(work: Path) -> Iterator[PinnedTree]:
    """A served stand-in chart and the source that names it (same repository and commit)."""
    folder = work / "chart-src"
    write_chart(folder)
    probe = dataclasses.replace(OPENWHISK_CHART, tree=git_tree_hash(folder))
    with serve_archives({archive_path(probe): pack_archive(folder, probe)}) as url:
        yield dataclasses.replace(probe, host=url)
