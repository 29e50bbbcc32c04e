"""The local target started for real through the CLI, in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.local_target import LocalTarget, start_target, stop_target


@pytest.fixture(scope="session")
def ce_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    """The default target: CE limits on, one replica per new function."""
    target = start_target(tmp_path_factory.mktemp("local-ce"))
    try:
        yield target
    finally:
        stop_target(target)
