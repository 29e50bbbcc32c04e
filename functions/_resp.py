"""A minimal Redis client (RESP2 over one TCP connection), standard library only: what the
queue consumer needs from Redis, in the function image that has nothing installed.

Commands are sent as RESP arrays of bulk strings; replies are parsed into Python values
(simple string -> str, error -> `RespError`, integer -> int, bulk string -> bytes or None,
array -> list or None).
"""

from __future__ import annotations

import socket


class RespError(RuntimeError):
    """An error reply from the server (`-ERR ...`), or a reply that is not RESP."""


def encode(*args: str | bytes | int | float) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Connection:
    """One connection, authenticated with `password` when one is given."""

    def __init__(
        self, host: str, port: int, password: str | None = None, *, timeout_s: float = 30.0
    ) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout_s)
        self._file = self._sock.makefile("rb")
        if password:
            self.command("AUTH", password)

    def command(self, *args: str | bytes | int | float) -> object:
        self._sock.sendall(encode(*args))
        return self._reply()

    def _line(self) -> bytes:
        line = self._file.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("the server closed the connection")
        return line[:-2]

    def _reply(self) -> object:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self._file.read(size + 2)
            if len(data) != size + 2:
                raise ConnectionError("the server closed the connection")
            return data[:-2]
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self._reply() for _ in range(count)]
        raise RespError(f"not a RESP reply: {line[:40]!r}")

    def close(self) -> None:
        self._file.close()
        self._sock.close()
