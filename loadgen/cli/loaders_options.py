"""`--loaders` and its TLS files, shared by `hit` and `run`: parsed into the pool to open, each
mistake named by its option (exit 2)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from contract.outputs import StackOutputs
from loadgen.cli.params import usage_error
from loadgen.engine import EngineName, EngineOptions, RequestSpec
from loadgen.loaders.spec import LoadersSpec, LoadersSpecError, TlsFiles, parse_loaders
from loadgen.metrics.thresholds import Threshold
from loadgen.processes.coordinator import RunResult
from loadgen.workload.spec import ClosedLoop, OpenLoop

if TYPE_CHECKING:
    from loadgen.loaders.pool import LoaderPool

LoadersOption = Annotated[
    str | None,
    typer.Option(
        "--loaders",
        help="Load from a pool of machines (Dask distributed): local:N (N loaders on this "
        "machine), stack (the stack's loader pool) or a scheduler address such as "
        "tls://host:8786. --processes is then per loader.",
        show_default=False,
    ),
]
LoadersCaOption = Annotated[
    Path | None,
    typer.Option("--loaders-ca", help="--loaders tls://…: the CA certificate (PEM)."),
]
LoadersCertOption = Annotated[
    Path | None,
    typer.Option("--loaders-cert", help="--loaders tls://…: this client's certificate (PEM)."),
]
LoadersKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--loaders-key", help="--loaders tls://…: the certificate's key, if not in the cert."
    ),
]


def loaders_spec(value: str | None) -> LoadersSpec | None:
    """The pool `--loaders` names; None without the option."""
    if value is None:
        return None
    try:
        return parse_loaders(value)
    except LoadersSpecError as exc:
        raise usage_error("--loaders", str(exc)) from None


def tls_files(
    spec: LoadersSpec | None, ca: Path | None, cert: Path | None, key: Path | None
) -> TlsFiles | None:
    """The client's TLS files for a tls:// scheduler, or None (then Dask's configuration,
    `distributed.comm.tls.*`, applies)."""
    given = {"--loaders-ca": ca, "--loaders-cert": cert, "--loaders-key": key}
    if all(path is None for path in given.values()):
        return None
    first = next(option for option, path in given.items() if path is not None)
    if spec is None or spec.kind != "address" or not (spec.address or "").startswith("tls://"):
        raise usage_error(first, "applies only with --loaders tls://host:port")
    if ca is None or cert is None:
        missing = "--loaders-ca" if ca is None else "--loaders-cert"
        raise usage_error(missing, "TLS needs both --loaders-ca and --loaders-cert")
    for option, path in given.items():
        if path is not None and not path.is_file():
            raise usage_error(option, f"{path}: no such file")
    return TlsFiles(ca_file=ca, cert=cert, key=key)


@dataclass(frozen=True)
class PoolRequest:
    """The pool the options ask for, checked, not yet opened."""

    spec: LoadersSpec
    tls: TlsFiles | None
    outputs: StackOutputs | None


def pool_request(
    command: str,
    value: str | None,
    tls: tuple[Path | None, Path | None, Path | None],
    stack: tuple[Path | None, str | None] = (None, None),
    outputs: StackOutputs | None = None,
) -> PoolRequest | None:
    """`--loaders` with its TLS files (and, for `stack`, the stack's outputs: `outputs`, or
    those `stack`'s --stack-outputs/--stack name); None without `--loaders`."""
    spec = loaders_spec(value)
    files = tls_files(spec, *tls)
    outputs_file, stack_name = stack
    if (outputs_file is not None or stack_name is not None) and (
        spec is None or spec.kind != "stack"
    ):
        option = "--stack-outputs" if outputs_file is not None else "--stack"
        raise usage_error(option, "applies only with --loaders stack")
    if spec is None:
        return None
    if spec.kind != "stack":
        outputs = None
    elif outputs is None:
        from loadgen.cli.target import stack_outputs

        outputs = stack_outputs(command, *stack)
    return PoolRequest(spec=spec, tls=files, outputs=outputs)


@contextmanager
def opened_pool(pool: PoolRequest | None) -> Iterator[LoaderPool | None]:
    """The pool, open for the context (with a scratch directory for what the stack's pool
    generates, such as TLS certificates); None without `--loaders`."""
    if pool is None:
        yield None
        return
    from loadgen.loaders.pool import open_pool

    with (
        tempfile.TemporaryDirectory(prefix="loadgen-pool-") as work,
        open_pool(pool.spec, tls=pool.tls, outputs=pool.outputs, work_dir=Path(work)) as opened,
    ):
        yield opened


def run_on_pool(
    pool: PoolRequest,
    request: RequestSpec,
    workload: ClosedLoop | OpenLoop,
    *,
    options: EngineOptions,
    processes: int | None,
    engine: EngineName,
    out_dir: str | None,
    thresholds: list[Threshold],
    live: bool,
) -> RunResult:
    """One run over the pool, opened for it and closed after (with a live progress line on
    a terminal)."""

    from loadgen.cli.progress import run_with_live_progress
    from loadgen.loaders.execute import execute_on_pool

    with opened_pool(pool) as opened:
        assert opened is not None
        run = partial(
            execute_on_pool,
            opened,
            request,
            workload,
            options=options,
            processes=processes,
            engine=engine,
            out_dir=out_dir,
            thresholds=thresholds,
        )
        return run_with_live_progress(live, run)
