"""Every container image the program renders: pinned, listed with its evidence in
docs/versions.md, and never one of OpenFaaS's deleted Docker Hub images.

The references are taken from what the program renders (the Swarm compose file, the Nomad job,
the FTP pod, the Dockerfiles it builds, the parameters of the steps that run images), plus every
`*_IMAGE` constant of `components/`, so an image that reaches a machine by another route still
has to be pinned and documented. The Docker Hub `openfaas/` check also reads the raw sources
(scripts, Python string literals, examples), where a reference could hide outside a renderer.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest
import yaml
from support.images import (
    DOCKER_HUB_OPENFAAS,
    VERSIONS,
    is_docker_hub_openfaas,
    is_pinned,
)

import components
from components import faas_swarm_image
from components.ftp_in_cluster_config import FtpPod, ftp_manifests
from components.object_storage_config import ObjectStorage, object_storage_manifests
from components.openfaas_nomad_config import render_job
from components.openfaas_swarm_config import render_compose
from components.registry_config import REGISTRY_IMAGE

ROOT = Path(__file__).resolve().parents[2]


def dockerfile_bases(text: str) -> list[str]:
    """The images a Dockerfile builds from (`FROM image [AS stage]`), not earlier stages."""
    stages: set[str] = set()
    bases = []
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["FROM"]:
            image = words[1]
            if image not in stages:
                bases.append(image)
            if len(words) >= 4 and words[2].upper() == "AS":
                stages.add(words[3])
    return bases


def image_constants() -> dict[str, str]:
    """Every module-level `*_IMAGE` string of the `components` package."""
    found: dict[str, str] = {}
    for module in pkgutil.walk_packages(components.__path__, "components."):
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if name.endswith("_IMAGE") and isinstance(value, str):
                found[f"{module.name}.{name}"] = value
    return found


def rendered_images() -> dict[str, set[str]]:
    """Image reference -> where the program puts it."""
    found: list[tuple[str, str]] = []
    compose = yaml.safe_load(render_compose(1500))
    for name, service in compose["services"].items():
        found.append((service["image"], f"Swarm compose service {name}"))
    job = json.loads(render_job("10.0.1.10", ["10.0.1.10", "10.0.2.11"]))["Job"]
    for group in job["TaskGroups"]:
        for task in group["Tasks"]:
            found.append((task["Config"]["image"], f"Nomad job task {task['Name']}"))
    for manifest in ftp_manifests(FtpPod(seed="s", test_file_bytes=1024)):
        if manifest["kind"] == "Deployment":
            for container in manifest["spec"]["template"]["spec"]["containers"]:
                found.append((container["image"], "in-cluster FTP pod"))
    for manifest in object_storage_manifests(ObjectStorage()):
        if manifest["kind"] in ("Deployment", "Job"):
            for container in manifest["spec"]["template"]["spec"]["containers"]:
                found.append((container["image"], f"object storage {manifest['kind']}"))
    for base in dockerfile_bases(faas_swarm_image.dockerfile()):
        found.append((base, "faas-swarm Dockerfile"))
    for base in dockerfile_bases((ROOT / "functions" / "Dockerfile").read_text()):
        found.append((base, "functions/Dockerfile"))
    for language in ("node", "go", "java"):
        dockerfile = ROOT / "functions" / language / "Dockerfile"
        for base in dockerfile_bases(dockerfile.read_text()):
            found.append((base, f"functions/{language}/Dockerfile"))
    found.append((faas_swarm_image.step_params()["IMAGE"], "faas-swarm-image step"))
    found.append((REGISTRY_IMAGE, "registry-server step"))
    found += [(value, where) for where, value in image_constants().items()]
    images: dict[str, set[str]] = {}
    for reference, where in found:
        images.setdefault(reference, set()).add(where)
    return images


IMAGES = rendered_images()


def test_the_inventory_sees_every_renderer() -> None:
    """The collection above is not vacuous: each renderer contributes what it should."""
    places = set().union(*IMAGES.values())
    assert "Swarm compose service faas-swarm" in places
    assert "Nomad job task provider" in places
    assert "in-cluster FTP pod" in places
    assert {"object storage Deployment", "object storage Job"} <= places
    assert "functions/Dockerfile" in places
    assert {f"functions/{language}/Dockerfile" for language in ("node", "go", "java")} <= places
    assert {"golang:1.26.7-alpine3.23", "alpine:3.23.5"} <= set(IMAGES)
    assert REGISTRY_IMAGE in IMAGES


@pytest.mark.parametrize("reference", sorted(IMAGES))
def test_every_image_is_pinned_and_documented(reference: str) -> None:
    where = ", ".join(sorted(IMAGES[reference]))
    assert is_pinned(reference), f"{reference} ({where}) has no tag, or `latest`"
    assert f"`{reference}`" in VERSIONS.read_text(), (
        f"{reference} ({where}) is not in docs/versions.md: add it with its evidence"
    )


@pytest.mark.parametrize("reference", sorted(IMAGES))
def test_no_image_is_one_of_openfaas_deleted_docker_hub_images(reference: str) -> None:
    where = ", ".join(sorted(IMAGES[reference]))
    assert not is_docker_hub_openfaas(reference), (
        f"{reference} ({where}) is on Docker Hub under openfaas/, whose images OpenFaaS "
        "deleted (openfaas/faas#1789); images faasbench builds take its own name"
    )


def source_texts() -> dict[str, str]:
    """What could carry an image reference outside the renderers above."""
    texts = {
        "Swarm compose": render_compose(1500),
        "Nomad job": render_job("10.0.1.10", ["10.0.2.11"]),
        "faas-swarm Dockerfile": faas_swarm_image.dockerfile(),
    }
    patterns = ("components/**/*", "stacks/*", "functions/*", "examples/*", "Pulumi*.yaml")
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file() and path.suffix in {".py", ".sh", ".yaml", ".yml", ".json", ""}:
                texts[str(path.relative_to(ROOT))] = path.read_text()
    return texts


def python_strings(text: str) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_docker_hub_openfaas_reference_anywhere_the_program_renders() -> None:
    texts = source_texts()
    assert any(name.startswith("components/scripts/") for name in texts)
    found = []
    for name, text in texts.items():
        found += [f"{name}: {match}" for match in DOCKER_HUB_OPENFAAS.findall(text)]
        if name.endswith(".py"):
            # An untagged literal such as "openfaas/gateway" is a Docker Hub reference too.
            found += [
                f"{name}: {value!r}"
                for value in python_strings(text)
                if re.fullmatch(r"[\w.-]+(/[\w.-]+)+(:[\w.-]+)?", value)
                and is_docker_hub_openfaas(value)
            ]
    assert found == []


@pytest.mark.parametrize(
    ("reference", "hub_openfaas", "pinned"),
    [
        ("openfaas/gateway:0.18.18", True, True),
        ("docker.io/openfaas/faas-swarm:0.9.0", True, True),
        ("openfaas/queue-worker", True, False),
        ("ghcr.io/openfaas/gateway:0.27.13", False, True),
        ("faasbench.invalid/faas-swarm:0.9.1-abc", False, True),
        ("prom/prometheus:latest", False, False),
        ("localhost:5000/openfaas/x@sha256:" + "a" * 64, False, True),
        ("registry:3.1.1", False, True),
    ],
)
def test_the_checks_themselves(reference: str, hub_openfaas: bool, pinned: bool) -> None:
    assert is_docker_hub_openfaas(reference) is hub_openfaas
    assert is_pinned(reference) is pinned
    assert bool(DOCKER_HUB_OPENFAAS.search(f"image: {reference}")) is (hub_openfaas and pinned)
