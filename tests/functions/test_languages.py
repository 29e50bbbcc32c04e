"""The suite's functions in every language (functions/node, functions/go, functions/java beside the
Python suite), each server built once with its Debian toolchain and run for real on 127.0.0.1:
the same HTTP mode, the same envelope, the same results (matrix to the last bit), the same
errors. A language is skipped only when its toolchain is not installed."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.function_servers import ROOT, Response, ServeProcess, request, serve_env, wait_healthy
from support.servers import free_port

from functions import echo, matrix, package, sleep
from functions._registry import LANGUAGE_FUNCTIONS, LANGUAGES
from functions._runtime import VERSION

#: The tools each language needs, to build and to run its server.
TOOLCHAINS: dict[str, tuple[str, ...]] = {
    "python": (),
    "node": ("node",),
    "go": ("go",),
    "java": ("javac", "java"),
}
#: What scripts/bootstrap.sh installs for them (Debian bookworm packages).
PACKAGES = {"node": "nodejs", "go": "golang-go", "java": "default-jdk-headless"}


def missing_tools(language: str) -> list[str]:
    return [tool for tool in TOOLCHAINS[language] if shutil.which(tool) is None]


class Builds:
    """Each compiled language built at most once per session, on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.done: dict[str, list[str]] = {}

    def command(self, language: str) -> list[str]:
        missing = missing_tools(language)
        if missing:
            pytest.skip(
                f"{language}: {', '.join(missing)} not installed (Debian package "
                f"{PACKAGES[language]}; scripts/bootstrap.sh installs it)"
            )
        if language not in self.done:
            self.done[language] = self._build(language)
        return self.done[language]

    def _build(self, language: str) -> list[str]:
        if language == "python":
            return [sys.executable, "-m", "functions.serve"]
        if language == "node":
            return ["node", str(ROOT / "functions" / "node" / "serve.js")]
        if language == "go":
            binary = self.root / "go-serve"
            # -buildvcs=false: a checkout git refuses to read (another owner) still builds.
            run_build(
                ["go", "build", "-buildvcs=false", "-o", str(binary), "."],
                ROOT / "functions" / "go",
                go_env(self.root),
            )
            return [str(binary)]
        classes = self.root / "java-classes"
        sources = sorted(str(path) for path in (ROOT / "functions" / "java").glob("*.java"))
        run_build(["javac", "-Xlint:all", "-Werror", "-d", str(classes), *sources], ROOT)
        return ["java", "-cp", str(classes), "Serve"]


def go_env(scratch: Path) -> dict[str, str]:
    """The environment, with Go's cache and path under `scratch` when there is no home for them."""
    env = dict(os.environ)
    if not (env.get("HOME") or env.get("XDG_CACHE_HOME") or env.get("GOCACHE")):
        env["GOCACHE"] = str(scratch / "go-cache")
        env.setdefault("GOPATH", str(scratch / "go-path"))
    return env


