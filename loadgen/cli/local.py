"""`loadgen local up|down`: the local target (HAProxy, a gateway with the OpenFaaS API subset,
the suite's functions as processes, an FTP server, Prometheus), all on loopback."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from loadgen.local.supervise import LocalError, down
from loadgen.local.target import DEFAULT_DIR, UpOptions, up

local_app = typer.Typer(
    help="Run the benchmark pipeline on this machine, on loopback (see docs/local-target.md).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DirOption = Annotated[
    Path,
    typer.Option(
        "--dir", help="State directory (processes, logs, outputs.json).", show_default=True
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")


@local_app.command("up")
def local_up(
    directory: DirOption = Path(DEFAULT_DIR),
    replicas: Annotated[
        int, typer.Option("--replicas", min=1, help="Replicas a new function starts with.")
    ] = 1,
    ce_limits: Annotated[
        bool,
        typer.Option(
            "--ce-limits/--no-ce-limits",
            help="Emulate OpenFaaS Community Edition: 15 functions, 5 replicas, no scale to zero.",
        ),
    ] = True,
    port: Annotated[
        int,
        typer.Option(
            "--port", min=0, max=65535, help="HAProxy's function front on 127.0.0.1 [0: any free]."
        ),
    ] = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Restart the target if it is already up.")
    ] = False,
    async_workers: Annotated[
        int,
        typer.Option(
            "--async-workers",
            min=1,
            help="Queue workers running /async-function/ calls (CE limits allow one).",
        ),
    ] = 1,
    async_queue: Annotated[
        int,
        typer.Option(
            "--async-queue", min=1, help="Asynchronous calls queued before the gateway answers 429."
        ),
    ] = 1000,
) -> None:
    """Start the local target and write DIR/outputs.json; returns once everything answers."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    options = UpOptions(
        directory,
        replicas=replicas,
        ce_limits=ce_limits,
        port=port,
        force=force,
        async_workers=async_workers,
        async_queue=async_queue,
    )
    try:
        with console.status("local target: starting") as status:
            result = up(options, lambda message: status.update(f"local target: {message}"))
    except LocalError as exc:
        console.print(f"local up: {exc}", style="red", markup=False)
        raise typer.Exit(1) from None
    if result.already_up:
        console.print(
            f"local target already up ({result.outputs_file}); --force restarts it", markup=False
        )
        return
    for warning in result.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False)
    outputs = result.outputs
    lines = [
        f"gateway     {outputs['gateway_url']}  (user {outputs['openfaas']['username']})",
        f"ftp         {outputs['ftp']['host']}:{outputs['ftp']['port']}",
    ]
    if "object_storage" in outputs:
        storage = outputs["object_storage"]
        lines.append(f"s3          {storage['endpoint']}  (bucket {storage['bucket']})")
    if "prometheus" in outputs:
        lines.append(f"prometheus  {outputs['prometheus']['url']}")
    limits = "on" if ce_limits else "off"
    lines.append(f"CE limits   {limits}")
    lines.append(f"async       {async_workers} queue worker(s), {async_queue} calls queued at most")
    lines.append(f"outputs     {result.outputs_file}")
    console.print("local target up\n  " + "\n  ".join(lines), markup=False)


@local_app.command("down")
def local_down(directory: DirOption = Path(DEFAULT_DIR)) -> None:
    """Stop everything `up` started (also after a crash) and remove the state but results/."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        with console.status("local target: stopping") as status:
            stopped = down(directory, lambda message: status.update(f"local target: {message}"))
    except LocalError as exc:
        console.print(f"local down: {exc}", style="red", markup=False)
        raise typer.Exit(1) from None
    if stopped:
        console.print(f"local target down: stopped {', '.join(stopped)}", markup=False)
    else:
        console.print("local target: nothing was running", markup=False)
