"""Where `loadgen` gets a stack's outputs: a JSON file, or the Pulumi stack itself.

`--stack-outputs FILE` is the contract's JSON (what `pulumi stack output --json --show-secrets`
prints, or the local target's outputs.json). `--stack NAME` asks the Pulumi CLI for exactly
that; the Automation API would shell out to the same CLI, so the CLI is what is required.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from pydantic import ValidationError

from contract.outputs import StackOutputs
from loadgen.userfiles import OUTPUTS_LIMIT, UserFileError, parse_json, read_text, shorten


class OutputsError(ValueError):
    """The outputs cannot be read (the message says from where and why; never a secret)."""


#: How many of the document's problems a message lists before "and N more".
SHOWN_PROBLEMS = 3


def parse_outputs(text: str, source: str) -> StackOutputs:
    try:
        document = parse_json(text, source)
    except UserFileError as exc:
        raise OutputsError(str(exc)) from None
    try:
        return StackOutputs.model_validate(document)
    except ValidationError as exc:
        errors = exc.errors(include_input=False)
        problems = [
            f"{shorten('.'.join(str(p) for p in e['loc'])) or '(document)'}: "
            f"{shorten(e['msg'], 160)}"
            for e in errors[:SHOWN_PROBLEMS]
        ]
        if len(errors) > SHOWN_PROBLEMS:
            problems.append(f"and {len(errors) - SHOWN_PROBLEMS} more")
        joined = "; ".join(problems)
        raise OutputsError(f"{source}: not a faasbench stack's outputs: {joined}") from None


def read_outputs_file(path: Path) -> StackOutputs:
    """The outputs JSON, a regular file of at most 16 MiB (`loadgen.userfiles`)."""
    try:
        text = read_text(path, kind="a stack's outputs", limit=OUTPUTS_LIMIT)
    except UserFileError as exc:
        raise OutputsError(str(exc)) from None
    return parse_outputs(text, str(path))


def read_stack_outputs(stack: str, cwd: Path | None = None) -> StackOutputs:
    """`pulumi stack output --json --show-secrets --stack NAME` in `cwd` (the project)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OutputsError(
            "--stack needs the Pulumi CLI on PATH; without it, save the outputs with "
            "`pulumi stack output --json --show-secrets > outputs.json` where it is installed "
            "and pass --stack-outputs outputs.json"
        )
    try:
        result = subprocess.run(
            [pulumi, "stack", "output", "--json", "--show-secrets", "--stack", stack],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OutputsError(f"pulumi stack output --stack {stack}: no answer in 300 s") from None
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1:] or ["no message"]
        raise OutputsError(f"pulumi stack output --stack {stack} failed: {detail[0]}")
    return parse_outputs(result.stdout, f"stack {stack}")


def load_outputs(outputs_file: Path | None, stack: str | None) -> StackOutputs:
    """Exactly one of the two sources."""
    if (outputs_file is None) == (stack is None):
        raise OutputsError("give exactly one of --stack-outputs FILE and --stack NAME")
    if outputs_file is not None:
        return read_outputs_file(outputs_file)
    assert stack is not None
    return read_stack_outputs(stack)


def public_outputs(outputs: StackOutputs) -> dict[str, object]:
    """The outputs with every secret removed (for manifests and logs)."""
    return json.loads(outputs.model_dump_json(exclude=_secret_fields(outputs)))


def _secret_fields(outputs: StackOutputs) -> dict[str, object]:
    from contract.outputs import secret_paths

    exclude: dict[str, object] = {}
    for path in secret_paths():
        node = exclude
        for part in path[:-1]:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[path[-1]] = True
    return exclude
