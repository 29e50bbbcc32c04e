"""What load to offer: closed-loop users or an open-loop arrival rate."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ClosedLoop(BaseModel):
    """`users` each keep one request outstanding until `total` requests (or `duration_s`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["closed"] = "closed"
    users: int = Field(ge=1)
    total: int | None = Field(default=None, ge=1)
    duration_s: float | None = Field(default=None, gt=0)
    warmup_s: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> "ClosedLoop":
        if (self.total is None) == (self.duration_s is None):
            raise ValueError("a closed loop needs exactly one of total and duration_s")
        return self


class OpenLoop(BaseModel):
    """Requests sent at scheduled instants whatever the responses do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["open"] = "open"
    rate: float = Field(gt=0)
    total: int | None = Field(default=None, ge=1)
    duration_s: float | None = Field(default=None, gt=0)
    arrival: Literal["constant", "poisson"] = "constant"
    seed: int = 0
    max_inflight: int = Field(default=10_000, ge=1)
    on_saturation: Literal["queue", "drop"] = "queue"
    warmup_s: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> "OpenLoop":
        if (self.total is None) == (self.duration_s is None):
            raise ValueError("an open loop needs exactly one of total and duration_s")
        return self


Workload = Annotated[ClosedLoop | OpenLoop, Field(discriminator="kind")]
