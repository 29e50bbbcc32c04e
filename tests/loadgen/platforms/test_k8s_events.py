"""Kubernetes pod events as OpenFaaS platform records, read from a real HTTPS server on
127.0.0.1 that speaks the two list calls, with a kubeconfig pointing at it.

The JSON bodies are written by hand after the Kubernetes API reference (core/v1): `PodList`
(`items[].metadata.{name, namespace, uid, labels, creationTimestamp}`,
`items[].status.conditions[].{type, status, lastTransitionTime}`) and `EventList`
(`items[].{involvedObject.{kind, name, namespace, uid}, reason, type, source.component,
firstTimestamp, lastTimestamp, eventTime, count}`). The scheduler writes new-style events
(`eventTime` with microseconds, `firstTimestamp` null); the kubelet writes `firstTimestamp`.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import http.server
import ipaddress
import json
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from contract.outputs import StackOutputs
from loadgen.platforms import FunctionSpec, OpenFaasPlatform, PlatformError, make_platform
from loadgen.platforms.k8s_events import PodEvents, parse_kubeconfig, pod_phases

NAMESPACE = "openfaas-fn"
TOKEN = "kube-bearer-token-not-for-logs"
T0 = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)


def at(seconds: float) -> str:
    """The API's `Time` (whole seconds, `Z`)."""
    return (T0 + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro(seconds: float) -> str:
    """The API's `MicroTime`."""
    return (T0 + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pod(name: str, created: float, conditions: dict[str, float]) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": f"uid-{name}",
            "labels": {"faas_function": "echo"},
            "creationTimestamp": at(created),
        },
        "spec": {"containers": [{"name": "echo", "image": "docker.io/alice/faasbench:1"}]},
        "status": {
            "phase": "Running",
            "conditions": [
                {
                    "type": kind,
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": at(moment),
                }
                for kind, moment in conditions.items()
            ]
            + [{"type": "Initialized", "status": "True", "lastTransitionTime": at(created)}],
        },
    }


def event(pod_name: str, reason: str, seconds: float, *, scheduler: bool = False) -> dict[str, Any]:
    common = {
        "metadata": {"name": f"{pod_name}.{reason}", "namespace": NAMESPACE},
        "involvedObject": {
            "kind": "Pod",
            "name": pod_name,
            "namespace": NAMESPACE,
            "uid": f"uid-{pod_name}",
        },
        "reason": reason,
        "message": f"{reason} ...",
        "type": "Normal",
        "count": 1,
    }
    if scheduler:
        return {
            **common,
            "source": {},
            "reportingComponent": "default-scheduler",
            "eventTime": micro(seconds),
            "firstTimestamp": None,
            "lastTimestamp": None,
        }
    return {
        **common,
        "source": {"component": "kubelet", "host": "worker-0"},
        "eventTime": None,
        "firstTimestamp": at(seconds),
        "lastTimestamp": at(seconds),
    }


PODS = [
    pod("echo-7d9-a", 10, {"PodScheduled": 10, "ContainersReady": 14, "Ready": 14}),
    pod("echo-7d9-b", 40, {"PodScheduled": 40, "ContainersReady": 43, "Ready": 43}),
    pod("echo-7d9-old", -300, {"PodScheduled": -300, "Ready": -298}),
]
EVENTS = {
    "echo-7d9-a": [
        event("echo-7d9-a", "Scheduled", 10.25, scheduler=True),
        event("echo-7d9-a", "Pulling", 11),
        event("echo-7d9-a", "Pulled", 13),
        event("echo-7d9-a", "Created", 13),
        event("echo-7d9-a", "Started", 14),
    ],
    # No events kept (expired): the conditions still tell scheduling and readiness.
    "echo-7d9-b": [],
    "echo-7d9-old": [event("echo-7d9-old", "Started", -299)],
}


@dataclass
class Pki:
    ca_pem: bytes
    server: ssl.SSLContext
    client_cert_pem: bytes
    client_key_pem: bytes


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    *,
    server: bool = False,
    client: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name = (
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])]) if issuer else name
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if client:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def make_pki(tmp: Path, *, require_client_cert: bool) -> Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (k3s's layout)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("test-ca", ca_key, None)
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _certificate("kube-apiserver", server_key, ("test-ca", ca_key), server=True)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = _certificate("system:admin", client_key, ("test-ca", ca_key), client=True)
    (tmp / "server.crt").write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "server.key").write_bytes(_key_pem(server_key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "server.crt", tmp / "server.key")
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=ca_pem.decode())
    return Pki(
        ca_pem=ca_pem,
        server=context,
        client_cert_pem=client_cert.public_bytes(serialization.Encoding.PEM),
        client_key_pem=_key_pem(client_key),
    )


