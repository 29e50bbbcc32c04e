"""How the local gateway runs a function of each language: Python as `python -m functions.serve`,
Node as `node functions/node/serve.js`, Go and Java built once from their sources into the state
directory (`builds/<language>-<sources hash>/`) and run from there.

A language's toolchain must be on PATH; a deployment in a language whose toolchain is missing is
refused at once (HTTP 400) with the tool's name and the package that provides it. A build is
shared by every replica and reused until the sources change (a new hash, a new build); a failed
build is the replica's start error, its compiler output included.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import functions
from functions._registry import LANGUAGES, Language

#: The checkout whose `functions/` the replicas run, unless the gateway is given another.
SUITE_ROOT = Path(functions.__file__).resolve().parents[1]
#: What each language needs on PATH, and where a Debian or Ubuntu machine gets it.
TOOLS: dict[Language, tuple[tuple[str, str], ...]] = {
    "python": (),
    "node": (("node", "apt-get install nodejs"),),
    "go": (("go", "apt-get install golang-go"),),
    "java": (
        ("javac", "apt-get install default-jdk-headless"),
        ("java", "apt-get install default-jdk-headless"),
    ),
}
#: The class the Java sources' server is (`java -cp OUT Serve`).
JAVA_MAIN = "Serve"
#: Seconds a build may take before it counts as failed.
BUILD_TIMEOUT_S = 600.0


class LanguageUnavailable(Exception):
    """A language that cannot run here: a missing tool or sources, or a failed build."""


@dataclass(frozen=True)
class Launch:
    """The command that starts one replica; `python` replicas name their own port."""

    argv: tuple[str, ...]
    language: Language


def missing_tool(language: Language) -> str | None:
    """Why `language` cannot run on this machine (the first tool missing), or None."""
    for tool, package in TOOLS[language]:
        if shutil.which(tool) is None:
            return f"{tool} not found: {package}"
    return None


@dataclass
class Runtimes:
    """The languages' launch commands, their builds cached under `cache_dir`."""

    functions_root: Path
    cache_dir: Path
    _locks: dict[Language, asyncio.Lock] = field(default_factory=dict)

    def sources(self, language: Language) -> Path:
        return self.functions_root / "functions" / language

    def check(self, language: Language) -> None:
        """Refuse at once what cannot start: an unknown language, a missing tool or sources."""
        if language not in LANGUAGES:
            known = ", ".join(LANGUAGES)
            raise LanguageUnavailable(f"unknown language {language!r}; one of: {known}")
        if language == "python":
            return
        problem = missing_tool(language)
        if problem is not None:
            raise LanguageUnavailable(f"{language}: {problem}")
        if not self._source_files(language):
            raise LanguageUnavailable(f"{language}: no sources in {self.sources(language)}")

    def _source_files(self, language: Language) -> list[Path]:
        directory = self.sources(language)
        if not directory.is_dir():
            return []
        pattern = {"node": "*.js", "go": "*.go", "java": "*.java"}[language]
        found = sorted(directory.rglob(pattern) if language == "go" else directory.glob(pattern))
        if language == "go" and (directory / "go.mod").is_file():
            found.append(directory / "go.mod")
        return found

    def digest(self, language: Language) -> str:
        """The hash of the sources a build is made from (paths and contents)."""
        digest = hashlib.sha256()
        directory = self.sources(language)
        for path in self._source_files(language):
            digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        return digest.hexdigest()[:16]

    async def launch(self, language: Language) -> Launch:
        """The command that starts a replica of `language`, built first where it must be."""
        self.check(language)
        if language == "python":
            return Launch((sys.executable, "-m", "functions.serve"), "python")
        if language == "node":
            return Launch(("node", str(self.sources("node") / "serve.js")), "node")
        lock = self._locks.setdefault(language, asyncio.Lock())
        async with lock:
            built = self.cache_dir / f"{language}-{self.digest(language)}"
            if not built.is_dir():
                await self._build(language, built)
        if language == "go":
            return Launch((str(built / "serve"),), "go")
        return Launch(("java", "-XX:-UsePerfData", "-cp", str(built), JAVA_MAIN), "java")

    async def _build(self, language: Language, built: Path) -> None:
        """Build into a fresh directory, then rename it into place (never a half build)."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = self.cache_dir / f".{built.name}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        sources = self.sources(language)
        env = dict(os.environ)
        if language == "go":
            argv = ["go", "build", "-trimpath", "-o", str(staging / "serve"), "."]
            env.setdefault("GOTOOLCHAIN", "local")
            if "GOCACHE" not in env and "HOME" not in env:
                env["GOCACHE"] = str(self.cache_dir / "go-build")
        else:
            argv = ["javac", "-d", str(staging), *(str(p) for p in self._source_files("java"))]
        try:
            await _run(argv, sources, env, language)
            staging.rename(built)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


async def _run(argv: list[str], cwd: Path, env: Mapping[str, str], language: Language) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), BUILD_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise LanguageUnavailable(
            f"{language}: {argv[0]} did not finish in {BUILD_TIMEOUT_S:.0f} s"
        ) from None
    if process.returncode != 0:
        text = " ".join(output.decode(errors="replace").split())[-600:]
        raise LanguageUnavailable(
            f"{language}: {argv[0]} failed (exit {process.returncode}): {text or 'no output'}"
        )
