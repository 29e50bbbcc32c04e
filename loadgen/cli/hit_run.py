"""Running `loadgen hit`'s measured load: here or on a loader pool, and for asynchronous calls
with the callback receiver around it and the wait for their completions afterwards."""

import sys
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from loadgen.cli.hit_options import AsyncOptions
from loadgen.cli.loaders_options import PoolRequest, run_on_pool
from loadgen.cli.params import usage_error
from loadgen.cli.progress import run_with_live_progress
from loadgen.engine import EngineOptions, RequestSpec
from loadgen.loaders.spec import PoolError
from loadgen.metrics.thresholds import Threshold
from loadgen.processes.coordinator import RunError, RunResult, execute
from loadgen.workload.spec import ClosedLoop, OpenLoop

INTERRUPTED_EXIT = 130


def run_hit(
    request: RequestSpec,
    workload: ClosedLoop | OpenLoop,
    options: EngineOptions,
    processes: int | None,
    engine: Literal["http1", "aiohttp"],
    out_dir: str | None,
    thresholds: list[Threshold],
    json_output: bool,
    pool: PoolRequest | None = None,
) -> RunResult:
    live = not json_output and sys.stdout.isatty()
    try:
        if pool is not None:
            return run_on_pool(
                pool,
                request,
                workload,
                options=options,
                processes=processes,
                engine=engine,
                out_dir=out_dir,
                thresholds=thresholds,
                live=live,
            )
        run = partial(
            execute,
            request,
            workload,
            options=options,
            processes=processes,
            engine=engine,
            out_dir=out_dir,
            thresholds=thresholds,
        )
        return run_with_live_progress(live, run)
    except (RunError, PoolError) as exc:
        typer.echo(f"loadgen hit: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("loadgen hit: interrupted", err=True)
        raise typer.Exit(INTERRUPTED_EXIT) from None


if TYPE_CHECKING:
    from loadgen.completions.summary import CompletionSummary


def run_hit_async(
    settings: AsyncOptions,
    request: RequestSpec,
    workload: ClosedLoop | OpenLoop,
    options: EngineOptions,
    processes: int | None,
    engine: Literal["http1", "aiohttp"],
    out_dir: str | None,
    thresholds: list[Threshold],
    json_output: bool,
    pool: PoolRequest | None = None,
) -> "tuple[RunResult, CompletionSummary]":
    """The run with the callback receiver around it, then the wait for completions (imported
    here: a synchronous `hit` never needs numpy or aiohttp's server)."""
    from loadgen.completions.receiver import ReceiverError
    from loadgen.completions.run import async_run

    records_dir = Path(out_dir) if out_dir is not None else None
    try:
        with async_run(settings.listen, settings.url, records_dir) as measured:
            result = run_hit(
                measured.request(request), workload, options, processes, engine,
                str(measured.records_dir), thresholds, json_output, pool,
            )  # fmt: skip
            completions = measured.finish(settings.deadline_s, partial(typer.echo, err=True))
    except ReceiverError as exc:
        raise usage_error("--callback", str(exc)) from None
    if records_dir is None:  # the records lived in a temporary directory, gone now
        summary = result.summary.model_copy(update={"records_dir": None})
        result = replace(result, summary=summary)
    return result, completions
