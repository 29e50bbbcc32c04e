"""The request every engine sends: one URL, method, header set and body, encoded once.

The data plane sends the same bytes for every request of a run, so the request line and
headers are serialised a single time and written as one buffer.
"""

import re
from functools import cached_property
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from loadgen.userfiles import excerpt

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL = 8192
"""Longer request lines are refused by most servers (HAProxy's default buffer is 16 KiB)."""
USER_AGENT = "faasbench-loadgen"


class RequestSpec(BaseModel):
    """What to send: validated so a bad URL or header fails before any process starts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        shown = excerpt(url)
        if any(c in url for c in "\r\n \t"):
            raise ValueError(f"URL contains whitespace: {shown}")
        if len(url) > MAX_URL or not url.isascii() or not url.isprintable():
            raise ValueError(
                f"URL must be printable ASCII of at most {MAX_URL} characters (percent-encode "
                f"the rest; a host in punycode): {shown}"
            )
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS:
            raise ValueError(f"URL scheme must be http or https, got {shown}")
        if not parts.hostname:
            raise ValueError(f"URL has no host: {shown}")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"URL has an invalid port: {shown}") from exc
        if port == 0:
            raise ValueError(f"URL has an invalid port: {shown}")
        return url

    @field_validator("method")
    @classmethod
    def _check_method(cls, method: str) -> str:
        if not _TOKEN.match(method):
            raise ValueError(f"invalid HTTP method {excerpt(method)}")
        return method.upper()

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        for name, value in headers:
            if not _TOKEN.match(name):
                raise ValueError(f"invalid header name {excerpt(name)}")
            if "\r" in value or "\n" in value:
                raise ValueError(f"header {excerpt(name)} has a line break in its value")
            if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in value):
                raise ValueError(f"header {excerpt(name)} has a control character in its value")
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                raise ValueError(
                    f"header {excerpt(name)}: the value must be Latin-1 text (HTTP/1.1 sends "
                    "no other)"
                ) from None
        return headers

    @model_validator(mode="after")
    def _check_framing(self) -> "RequestSpec":
        names = {name.lower() for name, _ in self.headers}
        if "transfer-encoding" in names:
            raise ValueError("Transfer-Encoding cannot be set: bodies are sent with Content-Length")
        if "content-length" in names:
            raise ValueError("Content-Length cannot be set: it is computed from the body")
        return self

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def host(self) -> str:
        hostname = urlsplit(self.url).hostname
        assert hostname is not None
        return hostname

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or _DEFAULT_PORTS[parts.scheme]

    @property
    def is_tls(self) -> bool:
        return self.scheme == "https"

    @property
    def target(self) -> str:
        """The request-target: path and query, never empty."""
        parts = urlsplit(self.url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        return target

    @property
    def host_header(self) -> str:
        parts = urlsplit(self.url)
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        if parts.port is not None and parts.port != _DEFAULT_PORTS[parts.scheme]:
            host = f"{host}:{parts.port}"
        return host

    @cached_property
    def wire(self) -> bytes:
        """The full request as bytes on the wire (HTTP/1.1, keep-alive)."""
        given = {name.lower() for name, _ in self.headers}
        lines = [f"{self.method} {self.target} HTTP/1.1"]
        if "host" not in given:
            lines.append(f"Host: {self.host_header}")
        if "user-agent" not in given:
            lines.append(f"User-Agent: {USER_AGENT}")
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        if self.body or self.method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Length: {len(self.body)}")
        head = "\r\n".join(lines) + "\r\n\r\n"
        return head.encode("latin-1") + self.body
