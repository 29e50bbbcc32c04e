"""Shared fixtures: the two example stacks' config, as the Pulumi CLI would pass it, and a
stand-in OpenWhisk chart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.openwhisk_chart import local_chart
from support.pulumi_mocks import stack_file_config

from components import openwhisk_chart
from components.pinned_source import PinnedTree


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
