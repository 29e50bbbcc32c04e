"""`loadgen doctor`: is every endpoint of the stack reachable and answering as it should?"""

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from loadgen.cli.target import stack_outputs as resolve_outputs
from loadgen.cli.validate import OutputsOption, StackOption


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_command)


def doctor_command(outputs: OutputsOption = None, stack: StackOption = None) -> None:
    """Probe the gateway, its auth, the platform API, Prometheus, Grafana, FTP, Nomad and the
    Kubernetes API named in the stack's outputs; exit 1 if any is not right. Without --stack-outputs
    or --stack: the local target running in this directory."""
    from loadgen.doctor import run_checks

    stack_outputs = resolve_outputs("doctor", outputs, stack)
    results = asyncio.run(run_checks(stack_outputs))
    table = Table(title=f"{stack_outputs.framework} on {stack_outputs.orchestrator} "
                  f"({stack_outputs.cloud})")  # fmt: skip
    for column in ("check", "target", "result"):
        table.add_column(column)
    for check in results:
        mark = "[green]ok[/]" if check.ok else "[red]FAIL[/]"
        table.add_row(check.name, check.target, f"{mark} {check.detail}")
    Console().print(table)
    failed = [check.name for check in results if not check.ok]
    if failed:
        typer.echo(f"not right: {', '.join(failed)}", err=True)
        raise typer.Exit(1)
