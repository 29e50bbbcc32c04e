"""What load to offer: closed-loop users or an open-loop arrival rate.

Every number is one of `loadgen.bounds`'s types, so a workload that validates can run: its
schedule's offsets are finite, its connection and request counts bounded.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loadgen.bounds import Inflight, Rate, Requests, Seconds, Seed, Users, WarmupSeconds


class ClosedLoop(BaseModel):
    """`users` each keep one request outstanding until `total` requests (or `duration_s`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["closed"] = "closed"
    users: Users
    total: Requests | None = None
    duration_s: Seconds | None = None
    warmup_s: WarmupSeconds = 0.0

    @model_validator(mode="after")
    def _one_bound(self) -> "ClosedLoop":
        if (self.total is None) == (self.duration_s is None):
            raise ValueError("a closed loop needs exactly one of total and duration_s")
        return self


class OpenLoop(BaseModel):
    """Requests sent at scheduled instants whatever the responses do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["open"] = "open"
    rate: Rate
    total: Requests | None = None
    duration_s: Seconds | None = None
    arrival: Literal["constant", "poisson"] = "constant"
    seed: Seed = 0
    max_inflight: Inflight = 10_000
    on_saturation: Literal["queue", "drop"] = "queue"
    warmup_s: WarmupSeconds = 0.0

    @model_validator(mode="after")
    def _one_bound(self) -> "OpenLoop":
        if (self.total is None) == (self.duration_s is None):
            raise ValueError("an open loop needs exactly one of total and duration_s")
        return self


Workload = Annotated[ClosedLoop | OpenLoop, Field(discriminator="kind")]
