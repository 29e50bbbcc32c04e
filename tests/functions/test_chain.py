"""`chain` through a gateway: a small router on 127.0.0.1 that serves the OpenFaaS path
`/function/<name>` by forwarding to real `functions.serve` processes."""

from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.descriptors import Call, descriptors_changed
from support.function_servers import ServeProcess
from support.servers import free_port

from functions import chain, matrix
from functions._params import FunctionError, ParamError
from functions._registry import load
from functions._runtime import invoke

Serve = Callable[..., ServeProcess]
#: Knative Services' host suffix: `<namespace>.<domain>`.
SUFFIX = "knative-fn.knative.faasbench.test"


class Router:
    """Routes `/function/<name>` (OpenFaaS) or `/` with Host `<name>.<SUFFIX>` (Knative through
    Kourier) to the port registered for `name`; 404 otherwise."""

    def __init__(self) -> None:
        self.routes: dict[str, int] = {}
        self.paths: list[str] = []
        self.hosts: list[str] = []
        router = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                router.paths.append(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                prefix, _, name = self.path.partition("/function/")
                host = self.headers.get("Host", "")
                router.hosts.append(host)
                if self.path == "/" and host.endswith(f".{SUFFIX}"):
                    prefix, name = "", host.removesuffix(f".{SUFFIX}")
                port = router.routes.get(name) if prefix == "" else None
                if port is None:
                    status, answer = 404, b"no such function"
                else:
                    upstream = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    try:
                        upstream.request("POST", "/", body=body, headers=dict(self.headers))
                        response = upstream.getresponse()
                        status, answer = response.status, response.read()
                    finally:
                        upstream.close()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def router() -> Iterator[Router]:
    router = Router()
    yield router
    router.close()


def test_callee_url_is_the_openfaas_gateway_path() -> None:
    assert chain.callee_url("http://gw:8080", "matrix") == "http://gw:8080/function/matrix"
    assert chain.callee_url("http://gw:8080/", "chain") == "http://gw:8080/function/chain"


def test_depth_one_calls_matrix_and_returns_its_response(serve: Serve, router: Router) -> None:
    router.routes["matrix"] = serve("matrix").port
    result = chain.main({"gateway": router.url, "n": 7, "seed": 3, "unrelated": True})
    assert router.paths == ["/function/matrix"]
    assert result["depth"] == 1
    assert result["callee"] == "matrix"
    assert result["url"] == f"{router.url}/function/matrix"
    assert result["status"] == 200
    assert result["call_ms"] > 0
    response = result["response"]
    assert response["result"] == matrix.main({"n": 7, "seed": 3})
    assert response["meta"]["function"] == "matrix"
    assert response["meta"]["cold"] is True


def test_depth_three_hops_through_chain_instances(serve: Serve, router: Router) -> None:
    router.routes["matrix"] = serve("matrix").port
    router.routes["chain"] = serve("chain", {"GATEWAY_URL": "http://127.0.0.1:9"}).port
    result = chain.main({"gateway": router.url, "depth": 3, "n": 4})
    assert router.paths == ["/function/chain", "/function/chain", "/function/matrix"]
    second = result["response"]
    assert second["meta"]["function"] == "chain"
    assert second["result"]["depth"] == 2
    third = second["result"]["response"]
    assert third["meta"]["cold"] is False
    assert third["meta"]["instance"] == second["meta"]["instance"]
    assert third["result"]["depth"] == 1
    assert third["result"]["response"]["result"]["n"] == 4


def test_knative_calls_reach_each_callee_by_its_host_header(serve: Serve, router: Router) -> None:
    router.routes["matrix"] = serve("matrix").port
    knative = {"CHAIN_API": "knative", "KNATIVE_HOST_SUFFIX": SUFFIX}
    router.routes["chain"] = serve("chain", {"GATEWAY_URL": router.url, **knative}).port
    result = chain.main({"gateway": router.url, "depth": 2, "n": 3, "api": "knative",
                         "host_suffix": SUFFIX})  # fmt: skip
    assert router.paths == ["/", "/"]
    assert router.hosts == [f"chain.{SUFFIX}", f"matrix.{SUFFIX}"]
    assert result["url"] == f"{router.url}/"
    assert result["response"]["result"]["response"]["result"]["n"] == 3
    with pytest.raises(ParamError, match="missing parameter 'host_suffix' or environment"):
        chain.main({"gateway": router.url, "api": "knative"})


def test_gateway_comes_from_the_environment(
    serve: Serve, router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    router.routes["matrix"] = serve("matrix").port
    monkeypatch.setenv("GATEWAY_URL", router.url + "/")
    assert chain.main({"n": 2})["response"]["result"]["n"] == 2


def test_a_failing_callee_fails_the_chain_with_its_message(serve: Serve, router: Router) -> None:
    router.routes["matrix"] = serve("matrix").port
    with pytest.raises(FunctionError, match=r"answered 400: .*n must be between 1 and 400"):
        chain.main({"gateway": router.url, "n": 5000})
    outcome = invoke("chain", load("chain"), {"gateway": router.url, "n": 5000}, "direct")
    assert outcome.status == 500
    with pytest.raises(FunctionError, match="answered 404: no such function"):
        chain.main({"gateway": router.url, "depth": 2})


def test_an_unreachable_gateway_is_a_failure() -> None:
    gateway = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(FunctionError, match=r"calling .*/function/matrix failed"):
        chain.main({"gateway": gateway, "timeout_s": 2})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "missing parameter 'gateway' or environment variable GATEWAY_URL"),
        ({"gateway": "ftp://gw"}, "gateway must be an http:// or https:// URL"),
        ({"gateway": "http://gw", "depth": 0}, "depth must be between 1 and 10"),
        ({"gateway": "http://gw", "depth": 11}, "depth must be between 1 and 10"),
    ],
)
def test_bad_parameters(
    params: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GATEWAY_URL", raising=False)
    with pytest.raises(ParamError, match=message):
        chain.main(params)


def test_no_descriptor_is_left_open(serve: Serve) -> None:
    gateway = serve("matrix").url  # the server runs its handler on any path, /function/... too
    unreachable = f"http://127.0.0.1:{free_port()}"
    calls = [
        Call({"gateway": gateway, "n": 2}, returns={"status": 200}),
        Call({"gateway": gateway, "n": 5000}, raises="answered 400"),
        Call({"gateway": unreachable, "timeout_s": 2}, raises="failed"),
    ]
    assert descriptors_changed("chain", calls) == []
