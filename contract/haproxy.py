"""haproxy.cfg from plain values (no cloud types): the HAProxy machine of a stack and the local
target both render their configuration here.

One HTTP front for function traffic (`gateway`), routed to a default backend (the platform's
gateway on every worker) or, for the local target, to a backend per function by path; health
checks take a dead backend out within `check_interval_ms * fall`; timeouts are long enough that
a 5-minute function is never cut; a stats front serves the Prometheus exporter and the stats
page; an optional front proxies Prometheus.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
_PATH = re.compile(r"^/[A-Za-z0-9_./-]*$")


@dataclass(frozen=True)
class HaproxyServer:
    name: str
    address: str
    port: int


@dataclass(frozen=True)
class HaproxyBackend:
    """A pool of servers. `path_prefixes` route matching requests here (a prefix matches itself
    and anything below it: /function/echo and /function/echo/x, not /function/echo2)."""

    name: str
    servers: Sequence[HaproxyServer]
    health_path: str = "/healthz"
    tls: bool = False
    verify_tls: bool = False
    path_prefixes: Sequence[str] = ()
    balance: str = "roundrobin"
    #: Checks go to this port instead of each server's own (Kourier: its internal listener).
    check_port: int | None = None
    #: The Host header of the check, where the health path answers only for one (Kourier).
    health_host: str | None = None


@dataclass(frozen=True)
class HaproxySettings:
    backends: Sequence[HaproxyBackend]
    gateway_bind: str = "*:8080"
    stats_bind: str = "*:8404"
    prometheus: HaproxyBackend | None = None
    prometheus_bind: str = "*:9090"
    check_interval_ms: int = 2000
    fall: int = 2
    rise: int = 2
    connect_timeout_ms: int = 5000
    #: Client and server inactivity: above the longest function (5 minutes) with room to spare.
    request_timeout_s: int = 900
    keepalive_timeout_s: int = 75
    #: HAProxy needs about twice this many file descriptors (the HAProxy machine's systemd
    #: limit allows it; the local target passes less).
    maxconn: int = 50000
    log_target: str = "stdout format raw local0"


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _validate(settings: HaproxySettings) -> None:
    _check(bool(settings.backends), "haproxy: at least one backend")
    names = [b.name for b in settings.backends]
    _check(len(names) == len(set(names)), f"haproxy: duplicate backend names in {names}")
    defaults = [b for b in settings.backends if not b.path_prefixes]
    _check(len(defaults) <= 1, "haproxy: at most one backend without path prefixes (the default)")
    for backend in [*settings.backends, *([settings.prometheus] if settings.prometheus else [])]:
        _check(bool(_NAME.match(backend.name)), f"haproxy: bad backend name {backend.name!r}")
        _check(bool(backend.servers), f"haproxy: backend {backend.name} has no servers")
        _check(bool(_PATH.match(backend.health_path)), f"haproxy: bad path {backend.health_path!r}")
        _check(
            backend.balance in {"roundrobin", "leastconn"}, f"haproxy: balance {backend.balance}"
        )
        _check(
            backend.check_port is None or 0 < backend.check_port < 65536,
            f"haproxy: bad check port {backend.check_port}",
        )
        _check(
            backend.health_host is None or bool(_NAME.match(backend.health_host)),
            f"haproxy: bad health check host {backend.health_host!r}",
        )
        for prefix in backend.path_prefixes:
            _check(bool(_PATH.match(prefix)), f"haproxy: bad path prefix {prefix!r}")
        for server in backend.servers:
            _check(bool(_NAME.match(server.name)), f"haproxy: bad server name {server.name!r}")
            _check(0 < server.port < 65536, f"haproxy: bad port {server.port}")
            _check(
                bool(re.match(r"^[A-Za-z0-9_.:-]+$", server.address)),
                f"haproxy: bad address {server.address!r}",
            )


def _backend(backend: HaproxyBackend, settings: HaproxySettings) -> list[str]:
    check = f"check inter {settings.check_interval_ms} fall {settings.fall} rise {settings.rise}"
    if backend.check_port is not None:
        check += f" port {backend.check_port}"
    host = f" hdr Host {backend.health_host}" if backend.health_host else ""
    tls = ""
    if backend.tls:
        tls = (
            " ssl verify required ca-file /etc/ssl/certs/ca-certificates.crt"
            if backend.verify_tls
            else " ssl verify none"
        )
    lines = [
        f"backend {backend.name}",
        f"    balance {backend.balance}",
        "    option httpchk",
        f"    http-check send meth GET uri {backend.health_path}{host}",
        "    http-check expect status 200",
        "    http-reuse safe",
        f"    default-server {check}{tls}",
    ]
    lines += [f"    server {s.name} {s.address}:{s.port}" for s in backend.servers]
    return lines


def render_haproxy(settings: HaproxySettings) -> str:
    """The whole haproxy.cfg; raises ValueError on values HAProxy would misread."""
    _validate(settings)
    globals_ = [
        "global",
        f"    log {settings.log_target}",
        f"    maxconn {settings.maxconn}",
        "    ssl-default-server-options ssl-min-ver TLSv1.2",
    ]
    defaults = [
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option dontlognull",
        "    option http-keep-alive",
        # A connection that fails is tried once more, on another server: a dead worker between
        # two health checks does not turn into an error; a request that reached a function is
        # never resent.
        "    retries 1",
        "    option redispatch 1",
        f"    timeout connect {settings.connect_timeout_ms}ms",
        f"    timeout client {settings.request_timeout_s}s",
        f"    timeout server {settings.request_timeout_s}s",
        f"    timeout tunnel {settings.request_timeout_s}s",
        "    timeout http-request 30s",
        f"    timeout http-keep-alive {settings.keepalive_timeout_s}s",
        "    timeout queue 60s",
    ]
    gateway = ["frontend gateway", f"    bind {settings.gateway_bind}", "    option forwardfor"]
    default_backend = None
    for backend in settings.backends:
        if not backend.path_prefixes:
            default_backend = backend.name
            continue
        pattern = "|".join(re.escape(p.rstrip("/")) for p in backend.path_prefixes)
        gateway.append(f"    use_backend {backend.name} if {{ path_reg ^({pattern})(/|$) }}")
    not_found = [
        "backend not-found",
        '    http-request return status 404 content-type text/plain string "no such function"',
    ]
    gateway.append(f"    default_backend {default_backend or 'not-found'}")
    stats = [
        "frontend stats",
        f"    bind {settings.stats_bind}",
        "    http-request set-log-level silent",
        "    http-request use-service prometheus-exporter if { path /metrics }",
        "    stats enable",
        "    stats uri /stats",
        "    stats refresh 10s",
    ]
    sections = [globals_, defaults, gateway, stats]
    if settings.prometheus:
        sections.append(
            [
                "frontend prometheus",
                f"    bind {settings.prometheus_bind}",
                f"    default_backend {settings.prometheus.name}",
            ]
        )
        sections.append(_backend(settings.prometheus, settings))
    sections += [_backend(b, settings) for b in settings.backends]
    if default_backend is None:
        sections.append(not_found)
    return "\n\n".join("\n".join(section) for section in sections) + "\n"
