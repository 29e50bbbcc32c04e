"""The suite's functions in every language (functions/node, functions/go, functions/java beside the
Python suite), each server built once with its Debian toolchain and run for real on 127.0.0.1:
the same HTTP mode, the same envelope, the same results (matrix to the last bit), the same
errors. A language is skipped only when its toolchain is not installed."""

from __future__ import annotations

import io
import json
import os
import re
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


# --- Go and Java on OpenWhisk ----------------------------------------------------------------

#: A launcher written the way the go:1.17 runtime's lib/launcher.go works (its compile script
#: copies that file beside the action's sources as main__.go, with "Main" replaced by the
#: action's capitalised `main`): ack on fd 3, then per stdin line decode the activation with
#: encoding/json into map[string]interface{}, export its other string fields as __OW_*, call
#: Main through reflect with "value" and write json.Marshal of the result as one line on fd 3.
GO_LAUNCHER = """package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
)

func main() {
	if kind := reflect.TypeOf(Main).Out(0).Kind(); kind != reflect.Map {
		fmt.Println("Main must return a map")
		os.Exit(1)
	}
	out := os.NewFile(3, "pipe")
	fmt.Fprintf(out, "{ \\"ok\\": true}\\n")
	reader := bufio.NewReader(os.Stdin)
	for {
		line, err := reader.ReadBytes('\\n')
		if err != nil {
			return
		}
		var input map[string]interface{}
		if err := json.Unmarshal(line, &input); err != nil {
			fmt.Fprintf(out, "{\\"error\\": %q}\\n", err.Error())
			continue
		}
		for key, value := range input {
			if text, ok := value.(string); ok && key != "value" {
				os.Setenv("__OW_"+strings.ToUpper(key), text)
			}
		}
		value, _ := input["value"].(map[string]interface{})
		arguments := []reflect.Value{reflect.ValueOf(value)}
		var result interface{} = reflect.ValueOf(Main).Call(arguments)[0].Interface()
		output, err := json.Marshal(&result)
		if err != nil {
			fmt.Fprintf(out, "{\\"error\\": %q}\\n", err.Error())
			continue
		}
		fmt.Fprintf(out, "%s\\n", bytes.Replace(output, []byte("\\n"), nil, -1))
	}
}
"""


def build_go_action(function: str, scratch: Path) -> Path:
    """The action's zip compiled as the go:1.17 runtime's compile script compiles a source zip
    without an `exec`: the launcher added as main__.go, `go mod download` (the zip has a
    go.mod), then `go build -ldflags "-s -w"` with modules on."""
    if missing_tools("go"):
        pytest.skip(
            "go: not installed (Debian package golang-go; scripts/bootstrap.sh installs it)"
        )
    source = scratch / f"go-{function}"
    with zipfile.ZipFile(io.BytesIO(package.openwhisk_zip(function, "go"))) as archive:
        assert "exec" not in archive.namelist()
        archive.extractall(source)
    entry = package.ACTION_MAIN["go"].capitalize()
    (source / "main__.go").write_text(GO_LAUNCHER.replace("Main", entry))
    env = go_env(scratch) | {"GO111MODULE": "on", "GOFLAGS": "-buildvcs=false"}
    run_build(["go", "mod", "download"], source, env)
    binary = scratch / f"exec-{function}"
    run_build(["go", "build", "-o", str(binary), "-ldflags", "-s -w"], source, env)
    return binary


