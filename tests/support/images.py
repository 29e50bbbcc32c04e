"""Image references: where they live (Docker's naming rules), whether they are pinned, and
the page that documents each one's evidence (docs/versions.md)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "docs" / "versions.md"
#: The registry hosts that mean Docker Hub (a reference without a host means it too).
DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io"}
#: A tagged or digested image reference under openfaas/ on Docker Hub, inside any text.
DOCKER_HUB_OPENFAAS = re.compile(
    r"(?<![\w./-])(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)/)?"
    r"openfaas/[a-z0-9][a-z0-9._/-]*(?::[\w][\w.-]*|@sha256:[0-9a-f]{64})"
)


def registry_and_path(reference: str) -> tuple[str, str]:
    """Docker's rule: the first component is a registry host when it has a dot or a colon or
    is `localhost`; otherwise the image is on Docker Hub."""
    name = reference.split("@", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "docker.io", name


def is_docker_hub_openfaas(reference: str) -> bool:
    registry, path = registry_and_path(reference)
    return registry in DOCKER_HUB and path.startswith("openfaas/")


def is_pinned(reference: str) -> bool:
    """A digest, or a tag that is not `latest`."""
    if re.search(r"@sha256:[0-9a-f]{64}$", reference):
        return True
    last = reference.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] not in ("", "latest")
