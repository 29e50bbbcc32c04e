"""`loadgen deploy FUNCTION` and `loadgen invoke FUNCTION`: try one function before a campaign.

Both use the stack a campaign would (`--stack-outputs`, `--stack`, or the local target running in
this directory) and the platform adapter the campaign loop uses, so what works here works in `run`.
`deploy` creates the function (and what it calls: `chain` needs `matrix`) with the environment
the campaign loop gives it, and waits until the platform reports it ready. `invoke` never deploys: a
deployment is a change to the stack (and counts against Community Edition's 15 functions), so
a function that is not there is an error that says to run `loadgen deploy` first.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loadgen.cli.errors import USAGE_EXIT
from loadgen.cli.params import parse_seconds, usage_error
from loadgen.cli.target import stack_outputs as resolve_outputs
from loadgen.cli.validate import OutputsOption, StackOption

if TYPE_CHECKING:
    from contract.outputs import StackOutputs
    from loadgen.platforms.base import FunctionSpec, Platform

#: The image reference the local target's gateway is given: it runs the suite's code directly.
LOCAL_IMAGE = "faasbench-functions:local"
#: What `deploy` waits for the platform to report the function ready, by default.
DEFAULT_READY = "300s"
#: What `invoke` waits for the response, by default.
DEFAULT_TIMEOUT = "60s"


def register(app: typer.Typer) -> None:
    app.command("deploy", no_args_is_help=True)(deploy_command)
    app.command("invoke", no_args_is_help=True)(invoke_command)


FunctionArgument = Annotated[
    str, typer.Argument(help="A function of the suite (docs/functions.md).", metavar="FUNCTION")
]


ImageOption = Annotated[
    str | None,
    typer.Option(
        "--image",
        help="OpenFaaS, Knative: the suite's image (default: the stack's registry.image); "
        "other languages' images come from registry.images.",
    ),
]


def default_image(outputs: StackOutputs, image: str | None) -> str | None:
    """`--image`, else the stack's `registry.image`, else the local target's reference."""
    if image is None and outputs.registry is not None:
        image = outputs.registry.image
    if image is None and outputs.cloud == "local":
        image = LOCAL_IMAGE
    return image


def _function(name: str) -> str:
    from functions._registry import FUNCTION_NAMES

    if name not in FUNCTION_NAMES:
        raise usage_error(
            "FUNCTION", f"unknown function {name!r}; known: {', '.join(FUNCTION_NAMES)}"
        )
    return name


def _platform(command: str, outputs: StackOutputs, image: str | None) -> Platform:
    from loadgen.platforms import PlatformError, make_platform

    try:
        return make_platform(outputs, image)
    except PlatformError as exc:
        typer.echo(f"loadgen {command}: {exc}", err=True)
        raise typer.Exit(USAGE_EXIT) from None


def deploy_command(
    function: FunctionArgument,
    outputs: OutputsOption = None,
    stack: StackOption = None,
    replicas: Annotated[
        int, typer.Option("--replicas", min=1, help="Replicas to deploy (where replicas exist).")
    ] = 1,
    image: ImageOption = None,
    ready: Annotated[
        str, typer.Option("--ready-timeout", help="How long to wait for the platform's ready.")
    ] = DEFAULT_READY,
) -> None:
    """Deploy FUNCTION (and the functions it calls) as a campaign would, and wait until the
    platform reports it ready. Without --stack-outputs or --stack: the local target running here."""
    from functions._registry import FUNCTION_NAMES
    from loadgen.experiments.config import DEFAULT_DEPENDENCIES
    from loadgen.platforms import LimitExceeded, PlatformError
    from loadgen.platforms.base import FunctionSpec
    from loadgen.platforms.env import function_env

    name = _function(function)
    ready_s = parse_seconds(ready, "--ready-timeout")
    assert ready_s is not None
    stack_outputs = resolve_outputs("deploy", outputs, stack)
    image = default_image(stack_outputs, image)
    if image is None and stack_outputs.framework in ("openfaas", "knative"):
        raise usage_error("--image", "this stack names no registry.image: give the suite's image")
    platform = _platform("deploy", stack_outputs, image)
    wanted = [*DEFAULT_DEPENDENCIES.get(name, ()), name]
    assert all(w in FUNCTION_NAMES for w in wanted)

    async def deploy() -> list[tuple[str, float]]:
        took = []
        try:
            for each in wanted:
                start = time.monotonic()
                spec = FunctionSpec(function=each)
                count = replicas if each == name else 1
                await platform.deploy(spec, count, function_env(each, stack_outputs))
                await platform.wait_ready(spec, ready_s)
                took.append((each, time.monotonic() - start))
        finally:
            await platform.aclose()
        return took

    try:
        took = asyncio.run(deploy())
    except LimitExceeded as exc:
        typer.echo(f"loadgen deploy: {exc}", err=True)
        raise typer.Exit(USAGE_EXIT) from None
    except PlatformError as exc:
        typer.echo(f"loadgen deploy: {exc}", err=True)
        raise typer.Exit(1) from None
    where = f"{stack_outputs.framework} on {stack_outputs.orchestrator} ({stack_outputs.cloud})"
    for each, seconds in took:
        count = replicas if each == name else 1
        plural = "" if count == 1 else "s"
        typer.echo(
            f"{each}: deployed on {where}, {count} replica{plural}, ready in {seconds:.1f} s"
        )
    typer.echo(f"try it: loadgen invoke {name}")


def parse_params(function: str, texts: list[str]) -> dict[str, Any]:
    """`--param NAME=VALUE` pairs, checked against what FUNCTION declares (`PARAMS`): an
    unknown name or a refused value is a usage error naming the parameter. Values are sent as
    the declared type (integer, number) or as text; for `echo`, which takes anything, a value
    that reads as JSON (a number, true, a list) is sent as that JSON."""
    from functions._params import FloatParam, IntParam, ParamError
    from functions._registry import parameters

    declared = parameters(function)
    by_name = {param.name: param for param in declared or ()}
    params: dict[str, Any] = {}
    for text in texts:
        key, equals, raw = text.partition("=")
        key = key.strip()
        if not equals or not key:
            raise usage_error("--param", f"expected NAME=VALUE, got {text!r}")
        value: Any = raw
        if declared is None:
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        else:
            param = by_name.get(key)
            if param is None:
                takes = ", ".join(sorted(by_name)) or "none"
                raise usage_error(
                    f"--param {key}", f"{function} takes no such parameter (it takes {takes})"
                )
            try:
                if isinstance(param, IntParam):
                    value = int(raw.strip())
                elif isinstance(param, FloatParam):
                    value = float(raw.strip())
            except ValueError:
                value = raw  # the check below refuses it with the function's own words
            try:
                param.check(value)
            except ParamError as exc:
                raise usage_error(f"--param {key}", str(exc)) from None
        params[key] = value
    return params


def invoke_command(
    function: FunctionArgument,
    param: Annotated[
        list[str] | None,
        typer.Option("-p", "--param", help="A parameter NAME=VALUE (repeat for more)."),
    ] = None,
    outputs: OutputsOption = None,
    stack: StackOption = None,
    timeout: Annotated[
        str, typer.Option("--timeout", help="How long to wait for the response.")
    ] = DEFAULT_TIMEOUT,
    raw: Annotated[
        bool, typer.Option("--json", help="Print the response body as it came, nothing else.")
    ] = False,
) -> None:
    """Call FUNCTION once with --param values and print its result and meta (cold start,
    instance, handler time). The function must be deployed (`loadgen deploy FUNCTION`).
    Without --stack-outputs or --stack: the local target running here. Exit 1 when the function
    answers with an error."""
    from loadgen.platforms.base import FunctionSpec

    name = _function(function)
    params = parse_params(name, param or [])
    timeout_s = parse_seconds(timeout, "--timeout")
    assert timeout_s is not None
    stack_outputs = resolve_outputs("invoke", outputs, stack)
    # invoke never deploys: the image only names what a deployment would run.
    platform = _platform("invoke", stack_outputs, default_image(stack_outputs, None) or "-")
    spec = FunctionSpec(function=name)
    status, headers, body, elapsed_ms = asyncio.run(
        _invoke(platform, spec, params, stack_outputs, timeout_s)
    )
    if raw:
        typer.echo(body.decode(errors="replace"))
    else:
        typer.echo(_describe(status, headers, body, elapsed_ms, platform.capture_header))
    if not platform.ok(status, body) or _error_of(body) is not None:
        raise typer.Exit(1)


async def _invoke(
    platform: Platform,
    spec: FunctionSpec,
    params: dict[str, Any],
    outputs: StackOutputs,
    timeout_s: float,
) -> tuple[int, dict[str, str], bytes, float]:
    import httpx

    from loadgen.platforms import OpenFaasPlatform, OpenWhiskPlatform, PlatformError

    try:
        try:
            if isinstance(platform, OpenFaasPlatform):
                deployed = await platform.status(spec) is not None
            elif isinstance(platform, OpenWhiskPlatform):
                deployed = await platform.exists(spec)
            else:
                deployed = True
        except PlatformError as exc:
            typer.echo(f"loadgen invoke: {exc}", err=True)
            raise typer.Exit(1) from None
        if not deployed:
            typer.echo(
                f"loadgen invoke: {spec.function} is not deployed on this stack: run "
                f"`loadgen deploy {spec.function}` first",
                err=True,
            )
            raise typer.Exit(USAGE_EXIT)
        target = platform.invoke_target(spec, params)
        openwhisk = outputs.openwhisk
        verify = not (openwhisk is not None and openwhisk.insecure_tls)
        async with httpx.AsyncClient(verify=verify, timeout=timeout_s, trust_env=False) as client:
            start = time.perf_counter()
            try:
                response = await client.request(
                    target.method, target.url, headers=dict(target.headers), content=target.body
                )
            except httpx.HTTPError as exc:
                detail = str(exc) or type(exc).__name__
                typer.echo(f"loadgen invoke: {spec.function}: no response: {detail}", err=True)
                raise typer.Exit(1) from None
            elapsed_ms = (time.perf_counter() - start) * 1000
        return response.status_code, dict(response.headers), response.content, elapsed_ms
    finally:
        await platform.aclose()


def _document(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _error_of(body: bytes) -> str | None:
    document = _document(body)
    if document is None or "error" not in document:
        return None
    return str(document["error"])


def _describe(
    status: int, headers: dict[str, str], body: bytes, elapsed_ms: float, capture_header: str
) -> str:
    """The response as lines: status and round trip, result or error, then meta."""
    lines = [f"HTTP {status} in {elapsed_ms:.1f} ms (round trip, this machine)"]
    correlation = headers.get(capture_header.lower())
    if correlation:
        lines.append(f"{capture_header}: {correlation}")
    document = _document(body)
    if document is None:
        text = body.decode(errors="replace")
        lines.append(f"body: {text[:2000]}" if text else "body: (empty)")
        return "\n".join(lines)
    if "error" in document:
        lines.append(f"error: {document['error']}")
    if "result" in document:
        lines.append("result: " + json.dumps(document["result"], indent=2, ensure_ascii=False))
    meta = document.get("meta")
    if isinstance(meta, dict):
        cold = meta.get("cold")
        handler = meta.get("handler_ms")
        lines.append(f"cold:     {'yes' if cold else 'no' if cold is not None else '?'}")
        lines.append(f"instance: {meta.get('instance', '?')}")
        if isinstance(handler, int | float):
            lines.append(f"handler:  {handler:.3f} ms")
        started = meta.get("instance_started_ns")
        if isinstance(started, int):
            age_s = time.time() - started / 1e9
            lines.append(f"instance started {age_s:.1f} s ago")
        shown = ("function", "version", "adapter", "language")
        extra = {k: v for k, v in meta.items() if k in shown}
        if extra:
            lines.append("meta:     " + ", ".join(f"{k} {v}" for k, v in extra.items()))
    elif "result" not in document and "error" not in document:
        lines.append("body: " + json.dumps(document, ensure_ascii=False)[:2000])
    return "\n".join(lines)
