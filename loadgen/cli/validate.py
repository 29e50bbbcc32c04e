"""`loadgen validate`: check an experiment file and, given a stack, whether it can run there."""

from pathlib import Path
from typing import Annotated

import typer

from loadgen.cli.errors import fail_problems
from loadgen.experiments.campaign_file import ExperimentFileError, load_experiment
from loadgen.experiments.cells import expand
from loadgen.experiments.feasibility import feasibility_problems, feasibility_warnings
from loadgen.experiments.trace import TraceError
from loadgen.outputs import OutputsError, load_outputs

OutputsOption = Annotated[
    Path | None,
    typer.Option(
        "--stack-outputs",
        help="The stack's outputs as JSON (`pulumi stack output --json`, or the local target's "
        "outputs.json).",
    ),
]
StackOption = Annotated[
    str | None, typer.Option("--stack", help="A Pulumi stack (needs the pulumi CLI).")
]


def register(app: typer.Typer) -> None:
    app.command("validate", no_args_is_help=True)(validate_command)


def validate_command(
    experiment: Annotated[
        Path, typer.Argument(help="Experiment file (YAML).", metavar="EXPERIMENT.yaml")
    ],
    outputs: OutputsOption = None,
    stack: StackOption = None,
) -> None:
    """Check EXPERIMENT.yaml; with --stack-outputs or --stack, also against that stack's limits."""
    problems: list[str] = []
    try:
        config = load_experiment(experiment)
    except ExperimentFileError as exc:
        fail_problems(experiment, exc.problems)
    stack_outputs = None
    if outputs is not None or stack is not None:
        try:
            stack_outputs = load_outputs(outputs, stack)
        except OutputsError as exc:
            typer.echo(f"loadgen validate: {exc}", err=True)
            raise typer.Exit(2) from None
    problems = feasibility_problems(config, stack_outputs, experiment.parent)
    if problems:
        fail_problems(experiment, problems)
    try:
        cells = expand(config, experiment.parent)
    except TraceError as exc:
        fail_problems(experiment, [str(exc)])
    for warning in feasibility_warnings(config, stack_outputs, experiment.parent):
        typer.echo(f"{experiment}: warning: {warning}", err=True)
    where = f" on {stack_outputs.framework}/{stack_outputs.orchestrator}" if stack_outputs else ""
    typer.echo(f"{experiment}: valid{where}: {len(cells)} cells in {config.runs} run(s)")
