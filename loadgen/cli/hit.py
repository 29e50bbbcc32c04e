"""`loadgen hit`: load one URL, closed or open loop, and report what it measured."""

import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from loadgen.bounds import (
    MAX_INFLIGHT,
    MAX_REQUESTS,
    MAX_SEED,
    MAX_USERS,
    PROCESSES_PER_CORE,
)
from loadgen.cli.hit_options import (
    DEFAULT_TOTAL,
    DEFAULT_USERS,
    AsyncOptions,
    check_capacity,
    engine_options,
    parse_thresholds,
    request_spec,
    workload_of,
)
from loadgen.cli.hit_run import INTERRUPTED_EXIT, run_hit, run_hit_async
from loadgen.cli.loaders_options import (
    LoadersCaOption,
    LoadersCertOption,
    LoadersKeyOption,
    LoadersOption,
    pool_request,
)
from loadgen.cli.params import (
    parse_body,
    parse_seconds,
    parse_statuses,
    usage_error,
)
from loadgen.cli.render import render_completions, render_report
from loadgen.loaders.models import DistributedSummary
from loadgen.processes.coordinator import (
    OutDirError,
    prepare_out_dir,
)

THRESHOLD_FAILED_EXIT = 99


def register(app: typer.Typer) -> None:
    app.command("hit", no_args_is_help=True)(hit)


