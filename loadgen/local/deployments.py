"""The gateway's `/system` API rules: what a FunctionDeployment is, which suite function it runs,
how many replicas it asks for, what OpenFaaS Community Edition refuses, and the status a
function reports. Pure checks that raise `ApiError`; no processes, no HTTP serving."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions._registry import LANGUAGE_FUNCTIONS, LANGUAGES, Language
from functions.package import function_names
from loadgen.local.limits import CE_MAX_FUNCTIONS, CE_MAX_REPLICAS

#: Names the suite's function when a deployment's envVars do not (`FUNCTION`).
FUNCTION_LABEL = "com.openfaas.faasbench.function"
#: The implementation's language (the OpenFaaS adapter sets it for every language but Python);
#: absent: python.
LANGUAGE_LABEL = "faasbench.language"
#: OpenFaaS's label for a function's initial (minimum) replica count.
SCALE_MIN_LABEL = "com.openfaas.scale.min"
#: Kubernetes object names (DNS-1123 labels), which OpenFaaS requires of function names.
_SERVICE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class GatewayConfig(BaseModel):
    """What `up` hands the gateway (a 0600 file, as it holds the password)."""

    model_config = ConfigDict(frozen=True)

    state_dir: Path
    username: str
    password: str
    ce_limits: bool = True
    default_replicas: int = Field(1, ge=1)
    hold_timeout_s: float = Field(60.0, gt=0)
    #: Asynchronous calls (`/async-function/`) the queue holds before answering 429.
    async_queue_size: int = Field(1000, ge=1)
    #: Queue workers running asynchronous calls (Community Edition's runs one at a time).
    async_workers: int = Field(1, ge=1)
    host: str = "127.0.0.1"
    port: int = 0
    #: The checkout whose `functions/<language>/` sources replicas of other languages run;
    #: None: the one faasbench runs from.
    functions_root: Path | None = None


class Deployment(BaseModel):
    """OpenFaaS's FunctionDeployment; fields the local target has no use for are kept and echoed
    back in the function's status."""

    model_config = ConfigDict(extra="allow")

    service: str
    image: str
    namespace: str | None = None
    envProcess: str | None = None  # the API's spelling
    envVars: dict[str, str] | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def json_body(request: web.Request) -> Any:
    try:
        return await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not JSON") from None


async def read_deployment(request: web.Request) -> Deployment:
    body = await json_body(request)
    try:
        spec = Deployment.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise ApiError(400, f"not a FunctionDeployment: {problems}") from None
    if not _SERVICE_NAME.match(spec.service):
        raise ApiError(400, f"bad function name {spec.service!r} (lowercase DNS label)")
    return spec


def check_function_count(config: GatewayConfig, deployed: int, name: str) -> None:
    if config.ce_limits and deployed >= CE_MAX_FUNCTIONS:
        raise ApiError(
            400,
            f"OpenFaaS Community Edition allows at most {CE_MAX_FUNCTIONS} functions "
            f"(CE limits are on); delete one before deploying {name}",
        )


def suite_function(spec: Deployment) -> str:
    """Which function of the suite the deployment runs: envVars FUNCTION, else the label."""
    from_env = (spec.envVars or {}).get("FUNCTION")
    from_label = (spec.labels or {}).get(FUNCTION_LABEL)
    if from_env and from_label and from_env != from_label:
        raise ApiError(400, f"envVars FUNCTION={from_env} but {FUNCTION_LABEL}={from_label}")
    name = from_env or from_label
    known = function_names()
    if not name:
        raise ApiError(
            400,
            f"name the suite's function in envVars FUNCTION or the label {FUNCTION_LABEL} "
            f"(the image is not run locally); one of: {', '.join(known)}",
        )
    if name not in known:
        raise ApiError(400, f"unknown function {name!r}; one of: {', '.join(known)}")
    return name


def suite_language(spec: Deployment, function: str) -> Language:
    """The deployment's language (the label; python without one), refused when `function` has
    no implementation in it."""
    name = (spec.labels or {}).get(LANGUAGE_LABEL, "python")
    for language in LANGUAGES:
        if language == name:
            if function not in LANGUAGE_FUNCTIONS[language]:
                raise ApiError(
                    400,
                    f"function {function!r} has no {language} implementation; {language} has "
                    f"{', '.join(LANGUAGE_FUNCTIONS[language])}",
                )
            return language
    raise ApiError(400, f"{LANGUAGE_LABEL}={name!r} is not one of: {', '.join(LANGUAGES)}")


def has_min_label(spec: Deployment) -> bool:
    return SCALE_MIN_LABEL in (spec.labels or {})


def initial_replicas(config: GatewayConfig, spec: Deployment) -> int:
    text = (spec.labels or {}).get(SCALE_MIN_LABEL)
    if text is None:
        replicas = config.default_replicas
    else:
        try:
            replicas = int(text)
        except ValueError:
            raise ApiError(400, f"{SCALE_MIN_LABEL}={text!r} is not a number") from None
        if replicas < 0:
            raise ApiError(400, f"{SCALE_MIN_LABEL}={text!r} is negative")
    check_replicas(config, replicas, spec.service)
    return replicas


def check_replicas(config: GatewayConfig, replicas: int, name: str) -> None:
    if not config.ce_limits:
        return
    if replicas == 0:
        raise ApiError(
            400,
            f"OpenFaaS Community Edition does not scale to zero (CE limits are on); "
            f"{name} keeps at least 1 replica",
        )
    if replicas > CE_MAX_REPLICAS:
        raise ApiError(
            400,
            f"OpenFaaS Community Edition allows at most {CE_MAX_REPLICAS} replicas per "
            f"function (CE limits are on); asked for {replicas} of {name}",
        )
