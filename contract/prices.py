"""What a stack's machines cost per hour: a pinned, dated price table and a reader of a stack's
machines from its `Pulumi.<stack>.yaml`, without Pulumi (the loader reads this too).

The table is an estimate, never a quote: AWS changes prices, bills per second with a minimum,
and charges separately for what is not here (EBS volumes, the NAT gateway, public IPv4
addresses, data transfer, burstable credits spent beyond the baseline). Where each number came
from is in docs/costs.md; a price without evidence is left out rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from contract.machines import AWS_DEFAULT_SIZES, ROLES, MachinesConfig, Role

#: When the table was checked, and against what.
PRICES_DATE = "2026-12-03"
AWS_PRICE_REGION = "us-east-1"
AWS_PRICE_SOURCE = (
    "AWS EC2 on-demand, Linux, us-east-1 (https://aws.amazon.com/ec2/pricing/on-demand/), "
    "as quoted by public tables; see docs/costs.md"
)
#: USD per instance-hour, on-demand, Linux, in `AWS_PRICE_REGION`: the default sizes
#: (`contract.machines.AWS_DEFAULT_SIZES`) and their neighbours in the same family.
AWS_ON_DEMAND_USD_PER_HOUR: dict[str, float] = {
    "t3a.medium": 0.0376,
    "t3a.large": 0.0752,
    "t3a.xlarge": 0.1504,
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
}
#: T3/T3a in `unlimited` mode: surplus credits, USD per vCPU-hour (Linux), when a machine
#: averages above its baseline over 24 h. Not in the hourly figures above.
AWS_SURPLUS_CREDIT_USD_PER_VCPU_HOUR = 0.05

#: A managed FaaS to set self-hosted results beside: AWS Lambda on x86 in `AWS_PRICE_REGION`,
#: on-demand, the first duration tier (the first 6 billion GB-s a month), free tier left out.
#: Checked on `PRICES_DATE`; the evidence is in docs/costs.md.
LAMBDA_USD_PER_GB_SECOND = 0.0000166667
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
LAMBDA_PRICE_SOURCE = (
    "AWS Lambda, x86, us-east-1, first duration tier (https://aws.amazon.com/lambda/pricing/), "
    "as quoted by public tables; see docs/costs.md"
)


def lambda_usd_per_million(memory_mb: int, duration_s: float) -> float:
    """What a million invocations of `duration_s` each would cost on Lambda with `memory_mb`
    configured: GB-s of the configured memory (MiB / 1024 × seconds) at the GB-s price, plus
    the request price; no free tier, no rounding of durations to the billed millisecond."""
    gb_seconds = memory_mb / 1024 * duration_s
    return gb_seconds * LAMBDA_USD_PER_GB_SECOND * 1e6 + LAMBDA_USD_PER_MILLION_REQUESTS


class StackConfigFileError(ValueError):
    """A stack config file that cannot be read; the message names the key."""


@dataclass(frozen=True)
class MachineGroup:
    role: Role
    size: str
    count: int


@dataclass(frozen=True)
class StackMachines:
    cloud: str
    region: str | None
    groups: tuple[MachineGroup, ...]


_MACHINE_KEYS = {field.alias for field in MachinesConfig.model_fields.values()}


def stack_machines(document: Any, source: str) -> StackMachines:
    """The machines a stack config (`Pulumi.<stack>.yaml`, already parsed) asks for: one
    bastion, one HAProxy and one FTP machine, `managerCount` managers, `workerCount`
    workers and `loaderCount` loaders (none by default), each of its role's size (the key,
    else `openstackFlavor`, else the AWS default). An `existing` cluster has no machines of
    ours."""
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise StackConfigFileError(f"{source}: config: expected a mapping of keys")
    config: dict[str, Any] = document["config"]
    keys = {
        key.removeprefix("faasbench:"): value
        for key, value in config.items()
        if isinstance(key, str) and key.startswith("faasbench:")
    }
    cloud = keys.get("cloud")
    if cloud not in ("aws", "openstack", "existing"):
        raise StackConfigFileError(
            f"{source}: faasbench:cloud: expected aws, openstack or existing, got {cloud!r}"
        )
    region = config.get("aws:region") if cloud == "aws" else None
    if cloud == "existing":
        return StackMachines(cloud, None, ())
    try:
        machines = MachinesConfig.model_validate(
            {k: v for k, v in keys.items() if k in _MACHINE_KEYS}
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"])
        raise StackConfigFileError(f"{source}: faasbench:{key}: {error['msg']}") from None
    flavor = keys.get("openstackFlavor")
    groups = []
    for role in ROLES:
        count = machines.count(role)
        if count == 0:
            continue
        size = machines.explicit_size(role)
        if size is None and cloud == "openstack":
            if not isinstance(flavor, str):
                raise StackConfigFileError(
                    f"{source}: faasbench:openstackFlavor: needed for the {role} machine "
                    f"(or set faasbench:{role}Size)"
                )
            size = flavor
        groups.append(MachineGroup(role, size or AWS_DEFAULT_SIZES[role], count))
    return StackMachines(cloud, region if isinstance(region, str) else None, tuple(groups))


@dataclass(frozen=True)
class PricedGroup:
    group: MachineGroup
    usd_per_hour: float | None  # each machine; None: no price for its size


@dataclass(frozen=True)
class MachineCost:
    """A stack's machines priced from the table (AWS) and the prices given (`--price`)."""

    machines: StackMachines
    groups: tuple[PricedGroup, ...]
    source: str

    @property
    def unknown(self) -> tuple[str, ...]:
        """The sizes without a price, sorted; the cost is not estimated while any is left."""
        return tuple(sorted({p.group.size for p in self.groups if p.usd_per_hour is None}))

    @property
    def usd_per_hour(self) -> float | None:
        if self.unknown:
            return None
        return sum((p.usd_per_hour or 0.0) * p.group.count for p in self.groups)


def machine_cost(machines: StackMachines, prices: dict[str, float]) -> MachineCost:
    """Price each group: `prices` (USD per hour of a size) over the pinned AWS table."""
    table = dict(AWS_ON_DEMAND_USD_PER_HOUR) if machines.cloud == "aws" else {}
    table.update(prices)
    if machines.cloud == "aws":
        source = f"prices of {PRICES_DATE}: {AWS_PRICE_SOURCE}"
        if machines.region and machines.region != AWS_PRICE_REGION:
            source += f"; the stack's region is {machines.region}: prices there differ"
    else:
        source = "OpenStack has no public price: the prices are the ones given with --price"
    groups = tuple(PricedGroup(g, table.get(g.size)) for g in machines.groups)
    return MachineCost(machines, groups, source)
