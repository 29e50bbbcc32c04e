"""Upstream specs and charts the tests read, wherever they can be had.

Each is pinned (commit + git tree hash, or sha256). In order: `../shared/specs` beside the
clone (the steering copy, checked against its hash), else the user's cache, else a download
from upstream into that cache (`components.pinned_source`). Only when none works does a test
skip, with one line that names what is missing and why.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

from components.openwhisk_chart import OPENWHISK_CHART
from components.pinned_source import (
    PinnedFetchError,
    PinnedFile,
    PinnedTree,
    cache_dir,
    fetch_file,
    fetch_tree,
    file_sha256,
    git_tree_hash,
    staged_folder,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
#: Taken when the tests start: fixtures point FAASBENCH_CACHE_DIR at temporary folders for the
#: program under test, while downloaded specs belong in the user's cache, across runs.
CACHE = cache_dir()


@dataclass(frozen=True)
class SpecFile:
    """A file: its place under shared/specs and where it comes from upstream."""

    shared: str
    source: PinnedFile


@dataclass(frozen=True)
class Part:
    """One upstream folder of an assembled chart, where it goes, and the paths under it that
    the chart's .helmignore leaves out of a packaged chart (removed after verification)."""

    source: PinnedTree
    into: str = "."
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpecTree:
    """A folder (a chart with its dependencies): its place under shared/specs, the git tree
    hash of that copy, and the upstream folders it is assembled from."""

    shared: str
    tree: str
    parts: tuple[Part, ...] = field(default_factory=tuple)


OPENWHISK_SWAGGER = SpecFile(
    "openwhisk/apiv1swagger.json",
    PinnedFile(
        "apache/openwhisk",
        "1fae641a2b30bccb7ddc69d2d215866d899a8510",
        "core/controller/src/main/resources/apiv1swagger.json",
        "dbef9265686bc78cc4cf8d3acc6b006b6b4479d0a6d3f2dabdc89f9248663d8e",
    ),
)

#: Knative Serving's Service CRD at the release faasbench installs (tag knative-v1.23.0): the
#: schema every Knative Service the load generator applies is checked against. The release's
#: serving-crds.yaml carries this CRD (hack/generate-yamls.sh resolves config/core/300-resources
#: into it, changing only the version label).
KNATIVE_SERVICE_CRD = SpecFile(
    "knative/service-crd.yaml",
    PinnedFile(
        "knative/serving",
        "7ed4aa2ab601e3a33c6552285f6e0d910747351d",
        "config/core/300-resources/service.yaml",
        "2df2faa748f4d8e9470a2a5e9f208d7310aa89fc8cad1f2b1b9941fefe3def33",
    ),
)

#: openwhisk-deploy-kube helm/openwhisk: the very tree the program installs.
OPENWHISK_CHART_SPEC = SpecTree("charts/openwhisk", OPENWHISK_CHART.tree, (Part(OPENWHISK_CHART),))

_HELM_CHARTS = "prometheus-community/helm-charts"
#: kube-prometheus-stack 88.5.3 with its dependencies unpacked as `helm dependency build`
#: places them, without what each chart's .helmignore leaves out (shared/specs/SOURCES.md).
KUBE_PROMETHEUS_STACK_SPEC = SpecTree(
    "charts/kube-prometheus-stack",
    "0cc7d26f92c7c59b28fc4c444b172a3195aef431",
    (
        Part(
            PinnedTree(
                _HELM_CHARTS,
                "ea930baeebeba39f56d6b44e351f23b2a072a600",
                "02df7912219cbd69ddb3b775f0560ffd270b7f83",
                "charts/kube-prometheus-stack",
            ),
            left_out=(
                ".editorconfig",
                ".gitignore",
                "CONTRIBUTING.md",
                "UPGRADE.md",
                "ci",
                "hack",
                "unittests",
                "files/dashboards",
                "charts/crds/unittests",
            ),
        ),
        Part(
            PinnedTree(
                _HELM_CHARTS,
                "1982f1c5828920f5d4ea5d04956169e81f8c5129",
                "cf805c82a79e7845b3cdb826a263226811c39d3c",
                "charts/kube-state-metrics",
            ),
            into="charts/kube-state-metrics",
            left_out=("ci", "unittests"),
        ),
        Part(
            PinnedTree(
                _HELM_CHARTS,
                "8b8e639cac80a3001412f187060068978f649a55",
                "d57e88c52dbb20d7f787e115dcbed2631b5680b8",
                "charts/prometheus-node-exporter",
            ),
            into="charts/prometheus-node-exporter",
            left_out=("ci",),
        ),
        Part(
            PinnedTree(
                _HELM_CHARTS,
                "43a82e944bf3ca3aab1703613ca5cf09851b23ec",
                "3d87e7b6b590d38e66adbe2113a7d6a0015dc38a",
                "charts/prometheus-windows-exporter",
            ),
            into="charts/prometheus-windows-exporter",
        ),
        Part(
            PinnedTree(
                "grafana-community/helm-charts",
                "864f7794683680e5100a38670e103c4fa6e37e29",
                "5324b79d9a390b6ed6fcc5f9bfe27bd495386526",
                "charts/grafana",
            ),
            into="charts/grafana",
            left_out=("ci", "tests", "templates/tests"),
        ),
    ),
)


