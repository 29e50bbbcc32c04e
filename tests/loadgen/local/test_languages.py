"""The local gateway runs each language's replicas with that language's toolchain: Node from its
sources, Go and Java built once into the state directory; a language whose tool is missing is
refused at deploy, and the OpenFaaS adapter turns that into a `PlatformError` naming the tool.

The sources are small stand-ins written into a temporary functions root (the gateway's
`functions_root`), in the layout the suite's own language sources use."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.local_target import wait_until

from contract.outputs import OpenFaas
from loadgen.local.deployments import LANGUAGE_LABEL
from loadgen.local.runtimes import Runtimes, missing_tool
from loadgen.platforms import FunctionSpec, OpenFaasPlatform, PlatformError
from loadgen.platforms.openfaas import LANGUAGE_LABEL as ADAPTER_LABEL

USER, PASSWORD = "admin", "local-language-test"

NODE_SERVER = """\
const http = require("http");
const fn = process.env.FUNCTION;
http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  if (req.url === "/_/health") {
    res.end(JSON.stringify({ instance: "node-" + process.pid }));
    return;
  }
  res.end(JSON.stringify({ function: fn, language: "node", pid: process.pid }));
}).listen(Number(process.env.PORT), process.env.HOST);
"""
GO_SERVER = """\
package main

import (
\t"encoding/json"
\t"fmt"
\t"net/http"
\t"os"
)

func main() {
\tfunction := os.Getenv("FUNCTION")
\thttp.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
\t\tw.Header().Set("Content-Type", "application/json")
\t\tif r.URL.Path == "/_/health" {
\t\t\tjson.NewEncoder(w).Encode(map[string]string{"instance": fmt.Sprint("go-", os.Getpid())})
\t\t\treturn
\t\t}
\t\tanswer := map[string]any{"function": function, "language": "go", "pid": os.Getpid()}
\t\tjson.NewEncoder(w).Encode(answer)
\t})
\thttp.ListenAndServe(os.Getenv("HOST")+":"+os.Getenv("PORT"), nil)
}
"""
JAVA_SERVER = """\
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

