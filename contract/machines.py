"""The stack's machines, as its config declares them: the roles, their AWS default sizes and the
`MachinesConfig` section (counts and sizes per role). The stack config validates it; the
loader's cost estimate (`contract.prices`) reads a stack's machines with it, without Pulumi.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contract.outputs import CpuCredits

Role = Literal["bastion", "manager", "worker", "haproxy", "ftp", "loader"]
ROLES: tuple[Role, ...] = ("bastion", "manager", "worker", "haproxy", "ftp", "loader")

#: The seeds' machine sizes on AWS: small helpers, larger cluster nodes; loaders (the loader
#: pool, `loaderCount`) get the workers' size, in the stack's `cpuCredits` mode (default
#: unlimited, so a long run is never throttled by spent credits).
AWS_DEFAULT_SIZES: dict[Role, str] = {
    "bastion": "t3a.medium",
    "manager": "t3a.large",
    "worker": "t3a.large",
    "haproxy": "t3a.medium",
    "ftp": "t3a.medium",
    "loader": "t3a.large",
}

Size = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^\S+$")]


class MachinesConfig(BaseModel):
    """Counts and sizes per role. Sizes are AWS instance types or OpenStack flavors."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)

    manager_count: int = Field(1, alias="managerCount", ge=1, le=7)
    worker_count: int = Field(2, alias="workerCount", ge=1, le=200)
    loader_count: int = Field(
        0,
        alias="loaderCount",
        ge=0,
        le=100,
        description="machines of the loader pool (Dask); 0: campaigns run on the bastion alone",
    )
    bastion_size: Size | None = Field(None, alias="bastionSize")
    manager_size: Size | None = Field(None, alias="managerSize")
    worker_size: Size | None = Field(None, alias="workerSize")
    haproxy_size: Size | None = Field(None, alias="haproxySize")
    ftp_size: Size | None = Field(None, alias="ftpSize")
    loader_size: Size | None = Field(None, alias="loaderSize")
    volume_size_gb: int = Field(15, alias="volumeSizeGb", ge=8, le=16384)
    cpu_credits: CpuCredits = Field(
        "unlimited",
        alias="cpuCredits",
        description="CPU credit mode of burstable AWS types; unlimited never throttles a run",
    )

    @field_validator("manager_count")
    @classmethod
    def _odd_managers(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"managerCount must be odd (1, 3, 5 or 7) for a quorum, got {value}")
        return value

    def explicit_size(self, role: Role) -> str | None:
        return getattr(self, f"{role}_size")

    def count(self, role: Role) -> int:
        """How many machines of `role` the stack has (one bastion, HAProxy and FTP machine)."""
        counts = {
            "manager": self.manager_count,
            "worker": self.worker_count,
            "loader": self.loader_count,
        }
        return counts.get(role, 1)
