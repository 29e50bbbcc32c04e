"""`loadgen run`: a campaign from an experiment file against a stack, into a results tree."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from contract.outputs import StackOutputs
from loadgen.bounds import PROCESSES_PER_CORE, max_processes
from loadgen.cli.errors import fail_problems
from loadgen.cli.functions import ImageOption, default_image
from loadgen.cli.loaders_options import (
    LoadersCaOption,
    LoadersCertOption,
    LoadersKeyOption,
    LoadersOption,
    opened_pool,
    pool_request,
)
from loadgen.cli.params import callback_endpoint, usage_error
from loadgen.cli.target import stack_outputs as resolve_outputs
from loadgen.cli.validate import OutputsOption, StackOption
from loadgen.experiments.async_segment import CallbackSettings
from loadgen.experiments.campaign import Campaign
from loadgen.experiments.campaign_file import ExperimentFileError, load_experiment
from loadgen.experiments.cells import CellPlan
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.feasibility import (
    async_job_experiments,
    feasibility_problems,
    feasibility_warnings,
)
from loadgen.experiments.group_run import busiest_minute, group_processes
from loadgen.experiments.inputs import InputsChanged
from loadgen.experiments.outcomes import CampaignError, CellListener, CellOutcome
from loadgen.experiments.trace import TraceError
from loadgen.loaders.spec import PoolError
from loadgen.platforms.base import PlatformError
from loadgen.processes.coordinator import (
    ResultsDirError,
    capacity_problem,
    default_processes,
    ensure_writable_dir,
)
from loadgen.processes.counters import ProgressSnapshot

#: Where a campaign run here listens for callbacks unless told (`--callback`).
LOCAL_CALLBACK = "127.0.0.1:0"


def register(app: typer.Typer) -> None:
    app.command("run", no_args_is_help=True)(run_command)


class ProgressListener(CellListener):
    """An overall bar of cells and a live line for the cell in progress (rate, p99, errors)."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.overall: TaskID = progress.add_task("cells", total=total)
        self.current: TaskID = progress.add_task("", total=None, start=False)
        self._done = 0
        self._last: tuple[int, float] = (0, 0.0)

    def cell_started(self, cell: CellPlan, index: int, total: int) -> None:
        del index, total
        self._last = (0, 0.0)
        self.progress.update(self.current, description=f"{cell.id}: deploying")

    def engine_progress(self, snapshot: ProgressSnapshot, elapsed_s: float) -> None:
        done, before = self._last
        rate = (snapshot.completed - done) / (elapsed_s - before) if elapsed_s > before else 0.0
        if elapsed_s - before >= 0.5:
            self._last = (snapshot.completed, elapsed_s)
        p99 = f"{snapshot.p99_us / 1000:.1f} ms" if snapshot.p99_us else "–"
        line = f"{snapshot.completed:,} done, {rate:,.0f}/s, p99 {p99}, errors {snapshot.errors:,}"
        description = self.progress.tasks[self.current].description.split(":")[0]
        self.progress.update(self.current, description=f"{description}: {line}")

    def cell_finished(self, outcome: CellOutcome) -> None:
        self.progress.advance(self.overall)
        if outcome.status != "complete":
            self.progress.console.print(
                f"[red]cell {outcome.cell.id} {outcome.status}:[/] {outcome.reason}"
            )

    def note(self, message: str) -> None:
        self.progress.console.print(message)


