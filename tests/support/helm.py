"""The pinned charts rendered by a real Helm engine, with exactly the values the program passes.

`helm-python-sdk` binds the Helm v4 library: `Chart.render` is `helm template` (values checked
against values.schema.json, hooks included, `crds/` left to `Chart.crds`), offline, for
Kubernetes v1.36.0 (Helm's built-in capabilities). The values come from the
`kubernetes:helm.sh/v3:Release` registrations of a program run under the mocks, never from a
re-derivation.

`ignored_keys` finds values keys a chart ignores: each leaf we set is changed on its own and the
chart rendered again; a leaf whose change never changes the rendering is ignored.
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import yaml

from support.pulumi_mocks import RecordingMocks

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
#: Rendered files that are not manifests.
NOT_MANIFESTS = ("NOTES.txt",)

Path_ = tuple[str | int, ...]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML 1.1's `=` value tag as the plain string it is to Kubernetes (PyYAML has no
    constructor for it; CRDs hold `- =` in their enums)."""


_Loader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


def load_all(text: str) -> list[Any]:
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc]


@dataclass(frozen=True)
class ReleaseInputs:
    """What the program hands Helm for one release."""

    name: str
    namespace: str
    chart: str
    values: dict[str, Any]

    @classmethod
    def of(cls, mocks: RecordingMocks, resource_name: str) -> ReleaseInputs:
        release = mocks.one(RELEASE_TYPE, resource_name)
        inputs = release.inputs
        return cls(inputs["name"], inputs["namespace"], inputs["chart"], inputs["values"])


@functools.cache
def load(chart: Path) -> helm_python.Chart:
    """A loaded chart (charts are immutable: one per folder per test session)."""
    return helm_python.Chart.load(chart)


def render(chart: Path, values: Mapping[str, Any], *, name: str, namespace: str) -> dict[str, str]:
    """{template path: rendered text}, as `helm template` gives them."""
    return load(chart).render(dict(values), name=name, namespace=namespace)


@functools.cache
def crds(chart: Path) -> tuple[dict[str, Any], ...]:
    """The CustomResourceDefinitions under the chart's (and its subcharts') `crds/`."""
    return tuple(doc for crd in load(chart).crds for doc in load_all(crd["data"]))


@dataclass(frozen=True)
class Manifest:
    """One object of a rendering and the template it came from."""

    template: str
    obj: dict[str, Any]


def manifests(rendered: Mapping[str, str]) -> list[Manifest]:
    """Every object of a rendering, `kind: List` expanded, empty documents left out."""
    found: list[Manifest] = []
    for template, text in sorted(rendered.items()):
        if template.endswith(NOT_MANIFESTS):
            continue
        for doc in load_all(text):
            items = doc.get("items") or [] if doc.get("kind") == "List" else [doc]
            found += [Manifest(template, item) for item in items]
    return found


def openwhisk_chart_with_runtimes(
    pinned: Path, program_chart: Path, runtimes: str, into: Path
) -> Path:
    """A copy of the pinned OpenWhisk chart holding the runtimes file the program wrote into its
    own copy (tests run the program against a stand-in chart; the pinned one is read-only)."""
    target = into / f"openwhisk+{runtimes.removesuffix('.json')}"
    if not target.is_dir():
        shutil.copytree(pinned, target)
        shutil.copyfile(program_chart / runtimes, target / runtimes)
    return target


# --- values the chart ignores -------------------------------------------------------------


def leaves(values: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """(path, value) of every scalar in a values tree (list items by index)."""
    if isinstance(values, Mapping):
        for key, value in values.items():
            yield from leaves(value, (*prefix, key))
    elif isinstance(values, list):
        for index, value in enumerate(values):
            yield from leaves(value, (*prefix, index))
    else:
        yield prefix, values


def dotted(path: Path_) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in path)


def _schema_enum(schema: Mapping[str, Any] | None, path: Path_) -> list[Any] | None:
    node: Any = schema
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
    return node.get("enum") if isinstance(node, Mapping) else None


def mutated(value: Any, enum: list[Any] | None = None) -> Any:
    """Another value of the same type: booleans flip, numbers move by one, strings change (to
    another member when the chart's schema names the allowed ones)."""
    if enum:
        others = [member for member in enum if member != value]
        if others:
            return others[0]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return f"{value}x"
    if value is None:
        return "x"
    raise TypeError(f"no mutation for {value!r}")


def with_leaf(values: Mapping[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(dict(values))
    node: Any = changed
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return changed


def _rendering(
    chart: Path, values: Mapping[str, Any], name: str, namespace: str
) -> dict[str, str] | str:
    try:
        return render(chart, values, name=name, namespace=namespace)
    except helm_python.HelmError as exc:
        # A template that fails on the changed value reads it.
        return f"error: {exc}"


def _marker(index: int) -> str:
    return f"zq{index}qz"


def ignored_keys(renders: Iterable[tuple[Path, ReleaseInputs]]) -> list[str]:
    """Leaf paths of the values that no rendering of a chart reacts to.

    `renders` are several configurations of one chart (e.g. scheduler default and new): a key
    counts as used when changing it alone changes at least one of them. First, one rendering
    with a unique marker appended to every string we set (strings the schema restricts to a
    list stay as they are): a key whose marker shows up in it is used. Every other key is then
    changed on its own."""
    pending: dict[Path_, None] = {}
    configs = list(renders)
    for _, release in configs:
        pending.update(dict.fromkeys(path for path, _ in leaves(release.values)))
    for chart, release in configs:
        schema = load(chart).schema
        args = (release.name, release.namespace)
        present = dict(leaves(release.values))
        candidates = [p for p in pending if p in present]
        if not candidates:
            continue
        markers = {
            path: _marker(index)
            for index, path in enumerate(candidates)
            if isinstance(present[path], str) and not _schema_enum(schema, path)
        }
        traced = copy.deepcopy(release.values)
        for path, marker in markers.items():
            traced = with_leaf(traced, path, f"{present[path]}{marker}")
        if markers:
            text = json.dumps(_rendering(chart, traced, *args))
            for path, marker in markers.items():
                if marker in text:
                    del pending[path]
        if not any(p in pending for p in candidates):
            continue
        base = _rendering(chart, release.values, *args)
        for path in [p for p in candidates if p in pending]:
            value = mutated(present[path], _schema_enum(schema, path))
            if _rendering(chart, with_leaf(release.values, path, value), *args) != base:
                del pending[path]
    return [dotted(path) for path in pending]
