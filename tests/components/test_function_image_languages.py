"""The images of the other languages (`functionLanguages`): their build contexts, one push step
each beside Python's, and `registry.images` — while a Python-only stack stays as it was."""

from __future__ import annotations

import io
import re
import shutil
import tarfile
from pathlib import Path

import pytest
from support.pulumi_mocks import ProgramRun, Recorded, run_program, stack_file_config

import components.function_image as function_image
from components.function_image import (
    REPOSITORY,
    language_files,
    pack_sources,
    repository,
    source_files,
    suite_version,
)
from contract.outputs import StackOutputs
from functions._registry import Language

TAG = rf"{re.escape(suite_version())}-[0-9a-f]{{12}}"


def stand_in_checkout(tmp: Path) -> Path:
    """This checkout's Python sources and language Dockerfiles, with small stand-in sources of
    each language in the layout the Dockerfiles build from."""
    root = tmp / "checkout"
    functions = root / "functions"
    functions.mkdir(parents=True)
    for path in source_files():
        shutil.copy(path, functions / path.name)
    for language in ("node", "go", "java"):
        (functions / language).mkdir()
        for name in ("Dockerfile", "Dockerfile.dockerignore"):
            shutil.copy(function_image.ROOT / "functions" / language / name, functions / language)
    (functions / "node" / "serve.js").write_text("require('http');\n")
    (functions / "node" / "node_modules").mkdir()
    (functions / "node" / "node_modules" / "x.js").write_text("ignored\n")
    (functions / "go" / "go.mod").write_text("module faasbench/functions\n\ngo 1.19\n")
    (functions / "go" / "main.go").write_text("package main\n\nfunc main() {}\n")
    (functions / "go" / "internal").mkdir()
    (functions / "go" / "internal" / "echo.go").write_text("package internal\n")
    (functions / "java" / "Serve.java").write_text("public class Serve {}\n")
    (functions / "java" / "notes.txt").write_text("not a source\n")
    return root


def members(root: Path, language: Language) -> dict[str, bytes]:
    packed = pack_sources(root, language)
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(packed.tar_gz), mode="r:gz") as archive:
        for member in archive.getmembers():
            stream = archive.extractfile(member)
            assert stream is not None
            found[member.name] = stream.read()
    return found


def test_each_language_s_context_puts_its_dockerfile_where_the_build_step_reads_it(
    tmp_path: Path,
) -> None:
    root = stand_in_checkout(tmp_path)
    node = members(root, "node")
    assert sorted(node) == [
        "functions/Dockerfile",
        "functions/Dockerfile.dockerignore",
        "functions/node/serve.js",
    ]
    assert node["functions/Dockerfile"] == (root / "functions/node/Dockerfile").read_bytes()
    assert sorted(members(root, "go")) == [
        "functions/Dockerfile",
        "functions/Dockerfile.dockerignore",
        "functions/go/go.mod",
        "functions/go/internal/echo.go",
        "functions/go/main.go",
    ]
    java = members(root, "java")
    assert sorted(java) == [
        "functions/Dockerfile",
        "functions/Dockerfile.dockerignore",
        "functions/java/Serve.java",
    ]
    assert java["functions/Dockerfile"] == (root / "functions/java/Dockerfile").read_bytes()


def test_a_language_s_tag_follows_its_sources_only(tmp_path: Path) -> None:
    root = stand_in_checkout(tmp_path)
    python, node, go = (
        pack_sources(root, "python"),
        pack_sources(root, "node"),
        pack_sources(root, "go"),
    )
    assert python.sha256 == pack_sources().sha256
    (root / "functions" / "node" / "serve.js").write_text("require('http'); // changed\n")
    assert pack_sources(root, "node").sha256 != node.sha256
    assert pack_sources(root, "go").sha256 == go.sha256
    assert pack_sources(root, "python").sha256 == python.sha256


def test_missing_sources_are_refused_naming_the_key(tmp_path: Path) -> None:
    root = stand_in_checkout(tmp_path)
    (root / "functions" / "java" / "Serve.java").unlink()
    with pytest.raises(ValueError, match=r"functionLanguages has java, and .* holds no sources"):
        language_files("java", root)
    shutil.rmtree(root / "functions" / "go")
    with pytest.raises(ValueError, match=r"functionLanguages has go, and .*Dockerfile"):
        language_files("go", root)


def test_repositories_keep_python_s_name() -> None:
    assert repository("python") == REPOSITORY == "faasbench-functions"
    assert repository("node") == "faasbench-functions-node"


def program(languages: str | None) -> ProgramRun:
    config = {
        **stack_file_config("aws"),
        "orchestrator": "swarm",
        "registry": "private",
        **({"functionLanguages": languages} if languages else {}),
    }
    return run_program(config, stack="aws")


def steps(run: ProgramRun) -> dict[str, Recorded]:
    return {s.name: s for s in run.mocks.of_type("command:remote:Command")}


def test_each_language_gets_its_push_step_and_its_image_in_the_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(function_image, "ROOT", stand_in_checkout(tmp_path))
    run = program('["python", "node", "go"]')
    python_only = program(None)
    pushes = sorted(name for name in steps(run) if name.startswith("functions-push"))
    assert pushes == ["functions-push", "functions-push-go", "functions-push-node"]
    assert run.value("registry.image") == python_only.value("registry.image")
    images = {language: run.value(f"registry.images.{language}") for language in ("node", "go")}
    registry = run.value("registry.url").removeprefix("http://")
    for language, image in images.items():
        assert re.fullmatch(rf"{registry}/faasbench/{REPOSITORY}-{language}:{TAG}", image)
        step = steps(run)[f"functions-push-{language}"]
        assert f"IMAGE={image}" in step.inputs["stdin"]
        deps = run.mocks.dependencies[f"functions-push-{language}"]
        assert {"functions-docker", "functions-registry"} <= set(deps)
    assert "registry.images.java" not in run.leaves
    outputs = StackOutputs.model_validate(
        {
            "cloud": "aws",
            "orchestrator": "swarm",
            "framework": "openfaas",
            "registry": {"url": run.value("registry.url"), "image": "i:1", "images": images},
        }
    )
    assert outputs.registry is not None
    assert outputs.registry.images == images


def test_a_python_only_stack_exports_no_images_key() -> None:
    run = program(None)
    assert not any(path.startswith("registry.images") for path in run.leaves)
    assert [name for name in steps(run) if name.startswith("functions-push")] == ["functions-push"]
