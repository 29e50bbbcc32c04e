"""The `faasbench` command line: `study` (deploy, run, aggregate, report, destroy) and `sweep`
(the stacks past their expiry). Exit statuses: 0 done, 1 a stage or the CLI failed, 2 a user
mistake or the cost guard's refusal, 130 interrupted (docs/study.md)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from loadgen.cli.errors import USAGE_EXIT, LoadgenGroup

app = typer.Typer(
    name="faasbench",
    cls=LoadgenGroup,
    help="One command from nothing to a report and back to nothing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: Above this estimate (USD), `study` asks for --yes.
DEFAULT_BUDGET_USD = 10.0

ProjectOption = Annotated[
    Path, typer.Option("--project", help="The Pulumi project (the directory of Pulumi.yaml).")
]
BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="Pulumi backend URL (default: PULUMI_BACKEND_URL, else the local file://~).",
    ),
]


def _echo(line: str) -> None:
    typer.echo(line, err=True)


def _fail(lines: list[str], code: int = USAGE_EXIT) -> None:
    for line in lines:
        typer.echo(f"faasbench: {line}", err=True)
    raise typer.Exit(code)


def _pulumi_sdk() -> None:
    """The Automation API comes with the uv group `pulumi` (`uv sync`), not with `pip install .`
    (a loader): say so rather than fail on the import."""
    try:
        import pulumi.automation  # noqa: F401
    except ModuleNotFoundError:
        _fail(
            [
                "the Pulumi SDK is not installed here: run faasbench from the source tree after "
                "`uv sync` (its default group pulumi)"
            ]
        )


def _project(project: Path) -> Path:
    if not (project / "Pulumi.yaml").is_file():
        _fail([f"--project: no Pulumi.yaml in {project}"])
    return project


def credentials_missing(
    cloud: str, config: dict[str, Any], environ: dict[str, str], home: Path
) -> str | None:
    """Why a preview cannot reach the cloud (no credentials in sight), or None."""
    if cloud == "aws":
        if any(environ.get(v) for v in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE")) or any(
            k in config for k in ("aws:profile", "aws:accessKey")
        ):
            return None
        if (home / ".aws" / "credentials").is_file() or (home / ".aws" / "config").is_file():
            return None
        return "no AWS credentials (AWS_* variables, ~/.aws, or aws:profile)"
    if cloud == "openstack":
        if any(environ.get(v) for v in ("OS_AUTH_URL", "OS_CLOUD")) or any(
            k in config for k in ("openstack:cloud", "openstack:authUrl")
        ):
            return None
        return "no OpenStack credentials (OS_* variables or openstack:cloud)"
    return None


def guard_refusal(usd: float | None, unknown: tuple[str, ...], budget: float) -> str | None:
    """Why `up` needs --yes (the cost guard), or None."""
    if usd is None:
        return (
            f"cost guard: the cost is not estimated (no price for {', '.join(unknown)}): "
            f"give --price SIZE=USD, or pass --yes to go ahead"
        )
    if usd > budget:
        return (
            f"cost guard: the estimate ${usd:.2f} is above --budget ${budget:.2f}: pass --yes "
            f"to go ahead"
        )
    return None


@app.command("study", no_args_is_help=True)
def study_command(
    stack: Annotated[
        str, typer.Argument(help="Pulumi stack name (Pulumi.<stack>.yaml).", metavar="STACK")
    ],
    campaign: Annotated[
        Path, typer.Argument(help="Campaign file (YAML).", metavar="CAMPAIGN.yaml")
    ],
    project: ProjectOption = Path(),
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Study directory: state, outputs, results, report "
            "(default: studies/<stack>-<campaign>).",
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the stack at the end, or after a failure.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Go ahead above --budget.")] = False,
    budget: Annotated[
        float, typer.Option("--budget", help="USD above which up needs --yes.", min=0)
    ] = DEFAULT_BUDGET_USD,
    price: Annotated[
        list[str] | None,
        typer.Option("--price", help="USD per hour of a size, SIZE=PRICE (OpenStack flavors)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Check the stack config and campaign and print the estimate, offline; "
            "then preview when the Pulumi CLI and credentials are present.",
        ),
    ] = False,
    remote: Annotated[
        bool | None,
        typer.Option(
            "--remote/--local",
            help="Run the campaign on the stack's loader, or from here (default: remote when "
            "the stack has a loader or bastion).",
        ),
    ] = None,
    plain: Annotated[bool, typer.Option("--plain", help="Plain progress lines (logs).")] = False,
    backend: BackendOption = None,
) -> None:
    """Deploy STACK, run CAMPAIGN.yaml on it, aggregate, report, destroy; run it again after a
    crash and it continues where it stopped."""
    _pulumi_sdk()
    from faasbench.plan import PlanError, make_plan, parse_prices
    from faasbench.pulumi_stack import PulumiError, PulumiStack, StackMissingError, backend_env
    from faasbench.state import StateError, load_state
    from faasbench.study import Study, StudyOptions

    _project(project)
    try:
        plan = make_plan(project, stack, campaign, parse_prices(price or []))
    except PlanError as exc:
        _fail(exc.problems)
    for line in plan.lines():
        _echo(line)
    cost = plan.stack.cost
    refusal = guard_refusal(plan.usd, cost.unknown if cost else (), budget)
    env = backend_env(backend)
    pulumi = PulumiStack(stack, project, env, _echo)
    if dry_run:
        if refusal is not None:
            _echo(f"{refusal} (dry run)")
        _echo(
            f"{plan.stack.path} (cloud, machines, ttlHours, expiresAt) and {campaign}: ok; "
            f"the program checks every other key at preview"
        )
        if shutil.which("pulumi") is None:
            _echo("preview: skipped (no pulumi CLI on PATH)")
            return
        missing = credentials_missing(
            plan.stack.cloud, plan.stack.config, dict(os.environ), Path.home()
        )
        if missing is not None:
            _echo(f"preview: skipped ({missing})")
            return
        try:
            pulumi.preview()
        except StackMissingError:
            _echo(f"preview: skipped (stack {stack} does not exist yet: the study creates it)")
        except PulumiError as exc:
            _fail([str(exc)], code=1)
        return
    folder = directory or Path("studies") / f"{stack.split('/')[-1]}-{campaign.stem}"
    try:
        state = load_state(folder, stack, campaign)
    except StateError as exc:
        _fail([str(exc)])
    study = Study(plan, pulumi, state, StudyOptions(folder, keep, remote, plain), _echo)
    if study.remaining() and refusal is not None and not yes:
        _fail([refusal])
    raise typer.Exit(study.execute())


@app.command("sweep")
def sweep_command(
    project: ProjectOption = Path(),
    destroy: Annotated[
        bool, typer.Option("--destroy", help="Destroy the stacks past their expiry.")
    ] = False,
    backend: BackendOption = None,
) -> None:
    """List the project's stacks that have resources, with their expiry; --destroy destroys
    those past it."""
    _pulumi_sdk()
    from faasbench.pulumi_stack import PulumiError, backend_env
    from faasbench.sweep import sweep

    _project(project)
    try:
        code = sweep(project, backend_env(backend), datetime.now(UTC), destroy, typer.echo)
    except PulumiError as exc:
        _fail([str(exc)], code=1)
    raise typer.Exit(code)


def main() -> None:
    """Console-script entry point."""
    app()
