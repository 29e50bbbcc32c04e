"""`faasbench sweep`: the project's stacks in the backend (`pulumi stack ls --json`) with
resources, each with its expiry (the `expires_at` output, else `expiresAt` in its
`Pulumi.<stack>.yaml`); with `--destroy`, destroy those past it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from contract.expiry import NO_EXPIRY, parse_expiry
from faasbench.plan import stack_file
from faasbench.pulumi_stack import Echo, PulumiError, PulumiStack, list_stacks
from loadgen.userfiles import CAMPAIGN_LIMIT, UserFileError, read_yaml


@dataclass(frozen=True)
class SweptStack:
    name: str
    resources: int | None
    expires_at: str  # a time, `none`, or `unknown`
    expired: bool


def _configured_expiry(project: Path, name: str) -> str | None:
    try:
        document = read_yaml(stack_file(project, name), kind="a stack config", limit=CAMPAIGN_LIMIT)
    except UserFileError:
        return None
    config = document.get("config") if isinstance(document, dict) else None
    value = config.get("faasbench:expiresAt") if isinstance(config, dict) else None
    return value if isinstance(value, str) else None


def _expired(value: str, now: datetime) -> bool:
    try:
        return parse_expiry(value) <= now
    except ValueError:
        return False


def survey(project: Path, env: dict[str, str], now: datetime, echo: Echo) -> list[SweptStack]:
    """Every stack of the project that still has resources, with its expiry."""
    found = []
    for summary in list_stacks(project, env):
        if summary.resource_count == 0:
            continue
        stack = PulumiStack(summary.name, project, env, echo)
        try:
            expires = stack.outputs().get("expires_at")
        except PulumiError:
            expires = None
        if not isinstance(expires, str) or expires == NO_EXPIRY:
            expires = _configured_expiry(project, summary.name) or (
                expires if isinstance(expires, str) else "unknown"
            )
        found.append(
            SweptStack(summary.name, summary.resource_count, expires, _expired(expires, now))
        )
    return found


def sweep(project: Path, env: dict[str, str], now: datetime, destroy: bool, echo: Echo) -> int:
    """List (and with `destroy`, destroy) the stacks past their expiry; the exit status."""
    stacks = survey(project, env, now, echo)
    if not stacks:
        echo("no stack of this project has resources")
        return 0
    echo(f"{'stack':<24} {'resources':>9}  {'expires at':<22} state")
    for found in stacks:
        resources = "?" if found.resources is None else str(found.resources)
        state = (
            "EXPIRED"
            if found.expired
            else "no expiry"
            if found.expires_at in (NO_EXPIRY, "unknown")
            else "running"
        )
        echo(f"{found.name:<24} {resources:>9}  {found.expires_at:<22} {state}")
    expired = [s for s in stacks if s.expired]
    if not destroy:
        if expired:
            echo(f"{len(expired)} past expiry: faasbench sweep --destroy destroys them")
        return 0
    failed = 0
    for found in expired:
        echo(f"destroying {found.name} (expired {found.expires_at})")
        try:
            PulumiStack(found.name, project, env, echo).destroy()
        except PulumiError as exc:
            echo(f"destroy {found.name} failed: {exc}")
            failed += 1
    return 1 if failed else 0