public class Serve {
    public static void main(String[] args) throws Exception {
        String function = System.getenv("FUNCTION");
        long pid = ProcessHandle.current().pid();
        int port = Integer.parseInt(System.getenv("PORT"));
        HttpServer server = HttpServer.create(
            new InetSocketAddress(System.getenv("HOST"), port), 64);
        server.createContext("/", exchange -> {
            String body = exchange.getRequestURI().getPath().equals("/_/health")
                ? "{\\"instance\\": \\"java-" + pid + "\\"}"
                : "{\\"function\\": \\"" + function + "\\", \\"language\\": \\"java\\", "
                    + "\\"pid\\": " + pid + "}";
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
    }
}
"""


def stand_in_root(tmp: Path) -> Path:
    root = tmp / "checkout"
    sources = {
        "node/serve.js": NODE_SERVER,
        "go/go.mod": "module standin\n\ngo 1.19\n",
        "go/main.go": GO_SERVER,
        "java/Serve.java": JAVA_SERVER,
    }
    for path, text in sources.items():
        target = root / "functions" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


@dataclass
class Gateway:
    url: str
    state_dir: Path
    process: subprocess.Popen[bytes]
    client: httpx.Client

    def deploy(self, name: str, function: str, language: str, replicas: int = 1) -> httpx.Response:
        return self.client.post(
            "/system/functions",
            json={
                "service": name,
                "image": f"faasbench-functions-{language}:local",
                "envVars": {"FUNCTION": function},
                "labels": {LANGUAGE_LABEL: language, "com.openfaas.scale.min": str(replicas)},
            },
        )

    def available(self, name: str) -> int:
        status = self.client.get(f"/system/function/{name}").json()
        return int(status.get("availableReplicas", 0))


@contextmanager
def gateway(tmp: Path, root: Path, path: str | None = None) -> Iterator[Gateway]:
    """The gateway alone (no HAProxy), on an ephemeral loopback port, running `root`'s sources;
    `path`: its PATH (which tools it finds)."""
    state_dir = tmp / "state"
    state_dir.mkdir()
    config = {
        "state_dir": str(state_dir),
        "username": USER,
        "password": PASSWORD,
        "functions_root": str(root),
    }
    (state_dir / "gateway.json").write_text(json.dumps(config))
    env = {"HOME": str(Path.home()), "PATH": path if path is not None else _path()}
    process = subprocess.Popen(
        [sys.executable, "-m", "loadgen.local.gateway", str(state_dir / "gateway.json")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "gateway.log").open("wb"),
    )
    try:
        addr = wait_until(
            lambda: (state_dir / "gateway.addr").exists() and (state_dir / "gateway.addr"),
            what="the gateway's address",
        )
        port = json.loads(addr.read_text())["port"]
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, auth=(USER, PASSWORD), timeout=30) as client:
            yield Gateway(url, state_dir, process, client)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _path() -> str:
    return os.environ.get("PATH", "/usr/bin:/bin")


def _needs(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed here")


def _wait_available(gw: Gateway, name: str, count: int) -> None:
    wait_until(lambda: gw.available(name) == count, timeout=120, what=f"{count} of {name}")


def test_each_language_s_replicas_serve_its_function(tmp_path: Path) -> None:
    _needs("node", "go", "javac", "java")
    root = stand_in_root(tmp_path)
    with gateway(tmp_path, root) as gw:
        for language, function in (("node", "echo"), ("go", "sleep"), ("java", "matrix")):
            name = f"{function}-{language}"
            assert gw.deploy(name, function, language).status_code == 202
            _wait_available(gw, name, 1)
            answer = httpx.post(f"{gw.url}/function/{name}", json={}, timeout=30).json()
            assert answer["function"] == function
            assert answer["language"] == language
        # Two more Go replicas: new processes, the one build reused.
        assert gw.client.post("/system/scale-function/sleep-go", json={"replicas": 3}).is_success
        _wait_available(gw, "sleep-go", 3)
        pids = {
            httpx.post(f"{gw.url}/function/sleep-go", json={}, timeout=30).json()["pid"]
            for _ in range(9)
        }
        assert len(pids) == 3
        builds = sorted(p.name.split("-")[0] for p in (gw.state_dir / "builds").iterdir())
        assert builds == ["go", "java"]
        recorded = [json.loads(p.read_text()) for p in (gw.state_dir / "replicas").glob("*.json")]
        assert sorted(r["language"] for r in recorded if "language" in r) == [
            "go", "go", "go", "java", "node",
        ]  # fmt: skip
        assert gw.client.request(
            "DELETE", "/system/functions", json={"functionName": "sleep-go"}
        ).is_success


def test_a_failed_build_is_the_replica_s_start_error(tmp_path: Path) -> None:
    _needs("javac", "java")
    root = stand_in_root(tmp_path)
    (root / "functions" / "java" / "Serve.java").write_text("public class Serve { oops }\n")
    with gateway(tmp_path, root) as gw:
        assert gw.deploy("echo-java", "echo", "java").status_code == 202
        answer = httpx.post(f"{gw.url}/function/echo-java", json={}, timeout=60)
        assert answer.status_code == 502
        assert "javac failed" in answer.text
        assert gw.available("echo-java") == 0


def test_a_missing_toolchain_is_refused_naming_the_tool_and_its_package(tmp_path: Path) -> None:
    root = stand_in_root(tmp_path)
    empty = tmp_path / "no-tools"
    empty.mkdir()
    with gateway(tmp_path, root, path=str(empty)) as gw:
        refused = gw.deploy("echo-go", "echo", "go")
        assert refused.status_code == 400
        assert "go not found: apt-get install golang-go" in refused.text
        unknown = gw.deploy("echo-ruby", "echo", "ruby")
        assert unknown.status_code == 400
        assert "faasbench.language='ruby'" in unknown.text
        not_written = gw.deploy("ftp-node", "ftp", "node")
        assert not_written.status_code == 400
        assert "has no node implementation" in not_written.text
        config = OpenFaas(
            url=gw.url,
            username=USER,
            password=PASSWORD,
            namespace=None,
            limits={"max_functions": 15, "max_replicas": 5, "scale_to_zero": False, "idler": False},
            versions={"gateway": "local", "provider": "local"},
        )
        platform = OpenFaasPlatform(
            config, "local", "faasbench-functions:local", images={"java": "j:local"}
        )

        async def deploy() -> None:
            try:
                await platform.deploy(FunctionSpec(function="echo", language="java"), 1, {})
            finally:
                await platform.aclose()

        with pytest.raises(PlatformError, match=r"javac not found: apt-get install default-jdk"):
            asyncio.run(deploy())


def test_the_adapter_and_the_gateway_agree_on_the_label() -> None:
    assert LANGUAGE_LABEL == ADAPTER_LABEL


def test_builds_are_keyed_by_their_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = stand_in_root(tmp_path)
    runtimes = Runtimes(functions_root=root, cache_dir=tmp_path / "builds")
    first = runtimes.digest("go")
    assert runtimes.digest("java") != first
    (root / "functions" / "go" / "main.go").write_text(GO_SERVER + "// changed\n")
    assert runtimes.digest("go") != first
    monkeypatch.setenv("PATH", str(tmp_path))
    assert missing_tool("node") == "node not found: apt-get install nodejs"
    assert missing_tool("python") is None
