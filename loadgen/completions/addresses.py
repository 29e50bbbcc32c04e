"""Where callbacks go: the receiver's listening address and the URL a platform is given, each
checked the same way wherever a user or a request names one (no heavy imports: the CLI's option
parsing and the local gateway use it)."""

import ipaddress
from urllib.parse import urlsplit

#: The receiver's path; the callback URL is `http://HOST:PORT/callback`.
CALLBACK_PATH = "/callback"


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[v6]:PORT`; port 0: any free one) for the receiver; ValueError if not."""
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:0, 0.0.0.0:8099)")
    return host, int(port)


def absolute_http_url(value: str) -> str:
    """`value` if it is an absolute http(s) URL; ValueError saying so otherwise."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value


def callback_url(host: str, port: int) -> str:
    """The URL a platform POSTs results to, for a receiver reached at `host:port`."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{CALLBACK_PATH}"


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (`localhost`, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
