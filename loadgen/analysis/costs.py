"""Cost per million invocations, two estimates per group of a campaign:

- **managed FaaS**: what AWS Lambda (x86, us-east-1) would bill for a million invocations of the
  group's function with its configured memory limit: GB-s (memory_mb / 1024 × the mean billed
  duration) at the GB-s price, plus the per-request price. The billed duration is the platform's
  own run time of an activation where it reports one (OpenWhisk's `run`, mean), else the mean
  latency of the group's requests as the client saw it (an upper bound: it adds the network and
  the platform's routing);
- **stack**: the stack's machines per hour (the price table `loadgen estimate` uses, machines from
  the manifest) ÷ the group's achieved throughput (median over runs) × one million: what the
  stack costs per million invocations at the load the cell put on it, not at its capacity.

Both are estimates from a pinned, dated price table (`contract.prices`), never quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.machines import ROLES, Role
from contract.prices import (
    AWS_PRICE_REGION,
    PRICES_DATE,
    MachineGroup,
    StackMachines,
    lambda_usd_per_million,
    machine_cost,
)
from loadgen.analysis.aggregate import Aggregate, group_label
from loadgen.analysis.table import GroupKey, Row, row_key
from loadgen.results.models import CampaignManifest

#: Roles a stack has exactly one machine of.
SINGLE_ROLES = ("bastion", "haproxy", "ftp")


@dataclass(frozen=True)
class StackHourly:
    """The stack's machines per hour, or why there is no figure."""

    usd_per_hour: float | None
    note: str


@dataclass(frozen=True)
class GroupCost:
    """The two estimates of one group (None where they cannot be made, with the reason)."""

    key: GroupKey
    label: str
    memory_mb: int
    duration_ms: float | None
    duration_basis: str
    """`platform run` or `request latency`: which mean the GB-s come from."""
    managed_usd_per_million: float | None
    throughput_rps: float | None
    stack_usd_per_million: float | None
    stack_note: str


def _count(manifest: CampaignManifest, role: str) -> int | None:
    """How many machines of `role` the manifest shows (None: it does not say)."""
    if role in SINGLE_ROLES:
        return 1
    if role in ("manager", "worker"):
        nodes = manifest.node_roles.get(f"{role}s")
        return len(nodes) if isinstance(nodes, list) else None
    if role == "loader":
        loaders = manifest.outputs.get("loaders")
        hosts = loaders.get("hosts") if isinstance(loaders, dict) else None
        return len(hosts) if isinstance(hosts, list) else None
    return None


def stack_hourly(manifest: CampaignManifest) -> StackHourly:
    """The stack's hourly cost from what the manifest records: the size of each role
    (`instance_types`), the managers and workers (`node_roles`), the loaders (the outputs'
    `loaders.hosts`), one bastion, HAProxy and FTP machine; AWS prices only."""
    cloud = manifest.platform.cloud
    if cloud == "local":
        return StackHourly(None, "n/a: the local target runs on this machine, no stack to price")
    if cloud == "existing":
        return StackHourly(None, "n/a: an existing cluster, whose machines are not the stack's")
    if cloud != "aws":
        return StackHourly(None, f"n/a: {cloud} has no public price table")
    if not manifest.instance_types:
        return StackHourly(None, "n/a: the manifest records no machines (instance_types)")
    groups = []
    for name, size in sorted(manifest.instance_types.items()):
        role = _role(name)
        count = None if role is None else _count(manifest, name)
        if role is None or count is None:
            return StackHourly(None, f"n/a: the manifest does not say how many {name} machines")
        if count:
            groups.append(MachineGroup(role, size, count))
    cost = machine_cost(StackMachines(cloud, None, tuple(groups)), {})
    if cost.usd_per_hour is None:
        return StackHourly(None, f"n/a: no price for {', '.join(cost.unknown)}")
    machines = ", ".join(f"{g.count} × {g.size}" for g in groups)
    return StackHourly(
        cost.usd_per_hour,
        f"{machines}: ${cost.usd_per_hour:.4f}/h, EC2 on-demand {AWS_PRICE_REGION} prices of "
        f"{PRICES_DATE} (the manifest does not record the region); machines only",
    )


def _role(name: str) -> Role | None:
    return next((role for role in ROLES if role == name), None)


def _group_value(rows: dict[tuple[str, str], Row], metric: str, stat: str) -> float | None:
    row = rows.get((metric, stat))
    value = None if row is None else row["value"]
    return float(value) if isinstance(value, int | float) else None


def group_costs(result: Aggregate) -> list[GroupCost]:
    """Both estimates for every group of `result` that has requests, in the table's order."""
    by_group: dict[GroupKey, dict[tuple[str, str], Row]] = {}
    for row in result.rows:
        if row["level"] == "group" and row["subset"] == "all":
            by_group.setdefault(row_key(row), {})[(str(row["metric"]), str(row["stat"]))] = row
    hourly = stack_hourly(result.tree.manifest)
    costs = []
    for key, rows in by_group.items():
        memory = key[7]
        run_ms = _group_value(rows, "platform_run_ms", "mean")
        if run_ms is not None:
            duration_ms, basis = run_ms, "platform run"
        else:
            duration_ms, basis = _group_value(rows, "latency_ms", "mean"), "request latency"
        managed = None if duration_ms is None else lambda_usd_per_million(memory, duration_ms / 1e3)
        throughput = _group_value(rows, "throughput_rps", "run_median")
        if hourly.usd_per_hour is None:
            stack, note = None, hourly.note
        elif not throughput:
            stack, note = None, "n/a: no throughput measured"
        else:
            stack = hourly.usd_per_hour / 3600 / throughput * 1e6
            note = hourly.note
        costs.append(
            GroupCost(
                key=key,
                label=group_label(key),
                memory_mb=memory,
                duration_ms=duration_ms,
                duration_basis=basis,
                managed_usd_per_million=managed,
                throughput_rps=throughput,
                stack_usd_per_million=stack,
                stack_note=note,
            )
        )
    return costs
