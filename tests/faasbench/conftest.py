"""The fixture `world`: a project, a backend and a fake `pulumi` on PATH."""

from pathlib import Path

import pytest
from support.faasbench_world import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)
