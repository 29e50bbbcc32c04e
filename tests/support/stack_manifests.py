"""A stack's Kubernetes objects as a cluster would get them: the program run under the mocks,
each Helm release it registers rendered by a real Helm engine from the pinned chart with the
release's recorded values, plus the objects the program creates itself.

OpenFaaS's chart is not kept anywhere these tests can read (its licence restricts copying), so
its release is recorded as not rendered; everything else is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import keda_config, openwhisk_chart
from components.monitoring_config import CHART_NAME, CHART_VERSION
from components.pinned_source import PinnedTree
from support.helm import (
    Manifest,
    ReleaseInputs,
    crds,
    manifests,
    openwhisk_chart_with_runtimes,
    render,
)
from support.k8s_objects import CrdValidators, program_objects
from support.pulumi_mocks import (
    FAKE_KUBECONFIG,
    ProgramRun,
    project_defaults,
    run_program,
    stack_file_config,
)
from support.reachability import Cluster
from support.specs import (
    HTTP_ADD_ON_CHART_SPEC,
    KEDA_CHART_SPEC,
    KUBE_PROMETHEUS_STACK_SPEC,
    OPENWHISK_CHART_SPEC,
    SpecTree,
    require_tree,
)


@dataclass(frozen=True)
class Case:
    """A stack configuration, as the CLI would hand it to the program."""

    config: Mapping[str, str]
    stack: str
    secret_keys: tuple[str, ...] = ()


def _k3s(**extra: str) -> Case:
    return Case({**stack_file_config("aws"), **extra}, stack="bench")


def _existing(**extra: str) -> Case:
    config = {**project_defaults(), "cloud": "existing", "kubeconfig": FAKE_KUBECONFIG, **extra}
    return Case(config, stack="lab", secret_keys=("kubeconfig",))


#: OpenWhisk with both schedulers on a k3s stack of ours and on an existing cluster (the new
#: scheduler needs a larger server than the example's), and OpenFaaS's monitoring.
CASES: dict[str, Case] = {
    "k3s-openwhisk": _k3s(framework="openwhisk"),
    "k3s-openwhisk-new": _k3s(
        framework="openwhisk", openwhiskScheduler="new", managerSize="t3a.xlarge"
    ),
    "existing-openwhisk": _existing(framework="openwhisk"),
    "existing-openwhisk-new": _existing(framework="openwhisk", openwhiskScheduler="new"),
    "k3s-openfaas": _k3s(framework="openfaas"),
}


#: KEDA's charts by the name a release gives, with the version it asks the repository for.
KEDA_CHARTS: dict[str, tuple[SpecTree, str]] = {
    keda_config.KEDA_CHART: (KEDA_CHART_SPEC, keda_config.KEDA_CHART_VERSION),
    keda_config.HTTP_ADD_ON_CHART: (HTTP_ADD_ON_CHART_SPEC, keda_config.HTTP_ADD_ON_CHART_VERSION),
}
#: KEDA in each mode, on a k3s stack of ours and on an existing cluster (tests/components/
#: test_keda.py renders them; the cases above stay the ones every stack test reads).
KEDA_CASES: dict[str, Case] = {
    "k3s-keda-http": _k3s(framework="keda", kedaMode="http"),
    "k3s-keda-queue": _k3s(framework="keda", kedaMode="queue"),
    "existing-keda-http": _existing(framework="keda", kedaMode="http"),
    "existing-keda-queue": _existing(framework="keda", kedaMode="queue"),
}


@dataclass
class Release:
    inputs: ReleaseInputs
    chart: Path
    rendered: dict[str, str]

    @property
    def manifests(self) -> list[Manifest]:
        return manifests(self.rendered)

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [m.obj for m in self.manifests]


@dataclass
class StackManifests:
    run: ProgramRun
    #: Rendered releases by the program's resource name.
    releases: dict[str, Release] = field(default_factory=dict)
    #: Releases no chart here can render (resource name: why).
    not_rendered: dict[str, str] = field(default_factory=dict)
    own: list[dict[str, Any]] = field(default_factory=list)

    def cluster(self, *, without_policies: bool = False) -> Cluster:
        """Every object of the stack; `without_policies` leaves out the program's own
        NetworkPolicies (to see what they change)."""
        own = [o for o in self.own if not (without_policies and o["kind"] == "NetworkPolicy")]
        return Cluster.of(
            [
                *((r.inputs.namespace, r.objects) for r in self.releases.values()),
                ("default", own),
            ]
        )

    def crds(self) -> CrdValidators:
        return CrdValidators(doc for r in self.releases.values() for doc in crds(r.chart))


def chart_for(inputs: ReleaseInputs, chart_repo_version: str | None, work: Path) -> Path | None:
    """The pinned chart folder a release names (None: no chart here for it)."""
    if inputs.chart == CHART_NAME:
        chart = require_tree(KUBE_PROMETHEUS_STACK_SPEC)
        pinned = yaml.safe_load((chart / "Chart.yaml").read_text())["version"]
        assert chart_repo_version == CHART_VERSION == pinned, (chart_repo_version, pinned)
        return chart
    keda = KEDA_CHARTS.get(inputs.chart)
    if keda is not None:
        chart = require_tree(keda[0])
        pinned = yaml.safe_load((chart / "Chart.yaml").read_text())["version"]
        assert chart_repo_version == keda[1] == pinned, (chart_repo_version, pinned)
        return chart
    program_chart = Path(inputs.chart)
    if (program_chart / "Chart.yaml").is_file() and yaml.safe_load(
        (program_chart / "Chart.yaml").read_text()
    )["name"] == "openwhisk":
        return openwhisk_chart_with_runtimes(
            require_tree(OPENWHISK_CHART_SPEC),
            program_chart,
            inputs.values["whisk"]["runtimes"],
            work,
        )
    return None


def build(case: Case, source: PinnedTree, work: Path) -> StackManifests:
    """Run the program for `case` (OpenWhisk's chart served from `source`, caches in `work`)
    and render every release it registers."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAASBENCH_CACHE_DIR", str(work / "cache"))
        patch.setattr(openwhisk_chart, "OPENWHISK_CHART", source)
        run = run_program(case.config, case.secret_keys, stack=case.stack)
    stack = StackManifests(run, own=program_objects(run.mocks))
    for release in run.mocks.of_type("kubernetes:helm.sh/v3:Release"):
        inputs = ReleaseInputs.of(run.mocks, release.name)
        chart = chart_for(inputs, release.inputs.get("version"), work)
        if chart is None:
            stack.not_rendered[release.name] = f"no chart here for {inputs.chart}"
            continue
        rendered = render(chart, inputs.values, name=inputs.name, namespace=inputs.namespace)
        stack.releases[release.name] = Release(inputs, chart, rendered)
    return stack


_built: dict[str, StackManifests] = {}


def stack_manifests(name: str, source: PinnedTree, work: Path) -> StackManifests:
    """`build` once per case and test session (several test modules read the same stacks)."""
    if name not in _built:
        _built[name] = build({**CASES, **KEDA_CASES}[name], source, work / name)
    return _built[name]