def run_go_action(binary: Path, values: list[Any]) -> list[Any]:
    """Each value as one activation, over the launcher's protocol (stdin in, fd 3 out)."""
    read_end, write_end = os.pipe()
    # The pipe's write end becomes the launcher's fd 3 (bash: dash takes no fd above 9).
    moved = "" if write_end == 3 else f" 3>&{write_end} {write_end}>&-"
    process = subprocess.Popen(
        ["bash", "-c", f'exec "$0"{moved}', str(binary)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        pass_fds=(write_end,),
        env=serve_env(None, 0, {"__OW_WAIT_FOR_ACK": "1"}),
    )
    os.close(write_end)
    with os.fdopen(read_end) as results:
        assert json.loads(results.readline()) == {"ok": True}
        lines = [
            json.dumps({"value": value, "activation_id": f"a{i}", "action_name": "/_/f"})
            for i, value in enumerate(values)
        ]
        assert process.stdin is not None
        process.stdin.write(("\n".join(lines) + "\n").encode())
        process.stdin.close()
        lines = [results.readline() for _ in values]
    assert process.wait(timeout=60) == 0
    assert process.stderr is not None
    with process.stderr:
        stderr = process.stderr.read().decode(errors="replace")
    assert all(lines), f"the action ended early:\n{stderr}"
    return [json.loads(line) for line in lines]


def test_the_go_action_compiles_as_the_go_runtime_does_and_returns_the_envelope(
    tmp_path: Path,
) -> None:
    matrix_action = build_go_action("matrix", tmp_path)
    first, bad, whole = run_go_action(
        matrix_action, [{"n": 9, "seed": 3, "__ow_method": "post"}, {"n": "x"}, {"n": 2.0}]
    )
    assert first["result"] == matrix.main({"n": 9, "seed": 3})
    check_meta(first["meta"], "go", "matrix", adapter="openwhisk")
    assert first["meta"]["cold"] is True
    assert bad["error"] == "n must be an integer, got 'x'"
    assert bad["meta"]["cold"] is False
    assert bad["meta"]["instance"] == first["meta"]["instance"]
    assert whole["result"] == matrix.main({"n": 2})

    (echoed,) = run_go_action(
        build_go_action("echo", tmp_path),
        [{"b": 1, "a": [1.5, "é ✓ 😀", None, True], "__ow_headers": {"x": "y"}}],
    )
    # encoding/json decodes the parameters into a map: keys come back sorted.
    assert canonical(echoed["result"]) == canonical({"a": [1.5, "é ✓ 😀", None, True], "b": 1})
    check_meta(echoed["meta"], "go", "echo", adapter="openwhisk")

    (slept,) = run_go_action(build_go_action("sleep", tmp_path), [{"ms": 30}])
    assert slept["result"]["ms"] == 30.0
    assert slept["result"]["slept_ms"] >= 30.0
    check_meta(slept["meta"], "go", "sleep", adapter="openwhisk")


def test_the_go_action_s_sources_keep_to_go_1_17(tmp_path: Path) -> None:
    """go.mod's `go 1.17` makes the compiler refuse newer language (generics, `any`); the
    standard library is checked here against the API files of the Go releases after 1.17
    that the installed Go carries ($GOROOT/api/go1.N.txt)."""
    if missing_tools("go"):
        pytest.skip(
            "go: not installed (Debian package golang-go; scripts/bootstrap.sh installs it)"
        )
    with zipfile.ZipFile(io.BytesIO(package.openwhisk_zip("echo", "go"))) as archive:
        assert archive.read("go.mod").decode().splitlines()[-1] == "go 1.17"
        sources = {
            name: archive.read(name).decode() for name in archive.namelist() if name.endswith(".go")
        }
    goroot = subprocess.run(
        ["go", "env", "GOROOT"], capture_output=True, text=True, check=True
    ).stdout.strip()
    newer = [
        path
        for path in (Path(goroot) / "api").glob("go1.*.txt")
        if path.stem.split(".")[1].isdigit() and int(path.stem.split(".")[1]) >= 18
    ]
    assert newer, "no API files for Go 1.18 and later"
    added: set[tuple[str, str]] = set()
    for path in newer:
        for line in path.read_text().splitlines():
            match = re.match(r"pkg ([\w/]+)(?: \([\w-]+\))?, (?:func|type|const|var) (\w+)", line)
            if match:
                added.add((match[1], match[2]))
    used: set[tuple[str, str]] = set()
    for text in sources.values():
        imports = re.findall(r'^\s*"([\w/]+)"$', text, flags=re.MULTILINE)
        for path in imports:
            alias = path.rsplit("/", 1)[-1]
            used |= {(path, name) for name in re.findall(rf"\b{alias}\.(\w+)", text)}
    assert used, "no standard library use found"
    assert sorted(used & added) == []


JAVA_HARNESS = """
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Paths;

/** Loads the jar (args[0]) as the java:8 runtime's JarLoader does: a URLClassLoader, the class
 * the action's main names (args[1]), its public static JsonObject main(JsonObject); then calls
 * it once per further argument and prints the results as a JSON array. */
public final class Harness {
    @SuppressWarnings("deprecation")
    public static void main(String[] args) throws Exception {
        URLClassLoader loader = new URLClassLoader(new URL[] {Paths.get(args[0]).toUri().toURL()});
        Method method = loader.loadClass(args[1]).getMethod("main", JsonObject.class);
        int modifiers = method.getModifiers();
        if (method.getReturnType() != JsonObject.class || !Modifier.isStatic(modifiers)
                || !Modifier.isPublic(modifiers)) {
            throw new NoSuchMethodException("main");
        }
        StringBuilder out = new StringBuilder("[");
        for (int i = 2; i < args.length; i++) {
            JsonObject input = new JsonParser().parse(args[i]).getAsJsonObject();
            out.append(i > 2 ? "," : "").append(method.invoke(null, input).toString());
        }
        System.out.println(out.append("]"));
    }
}
"""


def run_java_action(function: str, scratch: Path, values: list[Any]) -> list[Any]:
    """The jar `functions.package` builds, loaded and called as the java:8 runtime does."""
    missing = missing_tools("java")
    if missing or not package.gson_jar().is_file():
        pytest.skip(
            "java: javac, java or Gson missing (Debian packages default-jdk-headless and "
            "libgoogle-gson-java; scripts/bootstrap.sh installs them)"
        )
    jar = scratch / f"{function}.jar"
    jar.write_bytes(package.openwhisk_zip(function, "java"))
    harness = scratch / "harness"
    if not (harness / "Harness.class").is_file():
        harness.mkdir(exist_ok=True)
        (harness / "Harness.java").write_text(JAVA_HARNESS)
        gson = str(package.gson_jar())
        run_build(["javac", "-cp", gson, "-d", str(harness), str(harness / "Harness.java")], ROOT)
    classpath = f"{package.gson_jar()}{os.pathsep}{harness}"
    result = subprocess.run(
        ["java", "-cp", classpath, "Harness", str(jar), package.ACTION_MAIN["java"]]
        + [json.dumps(value) for value in values],
        env=serve_env(None, 0, {"FUNCTION": "echo"}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    documents = json.loads(result.stdout)
    assert isinstance(documents, list)
    return documents


def test_the_java_action_loads_as_the_java_runtime_does_and_returns_the_envelope(
    tmp_path: Path,
) -> None:
    first, bad, whole = run_java_action(
        "matrix", tmp_path, [{"n": 9, "seed": 3, "__ow_method": "post"}, {"n": "x"}, {"n": 2.0}]
    )
    assert first["result"] == matrix.main({"n": 9, "seed": 3})
    check_meta(first["meta"], "java", "matrix", adapter="openwhisk")
    assert first["meta"]["cold"] is True
    assert bad["error"] == "n must be an integer, got 'x'"
    assert bad["meta"]["cold"] is False
    assert whole["result"] == matrix.main({"n": 2})
    # function.json in the jar wins over FUNCTION (echo in the harness's environment).
    (echoed,) = run_java_action("echo", tmp_path, [dict(ECHOED, __ow_path="/x")])
    assert canonical(echoed["result"]) == canonical(ECHOED)
    check_meta(echoed["meta"], "java", "echo", adapter="openwhisk")
    (slept,) = run_java_action("sleep", tmp_path, [{"ms": 30}])
    assert slept["result"]["ms"] == 30.0
    assert slept["result"]["slept_ms"] >= 30.0
    check_meta(slept["meta"], "java", "sleep", adapter="openwhisk")


def test_the_java_sources_the_action_shares_compile_at_release_8(tmp_path: Path) -> None:
    """The classes the jar holds come from the server's own sources (all but Serve.java)."""
    if missing_tools("java") or not package.gson_jar().is_file():
        pytest.skip(
            "java: javac or Gson missing (Debian packages default-jdk-headless and "
            "libgoogle-gson-java; scripts/bootstrap.sh installs them)"
        )
    echo_jar = tmp_path / "echo.jar"
    echo_jar.write_bytes(package.openwhisk_zip("echo", "java"))
    with zipfile.ZipFile(echo_jar) as archive:
        classes = {
            name.split("$")[0].removesuffix(".class")
            for name in archive.namelist()
            if name.endswith(".class")
        }
        majors = {archive.read(name)[6:8] for name in archive.namelist() if name.endswith(".class")}
    shared = {path.stem for path in (ROOT / "functions" / "java").glob("*.java")} - {"Serve"}
    assert classes == shared | {"WhiskAction"}
    assert majors == {(52).to_bytes(2, "big")}
