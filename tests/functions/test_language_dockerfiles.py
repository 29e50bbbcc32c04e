"""The Node, Go and Java images, checked without a Docker engine as functions/Dockerfile is: each
Dockerfile parsed (pinned bases, build stage and runtime stage, non-root user 10001, port 8080,
health check, the command the language's contract names), its COPY sources let through by its
ignore file, and its health check command run for real against a healthy and a missing server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from support.dockerignore import included
from support.function_servers import ROOT, ServeProcess
from support.servers import free_port

from components.function_image import IMAGE_LANGUAGES
from functions._registry import LANGUAGES

LANGUAGE_DIRS = {language: ROOT / "functions" / language for language in ("node", "go", "java")}
#: An exact, patch-level tag of each base, the way functions/Dockerfile pins Python's.
PINNED = {
    "node": [r"node:\d+\.\d+\.\d+-alpine3\.\d+"],
    "go": [r"golang:\d+\.\d+\.\d+-alpine3\.\d+ AS build", r"alpine:3\.\d+\.\d+"],
    "java": [
        r"eclipse-temurin:\d+\.\d+\.\d+_\d+-jdk-alpine-3\.\d+ AS build",
        r"eclipse-temurin:\d+\.\d+\.\d+_\d+-jre-alpine-3\.\d+",
    ],
}
#: What each runtime stage runs: the launch the language's contract gives (FUNCTION, PORT).
COMMANDS = {
    "node": ["node", "functions/node/serve.js"],
    "go": ["/app/serve"],
    "java": ["java", "-XX:-UsePerfData", "-cp", "/app/classes", "Serve"],
}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, f"{path} ends inside a continuation"
    known = {"FROM", "ENV", "RUN", "WORKDIR", "COPY", "USER", "EXPOSE", "HEALTHCHECK", "CMD"}
    result = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        assert keyword.upper() in known | {"STOPSIGNAL"}, f"{path}: unexpected {keyword}"
        result.append((keyword.upper(), arguments.strip()))
    return result


def runtime_stage(path: Path) -> list[tuple[str, str]]:
    """The instructions after the last FROM: what the image runs with."""
    steps = instructions(path)
    last = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last:]


def only(steps: list[tuple[str, str]], keyword: str) -> str:
    values = [arguments for kw, arguments in steps if kw == keyword]
    assert len(values) == 1, f"expected one {keyword}, found {values}"
    return values[0]


def healthcheck(path: Path) -> list[str]:
    options, _, command = only(runtime_stage(path), "HEALTHCHECK").partition(" CMD ")
    assert "--interval=" in options
    assert "--timeout=" in options
    parsed = json.loads(command)
    assert isinstance(parsed, list)
    return [str(part) for part in parsed]


def test_every_language_but_python_has_an_image() -> None:
    assert set(IMAGE_LANGUAGES) == set(LANGUAGES) - {"python"} == set(LANGUAGE_DIRS)
    for directory in LANGUAGE_DIRS.values():
        assert (directory / "Dockerfile").is_file()
        assert (directory / "Dockerfile.dockerignore").is_file()


@pytest.mark.parametrize("language", sorted(LANGUAGE_DIRS))
def test_bases_are_exact_tags_and_build_stages_stay_out_of_the_image(language: str) -> None:
    dockerfile = LANGUAGE_DIRS[language] / "Dockerfile"
    bases = [arguments for keyword, arguments in instructions(dockerfile) if keyword == "FROM"]
    assert len(bases) == len(PINNED[language])
    for base, pattern in zip(bases, PINNED[language], strict=True):
        assert re.fullmatch(pattern, base), base
    copies = [arguments for keyword, arguments in runtime_stage(dockerfile) if keyword == "COPY"]
    if len(bases) > 1:
        assert all(copy.startswith("--from=build ") for copy in copies), copies


@pytest.mark.parametrize("language", sorted(LANGUAGE_DIRS))
def test_runs_as_user_10001_on_8080_with_the_contract_s_command(language: str) -> None:
    stage = runtime_stage(LANGUAGE_DIRS[language] / "Dockerfile")
    assert only(stage, "USER") == "10001:10001"
    assert "-u 10001" in only(stage, "RUN")
    assert only(stage, "EXPOSE") == "8080"
    env = only(stage, "ENV")
    assert "PORT=8080" in env
    assert "HOST=0.0.0.0" in env
    assert only(stage, "STOPSIGNAL") == "SIGTERM"
    assert json.loads(only(stage, "CMD")) == COMMANDS[language]


@pytest.mark.parametrize("language", sorted(LANGUAGE_DIRS))
def test_copy_sources_are_the_language_s_directory_and_not_ignored(language: str) -> None:
    dockerfile = LANGUAGE_DIRS[language] / "Dockerfile"
    ignore = (LANGUAGE_DIRS[language] / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    sources = [
        arguments.split()[0]
        for keyword, arguments in instructions(dockerfile)
        if keyword == "COPY" and not arguments.startswith("--from=")
    ]
    assert sources == [f"functions/{language}/"]
    suffix = {"node": "js", "go": "go", "java": "java"}[language]
    assert included(f"functions/{language}/serve_x.{suffix}", patterns)
    assert not included(f"functions/{language}/Dockerfile", patterns)
    assert not included("functions/echo.py", patterns)
    assert not included(".venv/x", patterns)


def test_go_builds_with_the_pinned_toolchain_only() -> None:
    build = instructions(LANGUAGE_DIRS["go"] / "Dockerfile")
    env = next(arguments for keyword, arguments in build if keyword == "ENV")
    assert "GOTOOLCHAIN=local" in env
    assert "CGO_ENABLED=0" in env


def test_java_compiles_every_source_of_the_default_package() -> None:
    runs = [a for k, a in instructions(LANGUAGE_DIRS["java"] / "Dockerfile") if k == "RUN"]
    assert any("javac" in run and "/src/*.java" in run for run in runs)


def _runner(language: str) -> list[str]:
    command = healthcheck(LANGUAGE_DIRS[language] / "Dockerfile")
    tool = command[0]
    if shutil.which(tool) is None or (tool == "/bin/sh" and shutil.which("wget") is None):
        pytest.skip(f"{tool} (and wget) not installed here")
    return command


@pytest.mark.parametrize("language", sorted(LANGUAGE_DIRS))
def test_healthcheck_passes_on_a_healthy_server_and_fails_without_one(
    language: str, serve: Callable[..., ServeProcess]
) -> None:
    command = _runner(language)
    assert "/_/health" in " ".join(command)
    server = serve("echo")
    path = {"PATH": "/usr/local/bin:/usr/bin:/bin"}
    healthy = subprocess.run(
        command, env={**path, "PORT": str(server.port)}, capture_output=True, timeout=30
    )
    assert healthy.returncode == 0, healthy.stderr
    down = subprocess.run(
        command, env={**path, "PORT": str(free_port())}, capture_output=True, timeout=30
    )
    assert down.returncode != 0
