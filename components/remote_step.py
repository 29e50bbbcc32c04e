"""Remote steps: shell scripts run on a machine over SSH, in order, with secrets on stdin.

A step is `components/scripts/<step>.sh`, rendered by `render_step` into one self-contained
script (strict mode, its parameters, the shared `lib.sh`, the step body) and run as
`sudo bash -s` with the script on standard input. So:

- secrets travel on stdin, never on a command line, in user data or in `environment` (which
  would need sshd `AcceptEnv`); a script hands them to files and tools on stdin too;
- the command line Pulumi records is always `sudo bash -s`, and a changed script is a changed
  `stdin`, which re-runs the (idempotent) step;
- every script is a real file that shellcheck reads and the tests run, twice, under shims.

Replacement and destroy (docs/architecture.md, "Replacing machines, destroying stacks"):

- a step that runs on a machine is `deleted_with` it: when the machine itself is deleted, the
  step's delete command is skipped instead of dialling a host that is going away;
- steps tied to a machine are delete-before-replace, like the machines (a name is reused);
- delete commands are bounded (each call `REQUEST_TIMEOUT_S`, `DELETE_ATTEMPTS` tries) and exit 0
  with a warning when their API does not answer;
- a step that makes a node (a join) prints its ID (`FAASBENCH_NODE_ID=...`, `node_id_of`), and
  the node's readiness and removal address that ID, never the reusable name.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
from pulumi_command import remote

from components.node_pool import Machine

SCRIPTS = Path(__file__).parent / "scripts"
RUN_SCRIPT = "sudo bash -s"
_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: Each call a delete command makes (kubectl, docker, curl, systemctl) is killed after this
#: many seconds, and tried this many times: a delete against an API that is gone ends.
DELETE_REQUEST_TIMEOUT_S = 15
DELETE_ATTEMPTS = 3
_NODE_ID = re.compile(r"^FAASBENCH_NODE_ID=(\S+)$", re.MULTILINE)

ParamValue = str | int | bool | Sequence[str]


def _shell_value(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    return " ".join(value)


_INCLUDE = re.compile(r"^# include: ([a-z0-9-]+)$", re.MULTILINE)


def _body(step: str) -> str:
    """A script file without its shebang (only the first line: heredocs may hold others)."""
    lines = (SCRIPTS / f"{step}.sh").read_text().splitlines()
    if lines and lines[0].startswith("#!"):
        lines = lines[1:]
    return "\n".join(lines) + "\n"


def step_sources(step: str) -> list[str]:
    """The script files a step is made of: lib, its `# include: NAME` fragments, itself."""
    includes = _INCLUDE.findall((SCRIPTS / f"{step}.sh").read_text())
    return ["lib", *includes, step]


def render_step(
    step: str,
    params: Mapping[str, ParamValue],
    secrets: Mapping[str, str] | None = None,
) -> str:
    """The full script of a step: parameters (then secrets) as shell variables, lib, body.

    Lists become space-separated words. Secrets are plain shell variables (not exported), so
    they never reach a child process's environment or arguments unless a script passes them.
    """
    assignments = []
    for name, value in [*sorted(params.items()), *sorted((secrets or {}).items())]:
        if not _NAME.match(name):
            raise ValueError(
                f"step {step}: parameter name {name!r} is not an upper-case identifier"
            )
        assignments.append(f"{name}={shlex.quote(_shell_value(value))}")
    header = [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        "umask 022",
        f"FAASBENCH_STEP={shlex.quote(step)}",
        *assignments,
    ]
    return "\n".join(header) + "\n" + "".join(_body(part) for part in step_sources(step))


def render_delete(step: str, params: Mapping[str, ParamValue]) -> str:
    """A delete command (no stdin on delete): `sudo bash -c '<script>'`, no secrets allowed,
    each call bounded (`REQUEST_TIMEOUT_S`, `ATTEMPTS`: see lib.sh's `with_retries`)."""
    bounds = {"REQUEST_TIMEOUT_S": DELETE_REQUEST_TIMEOUT_S, "ATTEMPTS": DELETE_ATTEMPTS}
    return f"sudo bash -c {shlex.quote(render_step(step, {**bounds, **params}))}"


def node_id_of(stdout: str) -> str:
    """The node ID a step reported (its last `FAASBENCH_NODE_ID=` line; lib.sh's
    `print_node_id`), or '' when it reported none."""
    found = _NODE_ID.findall(stdout or "")
    return found[-1] if found else ""


def remote_step(
    name: str,
    *,
    connection: remote.ConnectionArgs,
    step: str,
    params: Mapping[str, pulumi.Input[ParamValue]] | None = None,
    secrets: Mapping[str, pulumi.Input[str]] | None = None,
    delete_step: str | None = None,
    delete_params: Mapping[str, pulumi.Input[ParamValue]] | None = None,
    triggers: Sequence[pulumi.Input[str]] = (),
    secret_stdout: bool = False,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
    deleted_with: pulumi.Resource | None = None,
    delete_before_replace: bool = False,
) -> remote.Command:
    """Run `step` on the machine behind `connection` as a Pulumi resource.

    `triggers` are typically the machine's instance id: a replaced machine re-runs its steps.
    `secret_stdout` hides and encrypts the step's output (tokens, kubeconfigs).
    `deleted_with` is the machine the step runs on: when that machine is being deleted too, the
    engine skips this step's delete command. `delete_before_replace`: a replaced step's delete
    runs before its replacement's create (a node is removed before its successor joins).
    """
    resolved = pulumi.Output.all(
        pulumi.Output.from_input(dict(params or {})), pulumi.Output.from_input(dict(secrets or {}))
    )
    stdin = resolved.apply(lambda values: render_step(step, values[0], values[1]))
    if secrets:
        stdin = pulumi.Output.secret(stdin)
    return remote.Command(
        name,
        connection=connection,
        create=RUN_SCRIPT,
        stdin=stdin,
        delete=(
            pulumi.Output.from_input(dict(delete_params or {})).apply(
                lambda values: render_delete(delete_step, values)
            )
            if delete_step
            else None
        ),
        triggers=list(triggers),
        logging=remote.Logging.NONE if secret_stdout else remote.Logging.STDOUT_AND_STDERR,
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(depends_on),
            additional_secret_outputs=["stdout"] if secret_stdout else None,
            deleted_with=deleted_with,
            delete_before_replace=delete_before_replace,
        ),
    )


def machine_step(
    name: str,
    machine: Machine,
    step: str,
    *,
    parent: pulumi.Resource,
    also_triggered_by: Sequence[pulumi.Input[str]] = (),
    **options: Any,
) -> remote.Command:
    """`remote_step` on `machine`, re-run when the machine (or `also_triggered_by`) is replaced:
    deleted with the machine, and, like the machine, deleted before it is replaced."""
    return remote_step(
        name,
        connection=machine.connection,
        step=step,
        triggers=[machine.instance_id, *also_triggered_by],
        parent=parent,
        deleted_with=machine.instance,
        delete_before_replace=True,
        **options,
    )