#: KEDA's charts as kedacore/charts holds them at the commits the program's chart versions were
#: released from (components.keda_config): keda 2.20.2 (tag v2.20.2) and keda-add-ons-http
#: 0.15.0. Their CRDs (ScaledObject, TriggerAuthentication, HTTPScaledObject) are templates
#: of these charts: the tests validate against the CRDs these renderings contain.
KEDA_CHART_SPEC = SpecTree(
    "charts/keda",
    "ff69964483c46a7d947f2ee24118c502fb272f9a",
    (
        Part(
            PinnedTree(
                "kedacore/charts",
                "cbb9bb8ce0809dc9048f72302f7c09765d66ed56",
                "ff69964483c46a7d947f2ee24118c502fb272f9a",
                "keda",
            )
        ),
    ),
)
HTTP_ADD_ON_CHART_SPEC = SpecTree(
    "charts/keda-add-ons-http",
    "887ece5b0ae3bc5eb1d57c2d6e8c5dee905f363e",
    (
        Part(
            PinnedTree(
                "kedacore/charts",
                "c4b92e9eed0ddc6668b1395d5f137e3ad4baa3d4",
                "887ece5b0ae3bc5eb1d57c2d6e8c5dee905f363e",
                "http-add-on",
            )
        ),
    ),
)


class SpecMissing(RuntimeError):
    """Neither shared/specs nor the cache nor upstream could provide a spec."""


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _assemble(spec: SpecTree, cache: Path) -> Path:
    final = cache / "assembled" / spec.tree
    if final.is_dir() and git_tree_hash(final) == spec.tree:
        return final
    with staged_folder(final) as staging:
        for part in spec.parts:
            target = staging / part.into
            shutil.copytree(fetch_tree(part.source, cache=cache), target, dirs_exist_ok=True)
            for left_out in part.left_out:
                _remove(target / left_out)
        found = git_tree_hash(staging)
        if found != spec.tree:
            raise PinnedFetchError(
                f"{spec.shared} assembled from upstream has git tree {found}, expected {spec.tree}"
            )
    return final


#: Each spec is looked for once per test session, found or not (a failed download is not
#: retried by every test that needs it).
_found: dict[SpecTree | SpecFile, Path | SpecMissing] = {}


def _once(spec: SpecTree | SpecFile, find: Callable[[], Path]) -> Path:
    if spec not in _found:
        try:
            _found[spec] = find()
        except SpecMissing as exc:
            _found[spec] = exc
    result = _found[spec]
    if isinstance(result, SpecMissing):
        raise result
    return result


def tree_path(spec: SpecTree) -> Path:
    """The verified folder of `spec`; SpecMissing says why there is none."""
    return _once(spec, lambda: _find_tree(spec))


def file_path(spec: SpecFile) -> Path:
    """The verified file of `spec`; SpecMissing says why there is none."""
    return _once(spec, lambda: _find_file(spec))


def _find_tree(spec: SpecTree) -> Path:
    shared = SHARED / spec.shared
    if shared.is_dir():
        found = git_tree_hash(shared)
        if found == spec.tree:
            return shared
        shared_problem = f"../shared/specs/{spec.shared} has git tree {found}, not {spec.tree}"
    else:
        shared_problem = "no ../shared/specs beside the clone"
    try:
        return _assemble(spec, CACHE)
    except PinnedFetchError as exc:
        raise SpecMissing(f"{spec.shared} is missing: {shared_problem}, and {exc}") from None


def _find_file(spec: SpecFile) -> Path:
    shared = SHARED / spec.shared
    if shared.is_file():
        if file_sha256(shared) == spec.source.sha256:
            return shared
        shared_problem = f"../shared/specs/{spec.shared} is not the pinned file"
    else:
        shared_problem = "no ../shared/specs beside the clone"
    try:
        return fetch_file(spec.source, cache=CACHE)
    except PinnedFetchError as exc:
        raise SpecMissing(f"{spec.shared} is missing: {shared_problem}, and {exc}") from None


#: The reasons of the skips below: conftest.py reports each at one place (`skip_location`),
#: so the summary has one line per missing spec, not one per test that needed it.
MISSING_REASONS: set[str] = set()


def _skip(exc: SpecMissing) -> NoReturn:
    MISSING_REASONS.add(str(exc))
    pytest.skip(str(exc))


def skip_location(reason: str) -> tuple[str, int] | None:
    """Where the summary should show a skip for `reason`: here, if it is a missing spec."""
    if reason.removeprefix("Skipped: ") in MISSING_REASONS:
        return __file__, _skip.__code__.co_firstlineno
    return None


def require_tree(spec: SpecTree) -> Path:
    """For a test: the folder, or a skip naming what is missing."""
    try:
        return tree_path(spec)
    except SpecMissing as exc:
        _skip(exc)


def require_file(spec: SpecFile) -> Path:
    """For a test: the file, or a skip naming what is missing."""
    try:
        return file_path(spec)
    except SpecMissing as exc:
        _skip(exc)
