"""A wheel of this faasbench tree, named by a hash of its content.

The loader gets the code at run time, so a code change needs no `pulumi up`; the hash keys
both the local wheel (`dist/remote-<hash>/`, reused while nothing changed) and the remote venv
(`venv-<hash>`, reused by later campaigns of the same code).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from loadgen.remote.ssh import RemoteError

#: Files that never belong to the wheel's content.
_SKIPPED_DIRS = {"__pycache__"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class Wheel:
    path: Path
    version: str
    content_hash: str


def project_root() -> Path:
    """The source tree this loadgen runs from; a wheel is built from it."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file() or _project(pyproject).get("name") != "faasbench":
        raise RemoteError(
            "--remote builds a wheel of faasbench from its source tree: run loadgen from a "
            "faasbench checkout (`uv run loadgen ...`)"
        )
    return root


def _pyproject(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _project(path: Path) -> dict[str, object]:
    project = _pyproject(path).get("project", {})
    return project if isinstance(project, dict) else {}


def wheel_packages(root: Path) -> list[str]:
    """The packages the wheel holds, as `[tool.hatch.build.targets.wheel]` lists them."""
    document = _pyproject(root / "pyproject.toml")
    tool = document.get("tool", {})
    try:
        packages = tool["hatch"]["build"]["targets"]["wheel"]["packages"]  # type: ignore[index]
    except (KeyError, TypeError):
        raise RemoteError("pyproject.toml lists no wheel packages") from None
    return [str(package) for package in packages]


def content_hash(root: Path) -> str:
    """sha256 over pyproject.toml and every file of the wheel's packages (path and bytes)."""
    digest = hashlib.sha256()
    files = [root / "pyproject.toml"]
    for package in wheel_packages(root):
        files.extend(
            path
            for path in (root / package).rglob("*")
            if path.is_file()
            and not _SKIPPED_DIRS & set(path.relative_to(root).parts)
            and path.suffix not in _SKIPPED_SUFFIXES
        )
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def build_wheel(root: Path) -> Wheel:
    """The wheel of the tree as it is now: reused from `dist/remote-<hash>/` or built there."""
    version = str(_project(root / "pyproject.toml").get("version", "0"))
    tree_hash = content_hash(root)
    out = root / "dist" / f"remote-{tree_hash}"
    found = sorted(out.glob(f"faasbench-{version}-*.whl"))
    if found:
        return Wheel(found[0], version, tree_hash)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    uv = shutil.which("uv")
    if uv is not None:
        command = [uv, "build", "--wheel", "--quiet", "--out-dir", str(partial), str(root)]
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(partial),
                   str(root)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    wheels = sorted(partial.glob(f"faasbench-{version}-*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr.strip().splitlines() or ["no wheel was written"])[-1]
        raise RemoteError(f"building the faasbench wheel failed: {detail}")
    shutil.rmtree(out, ignore_errors=True)
    partial.replace(out)
    return Wheel(out / wheels[0].name, version, tree_hash)


#: Where Debian and Ubuntu keep the wheels their ensurepip installs (package python3-pip-whl):
#: their Python has no `ensurepip/_bundled` folder.
DEBIAN_WHEELS = Path("/usr/share/python-wheels")


def bundled_pip() -> Path | None:
    """The pip wheel this Python ships for `ensurepip`: it bootstraps pip in a venv on a loader
    whose python3 lacks ensurepip (Debian and Ubuntu without python3-venv)."""
    folders = [DEBIAN_WHEELS]
    try:
        import ensurepip
    except ImportError:
        pass
    else:
        folders.insert(0, Path(ensurepip.__file__).parent / "_bundled")
    for folder in folders:
        found = sorted(folder.glob("pip-*.whl"))
        if found:
            return found[-1]
    return None
