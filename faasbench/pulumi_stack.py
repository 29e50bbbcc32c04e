"""The stack through Pulumi's Automation API (`pulumi.automation`): a local workspace on the
project directory, whose commands shell out to the `pulumi` CLI on PATH.

The backend is the local one (`file://~`, what `pulumi login --local` selects) unless
`PULUMI_BACKEND_URL` or `--backend` names another. Every CLI failure becomes a `PulumiError`
whose message is the CLI's own last error line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pulumi.automation as auto

LOCAL_BACKEND = "file://~"
#: How long `destroy` waits for a lock an interrupted `up` still holds (the CLI finishes its
#: in-flight operations after Ctrl-C before it lets go).
LOCK_WAIT_S = 300.0
LOCK_POLL_S = 5.0

Echo = Callable[[str], Any]


class PulumiError(RuntimeError):
    """The Pulumi CLI failed, or is missing; the message is one line."""


class StackMissingError(PulumiError):
    """The stack does not exist in the backend."""


def backend_env(backend: str | None, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The variables every CLI call gets: the backend (the local one by default)."""
    if backend is not None:
        return {"PULUMI_BACKEND_URL": backend}
    if environ.get("PULUMI_BACKEND_URL"):
        return {}
    return {"PULUMI_BACKEND_URL": LOCAL_BACKEND}


def _last_error(exc: BaseException) -> str:
    """The CLI's own error line (`error: ...`) from a CommandError, else its last line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line[line.index("error:") :] for line in lines if "error:" in line]
    chosen = errors[-1] if errors else (lines[-1] if lines else type(exc).__name__)
    return chosen[:400]


def _workspace(project: Path, env: dict[str, str]) -> auto.LocalWorkspace:
    try:
        return auto.LocalWorkspace(work_dir=str(project), env_vars=env)
    except FileNotFoundError:
        raise PulumiError(
            "the Pulumi CLI is not on PATH: install it (pulumi.com/docs/install), or use "
            "--dry-run for the offline checks"
        ) from None
    except auto.InvalidVersionError as exc:
        raise PulumiError(f"the Pulumi CLI: {exc}") from None


class PulumiStack:
    """One stack of the project: select or create it, then up, outputs, destroy, preview."""

    def __init__(self, name: str, project: Path, env: dict[str, str], echo: Echo) -> None:
        self.name = name
        self.project = project
        self.env = env
        self.echo = echo
        self._stack: auto.Stack | None = None

    def _open(self, create: bool) -> auto.Stack:
        if self._stack is not None:
            return self._stack
        workspace = _workspace(self.project, self.env)
        try:
            if create:
                self._stack = auto.Stack.create_or_select(self.name, workspace)
            else:
                self._stack = auto.Stack.select(self.name, workspace)
        except auto.StackNotFoundError:
            raise StackMissingError(f"no stack named {self.name} in the backend") from None
        except auto.CommandError as exc:
            raise PulumiError(f"stack {self.name}: {_last_error(exc)}") from None
        return self._stack

    def select_or_create(self) -> None:
        self._open(create=True)

    def set_config(self, key: str, value: str) -> None:
        stack = self._open(create=True)
        try:
            stack.set_config(key, auto.ConfigValue(value=value, secret=False))
        except auto.CommandError as exc:
            raise PulumiError(f"config set {key}: {_last_error(exc)}") from None

    def up(self) -> dict[str, Any]:
        """`up` with its progress printed line by line; the outputs (secrets in clear)."""
        stack = self._open(create=True)
        try:
            result = stack.up(on_output=self.echo, on_error=self.echo)
        except auto.CommandError as exc:
            raise PulumiError(f"up: {_last_error(exc)}") from None
        return {key: output.value for key, output in result.outputs.items()}

    def outputs(self) -> dict[str, Any]:
        stack = self._open(create=False)
        try:
            return {key: output.value for key, output in stack.outputs().items()}
        except auto.CommandError as exc:
            raise PulumiError(f"stack output: {_last_error(exc)}") from None

    def preview(self) -> None:
        stack = self._open(create=False)
        try:
            stack.preview(on_output=self.echo, on_error=self.echo)
        except auto.CommandError as exc:
            raise PulumiError(f"preview: {_last_error(exc)}") from None

    def destroy(self, lock_wait_s: float = LOCK_WAIT_S) -> None:
        """`destroy`, waiting for a lock an interrupted `up` still holds."""
        stack = self._open(create=False)
        deadline = time.monotonic() + lock_wait_s
        while True:
            try:
                stack.destroy(on_output=self.echo, on_error=self.echo)
                return
            except auto.ConcurrentUpdateError as exc:
                if time.monotonic() >= deadline:
                    raise PulumiError(f"destroy: {_last_error(exc)}") from None
                self.echo(f"destroy: the stack is still locked; retrying in {LOCK_POLL_S:g} s")
                time.sleep(LOCK_POLL_S)
            except auto.CommandError as exc:
                raise PulumiError(f"destroy: {_last_error(exc)}") from None


def list_stacks(project: Path, env: dict[str, str]) -> list[auto.StackSummary]:
    """The project's stacks in the backend (`pulumi stack ls --json`)."""
    workspace = _workspace(project, env)
    try:
        return workspace.list_stacks()
    except auto.CommandError as exc:
        raise PulumiError(f"stack ls: {_last_error(exc)}") from None
