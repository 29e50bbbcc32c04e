"""KEDA's part of the output contract, and what its loader and its queue consumers share.

`framework: keda` exports a `keda` section: the mode the stack installed (`http`: the HTTP
add-on's interceptor before each function; `queue`: functions that consume jobs from a Redis
list and are scaled on its length), the namespace functions are deployed to, the pinned
versions and, in queue mode, how the loader reaches the queue. The Redis keys and the JSON of a
job and of a completion record are defined here once: the loader writes jobs and reads
completions, the consumer (`functions.consumer`, which copies these names because the function
image holds only `functions/`) does the opposite.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

KedaMode = Literal["http", "queue"]
#: Where the loader's functions live (Deployments, Services, ScaledObjects, HTTPScaledObjects).
FUNCTION_NAMESPACE = "faasbench-fn"
#: The Secret (in FUNCTION_NAMESPACE) holding the queue's password under PASSWORD_KEY.
QUEUE_SECRET = "faasbench-queue"  # noqa: S105 (the Secret object's name)
PASSWORD_KEY = "password"  # noqa: S105 (a key in that Secret)
#: The queue's Service in FUNCTION_NAMESPACE, and its port.
QUEUE_SERVICE = "faasbench-queue"
QUEUE_PORT = 6379
#: The TriggerAuthentication every queue ScaledObject uses (password from QUEUE_SECRET).
TRIGGER_AUTHENTICATION = "faasbench-queue"
#: The domain of the Host names the HTTP add-on routes by: `<function>.<HOST_DOMAIN>`.
HOST_DOMAIN = "fn.faasbench"
_JOBS = "faasbench:jobs:"
_DONE = "faasbench:done:"


def jobs_key(function: str) -> str:
    """The Redis list a function's jobs wait in (the loader LPUSHes, consumers take the
    oldest); KEDA scales the function on its length."""
    return f"{_JOBS}{function}"


def completions_key(function: str) -> str:
    """The Redis list consumers RPUSH a completion record to, one per job taken."""
    return f"{_DONE}{function}"


def function_host(function: str) -> str:
    """The Host header that routes a request to `function` through the interceptor."""
    return f"{function}.{HOST_DOMAIN}"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class KedaQueue(_Section):
    """The Redis server that holds jobs and completion records."""

    url: str = Field(description="redis://HOST:PORT the loader reaches (a NodePort on a node)")
    password: SecretStr
    internal_address: str = Field(description="HOST:PORT inside the cluster (consumers, KEDA)")


class KedaVersions(_Section):
    keda: str = Field(description="KEDA's chart and images")
    http_add_on: str | None = Field(None, description="the HTTP add-on (http mode)")
    queue: str | None = Field(None, description="the Redis image (queue mode)")


class Keda(_Section):
    mode: KedaMode
    namespace: str = Field(description="where functions are deployed")
    versions: KedaVersions
    queue: KedaQueue | None = Field(None, description="queue mode only")


class Job(BaseModel):
    """One job in a function's jobs list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=128)
    params: dict[str, object] = {}
    enqueued_ns: int = Field(description="wall clock when the loader pushed it")


class Completion(BaseModel):
    """What a consumer wrote when it finished a job."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    enqueued_ns: int
    start_ns: int = Field(description="wall clock when the consumer took the job")
    end_ns: int
    instance: str
    cold: bool
    status: int = Field(description="200, 400 (bad parameters) or 500, as over HTTP")
    error: str | None = None