class ApiServer:
    """The two list endpoints, over TLS; with `token`, bearer auth is required."""

    def __init__(self, pki: Pki, token: str | None = None) -> None:
        self.requests: list[str] = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.requests.append(self.path)
                if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
                    return self._send(401, {"kind": "Status", "reason": "Unauthorized"})
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == f"/api/v1/namespaces/{NAMESPACE}/pods":
                    selected = [
                        p
                        for p in PODS
                        if query.get("labelSelector")
                        == f"faas_function={p['metadata']['labels']['faas_function']}"
                    ]
                    return self._send(
                        200, {"kind": "PodList", "apiVersion": "v1", "items": selected}
                    )
                if url.path == f"/api/v1/namespaces/{NAMESPACE}/events":
                    name = query.get("fieldSelector", "").removeprefix("involvedObject.name=")
                    items = EVENTS.get(name, [])
                    return self._send(
                        200, {"kind": "EventList", "apiVersion": "v1", "items": items}
                    )
                if url.path == "/version":
                    return self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.4"})
                return self._send(404, {"kind": "Status", "reason": "NotFound"})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = pki.server.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def kubeconfig(server: str, pki: Pki, *, token: str | None = None) -> str:
    user: dict[str, str] = {}
    if token is None:
        user["client-certificate-data"] = base64.b64encode(pki.client_cert_pem).decode()
        user["client-key-data"] = base64.b64encode(pki.client_key_pem).decode()
    else:
        user["token"] = token
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "bench",
                    "cluster": {
                        "server": server,
                        "certificate-authority-data": base64.b64encode(pki.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": "bench-admin", "user": user}],
            "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench-admin"}}],
            "current-context": "bench",
        }
    )


@pytest.fixture
def cert_server(tmp_path: Path) -> Iterator[tuple[ApiServer, Pki]]:
    pki = make_pki(tmp_path, require_client_cert=True)
    server = ApiServer(pki)
    yield server, pki
    server.stop()


def ns(seconds: float) -> int:
    return int((T0 + datetime.timedelta(seconds=seconds)).timestamp()) * 1_000_000_000


def read(source: PodEvents, since: float, until: float) -> list[Any]:
    async def go() -> list[Any]:
        try:
            return await source.records("echo", ns(since), ns(until))
        finally:
            await source.aclose()

    return asyncio.run(go())


def test_new_pods_become_cold_records_with_their_phases(
    cert_server: tuple[ApiServer, Pki],
) -> None:
    server, pki = cert_server
    source = PodEvents(parse_kubeconfig(kubeconfig(server.url, pki)))
    records = read(source, 0, 60)
    assert [r.id for r in records] == ["echo-7d9-a", "echo-7d9-b"]
    assert all(r.cold for r in records)
    assert records[0].phases == {
        "scheduled_ms": 250.0,
        "pulling_ms": 1000.0,
        "pulled_ms": 3000.0,
        "created_ms": 3000.0,
        "started_ms": 4000.0,
        "containers_ready_ms": 4000.0,
        "ready_ms": 4000.0,
    }
    assert records[1].phases == {
        "scheduled_ms": 0.0,
        "containers_ready_ms": 3000.0,
        "ready_ms": 3000.0,
    }
    # One pod list, then events only for the pods in the window.
    assert server.requests[0] == (
        f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector=faas_function%3Decho"
    )
    assert len(server.requests) == 3
    assert all("echo-7d9-old" not in request for request in server.requests)


def test_a_window_without_new_pods_has_no_records(cert_server: tuple[ApiServer, Pki]) -> None:
    server, pki = cert_server
    assert read(PodEvents(parse_kubeconfig(kubeconfig(server.url, pki))), 100, 200) == []


