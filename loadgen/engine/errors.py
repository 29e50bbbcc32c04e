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


ERROR_NAMES: dict[int, str] = {
    ErrorKind.NONE: "ok",
    ErrorKind.HTTP: "http",
    ErrorKind.CONNECT: "connect",
    ErrorKind.TIMEOUT: "timeout",
    ErrorKind.RESET: "reset",
    ErrorKind.TLS: "tls",
    ErrorKind.PROTOCOL: "protocol",
    ErrorKind.DROPPED: "dropped",
}


def error_class(kind: int, status: int) -> str | None:
    """The class name of an outcome: None for ok, `http_<status>` for rejected responses."""
    if kind == ErrorKind.NONE:
        return None
    if kind == ErrorKind.HTTP:
        return f"http_{status}"
    return ERROR_NAMES[kind]
