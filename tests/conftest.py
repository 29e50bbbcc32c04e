"""Shared fixtures: the two example stacks' config, as the Pulumi CLI would pass it, and a
stand-in OpenWhisk chart; and one summary line per missing upstream spec."""

from __future__ import annotations

import signal
from collections.abc import Generator, Iterator

import pytest
from support import specs
from support.knative_release import ServedRelease, local_release
from support.openwhisk_chart import local_chart
from support.pulumi_mocks import stack_file_config

from components import knative_config, openwhisk_chart
from components.pinned_source import PinnedTree


def pytest_configure(config: pytest.Config) -> None:
    """Tests press Ctrl-C (send SIGINT) to commands they start and expect them to act on it.
    A shell without job control (`make test &`, a script run in the background, nohup) starts
    its commands with SIGINT ignored, and an ignored SIGINT survives fork and exec, so every
    command the tests started would ignore it too. Restore what a terminal's foreground job
    has; a handler (unlike SIG_IGN) is reset to the default in every child that execs. Runs
    in each test worker as well."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def aws_config() -> dict[str, str]:
    return stack_file_config("aws")


@pytest.fixture
def openstack_config() -> dict[str, str]:
    return stack_file_config("openstack")


@pytest.fixture(scope="session")
def openwhisk_chart_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PinnedTree]:
    with local_chart(tmp_path_factory.mktemp("openwhisk-chart")) as source:
        yield source


@pytest.fixture(autouse=True)
def openwhisk_chart_stand_in(
    openwhisk_chart_source: PinnedTree,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> PinnedTree:
    """Programs with OpenWhisk fetch its chart at start-up: serve them a stand-in on 127.0.0.1
    and keep the cache in a temporary folder, never the user's."""
    monkeypatch.setenv("FAASBENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setattr(openwhisk_chart, "OPENWHISK_CHART", openwhisk_chart_source)
    return openwhisk_chart_source


@pytest.fixture(scope="session")
def knative_release_source() -> Iterator[ServedRelease]:
    with local_release() as release:
        yield release


@pytest.fixture(autouse=True)
def knative_release_stand_in(
    knative_release_source: ServedRelease,
    openwhisk_chart_stand_in: PinnedTree,
    monkeypatch: pytest.MonkeyPatch,
) -> ServedRelease:
    """Programs with Knative fetch its release manifests at start-up: serve them stand-ins on
    127.0.0.1 (the cache is the temporary one `openwhisk_chart_stand_in` set)."""
    assets = knative_release_source.assets
    monkeypatch.setattr(knative_config, "SERVING_CRDS", assets["serving-crds.yaml"])
    monkeypatch.setattr(knative_config, "SERVING_CORE", assets["serving-core.yaml"])
    monkeypatch.setattr(knative_config, "KOURIER", assets["kourier.yaml"])
    return knative_release_source


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A test skipped for a missing spec is reported at support/specs.py, not at the test, so
    `-ra` shows one line per missing spec (with how many tests it skipped)."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
        location = specs.skip_location(reason)
        if location is not None:
            report.longrepr = (location[0], location[1], reason)
    return report
