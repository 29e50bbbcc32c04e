"""What a study will do, offline: the stack's config file, the campaign, how long and what it
costs (the `loadgen estimate` figures), and the cost guard's verdict."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.expiry import read_expiry_keys
from contract.prices import MachineCost, StackConfigFileError, machine_cost, stack_machines
from loadgen.experiments.campaign_file import ExperimentFileError, load_experiment
from loadgen.experiments.cells import expand
from loadgen.experiments.estimate import Assumptions, duration_text, estimate
from loadgen.experiments.trace import TraceError
from loadgen.userfiles import CAMPAIGN_LIMIT, UserFileError, read_yaml

#: Assumed time the stack lives besides the campaign: `up` (machines, cluster, platform) and
#: `destroy`. A round figure, printed with the estimate.
SETUP_S = 1800.0


class PlanError(ValueError):
    """A user mistake in the stack config or the campaign: one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def stack_file(project: Path, stack: str) -> Path:
    """`Pulumi.<stack>.yaml` in the project (the last part of `org/project/stack`)."""
    return project / f"Pulumi.{stack.split('/')[-1]}.yaml"


@dataclass(frozen=True)
class StackFile:
    path: Path
    config: dict[str, Any]
    cloud: str
    ttl_hours: int
    expires_at: str | None
    cost: MachineCost | None  # None: an existing cluster, no machines of ours


def read_stack_file(project: Path, stack: str, prices: dict[str, float]) -> StackFile:
    path = stack_file(project, stack)
    if not path.is_file():
        raise PlanError(
            [
                f"{path}: no such stack config: create it first (pulumi stack init "
                f"{stack}, pulumi config set cloud aws, ...; docs/configuration.md)"
            ]
        )
    try:
        document = read_yaml(path, kind="a stack config", limit=CAMPAIGN_LIMIT)
        machines = stack_machines(document, str(path))
        ttl, expires = read_expiry_keys(document["config"], str(path))
    except UserFileError as exc:
        where = f"line {exc.line}" if exc.line is not None else "(file)"
        raise PlanError([f"{path}: {where}: {exc.problem}"]) from None
    except (StackConfigFileError, ValueError) as exc:
        raise PlanError([str(exc)]) from None
    cost = machine_cost(machines, prices) if machines.groups else None
    return StackFile(path, document["config"], machines.cloud, ttl, expires, cost)


@dataclass(frozen=True)
class Plan:
    stack: StackFile
    campaign: Path
    campaign_s: float
    cells: int
    runs: int

    @property
    def hours(self) -> float:
        return (self.campaign_s + SETUP_S) / 3600

    @property
    def usd_per_hour(self) -> float | None:
        return 0.0 if self.stack.cost is None else self.stack.cost.usd_per_hour

    @property
    def usd(self) -> float | None:
        hourly = self.usd_per_hour
        return None if hourly is None else hourly * self.hours

    def lines(self) -> list[str]:
        """The estimate as printed before `up`."""
        out = [
            f"{self.campaign}: about {duration_text(self.campaign_s)} for {self.cells} cells in "
            f"{self.runs} run(s), plus {duration_text(SETUP_S)} assumed for up and destroy "
            f"(an estimate: loadgen estimate {self.campaign} --stack-config {self.stack.path})"
        ]
        cost = self.stack.cost
        if cost is None:
            out.append("machines: none of ours (an existing cluster): no machine cost")
            return out
        for priced in cost.groups:
            group = priced.group
            each = priced.usd_per_hour
            text = "price unknown" if each is None else f"${each:.4f}/h each"
            out.append(f"  {group.count} x {group.role:<8} {group.size:<14} {text}")
        hourly = cost.usd_per_hour
        if hourly is None:
            out.append(
                f"cost: not estimated: no price for {', '.join(cost.unknown)}; give one with "
                f"--price SIZE=USD ({cost.source})"
            )
            return out
        out.append(
            f"cost: about ${hourly:.4f}/h x {self.hours:.2f} h = ${hourly * self.hours:.2f} "
            f"(machines only; {cost.source}); left running until it expires "
            f"({self.stack.ttl_hours} h): ${hourly * self.stack.ttl_hours:.2f}"
        )
        return out


def make_plan(project: Path, stack: str, campaign: Path, prices: dict[str, float]) -> Plan:
    """Read and check the stack config and the campaign, and estimate both; PlanError lists
    every problem of the two files."""
    problems: list[str] = []
    stack_config: StackFile | None = None
    try:
        stack_config = read_stack_file(project, stack, prices)
    except PlanError as exc:
        problems += exc.problems
    try:
        config = load_experiment(campaign)
        cells = expand(config, campaign.parent)
    except ExperimentFileError as exc:
        problems += [f"{campaign}: {p}" for p in exc.problems]
    except TraceError as exc:
        problems.append(f"{campaign}: {exc}")
    if problems:
        raise PlanError(problems)
    assert stack_config is not None
    result = estimate(config, cells, Assumptions())
    return Plan(stack_config, campaign, result.total_s, result.cells, config.runs)


def parse_prices(texts: list[str]) -> dict[str, float]:
    """`--price SIZE=USD_PER_HOUR` values; PlanError names the bad one."""
    prices: dict[str, float] = {}
    for text in texts:
        size, equals, raw = text.partition("=")
        try:
            price = float(raw)
        except ValueError:
            price = -1.0
        if not equals or not size.strip() or not price >= 0:
            raise PlanError(
                [f"--price: expected SIZE=USD_PER_HOUR such as m1.large=0.12, got {text!r}"]
            )
        prices[size.strip()] = price
    return prices