def run_build(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    return Builds(tmp_path_factory.mktemp("language-builds"))


Launch = Callable[..., ServeProcess]


@pytest.fixture
def launch(builds: Builds) -> Iterator[Launch]:
    started: list[ServeProcess] = []

    def start(language: str, function: str, env: dict[str, str] | None = None) -> ServeProcess:
        command = builds.command(language)
        port = free_port()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=serve_env(function, port, env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        server = ServeProcess(function, port, process)
        started.append(server)
        wait_healthy(process, port, timeout=60.0)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
        server.process.wait()
        if server.process.stderr is not None:
            server.process.stderr.close()


OTHER_LANGUAGES = [language for language in LANGUAGES if language != "python"]


def test_every_language_has_echo_sleep_and_matrix() -> None:
    assert set(OTHER_LANGUAGES) == {"node", "go", "java"}
    for language in OTHER_LANGUAGES:
        assert LANGUAGE_FUNCTIONS[language] == ("echo", "sleep", "matrix")


def test_the_sources_are_formatted_and_checked(tmp_path: Path) -> None:
    """gofmt's layout and go vet for Go; node's syntax check for every module."""
    if not missing_tools("go"):
        go = ROOT / "functions" / "go"
        unformatted = subprocess.run(
            ["gofmt", "-l", "."], cwd=go, capture_output=True, text=True, check=True
        )
        assert unformatted.stdout == ""
        run_build(["go", "vet", "."], go, go_env(tmp_path))
    if not missing_tools("node"):
        for module in sorted((ROOT / "functions" / "node").glob("*.js")):
            run_build(["node", "--check", str(module)], ROOT)
    if missing_tools("go") and missing_tools("node"):
        pytest.skip("neither go nor node is installed")


def canonical(document: Any) -> str:
    """The document as Python writes it: keys in order, an int never a float."""
    return json.dumps(document, separators=(",", ":"))


def check_meta(meta: dict[str, Any], language: str, function: str, adapter: str = "http") -> None:
    assert list(meta) == [
        "function",
        "instance",
        "cold",
        "instance_started_ns",
        "handler_ms",
        "version",
        "adapter",
        "language",
    ]
    assert meta["function"] == function
    assert meta["language"] == language
    assert meta["adapter"] == adapter
    assert meta["version"] == VERSION
    assert len(meta["instance"]) == 16
    int(meta["instance"], 16)
    assert isinstance(meta["cold"], bool)
    assert isinstance(meta["instance_started_ns"], int)
    assert abs(meta["instance_started_ns"] / 1e9 - time.time()) < 3600
    assert isinstance(meta["handler_ms"], float)
    assert meta["handler_ms"] >= 0


ECHOED = {
    "b": 1,
    "a": [1.5, 2.0, -0.0, 1e-05, 1e16, "é ✓ 😀", None, True, False],
    "1": {"nested": {"deep": [[]], "empty": {}}},
    "big": 2**70,
    'quote"\\\n': "\t\u0001\u007f",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_echo_returns_its_parameters_exactly(launch: Launch, language: str) -> None:
    server = launch(language, "echo")
    response = request(server.port, body=ECHOED)
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.body)
    document = response.json()
    assert canonical(document["result"]) == canonical(echo.main(ECHOED))
    assert response.body.isascii()
    check_meta(document["meta"], language, "echo")
    merged = request(server.port, "POST", "/any/path?q=1&q=2&x=a&blank=&y=%C3%A9+z", body={"x": 3})
    assert merged.json()["result"] == {"q": ["1", "2"], "x": 3, "blank": "", "y": "é z"}
    assert request(server.port, "GET", "/").json()["result"] == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_sleep_sleeps_at_least_what_it_was_asked(launch: Launch, language: str) -> None:
    server = launch(language, "sleep")
    result = request(server.port, body={"ms": 30}).json()["result"]
    assert canonical(list(result)) == canonical(["ms", "slept_ms"])
    assert result["ms"] == 30.0
    assert isinstance(result["ms"], float)
    assert result["slept_ms"] >= 30.0
    from_query = request(server.port, "GET", "/?ms=2.5").json()["result"]
    assert from_query["ms"] == 2.5
    assert from_query["slept_ms"] >= 2.5
    assert request(server.port, body={"ms": 0}).json()["result"]["ms"] == 0.0
    assert sleep.MS.default == 100.0


MATRIX_CASES = [(1, 0), (2, 1), (17, 42), (60, 12345), (8, 2**32), (5, 2**63 - 1)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_matrix_gives_pythons_checksum_and_trace_to_the_last_bit(
    launch: Launch, language: str
) -> None:
    server = launch(language, "matrix")
    for n, seed in MATRIX_CASES:
        response = request(server.port, body={"n": n, "seed": seed})
        assert response.status == 200
        expected = matrix.main({"n": n, "seed": seed})
        assert canonical(response.json()["result"]) == canonical(expected), (n, seed)
    by_query = request(server.port, "GET", "/?n=17&seed=42").json()["result"]
    assert by_query == matrix.main({"n": 17, "seed": 42})
    default = request(server.port, body={"n": 3}).json()["result"]
    assert default == matrix.main({"n": 3})
    whole_float = request(server.port, body={"n": 4.0, "seed": "1_0"}).json()["result"]
    assert canonical(whole_float) == canonical(matrix.main({"n": 4, "seed": 10}))


BAD = [
    ("matrix", {"n": "big"}, "n must be an integer, got 'big'"),
    ("matrix", {"n": 100_000}, "n must be between 1 and 400, got 100000"),
    ("matrix", {"n": 0}, "n must be between 1 and 400, got 0"),
    ("matrix", {"n": 2.5}, "n must be an integer, got float"),
    ("matrix", {"n": True}, "n must be an integer, got a boolean"),
    ("matrix", {"n": [1]}, "n must be an integer, got list"),
    ("matrix", {"seed": -1}, "seed must be between 0 and 9223372036854775807, got -1"),
    (
        "matrix",
        {"seed": 2**64},
        "seed must be between 0 and 9223372036854775807, got 18446744073709551616",
    ),
    ("matrix", [1, 2], "parameters must be a JSON object, got list"),
    ("matrix", "text", "parameters must be a JSON object, got str"),
    ("sleep", {"ms": -1}, "ms must be between 0 and 240000, got -1"),
    ("sleep", {"ms": 240000.5}, "ms must be between 0 and 240000, got 240000.5"),
    ("sleep", {"ms": "soon"}, "ms must be a number, got 'soon'"),
    ("sleep", {"ms": "inf"}, "ms must be between 0 and 240000, got 'inf'"),
    ("sleep", {"ms": False}, "ms must be a number, got a boolean"),
    ("sleep", {"ms": {"a": 1}}, "ms must be a number, got dict"),
    ("sleep", 7, "parameters must be a JSON object, got int"),
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_bad_parameters_are_400_with_pythons_message_and_meta(
    launch: Launch, language: str
) -> None:
    servers = {name: launch(language, name) for name in ("matrix", "sleep")}
    for function, body, message in BAD:
        response = request(servers[function].port, body=body)
        assert response.status == 400, (function, body)
        document = response.json()
        assert document["error"] == message
        check_meta(document["meta"], language, function)
        assert b"Traceback" not in response.body
    for body in (b"{not json", b"[" * 5000, b'{"n": "\xff"}', b'{"n": 1} x'):
        response = request(servers["matrix"].port, body=body)
        assert response.status == 400
        assert response.json()["error"].startswith("the body is not valid JSON")
        assert "meta" not in response.json()
    assert request(servers["matrix"].port, body={"n": 2}).status == 200


def read_response(stream: Any) -> tuple[int, dict[str, str], bytes]:
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, body


def post(body: bytes, path: str = "/", call_id: str | None = None) -> bytes:
    extra = f"X-Call-Id: {call_id}\r\n" if call_id else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@pytest.mark.parametrize("language", LANGUAGES)
def test_probes_cold_then_warm_keep_alive_and_call_id(launch: Launch, language: str) -> None:
    server = launch(language, "echo")
    for path in ("/_/health", "/_/ready", "/_/health"):
        probe = request(server.port, "GET", path)
        assert probe.status == 200
        assert list(probe.json()) == ["status", "function", "instance"]
        assert probe.json()["status"] == "ok"
        assert probe.json()["function"] == "echo"
    assert request(server.port, "GET", "/_/nothing").json() == {"error": "no such path /_/nothing"}
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        sock.sendall(post(b'{"x": 1}', call_id="call-1"))
        first_status, first_headers, first_body = read_response(stream)
        sock.sendall(post(b'{"x": 2}', "/function/echo", call_id="call-2"))
        second_status, second_headers, second_body = read_response(stream)
        stream.close()
    first, second = json.loads(first_body), json.loads(second_body)
    assert (first_status, second_status) == (200, 200)
    assert first_headers["x-call-id"] == "call-1"
    assert second_headers["x-call-id"] == "call-2"
    assert first_headers.get("connection", "keep-alive").lower() != "close"
    assert (first["result"], second["result"]) == ({"x": 1}, {"x": 2})
    assert first["meta"]["cold"] is True
    assert second["meta"]["cold"] is False
    assert first["meta"]["instance"] == second["meta"]["instance"] == probe.json()["instance"]
    assert "x-call-id" not in request(server.port, body={}).headers


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_sleeping_request_never_holds_up_the_others(launch: Launch, language: str) -> None:
    server = launch(language, "sleep")
    finished: list[str] = []
    sleeper = threading.Thread(
        target=lambda: finished.append(f"sleep {request(server.port, body={'ms': 2000}).status}")
    )
    sleeper.start()
    time.sleep(0.3)  # the long sleep is under way
    quick = request(server.port, body={"ms": 0})
    finished.append(f"quick {quick.status}")
    probe = request(server.port, "GET", "/_/ready")
    finished.append(f"probe {probe.status}")
    sleeper.join(timeout=30)
    assert finished == ["quick 200", "probe 200", "sleep 200"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_oversized_body_is_413_and_the_server_goes_on(launch: Launch, language: str) -> None:
    server = launch(language, "echo")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\n\r\n")
        status, headers, body = read_response(stream)
        after = stream.read()  # the server closes the connection rather than wait for the body
        stream.close()
    assert status == 413
    assert headers["connection"].lower() == "close"
    assert after == b""
    assert json.loads(body) == {"error": "bodies are up to 16777216 B"}
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'4\r\n{"a"\r\n5\r\n: 12}\r\n0\r\n\r\n'
        )
        chunked_status, _, chunked_body = read_response(stream)
        stream.close()
    assert chunked_status == 200
    assert json.loads(chunked_body)["result"] == {"a": 12}
    assert request(server.port, body={"still": "serving"}).status == 200


@pytest.mark.parametrize("language", LANGUAGES)
def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(
    launch: Launch, language: str
) -> None:
    server = launch(language, "sleep")
    answers: list[Response] = []
    caller = threading.Thread(
        target=lambda: answers.append(request(server.port, body={"ms": 1500}))
    )
    caller.start()
    time.sleep(0.5)  # the request reaches the server well inside its 1.5 s sleep
    server.process.send_signal(signal.SIGTERM)
    caller.join(timeout=30)
    assert server.process.wait(timeout=30) == 0
    assert len(answers) == 1
    assert answers[0].status == 200
    assert answers[0].json()["result"]["slept_ms"] >= 1500
    with pytest.raises(ConnectionRefusedError):
        request(server.port, "GET", "/_/health", timeout=2)


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_a_missing_or_unknown_function_fails_at_start(builds: Builds, language: str) -> None:
    command = builds.command(language)
    for function, message in ((None, "FUNCTION is not set"), ("chain", "unknown function 'chain'")):
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=serve_env(function, free_port()),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        assert message in result.stderr
        assert "echo, sleep, matrix" in result.stderr


def run_action(script: str, env: dict[str, str] | None = None) -> Any:
    if missing_tools("node"):
        pytest.skip("node: not installed (Debian package nodejs)")
    result = subprocess.run(
        ["node", "-e", script],
        cwd=ROOT,
        env=serve_env(None, 0, env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


ACTION_CALLS = """
const action = require(%s);
(async () => {
  const calls = [];
  for (const params of %s) calls.push(await action.main(params));
  process.stdout.write(JSON.stringify(calls));
})();
"""


def test_the_node_action_returns_the_openwhisk_envelope() -> None:
    script = ACTION_CALLS % (
        json.dumps("./functions/node/action.js"),
        json.dumps([{"n": 9, "seed": 3, "__ow_method": "post"}, {"n": "x"}, [1]]),
    )
    first, bad, not_object = run_action(script, {"FUNCTION": "matrix"})
    assert first["result"] == matrix.main({"n": 9, "seed": 3})
    check_meta(first["meta"], "node", "matrix", adapter="openwhisk")
    assert first["meta"]["cold"] is True
    assert bad["error"] == "n must be an integer, got 'x'"
    assert bad["meta"]["cold"] is False
    assert not_object["error"] == "parameters must be a JSON object, got list"


def test_the_node_action_takes_its_function_from_the_packaged_zip(tmp_path: Path) -> None:
    """The zip `functions.package` builds names its function in function.json, which wins
    over FUNCTION."""
    content = package.openwhisk_zip("echo", "node", ROOT / "functions")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        archive.extractall(tmp_path / "action")
    script = ACTION_CALLS % (
        json.dumps(str(tmp_path / "action")),
        json.dumps([{"hello": "world", "__ow_headers": {"a": "b"}}]),
    )
    (echoed,) = run_action(script, {"FUNCTION": "matrix"})
    assert echoed["result"] == {"hello": "world"}
    check_meta(echoed["meta"], "node", "echo", adapter="openwhisk")
