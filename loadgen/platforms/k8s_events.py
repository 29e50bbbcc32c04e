"""Kubernetes pod events as platform records: how a function's new pods spent their cold start.

OpenFaaS keeps no per-request record, but on Kubernetes every pod it creates leaves a trail:
the pod's `creationTimestamp` and conditions (`PodScheduled`, `ContainersReady`, `Ready`, each
with a `lastTransitionTime`) and the events about it (`Scheduled` from the scheduler; `Pulling`,
`Pulled`, `Created`, `Started` from the kubelet). One record per pod created in a run's window,
`id` the pod's name, `cold: True`, `phases` in milliseconds from the pod's creation.

Read with the stack's `kubeconfig` (API server, CA, client certificate or bearer token) through
two list calls (`GET /api/v1/namespaces/{ns}/pods?labelSelector=faas_function=<name>` and
`GET /api/v1/namespaces/{ns}/events?fieldSelector=involvedObject.name=<pod>`), with no
Kubernetes client library. Kubernetes keeps most of these times to the second (`eventTime`,
set by the scheduler, is to the microsecond), so phases are as coarse as that.
"""

from __future__ import annotations

import base64
import datetime
import os
import ssl
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from loadgen.results.models import PlatformRecord

from ._http import call
from .base import PlatformError

#: Event reasons of a pod's start, by the phase they mark (first occurrence wins).
EVENT_PHASES = {
    "Scheduled": "scheduled_ms",
    "Pulling": "pulling_ms",
    "Pulled": "pulled_ms",
    "Created": "created_ms",
    "Started": "started_ms",
}
#: Pod conditions, by the phase their transition to True marks.
CONDITION_PHASES = {
    "PodScheduled": "scheduled_ms",
    "ContainersReady": "containers_ready_ms",
    "Ready": "ready_ms",
}
PLATFORM = "kubernetes"
_SECOND_NS = 1_000_000_000


@dataclass(frozen=True)
class KubeAccess:
    """How to reach one API server: what a kubeconfig's current context names."""

    server: str
    ca_pem: bytes | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    token: str | None = field(default=None, repr=False)
    insecure: bool = False

    def __repr__(self) -> str:  # key material and tokens never reach a log line
        return f"KubeAccess(server={self.server!r})"


def _named(items: Iterable[Mapping[str, Any]], name: str, kind: str) -> Mapping[str, Any]:
    for item in items or ():
        if item.get("name") == name:
            return item.get(kind) or {}
    raise PlatformError(f"kubeconfig: the current context names {kind} {name!r}, which is absent")


def _material(section: Mapping[str, Any], key: str) -> bytes | None:
    """`<key>-data` (base64, inline) or `<key>` (a file path), as kubectl reads them."""
    data = section.get(f"{key}-data")
    if data:
        return base64.b64decode(data)
    path = section.get(key)
    if path:
        return Path(os.path.expanduser(path)).read_bytes()
    return None


def parse_kubeconfig(text: str) -> KubeAccess:
    """The current context's API server and credentials."""
    try:
        document = yaml.safe_load(text)
        current = document["current-context"]
        context = _named(document.get("contexts"), current, "context")
        cluster = _named(document.get("clusters"), context["cluster"], "cluster")
        user = _named(document.get("users"), context["user"], "user")
        server = cluster["server"].rstrip("/")
    except PlatformError:
        raise
    except Exception:  # any shape error: the message must not echo the document
        raise PlatformError(
            "kubeconfig: not a kubeconfig with a current-context, its cluster's server and user"
        ) from None
    try:
        return KubeAccess(
            server=server,
            ca_pem=_material(cluster, "certificate-authority"),
            client_cert_pem=_material(user, "client-certificate"),
            client_key_pem=_material(user, "client-key"),
            token=user.get("token"),
            insecure=bool(cluster.get("insecure-skip-tls-verify", False)),
        )
    except (OSError, ValueError) as exc:  # unreadable file or bad base64; never the content
        raise PlatformError(
            f"kubeconfig: a certificate or key of the current context is unreadable "
            f"({type(exc).__name__})"
        ) from None


def tls_context(access: KubeAccess) -> ssl.SSLContext:
    """Verify the server against the kubeconfig's CA and present its client certificate.

    `ssl` loads certificate chains from files only: the key goes to a private temporary file
    that is removed as soon as it is loaded.
    """
    context = ssl.create_default_context(
        cadata=access.ca_pem.decode() if access.ca_pem is not None else None
    )
    if access.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if access.client_cert_pem is not None and access.client_key_pem is not None:
        with tempfile.TemporaryDirectory(prefix="faasbench-kube-") as folder:
            cert, key = Path(folder) / "client.crt", Path(folder) / "client.key"
            for path, data in ((cert, access.client_cert_pem), (key, access.client_key_pem)):
                path.touch(mode=0o600)
                path.write_bytes(data)
            context.load_cert_chain(cert, key)
    return context