def test_bearer_tokens_are_sent_and_kept_out_of_errors(tmp_path: Path) -> None:
    pki = make_pki(tmp_path, require_client_cert=False)
    server = ApiServer(pki, token=TOKEN)
    try:
        good = PodEvents(parse_kubeconfig(kubeconfig(server.url, pki, token=TOKEN)))
        assert [r.id for r in read(good, 0, 60)] == ["echo-7d9-a", "echo-7d9-b"]
        bad = PodEvents(parse_kubeconfig(kubeconfig(server.url, pki, token="wrong")))
        with pytest.raises(PlatformError, match="401") as caught:
            read(bad, 0, 60)
        assert "wrong" not in str(caught.value)
        assert TOKEN not in repr(parse_kubeconfig(kubeconfig(server.url, pki, token=TOKEN)))
    finally:
        server.stop()


def test_a_server_outside_the_kubeconfigs_ca_is_refused(
    cert_server: tuple[ApiServer, Pki], tmp_path: Path
) -> None:
    server, _ = cert_server
    (tmp_path / "other").mkdir()
    other = make_pki(tmp_path / "other", require_client_cert=False)
    with pytest.raises(PlatformError, match="cannot reach the API"):
        read(PodEvents(parse_kubeconfig(kubeconfig(server.url, other))), 0, 60)


def test_bad_kubeconfigs_are_refused_without_echoing_them() -> None:
    with pytest.raises(PlatformError, match="not a kubeconfig") as caught:
        parse_kubeconfig("token: s3cr3t\n")
    assert "s3cr3t" not in str(caught.value)


def test_unreadable_key_material_is_refused(tmp_path: Path) -> None:
    document = yaml.safe_load(
        kubeconfig("https://127.0.0.1:1", make_pki(tmp_path, require_client_cert=False))
    )
    document["users"][0]["user"] = {"client-certificate": str(tmp_path / "absent.crt")}
    with pytest.raises(PlatformError, match="unreadable \\(FileNotFoundError\\)"):
        parse_kubeconfig(yaml.safe_dump(document))


def test_conditions_fill_in_only_where_events_say_nothing() -> None:
    phases = pod_phases(
        pod("p", 0, {"PodScheduled": 1, "Ready": 5}),
        [event("p", "Scheduled", 0.5, scheduler=True), event("p", "Started", 4)],
    )
    assert phases == {"scheduled_ms": 500.0, "started_ms": 4000.0, "ready_ms": 5000.0}


def test_make_platform_reads_pod_events_on_kubernetes(cert_server: tuple[ApiServer, Pki]) -> None:
    server, pki = cert_server
    openfaas = {
        "url": "http://10.0.0.5:8080",
        "username": "admin",
        "password": "pw",
        "namespace": NAMESPACE,
        "limits": {"max_functions": 15, "max_replicas": 5, "scale_to_zero": False, "idler": False},
        "versions": {"gateway": "0.27.13", "provider": "faas-netes 0.18.17"},
    }
    outputs = StackOutputs.model_validate(
        {
            "cloud": "aws",
            "orchestrator": "k8s",
            "framework": "openfaas",
            "openfaas": openfaas,
            "kubeconfig": kubeconfig(server.url, pki),
        }
    )
    platform = make_platform(outputs, "docker.io/alice/faasbench-functions:0.1.0-0123456789ab")
    assert isinstance(platform, OpenFaasPlatform)

    async def go() -> list[Any]:
        try:
            return await platform.records(FunctionSpec(function="echo"), ns(0), ns(60))
        finally:
            await platform.aclose()

    assert [r.id for r in asyncio.run(go())] == ["echo-7d9-a", "echo-7d9-b"]


def test_doctor_reaches_the_api_with_the_kubeconfigs_ca_and_client_certificate(
    cert_server: tuple[ApiServer, Pki],
) -> None:
    from contract.outputs import StackOutputs
    from loadgen.doctor import run_checks

    server, pki = cert_server

    def check(text: str) -> Any:
        outputs = StackOutputs.model_validate(
            {"cloud": "existing", "orchestrator": "k8s", "framework": "openfaas",
             "kubeconfig": text}
        )  # fmt: skip
        [result] = asyncio.run(run_checks(outputs))
        return result

    ok = check(kubeconfig(server.url, pki))
    assert (ok.name, ok.ok, ok.detail) == ("kubernetes", True, "HTTP 200")
    assert server.requests[-1] == "/version"
    unreadable = check("current-context: nowhere\n")
    assert (unreadable.ok, unreadable.detail) == (False, "the kubeconfig cannot be read")
