"""The suite's image, checked without a Docker engine: the Dockerfile parsed (pinned base,
non-root, port, health check, command), its COPY sources present and not ignored, and the
health check command run for real against a server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable

from support.dockerignore import included
from support.function_servers import ROOT, ServeProcess
from support.servers import free_port

DOCKERFILE = ROOT / "functions" / "Dockerfile"
DOCKERIGNORE = ROOT / "functions" / "Dockerfile.dockerignore"


def instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continuation"
    result = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    return result


def only(keyword: str) -> str:
    values = [arguments for kw, arguments in instructions() if kw == keyword]
    assert len(values) == 1, f"expected one {keyword}, found {values}"
    return values[0]


def healthcheck_command() -> list[str]:
    options, _, command = only("HEALTHCHECK").partition(" CMD ")
    assert "--interval=" in options
    assert "--timeout=" in options
    parsed = json.loads(command)
    assert isinstance(parsed, list)
    return [str(part) for part in parsed]


def test_base_image_is_an_exact_python_slim_patch_tag() -> None:
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-(bookworm|trixie)", only("FROM"))


def test_runs_as_a_non_root_user_and_exposes_8080() -> None:
    user = only("USER")
    assert user.split(":")[0] not in ("root", "0")
    assert only("EXPOSE") == "8080"
    env = only("ENV")
    assert "PORT=8080" in env
    assert "HOST=0.0.0.0" in env


def test_cmd_runs_the_server_module_from_the_copied_package() -> None:
    command = json.loads(only("CMD"))
    assert command == ["python", "-m", "functions.serve"]
    module_path = command[2].replace(".", "/") + ".py"
    workdir = only("WORKDIR")
    source, destination = only("COPY").split()
    assert destination.rstrip("/") == f"{workdir}/functions"
    assert (ROOT / source / module_path.removeprefix("functions/")).is_file()


def test_copy_sources_exist_and_are_not_ignored() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for keyword, arguments in instructions():
        if keyword != "COPY":
            continue
        *sources, _ = arguments.split()
        for source in sources:
            path = ROOT / source
            assert path.exists(), f"COPY source {source} does not exist"
            python_files = sorted(path.glob("*.py"))
            assert python_files
            for file in python_files:
                assert included(file.relative_to(ROOT).as_posix(), patterns), file
    for excluded in ("tests/functions/test_dockerfile.py", "functions/Dockerfile", ".venv/x"):
        assert not included(excluded, patterns)


def test_healthcheck_uses_the_probe_path_with_the_stdlib() -> None:
    command = healthcheck_command()
    assert command[:2] == ["python", "-c"]
    assert "urllib.request" in command[2]
    assert "/_/health" in command[2]


def test_healthcheck_command_passes_on_a_healthy_server_and_fails_without_one(
    serve: Callable[..., ServeProcess],
) -> None:
    command = [sys.executable, *healthcheck_command()[1:]]
    server = serve("echo")
    healthy = subprocess.run(
        command, env={"PORT": str(server.port)}, capture_output=True, timeout=30, check=False
    )
    assert healthy.returncode == 0, healthy.stderr
    down = subprocess.run(
        command, env={"PORT": str(free_port())}, capture_output=True, timeout=30, check=False
    )
    assert down.returncode != 0
