"""Which stack a command talks to: `--stack-outputs FILE`, `--stack NAME`, or, with neither,
the local target running in this directory (`loadgen local up`'s default state directory).

Used by the commands that need a stack (`doctor`, `run`, `deploy`, `invoke`). The default is
said on stderr, so a user never wonders which stack was measured; with no local target running
either, the error says how to start one or which option to give (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import typer

from contract.outputs import StackOutputs
from loadgen.cli.errors import USAGE_EXIT
from loadgen.outputs import OutputsError, load_outputs, read_outputs_file


def local_outputs_file(directory: Path | None = None) -> Path | None:
    """DIR/outputs.json of the local target running in `directory` (default: the state
    directory `loadgen local up` uses in the working directory); None when none runs there."""
    from loadgen.local.supervise import LocalError, running
    from loadgen.local.target import DEFAULT_DIR

    state = directory if directory is not None else Path(DEFAULT_DIR)
    outputs = state / "outputs.json"
    if not state.is_dir() or not outputs.is_file():
        return None
    try:
        alive = running(state)
    except LocalError:  # a damaged state file: nothing is known to run there
        return None
    return outputs.resolve() if alive else None


def stack_outputs(command: str, outputs: Path | None, stack: str | None) -> StackOutputs:
    """The outputs the options name, else the running local target's; exit 2 with one line
    when neither can be read."""
    try:
        if outputs is None and stack is None:
            from loadgen.local.target import DEFAULT_DIR

            local = local_outputs_file()
            if local is None:
                typer.echo(
                    f"loadgen {command}: no --stack-outputs/--stack given and no local target is "
                    f"running in {Path(DEFAULT_DIR).resolve()}: start one with `loadgen local up` "
                    "or pass --stack-outputs FILE (the stack's outputs) or --stack NAME",
                    err=True,
                )
                raise typer.Exit(USAGE_EXIT)
            typer.echo(
                f"loadgen {command}: no --stack-outputs/--stack given: "
                f"using the local target at {local}",
                err=True,
            )
            return read_outputs_file(local)
        return load_outputs(outputs, stack)
    except OutputsError as exc:
        typer.echo(f"loadgen {command}: {exc}", err=True)
        raise typer.Exit(USAGE_EXIT) from None