def hit(
    url: Annotated[
        str,
        typer.Argument(help="http:// or https:// URL to load.", metavar="URL", show_default=False),
    ],
    method: Annotated[
        str | None,
        typer.Option("-m", "--method", help="HTTP method [default: GET, or POST with --data]."),
    ] = None,
    data: Annotated[
        str | None, typer.Option("-d", "--data", help="Request body, or @FILE to read it from.")
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("-H", "--header", help="Request header 'Name: value'.")
    ] = None,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Per-request limit in seconds (500ms, 10s, 2m).")
    ] = "30",
    connect_timeout: Annotated[
        str | None,
        typer.Option("--connect-timeout", help="Limit on opening a connection [default: timeout]."),
    ] = None,
    users: Annotated[
        int | None,
        typer.Option(
            "-c",
            "--users",
            min=1,
            max=MAX_USERS,
            help=f"Closed loop: concurrent users [default: {DEFAULT_USERS}].",
        ),
    ] = None,
    total: Annotated[
        int | None,
        typer.Option(
            "-n",
            "--requests",
            min=1,
            max=MAX_REQUESTS,
            help=f"Requests to measure [closed loop default: {DEFAULT_TOTAL}].",
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option("--rate", help="Open loop: arrivals per second."),
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option("--duration", help="Measure for this long instead of -n (10s, 2m)."),
    ] = None,
    arrival: Annotated[
        Literal["constant", "poisson"] | None,
        typer.Option("--arrival", help="Open loop: arrival process [default: constant]."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", min=0, max=MAX_SEED, help="Open loop: schedule seed [default: random]."
        ),
    ] = None,
    max_inflight: Annotated[
        int | None,
        typer.Option(
            "--max-inflight",
            min=1,
            max=MAX_INFLIGHT,
            help="Open loop: limit on outstanding requests [default: 10000].",
        ),
    ] = None,
    on_saturation: Annotated[
        Literal["queue", "drop"] | None,
        typer.Option(
            "--on-saturation",
            help="Open loop: at max-inflight, queue or drop arrivals [default: queue].",
        ),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes",
            min=1,
            help=f"Worker processes [default: one per core; at most {PROCESSES_PER_CORE} a core].",
        ),
    ] = None,
    warmup: Annotated[
        str | None,
        typer.Option(
            "--warmup", help="Leading seconds excluded from the statistics, kept in records."
        ),
    ] = None,
    records: Annotated[
        Path | None,
        typer.Option(
            "--records", help="Directory for per-request records (created; must hold none)."
        ),
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            "--threshold",
            help="Condition such as 'p99<500ms', 'error_rate<1%', 'dropped==0'; "
            "exit 99 if any fails.",
        ),
    ] = None,
    capture_header: Annotated[
        list[str] | None,
        typer.Option(
            "--capture-header",
            help="Response header to store in the records "
            "(X-Call-Id and X-Openwhisk-Activation-Id always are).",
        ),
    ] = None,
    ok_status: Annotated[
        list[str] | None,
        typer.Option(
            "--ok-status",
            help="Statuses that count as ok, such as 200, 200-299, 2xx or 2xx,404 "
            "[default: 2xx]; any other is an error of class http_<status>.",
        ),
    ] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "-k", "--insecure", help="Accept any TLS certificate (self-signed endpoints)."
        ),
    ] = False,
    engine: Annotated[
        Literal["http1", "aiohttp"],
        typer.Option(
            "--engine", help="http1 measures; aiohttp is the slower reference implementation."
        ),
    ] = "http1",
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object on stdout.")
    ] = False,
    loaders: LoadersOption = None,
    loaders_ca: LoadersCaOption = None,
    loaders_cert: LoadersCertOption = None,
    loaders_key: LoadersKeyOption = None,
    outputs: Annotated[
        Path | None,
        typer.Option("--stack-outputs", help="--loaders stack: the stack's outputs as JSON."),
    ] = None,
    stack: Annotated[
        str | None, typer.Option("--stack", help="--loaders stack: a Pulumi stack.")
    ] = None,
    callback: Annotated[
        str | None,
        typer.Option(
            "--callback",
            help="Asynchronous calls (OpenFaaS /async-function/): listen on HOST:PORT for "
            "their results, name it in X-Callback-Url and measure each call to its completion.",
            rich_help_panel="Asynchronous calls",
        ),
    ] = None,
    callback_url: Annotated[
        str | None,
        typer.Option(
            "--callback-url",
            help="The URL the platform posts results to, when it reaches this machine by "
            "another address than --callback's [default: http://HOST:PORT/callback].",
            rich_help_panel="Asynchronous calls",
        ),
    ] = None,
    completion_deadline: Annotated[
        str,
        typer.Option(
            "--completion-deadline",
            help="How long after the last submission to wait for completions; an accepted "
            "call still without one is counted as lost.",
            rich_help_panel="Asynchronous calls",
        ),
    ] = "60s",
) -> None:
    """Load URL and report latency and throughput.

    Closed loop: -c USERS -n TOTAL (or --duration).

    Open loop: --rate PER_SECOND with --duration or -n; latency is then timed from each
    request's intended send instant.
    """
    thresholds = parse_thresholds(threshold or [])
    body = parse_body(data)
    request = request_spec(
        url, method or ("POST" if data is not None else "GET"), header or [], body
    )
    workload = workload_of(
        users=users,
        total=total,
        rate=rate,
        duration=parse_seconds(duration, "--duration"),
        warmup=parse_seconds(warmup, "--warmup") or 0.0,
        arrival=arrival,
        seed=seed,
        max_inflight=max_inflight,
        on_saturation=on_saturation,
    )
    pool = pool_request("hit", loaders, (loaders_ca, loaders_cert, loaders_key), (outputs, stack))
    if pool is None:
        check_capacity(workload, processes)
    options = engine_options(
        timeout=parse_seconds(timeout, "--timeout"),
        connect_timeout=parse_seconds(connect_timeout, "--connect-timeout"),
        insecure=insecure,
        capture=capture_header or [],
        ok=parse_statuses(ok_status) if ok_status else None,
    )
    out_dir = None
    if records is not None:
        try:
            out_dir = prepare_out_dir(records)
        except (OutDirError, OSError) as exc:
            raise usage_error("--records", str(exc)) from None
    completions = None
    if callback is None:
        result = run_hit(
            request, workload, options, processes, engine, out_dir, thresholds, json_output, pool
        )
    else:
        result, completions = run_hit_async(
            AsyncOptions.of(callback, callback_url, completion_deadline),
            request, workload, options, processes, engine, out_dir, thresholds, json_output, pool,
        )  # fmt: skip
    summary = result.summary
    causes = _causes(url, summary.errors)
    if causes:
        summary = summary.model_copy(
            update={"warnings": [*summary.warnings, *(f"{k}: {v}" for k, v in causes.items())]}
        )
    if json_output:
        document = summary.model_dump()
        if completions is not None:
            document["completions"] = completions.model_dump()
        sys.stdout.write(json.dumps(document) + "\n")
    else:
        report = render_report(summary, result.latency_histogram, causes)
        if completions is not None:
            report += "\n\n" + render_completions(completions)
        sys.stdout.write(report + "\n")
    sys.stdout.flush()
    if isinstance(summary, DistributedSummary) and summary.partial:
        typer.echo(f"loadgen hit: partial run: {summary.partial_reason}", err=True)
        raise typer.Exit(1)
    if any(not outcome.passed for outcome in summary.thresholds):
        raise typer.Exit(THRESHOLD_FAILED_EXIT)
    if summary.interrupted:
        raise typer.Exit(INTERRUPTED_EXIT)


def _causes(url: str, errors: dict[str, int]) -> dict[str, str]:
    """Why connections failed, in the system's words (`connection refused`), found by opening
    one connection to the target after the run; empty when no request failed to connect."""
    if "connect" not in errors:
        return {}
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=5):
            return {}
    except socket.gaierror as exc:
        return {"connect": f"cannot resolve {parts.hostname}: {exc.strerror or exc}"}
    except TimeoutError:
        return {"connect": f"no answer from {parts.hostname}:{port} within 5 s"}
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        return {"connect": f"{reason} ({parts.hostname}:{port})"}
