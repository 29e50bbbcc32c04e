"""Error classes every request outcome falls into.

Codes are small integers on the hot path and in record files; names are what people read.
A response whose status the caller's predicate rejects is class `http_<status>`.
"""

from enum import IntEnum


class ErrorKind(IntEnum):
    """How a request ended. `NONE` means an ok response."""

    NONE = 0
    HTTP = 1
    CONNECT = 2
    TIMEOUT = 3
    RESET = 4
    TLS = 5
    PROTOCOL = 6
    DROPPED = 7
    #: A queued job no consumer completed before its run drained (the enqueue workload).
    LOST = 8


ERROR_NAMES: dict[int, str] = {
    ErrorKind.NONE: "ok",
    ErrorKind.HTTP: "http",
    ErrorKind.CONNECT: "connect",
    ErrorKind.TIMEOUT: "timeout",
    ErrorKind.RESET: "reset",
    ErrorKind.TLS: "tls",
    ErrorKind.PROTOCOL: "protocol",
    ErrorKind.DROPPED: "dropped",
    ErrorKind.LOST: "lost",
}


def error_class(kind: int, status: int) -> str | None:
    """The class name of an outcome: None for ok, `http_<status>` for rejected responses."""
    if kind == ErrorKind.NONE:
        return None
    if kind == ErrorKind.HTTP:
        return f"http_{status}"
    return ERROR_NAMES[kind]


#: What each class means, in words a reader of `loadgen hit`'s report understands.
ERROR_MEANINGS: dict[str, str] = {
    "connect": "could not open a connection (refused, unreachable, or no answer in time)",
    "timeout": "no complete response within --timeout",
    "reset": "the server closed or reset the connection before the response was complete",
    "tls": "the TLS handshake failed (certificate or protocol)",
    "protocol": "the response was not valid HTTP/1.1",
    "dropped": "not sent: max-inflight requests were outstanding",
    "lost": "a queued job that no consumer completed before the run drained",
}


def error_meaning(name: str) -> str:
    """What the class NAME (`connect`, `http_404`, ...) means."""
    if name.startswith("http_"):
        return f"the response's status {name[5:]} is not an ok status (2xx unless --ok-status)"
    return ERROR_MEANINGS.get(name, name)
