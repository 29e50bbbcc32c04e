"""haproxy.cfg: checked by `haproxy -c` for every platform, and run for real on loopback."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from support.jitter import SleepProbe
from support.servers import Backend, free_port, get, running_haproxy, self_signed_context

from contract.haproxy import (
    HaproxyBackend,
    HaproxyServer,
    HaproxySettings,
    render_haproxy,
)

WORKERS = ["10.0.2.11", "10.0.2.12"]
PLATFORMS = {
    "openfaas-k8s": HaproxyBackend(
        "openfaas", [HaproxyServer(f"w{i}", ip, 31112) for i, ip in enumerate(WORKERS)]
    ),
    "openfaas-swarm": HaproxyBackend(
        "openfaas", [HaproxyServer(f"w{i}", ip, 8080) for i, ip in enumerate(WORKERS)]
    ),
    "openfaas-nomad": HaproxyBackend(
        "openfaas", [HaproxyServer(f"w{i}", ip, 8080) for i, ip in enumerate(WORKERS)]
    ),
    "openwhisk-k8s": HaproxyBackend(
        "openwhisk",
        [HaproxyServer(f"w{i}", ip, 31001) for i, ip in enumerate(WORKERS)],
        health_path="/api/v1",
        tls=True,
    ),
}


def haproxy_check(config: str, tmp: Path) -> str:
    path = tmp / "haproxy.cfg"
    path.write_text(config)
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_platform_renders_a_config_haproxy_accepts_without_warnings(
    platform: str, tmp_path: Path
) -> None:
    settings = HaproxySettings(
        backends=[PLATFORMS[platform]],
        prometheus=HaproxyBackend(
            "prometheus", [HaproxyServer("p", "10.0.2.10", 9090)], health_path="/-/ready"
        ),
    )
    output = haproxy_check(render_haproxy(settings), tmp_path)
    assert "WARNING" not in output
    assert "ALERT" not in output


def test_timeouts_let_a_five_minute_function_finish() -> None:
    config = render_haproxy(HaproxySettings(backends=[PLATFORMS["openfaas-k8s"]]))
    for line in ("timeout client 900s", "timeout server 900s"):
        assert line in config
    assert "timeout http-request 30s" in config  # headers only: slow clients, not long calls


def test_local_target_routes_a_backend_per_function(tmp_path: Path) -> None:
    echo, matrix = Backend("echo"), Backend("matrix")
    port, stats = free_port(), free_port()
    settings = HaproxySettings(
        backends=[
            HaproxyBackend(
                "fn-echo",
                [HaproxyServer("r0", "127.0.0.1", echo.port)],
                health_path="/_/health",
                path_prefixes=["/function/echo"],
            ),
            HaproxyBackend(
                "fn-matrix",
                [HaproxyServer("r0", "127.0.0.1", matrix.port)],
                health_path="/_/health",
                path_prefixes=["/function/matrix/"],
            ),
        ],
        gateway_bind=f"127.0.0.1:{port}",
        stats_bind=f"127.0.0.1:{stats}",
        maxconn=2000,
        check_interval_ms=200,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with running_haproxy(render_haproxy(settings), tmp_path, f"http://127.0.0.1:{stats}/stats"):
            time.sleep(0.5)
            assert get(f"{base}/function/echo") == (200, "echo /function/echo\n")
            assert get(f"{base}/function/echo/sub?x=1") == (200, "echo /function/echo/sub?x=1\n")
            assert get(f"{base}/function/matrix") == (200, "matrix /function/matrix\n")
            assert get(f"{base}/function/echo2")[0] == 404
            status, metrics = get(f"http://127.0.0.1:{stats}/metrics")
            assert status == 200
            assert "haproxy_backend_" in metrics
    finally:
        echo.stop()
        matrix.stop()


def server_state(stats: int, backend: str, server: str) -> str:
    """The server's status column on HAProxy's CSV stats page (UP, DOWN, ...)."""
    _, page = get(f"http://127.0.0.1:{stats}/stats;csv")
    lines = page.splitlines()
    columns = lines[0].lstrip("# ").split(",")
    [row] = [line for line in lines if line.startswith(f"{backend},{server},")]
    return row.split(",")[columns.index("status")]


def test_a_killed_backend_is_taken_out_within_the_check_interval(tmp_path: Path) -> None:
    alive, doomed = Backend("alive"), Backend("doomed")
    port, stats = free_port(), free_port()
    interval_ms, fall = 200, 2
    settings = HaproxySettings(
        backends=[
            HaproxyBackend(
                "openfaas",
                [
                    HaproxyServer("w0", "127.0.0.1", alive.port),
                    HaproxyServer("w1", "127.0.0.1", doomed.port),
                ],
            )
        ],
        gateway_bind=f"127.0.0.1:{port}",
        stats_bind=f"127.0.0.1:{stats}",
        maxconn=2000,
        check_interval_ms=interval_ms,
        fall=fall,
        rise=1,
    )
    url = f"http://127.0.0.1:{port}/function/echo"
    try:
        with (
            running_haproxy(render_haproxy(settings), tmp_path, f"http://127.0.0.1:{stats}/stats"),
            SleepProbe() as probe,
        ):
            served = {get(url)[1].split()[0] for _ in range(10)}
            assert served == {"alive", "doomed"}, "both backends serve before the kill"
            doomed.stop()
            killed = time.monotonic()
            states = [server_state(stats, "openfaas", "w1")]
            while states[-1] != "DOWN":
                assert time.monotonic() - killed < 30, f"w1 never went DOWN: {states}"
                time.sleep(0.02)
                states.append(server_state(stats, "openfaas", "w1"))
            down_after_s = time.monotonic() - killed
            # Out within `fall` checks, plus one interval for where in its cycle the kill
            # landed (plus however late this machine ran HAProxy's checks).
            assert down_after_s < (fall + 1) * interval_ms / 1000 + probe.slack(0.3)
            results = [get(url) for _ in range(40)]
            assert all(status == 200 for status, _ in results)
            assert {body.split()[0] for _, body in results} == {"alive"}
    finally:
        alive.stop()


@pytest.mark.parametrize("verify", [False, True], ids=["self-signed-accepted", "verified"])
def test_tls_backend_with_a_self_signed_certificate(tmp_path: Path, verify: bool) -> None:
    whisk = Backend("openwhisk", tls=self_signed_context(tmp_path))
    port, stats = free_port(), free_port()
    settings = HaproxySettings(
        backends=[
            HaproxyBackend(
                "openwhisk",
                [HaproxyServer("w0", "127.0.0.1", whisk.port)],
                health_path="/api/v1",
                tls=True,
                verify_tls=verify,
            )
        ],
        gateway_bind=f"127.0.0.1:{port}",
        stats_bind=f"127.0.0.1:{stats}",
        maxconn=2000,
        check_interval_ms=200,
    )
    try:
        with running_haproxy(render_haproxy(settings), tmp_path, f"http://127.0.0.1:{stats}/stats"):
            time.sleep(0.8)
            status, body = get(f"http://127.0.0.1:{port}/api/v1/namespaces/_/actions/echo")
            if verify:
                assert status == 503, "a certificate no CA signed must not be trusted"
            else:
                assert (status, body) == (200, "openwhisk /api/v1/namespaces/_/actions/echo\n")
    finally:
        whisk.stop()


def call_through_haproxy(tmp_path: Path, request_timeout_s: int, delay_s: float) -> tuple:
    """A function taking `delay_s` behind HAProxy rendered with `request_timeout_s`: the
    status and body the caller got, and how long it waited."""
    function = Backend("slow", delay_s=delay_s)
    port, stats = free_port(), free_port()
    settings = HaproxySettings(
        backends=[HaproxyBackend("openfaas", [HaproxyServer("w0", "127.0.0.1", function.port)])],
        gateway_bind=f"127.0.0.1:{port}",
        stats_bind=f"127.0.0.1:{stats}",
        maxconn=2000,
        check_interval_ms=1000,
        request_timeout_s=request_timeout_s,
    )
    config = render_haproxy(settings)
    for kind in ("client", "server", "tunnel"):
        assert f"timeout {kind} {request_timeout_s}s" in config
    tmp_path.mkdir(exist_ok=True)
    try:
        with running_haproxy(config, tmp_path, f"http://127.0.0.1:{stats}/stats"):
            started = time.monotonic()
            status, body = get(f"http://127.0.0.1:{port}/function/sleep", timeout=delay_s + 120)
            return status, body, time.monotonic() - started
    finally:
        function.stop()


def test_a_function_just_under_the_timeout_is_not_cut_and_one_over_it_is(tmp_path: Path) -> None:
    """The five-minute test below, scaled down: HAProxy rendered for 3 s calls lets a 2 s call
    finish (its headers come only at the end, so `timeout http-request` must not apply) and
    cuts a 5 s one at 3 s, so the rendered timeout is the one in force."""
    status, body, waited_s = call_through_haproxy(tmp_path / "under", 3, delay_s=2.0)
    assert (status, body) == (200, "slow /function/sleep\n")
    assert waited_s >= 2.0
    status, _, waited_s = call_through_haproxy(tmp_path / "over", 3, delay_s=5.0)
    assert status == 504
    assert 3.0 <= waited_s < 5.0


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_a_five_minute_function_is_not_cut(tmp_path: Path) -> None:
    """The stack's own settings, for real: a call of just over five minutes comes back."""
    settings = render_haproxy(HaproxySettings(backends=[PLATFORMS["openfaas-k8s"]]))
    [timeout] = [line.split()[-1] for line in settings.splitlines() if "timeout server" in line]
    status, body, waited_s = call_through_haproxy(tmp_path, int(timeout.rstrip("s")), 302)
    assert (status, body) == (200, "slow /function/sleep\n")
    assert waited_s >= 302


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        (HaproxyBackend("a b", [HaproxyServer("s", "10.0.0.1", 80)]), "bad backend name"),
        (HaproxyBackend("b", []), "has no servers"),
        (HaproxyBackend("b", [HaproxyServer("s", "10.0.0.1", 0)]), "bad port"),
        (HaproxyBackend("b", [HaproxyServer("s", "10.0.0.1 x", 80)]), "bad address"),
        (HaproxyBackend("b", [HaproxyServer("s", "h", 80)], health_path="x"), "bad path"),
    ],
)
def test_values_haproxy_would_misread_are_refused(backend: HaproxyBackend, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_haproxy(HaproxySettings(backends=[backend]))


def test_haproxy_component_renders_the_workers_and_prometheus(tmp_path: Path) -> None:
    from support.pulumi_mocks import resolve, run_under_mocks, step_of

    from components.haproxy import Haproxy, HaproxyArgs, PlatformFront
    from components.naming import Naming
    from components.ssh_key import SshKeyPair
    from stacks.compose import build_network
    from stacks.read_config import load_stack_config

    config = load_stack_config({"cloud": "openstack", "allowedSshCidrs": "203.0.113.0/24",
                                "openstackExternalNetwork": "ext", "openstackImage": "u",
                                "openstackFlavor": "m1"})  # fmt: skip

    def body() -> dict[str, object]:
        naming = Naming("faasbench", "lbtest")
        network = build_network(config, naming, SshKeyPair("key"))
        haproxy = Haproxy(
            "haproxy",
            HaproxyArgs(
                naming=naming,
                network=network,
                size="m1",
                haproxy_version="2.8.*",
                platform=PlatformFront("openwhisk", 31001, "/api/v1", tls=True),
                workers=["192.168.0.21", "192.168.0.22"],
                prometheus=["192.168.0.20:31090"],
            ),
        )
        return {
            "gateway": resolve(haproxy.gateway_url),
            "prometheus": resolve(haproxy.prometheus_url),
        }

    mocks, urls = run_under_mocks(body, stack="lbtest")
    [step] = mocks.of_type("command:remote:Command")
    assert step_of(step.inputs["stdin"]) == "haproxy-server"
    assert "192.168.0.21:31001" in step.inputs["stdin"]
    assert "ssl verify none" in step.inputs["stdin"]
    assert "192.168.0.20:31090" in step.inputs["stdin"]
    host = urls["gateway"].removeprefix("http://").removesuffix(":8080")
    assert urls["prometheus"] == f"http://{host}:9090"
