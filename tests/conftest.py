"""Shared fixtures: the two example stacks' config, as the Pulumi CLI would pass it."""

from __future__ import annotations

import pytest
from support.pulumi_mocks import stack_file_config


@pytest.fixture
def aws_config() -> dict[str, str]:
    return stack_file_config("aws")


@pytest.fixture
def openstack_config() -> dict[str, str]:
    return stack_file_config("openstack")
