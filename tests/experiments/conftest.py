"""A local target per test module: campaigns and probes run against the real thing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.local_target import LocalTarget, start_target, stop_target


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    """A fresh target for the module, so what one module deploys never meets another's."""
    running = start_target(tmp_path_factory.mktemp("target"))
    try:
        yield running
    finally:
        stop_target(running)
