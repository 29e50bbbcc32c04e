"""The packages' layers, read from the source (ast, nothing imported).

- `contract` is neutral ground: it imports nothing of the repository's other packages, nor Pulumi.
- `components` never imports `stacks` or `loadgen` (`stacks` composes components, not the
  reverse).
- `loadgen.experiments` (the campaign loop) imports no concrete platform (the modules
  `loadgen.platforms.openfaas`, `openwhisk`, nor their adapters): it drives `Platform`.
- `functions` imports nothing of the other packages, nor Pulumi: stdlib only, so the loader may
  use it (the function registry and parameters, the OpenWhisk zips, the local replicas).
- `loadgen` imports neither `components`, `stacks` nor Pulumi, except the imports listed in
  `LOADGEN_EXCEPTIONS` (none today): a new violation fails, and so does an exception that no
  longer exists (drop it).
- `faasbench` (the `faasbench` command: study, sweep) is the top layer: it may import `loadgen`,
  `contract` and Pulumi's Automation API (`pulumi.automation`), never `components`, `stacks`
  or the Pulumi providers; and nothing imports `faasbench`.

Dynamic imports (`importlib.import_module`) are not seen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("contract", "components", "stacks", "loadgen", "functions", "faasbench")
PULUMI = ("pulumi", "pulumi_aws", "pulumi_openstack", "pulumi_tls", "pulumi_random")
PULUMI += ("pulumi_command", "pulumi_kubernetes")

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "contract": ("components", "stacks", "loadgen", "functions", *PULUMI),
    "components": ("stacks", "loadgen"),
    "functions": ("contract", "components", "stacks", "loadgen", *PULUMI),
    "loadgen": ("components", "stacks", *PULUMI),
    "faasbench": ("components", "stacks", "functions", *PULUMI[1:]),
}
#: What `faasbench` may take of the Pulumi SDK.
AUTOMATION_API = "pulumi.automation"

# (importing module, imported module) pairs allowed to break the rules. None are left: the
# restructure issue ("One owner for each concept") removed the last ones.
LOADGEN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_submodule(package: str, name: str) -> bool:
    base = ROOT.joinpath(*package.split("."), name)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imported(path: Path) -> set[str]:
    """Every absolute module the file's import statements import (relative ones stay inside
    their package). `from functions import _registry` imports `functions._registry`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                submodule = is_submodule(node.module, alias.name)
                names.add(f"{node.module}.{alias.name}" if submodule else node.module)
    return names


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def imports_of(package: str) -> list[tuple[str, str]]:
    pairs = []
    for path in sorted((ROOT / package).rglob("*.py")):
        source = module_name(path)
        pairs.extend((source, target) for target in sorted(imported(path)))
    return pairs


def violations(package: str) -> set[tuple[str, str]]:
    return {
        (source, target)
        for source, target in imports_of(package)
        if any(is_under(target, forbidden) for forbidden in FORBIDDEN[package])
    }


@pytest.mark.parametrize("package", ["contract", "components", "functions", "faasbench"])
def test_package_keeps_to_its_layer(package: str) -> None:
    assert sorted(violations(package)) == []


def test_loadgen_keeps_to_its_layer_but_for_todays_exceptions() -> None:
    found = violations("loadgen")
    assert sorted(found - LOADGEN_EXCEPTIONS) == [], "a new layer violation"
    assert sorted(LOADGEN_EXCEPTIONS - found) == [], "exceptions no longer needed: remove them"


def test_faasbench_takes_only_the_automation_api_of_pulumi() -> None:
    pulumi = [
        (source, target)
        for source, target in imports_of("faasbench")
        if is_under(target, "pulumi") and not is_under(target, AUTOMATION_API)
    ]
    assert pulumi == []
    assert any(is_under(target, AUTOMATION_API) for _, target in imports_of("faasbench"))


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "faasbench"])
def test_nothing_imports_faasbench(package: str) -> None:
    assert [pair for pair in imports_of(package) if is_under(pair[1], "faasbench")] == []


#: Concrete platforms the campaign loop must not know: it drives any `Platform` (base.py), built
#: from the stack outputs by `loadgen.platforms.make_platform`.
CONCRETE_PLATFORMS = ("loadgen.platforms.openfaas", "loadgen.platforms.openwhisk")
CONCRETE_ADAPTERS = frozenset({"OpenFaasPlatform", "OpenWhiskPlatform"})


def test_experiments_know_no_concrete_platform() -> None:
    found = [
        (source, target)
        for source, target in imports_of("loadgen")
        if is_under(source, "loadgen.experiments")
        and any(is_under(target, concrete) for concrete in CONCRETE_PLATFORMS)
    ]
    for path in sorted((ROOT / "loadgen" / "experiments").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.ImportFrom):
                found += [
                    (module_name(path), a.name) for a in node.names if a.name in CONCRETE_ADAPTERS
                ]
    assert found == []


def test_the_walk_sees_every_package() -> None:
    for package in PACKAGES:
        assert imports_of(package), package
    assert ("components.ssh_key", "contract.ssh_keys") in imports_of("components")


def test_a_new_violation_is_caught(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text(
        "import pulumi\nfrom stacks.config import StackConfig\nfrom functions import _params\n"
    )
    assert imported(module) == {"pulumi", "stacks.config", "functions._params"}
