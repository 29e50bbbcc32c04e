"""`--loaders`: where the load comes from when one machine is not enough.

- `local:N`: a Dask LocalCluster of N loaders on this machine (tests, rehearsal);
- `stack`: the stack's loader pool (scheduler and workers started over SSH, TLS);
- `tcp://host:port` or `tls://host:port`: the scheduler of a Dask cluster already running.
"""

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_LOCAL_LOADERS = 64
"""More local loaders than this only compete for the same cores."""
SCHEMES = ("tcp", "tls")

_ADDRESS = re.compile(
    r"^(?P<scheme>[a-z]+)://(?P<host>\[[0-9a-fA-F:]+\]|[^:/\s\[\]]+):(?P<port>\d+)$"
)


class LoadersSpecError(ValueError):
    """`--loaders` names no pool loadgen can open (the message says why)."""


class PoolError(RuntimeError):
    """The pool cannot be opened (the message says why)."""


class TlsFiles(BaseModel):
    """The client's TLS files for a scheduler at a tls:// address."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ca_file: Path
    cert: Path
    key: Path | None = None


class LoadersSpec(BaseModel):
    """A parsed `--loaders` value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["local", "stack", "address"]
    workers: int | None = Field(None, ge=1, le=MAX_LOCAL_LOADERS)
    """`local`: how many loaders the LocalCluster starts."""
    address: str | None = None
    """`address`: the scheduler, `tcp://host:port` or `tls://host:port`."""

    @property
    def text(self) -> str:
        """The value as given on the command line (normalised)."""
        if self.kind == "local":
            return f"local:{self.workers}"
        if self.kind == "stack":
            return "stack"
        assert self.address is not None
        return self.address


def parse_loaders(value: str) -> LoadersSpec:
    """`value` as a pool; a `LoadersSpecError` names what is wrong with it."""
    text = value.strip()
    if text == "stack":
        return LoadersSpec(kind="stack")
    if text == "local" or text.startswith("local:"):
        count = text.removeprefix("local").removeprefix(":")
        if not count.isdigit():
            raise LoadersSpecError(f"expected local:N with N a whole number, got {value!r}")
        workers = int(count)
        if not 1 <= workers <= MAX_LOCAL_LOADERS:
            raise LoadersSpecError(
                f"local:{workers}: the number of local loaders must be 1 to {MAX_LOCAL_LOADERS}"
            )
        return LoadersSpec(kind="local", workers=workers)
    if "://" in text:
        match = _ADDRESS.match(text)
        if match is None:
            raise LoadersSpecError(
                f"expected a scheduler address such as tls://host:8786, got {value!r}"
            )
        scheme, port = match["scheme"], int(match["port"])
        if scheme not in SCHEMES:
            raise LoadersSpecError(
                f"{scheme}:// is not a Dask scheduler protocol loadgen uses (tcp:// or tls://)"
            )
        if not 1 <= port <= 65535:
            raise LoadersSpecError(f"{text}: port {port} is not 1 to 65535")
        return LoadersSpec(kind="address", address=text)
    raise LoadersSpecError(
        f"expected local:N, stack or a scheduler address (tls://host:port), got {value!r}"
    )