class PlainListener(CellListener):
    """Progress as plain lines on stderr: a live bar needs a terminal, and a log or a remote
    run streamed over ssh (`--remote` runs the loader's campaign with `--plain`) has none."""

    def __init__(self, total: int, interval_s: float = 5.0) -> None:
        self.total = total
        self.interval_s = interval_s
        self._cell = ""
        self._last_line = 0.0
        self._last: tuple[int, float] = (0, 0.0)

    @staticmethod
    def _print(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def cell_started(self, cell: CellPlan, index: int, total: int) -> None:
        self._cell = cell.id
        self._last = (0, 0.0)
        self._last_line = time.monotonic()
        self._print(f"[{index + 1}/{total}] {cell.id}: deploying")

    def engine_progress(self, snapshot: ProgressSnapshot, elapsed_s: float) -> None:
        now = time.monotonic()
        if now - self._last_line < self.interval_s:
            return
        done, before = self._last
        rate = (snapshot.completed - done) / (elapsed_s - before) if elapsed_s > before else 0.0
        self._last, self._last_line = (snapshot.completed, elapsed_s), now
        p99 = f"{snapshot.p99_us / 1000:.1f} ms" if snapshot.p99_us else "-"
        self._print(
            f"  {self._cell}: {snapshot.completed:,} done, {rate:,.0f}/s, p99 {p99}, "
            f"errors {snapshot.errors:,}"
        )

    def cell_finished(self, outcome: CellOutcome) -> None:
        if outcome.status == "complete":
            p99 = f"{outcome.p99_ms:.1f} ms" if outcome.p99_ms is not None else "-"
            self._print(
                f"  {outcome.cell.id}: complete, {outcome.requests:,} requests, "
                f"{outcome.errors:,} errors, p99 {p99}"
            )
        else:
            self._print(f"  {outcome.cell.id}: {outcome.status}: {outcome.reason}")

    def note(self, message: str) -> None:
        self._print(message)


def run_command(
    experiment: Annotated[
        Path, typer.Argument(help="Experiment file (YAML).", metavar="EXPERIMENT.yaml")
    ],
    outputs: OutputsOption = None,
    stack: StackOption = None,
    results: Annotated[
        Path | None,
        typer.Option("--results", help="Results directory (overrides the file's results_dir)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip completed cells, redo an interrupted one.")
    ] = False,
    image: ImageOption = None,
    plain: Annotated[
        bool, typer.Option("--plain", help="Progress as plain lines (for logs), not a live bar.")
    ] = False,
    remote: Annotated[
        bool,
        typer.Option(
            "--remote",
            help="Run on the stack's loader (else its bastion) over SSH, inside the network, "
            "and copy the results back.",
        ),
    ] = False,
    ssh_port: Annotated[
        int, typer.Option("--ssh-port", help="--remote: the loader's SSH port.", min=1, max=65535)
    ] = 22,
    remote_dir: Annotated[
        str, typer.Option("--remote-dir", help="--remote: faasbench's directory on the loader.")
    ] = "~/faasbench",
    wheelhouse: Annotated[
        Path | None,
        typer.Option(
            "--wheelhouse",
            help="--remote: install the dependencies from these wheels (a loader without "
            "internet access).",
        ),
    ] = None,
    loaders: LoadersOption = None,
    loaders_ca: LoadersCaOption = None,
    loaders_cert: LoadersCertOption = None,
    loaders_key: LoadersKeyOption = None,
    callback: Annotated[
        str | None,
        typer.Option(
            "--callback",
            help="invocation: async: where the callback receiver listens (HOST:PORT, 0: any "
            "port; default 127.0.0.1:0, with --remote 0.0.0.0 and the stack's callback port); "
            "the platform's queue workers must reach it.",
        ),
    ] = None,
    callback_url: Annotated[
        str | None,
        typer.Option(
            "--callback-url",
            help="invocation: async: the URL platforms post results to, when they reach this "
            "machine by another address than --callback's.",
        ),
    ] = None,
) -> None:
    """Run every cell of EXPERIMENT.yaml against the stack and write a results tree. Without
    --stack-outputs or --stack: the local target running in this directory."""
    try:
        config = load_experiment(experiment)
    except ExperimentFileError as exc:
        fail_problems(experiment, exc.problems)
    stack_outputs = resolve_outputs("run", outputs, stack)
    problems = feasibility_problems(config, stack_outputs, experiment.parent)
    if problems:
        fail_problems(experiment, problems)
    for warning in feasibility_warnings(config, stack_outputs, experiment.parent):
        typer.echo(f"{experiment}: warning: {warning}", err=True)
    callbacks = CallbackSettings(*callback_endpoint(callback or LOCAL_CALLBACK, callback_url))
    pool = pool_request(
        "run", loaders, (loaders_ca, loaders_cert, loaders_key), outputs=stack_outputs
    )
    if pool is not None and remote:
        raise usage_error("--loaders", "cannot be combined with --remote")
    jobs = async_job_experiments(config)
    if pool is not None and jobs:
        raise usage_error(
            "--loaders",
            f"experiments.{jobs[0]} runs closed-loop asynchronous jobs, whose users wait on "
            "this machine's callback receiver: run it without --loaders",
        )
    results_dir = _results_dir(experiment, results, config.results_dir)
    if remote:
        _run_remote(
            experiment,
            config,
            stack_outputs,
            results_dir,
            resume=resume,
            image=image,
            options=(ssh_port, remote_dir, wheelhouse),
            callback=(callback, callback_url),
        )
        return
    image = default_image(stack_outputs, image)
    console = Console(stderr=True)
    try:
        campaign = Campaign(
            config,
            stack_outputs,
            results_dir,
            base=experiment.parent,
            image=image,
            resume=resume,
            callback=callbacks,
        )
    except (PlatformError, TraceError, InputsChanged) as exc:
        typer.echo(f"loadgen run: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        if pool is None:
            _check_capacity(experiment, campaign)
    except typer.Exit:
        campaign.close()
        raise
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with opened_pool(pool) as campaign.loaders:
            if plain:
                campaign.listener = PlainListener(len(campaign.cells))
                report = campaign.run()
            else:
                with Progress(*columns, console=console, transient=False) as progress:
                    campaign.listener = ProgressListener(progress, len(campaign.cells))
                    report = campaign.run()
    except (CampaignError, PoolError) as exc:
        typer.echo(f"loadgen run: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        campaign.close()
    failed = [o for o in report.outcomes if o.status not in {"complete", "partial"}]
    partial = [o for o in report.outcomes if o.status == "partial"]
    done = len(report.outcomes) - len(failed) - len(partial)
    some = f", {len(partial)} partial" if partial else ""
    summary = (
        f"{results_dir}: {done} cells done{some}, {len(failed)} failed, "
        f"{report.skipped} already done"
    )
    if report.interrupted:
        typer.echo(f"{summary}; interrupted: run again with --resume to finish", err=True)
        raise typer.Exit(130)
    typer.echo(summary)
    if failed or partial:
        raise typer.Exit(1)


def _results_dir(experiment: Path, option: Path | None, from_file: Path | None) -> Path:
    """`--results` (anywhere) or the file's `results_dir` (inside the working directory),
    created if need be and checked to be a directory this user can write; else exit 2."""
    if option is None and from_file is None:
        typer.echo("loadgen run: give --results DIR (the file sets no results_dir)", err=True)
        raise typer.Exit(2)
    if option is not None:
        where, path = "--results", option
    else:
        assert from_file is not None
        where, path = f"{experiment}: results_dir", from_file
        cwd = Path.cwd().resolve()
        if not (cwd / path).resolve().is_relative_to(cwd):
            typer.echo(
                f"{where}: {path} leads outside the working directory {cwd} (through a "
                "symbolic link); use --results for another place",
                err=True,
            )
            raise typer.Exit(2)
    try:
        ensure_writable_dir(path)
    except ResultsDirError as exc:
        typer.echo(f"loadgen run: {where}: {exc}", err=True)
        raise typer.Exit(2) from None
    return path


def _check_capacity(experiment: Path, campaign: Campaign) -> None:
    """Every cell's load fits this machine (processes, open files), before anything starts."""
    processes = campaign.config.processes or default_processes()
    names = [entry.name for entry in campaign.config.experiments]
    for cell in campaign.cells:
        share = group_processes(campaign.config.processes) if cell.group else processes
        for segment in cell.segments:
            if segment.workload is None:
                continue
            problem = capacity_problem(segment.workload, share)
            if problem is None:
                continue
            field, message = problem
            where = (
                "processes"
                if field == "processes"
                else f"experiments.{names.index(cell.experiment)}"
            )
            fail_problems(experiment, [f"{where}: {message}"])
    _check_group_capacity(experiment, campaign, names)


def _check_group_capacity(experiment: Path, campaign: Campaign, names: list[str]) -> None:
    """A multi-trace minute runs each called function in its own processes, all at once: their
    sum must fit the machine as one run's would."""
    groups: dict[str, list[CellPlan]] = {}
    for cell in campaign.cells:
        if cell.group is not None:
            groups.setdefault(cell.group, []).append(cell)
    cores = default_processes()
    limit = max_processes(cores)
    for cells in groups.values():
        share = group_processes(campaign.config.processes)
        busiest = busiest_minute(cells)
        needed = busiest * share
        if needed > limit:
            fail_problems(
                experiment,
                [
                    f"experiments.{names.index(cells[0].experiment)}.sample: "
                    f"{busiest} functions called in one minute, {share} "
                    f"process(es) each, need {needed} processes at once, more than {limit} "
                    f"({PROCESSES_PER_CORE} per core on this machine's {cores}): lower sample "
                    "or run on a larger machine (`--remote`)"
                ],
            )


def _run_remote(
    experiment: Path,
    config: ExperimentConfig,
    outputs: StackOutputs,
    results: Path,
    *,
    resume: bool,
    image: str | None,
    options: tuple[int, str, Path | None],
    callback: tuple[str | None, str | None],
) -> None:
    """`--remote`: the same campaign on the loader; the exit status is the remote run's."""
    from loadgen.remote.callback import RemoteCallbackError, remote_callback_args
    from loadgen.remote.campaign import RemoteOptions, run_remote
    from loadgen.remote.ssh import RemoteError

    port, directory, wheelhouse = options
    try:
        callback_args = remote_callback_args(config, outputs, *callback)
    except RemoteCallbackError as exc:
        fail_problems(experiment, [str(exc)])
    try:
        status = run_remote(
            experiment,
            config,
            outputs,
            results,
            resume=resume,
            image=image,
            options=RemoteOptions(
                ssh_port=port,
                remote_dir=directory,
                wheelhouse=wheelhouse,
                callback=tuple(callback_args),
            ),
            echo=lambda line: typer.echo(line, err=True),
        )
    except RemoteError as exc:
        typer.echo(f"loadgen run: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("loadgen run: interrupted before the campaign started", err=True)
        raise typer.Exit(130) from None
    if status == 130:
        typer.echo(f"{results}: interrupted: run again with --remote --resume to finish", err=True)
    raise typer.Exit(status)