def parse_time(value: str | None) -> datetime.datetime | None:
    """RFC 3339 `Time` (seconds) or `MicroTime` (microseconds), as the API writes them."""
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _ns(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000


def event_time(event: Mapping[str, Any]) -> datetime.datetime | None:
    """When an event first happened: `eventTime` (new-style events), else `firstTimestamp`,
    else the object's creation."""
    for key in ("eventTime", "firstTimestamp", "lastTimestamp"):
        moment = parse_time(event.get(key))
        if moment is not None:
            return moment
    return parse_time((event.get("metadata") or {}).get("creationTimestamp"))


def pod_phases(pod: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Milliseconds from the pod's creation to each phase its events and conditions show."""
    created = parse_time(pod["metadata"]["creationTimestamp"])
    assert created is not None
    moments: dict[str, datetime.datetime] = {}
    for event in events:
        phase = EVENT_PHASES.get(event.get("reason", ""))
        moment = event_time(event)
        if phase is None or moment is None:
            continue
        if phase not in moments or moment < moments[phase]:
            moments[phase] = moment
    for condition in (pod.get("status") or {}).get("conditions") or ():
        phase = CONDITION_PHASES.get(condition.get("type", ""))
        moment = parse_time(condition.get("lastTransitionTime"))
        if phase is None or moment is None or condition.get("status") != "True":
            continue
        # An event is the first word on scheduling; the condition fills in where none is kept.
        moments.setdefault(phase, moment)
    return {
        phase: round((moment - created).total_seconds() * 1000, 3)
        for phase, moment in sorted(moments.items(), key=lambda item: item[1])
    }


class PodEvents:
    """`RecordSource` for functions on Kubernetes (OpenFaaS's, KEDA's, Knative's): the
    function's pods created in a window."""

    def __init__(
        self,
        access: KubeAccess,
        namespace: str = "openfaas-fn",
        *,
        timeout_s: float = 30.0,
        label: str = "faas_function",
    ) -> None:
        self._access = access
        self._namespace = namespace
        #: The pod label naming the function (OpenFaaS `faas_function`, KEDA's own, Knative
        #: `serving.knative.dev/service`).
        self._label = label
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        """Made on first use, so a stack whose records are never read needs no working TLS."""
        if self._client is None:
            try:
                verify = tls_context(self._access)
            except (ssl.SSLError, ValueError, OSError) as exc:
                raise PlatformError(
                    f"kubernetes: the kubeconfig's certificates are unusable ({type(exc).__name__})"
                ) from None
            headers = {"Accept": "application/json"}
            if self._access.token:
                headers["Authorization"] = f"Bearer {self._access.token}"
            self._client = httpx.AsyncClient(
                base_url=self._access.server,
                verify=verify,
                headers=headers,
                timeout=self._timeout_s,
            )
        return self._client

    async def _list(self, resource: str, function: str, **selectors: str) -> list[dict[str, Any]]:
        response = await call(
            self._http(),
            "GET",
            f"/api/v1/namespaces/{self._namespace}/{resource}",
            platform=PLATFORM,
            action=f"listing {resource}",
            function=function,
            secrets=[self._access.token] if self._access.token else [],
            params=selectors,
        )
        items = response.json().get("items")
        return list(items or [])

    async def records(self, function: str, since_ns: int, until_ns: int) -> list[PlatformRecord]:
        """One cold record per pod of `function` created in [since_ns, until_ns]."""
        pods = await self._list("pods", function, labelSelector=f"{self._label}={function}")
        records = []
        for pod in pods:
            created = parse_time(pod["metadata"].get("creationTimestamp"))
            # creationTimestamp is truncated to the second: a pod counts when that second
            # overlaps the window.
            if created is None or not since_ns - _SECOND_NS < _ns(created) <= until_ns:
                continue
            name = pod["metadata"]["name"]
            events = await self._list(
                "events", function, fieldSelector=f"involvedObject.name={name}"
            )
            uid = pod["metadata"].get("uid")
            # A name is reused only by a pod of the same name later; its uid tells them apart.
            events = [e for e in events if e.get("involvedObject", {}).get("uid") in (uid, None)]
            records.append(PlatformRecord(id=name, cold=True, phases=pod_phases(pod, events)))
        return sorted(records, key=lambda record: record.id)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
