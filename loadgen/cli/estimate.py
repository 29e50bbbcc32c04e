"""`loadgen estimate CAMPAIGN.yaml`: how long the campaign takes and, given the stack's config,
what its machines cost meanwhile (an estimate, with its assumptions, date and source)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loadgen.cli.errors import USAGE_EXIT, fail_problems
from loadgen.cli.params import parse_seconds, usage_error

if TYPE_CHECKING:
    from contract.prices import StackMachines


def register(app: typer.Typer) -> None:
    app.command("estimate", no_args_is_help=True)(estimate_command)


def _seconds(text: str, option: str) -> float:
    value = parse_seconds(text, option)
    assert value is not None
    return value


def _prices(texts: list[str]) -> dict[str, float]:
    prices = {}
    for text in texts:
        size, equals, raw = text.partition("=")
        try:
            price = float(raw)
        except ValueError:
            price = -1.0
        if not equals or not size.strip() or not price >= 0:
            raise usage_error(
                "--price", f"expected SIZE=USD_PER_HOUR such as m1.large=0.12, got {text!r}"
            )
        prices[size.strip()] = price
    return prices


def estimate_command(
    campaign: Annotated[
        Path, typer.Argument(help="Experiment file (YAML).", metavar="CAMPAIGN.yaml")
    ],
    stack_config: Annotated[
        Path | None,
        typer.Option(
            "--stack-config",
            help="The stack's Pulumi.<stack>.yaml: adds its machines and their hourly cost.",
        ),
    ] = None,
    latency: Annotated[
        str, typer.Option("--latency", help="Assumed response time in closed loops with a count.")
    ] = "100ms",
    deploy: Annotated[
        str, typer.Option("--deploy", help="Assumed reset time per cell (deploy and ready).")
    ] = "30s",
    cold: Annotated[
        str, typer.Option("--cold-cost", help="Assumed control-plane time per forced cold start.")
    ] = "30s",
    idle_timeout: Annotated[
        str,
        typer.Option("--idle-timeout", help="The platform's idle timeout (natural cold starts)."),
    ] = "10m",
    price: Annotated[
        list[str] | None,
        typer.Option(
            "--price", help="USD per hour of a size, SIZE=PRICE (OpenStack flavors; overrides)."
        ),
    ] = None,
) -> None:
    """Print CAMPAIGN.yaml's expected duration from its cells, with the assumptions it rests on;
    with --stack-config, the machines it runs on and their cost for that time."""
    from loadgen.experiments.campaign import IDLE_MARGIN_S
    from loadgen.experiments.campaign_file import ExperimentFileError, load_experiment
    from loadgen.experiments.cells import expand
    from loadgen.experiments.estimate import Assumptions, duration_text, estimate
    from loadgen.experiments.trace import TraceError

    assume = Assumptions(
        latency_s=_seconds(latency, "--latency"),
        deploy_s=_seconds(deploy, "--deploy"),
        cold_s=_seconds(cold, "--cold-cost"),
        idle_timeout_s=_seconds(idle_timeout, "--idle-timeout"),
    )
    prices = _prices(price or [])
    try:
        config = load_experiment(campaign)
    except ExperimentFileError as exc:
        fail_problems(campaign, exc.problems)
    try:
        cells = expand(config, campaign.parent)
    except TraceError as exc:
        fail_problems(campaign, [str(exc)])
    machines = _machines(stack_config) if stack_config is not None else None
    result = estimate(config, cells, assume)
    typer.echo(
        f"{campaign}: about {duration_text(result.total_s)} ({result.total_s:,.0f} s) for "
        f"{result.cells} cells in {config.runs} run(s) (an estimate)"
    )
    for name, seconds in result.by_experiment.items():
        typer.echo(f"  {name:<20} {duration_text(seconds):>14}")
    if result.between_runs_s:
        typer.echo(f"  {'between runs':<20} {duration_text(result.between_runs_s):>14}")
    typer.echo(
        "assumed: "
        f"{assume.deploy_s:g} s to reset and deploy per cell; "
        f"closed loops with a request count take requests / users x {assume.latency_s:g} s; "
        f"a forced cold start costs {assume.cold_s:g} s (unknown until measured); "
        f"natural cold starts wait inactivity_s, else the idle timeout {assume.idle_timeout_s:g} s "
        f"+ {IDLE_MARGIN_S:g} s; change them with --deploy, --latency, --cold-cost, --idle-timeout"
    )
    if machines is not None:
        _print_cost(machines, result.total_s, prices)


def _machines(path: Path) -> StackMachines:
    from contract.prices import StackConfigFileError, stack_machines
    from loadgen.userfiles import CAMPAIGN_LIMIT, UserFileError, read_yaml

    try:
        document = read_yaml(path, kind="a stack config", limit=CAMPAIGN_LIMIT)
        return stack_machines(document, str(path))
    except UserFileError as exc:
        where = f"line {exc.line}" if exc.line is not None else "(file)"
        typer.echo(f"{path}: {where}: {exc.problem}", err=True)
        raise typer.Exit(USAGE_EXIT) from None
    except StackConfigFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(USAGE_EXIT) from None


def _print_cost(machines: StackMachines, seconds: float, prices: dict[str, float]) -> None:
    from contract.prices import machine_cost
    from loadgen.experiments.estimate import duration_text

    if not machines.groups:
        typer.echo("machines: none of ours (an existing cluster): no machine cost to estimate")
        return
    cost = machine_cost(machines, prices)
    typer.echo(f"machines ({machines.cloud}{', ' + machines.region if machines.region else ''}):")
    for priced in cost.groups:
        group = priced.group
        each = priced.usd_per_hour
        text = "price unknown" if each is None else f"${each:.4f}/h each"
        typer.echo(f"  {group.count} x {group.role:<8} {group.size:<14} {text}")
    hourly = cost.usd_per_hour
    if hourly is None:
        missing = ", ".join(cost.unknown)
        typer.echo(
            f"cost: not estimated: no price for {missing}; give one with --price SIZE=USD "
            f"({cost.source})"
        )
        return
    hours = seconds / 3600
    typer.echo(
        f"cost: about ${hourly:.4f}/h, ${hourly * hours:.2f} for {duration_text(seconds)} "
        f"(an estimate; machines only: not volumes, NAT, IP addresses, data transfer or "
        f"surplus CPU credits; {cost.source})"
    )
