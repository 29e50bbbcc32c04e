"""A pool of two loaders on this machine (a Dask LocalCluster on 127.0.0.1), shared by a
module."""

from collections.abc import Iterator

import pytest

from loadgen.loaders.pool import LoaderPool, open_pool
from loadgen.loaders.spec import parse_loaders


@pytest.fixture(scope="module")
def pool() -> Iterator[LoaderPool]:
    with open_pool(parse_loaders("local:2")) as opened:
        yield opened
