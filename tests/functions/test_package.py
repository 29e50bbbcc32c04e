"""OpenWhisk zip actions: deterministic bytes, only the modules needed, and each one runs for
real when extracted the way the python:3 runtime does (an isolated interpreter, the action's
directory on sys.path, `main(args)` from `__main__.py`). The other languages' archives (Node and
Go zips, the Java jar) are checked here on stand-in sources; test_languages.py runs the real ones
the way their runtimes do."""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
from support.function_servers import ROOT, FtpServer

from functions import package, thumbnail
from functions._registry import FUNCTION_NAMES, Language
from functions._s3 import Credentials, S3Client
from loadgen.local.s3_server import S3Config, make_server

_RUN_ACTION = """
import importlib.util, json, sys
directory = sys.argv[1]
sys.path.insert(0, directory)
spec = importlib.util.spec_from_file_location("action", directory + "/__main__.py")
action = importlib.util.module_from_spec(spec)
spec.loader.exec_module(action)
args = json.loads(sys.argv[2])
documents = [action.main(dict(args)) for _ in range(2)]
print(json.dumps({"documents": documents, "package": sys.modules["functions"].__file__}))
"""


def run_action(tmp_path: Path, name: str, args: dict[str, Any]) -> dict[str, Any]:
    directory = tmp_path / name
    with zipfile.ZipFile(io.BytesIO(package.openwhisk_zip(name))) as archive:
        archive.extractall(directory)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FTP_", "GATEWAY_"))}
    completed = subprocess.run(
        [sys.executable, "-I", "-c", _RUN_ACTION, str(directory), json.dumps(args)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(completed.stdout)
    assert report["package"] == str(directory / "functions" / "__init__.py")
    return report


def test_function_names_are_the_suite_and_shadow_nothing() -> None:
    names = package.function_names()
    assert names == list(FUNCTION_NAMES)
    assert len(set(names)) == len(names) == 10
    helpers = [m for modules in package.FUNCTION_MODULES.values() for m in modules]
    for module in [*names, "functions", "serve", "package", *package.RUNTIME_MODULES, *helpers]:
        assert module not in sys.stdlib_module_names
    for name in names:
        assert (ROOT / "functions" / f"{name}.py").is_file()


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_zip_is_byte_identical_across_builds_with_fixed_metadata(name: str) -> None:
    first, second = package.openwhisk_zip(name), package.openwhisk_zip(name)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == [
            "__main__.py",
            "functions/__init__.py",
            "functions/_openwhisk.py",
            "functions/_params.py",
            "functions/_registry.py",
            "functions/_runtime.py",
            *(f"functions/{m}.py" for m in package.FUNCTION_MODULES.get(name, ())),
            f"functions/{name}.py",
        ]
        assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
        source = (ROOT / "functions" / f"{name}.py").read_bytes()
        assert archive.read(f"functions/{name}.py") == source
    assert package.openwhisk_zip("echo") != package.openwhisk_zip("sleep")


@pytest.mark.parametrize(
    ("name", "args", "check"),
    [
        ("echo", {"x": [1, "é"]}, {"x": [1, "é"]}),
        ("sleep", {"ms": 2}, {"ms": 2.0}),
        ("matrix", {"n": 3, "seed": 1}, {"n": 3, "seed": 1}),
        ("b64", {"size": 12, "rounds": 2}, {"size": 12, "encoded_bytes": 16}),
        ("jsonserde", {"items": 3, "rounds": 1}, {"items": 3}),
        ("floatops", {"n": 5}, {"n": 5}),
        (
            "synthetic",
            {**{f"p{q}_ms": 1 for q in (0, 1, 25, 50, 75, 99, 100)}, "call": 3, "memory_mb": 2},
            {"call": 3, "memory_mb": 2, "duration_ms": 1.0},
        ),
    ],
)
def test_zip_runs_in_a_clean_interpreter(
    tmp_path: Path, name: str, args: dict[str, Any], check: dict[str, Any]
) -> None:
    first, second = run_action(tmp_path, name, {**args, "__ow_method": "post"})["documents"]
    for key, value in check.items():
        assert first["result"][key] == value
    assert first["meta"]["function"] == name
    assert first["meta"]["adapter"] == "openwhisk"
    assert (first["meta"]["cold"], second["meta"]["cold"]) == (True, False)
    assert first["meta"]["instance"] == second["meta"]["instance"]


def test_ftp_zip_downloads_and_chain_zip_reports_a_missing_gateway(
    tmp_path: Path, ftp_server: FtpServer
) -> None:
    ftp_document = run_action(tmp_path, "ftp", ftp_server.params())["documents"][0]
    assert ftp_document["result"]["verified_sha256"] is True
    chain_document = run_action(tmp_path, "chain", {})["documents"][0]
    assert chain_document["error"] == (
        "missing parameter 'gateway' or environment variable GATEWAY_URL"
    )
    assert chain_document["meta"]["cold"] is True


def test_thumbnail_zip_carries_its_s3_client_and_reports_timings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = S3Config(
        root=tmp_path / "s3", access_key="ak", secret_key="sk", addr_file=tmp_path / "addr"
    )
    server = make_server(config)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        client = S3Client(f"http://{host}:{port}", Credentials("ak", "sk"))
        thumbnail.seed_inputs(client, "bucket", (4096,))
        for name, value in {
            "S3_ENDPOINT": f"http://{host}:{port}",
            "S3_BUCKET": "bucket",
            "S3_ACCESS_KEY": "ak",
            "S3_SECRET_KEY": "sk",
        }.items():
            monkeypatch.setenv(name, value)
        document = run_action(tmp_path, "thumbnail", {"input_size": 4096})["documents"][0]
    finally:
        server.shutdown()
        server.server_close()
    assert document["result"]["input_bytes"] == 4096
    assert set(document["meta"]["timings"]) == {"fetch_ms", "compute_ms", "store_ms"}


def test_command_line_writes_the_same_zip(tmp_path: Path) -> None:
    output = tmp_path / "matrix.zip"
    subprocess.run(
        [sys.executable, "-m", "functions.package", "matrix", str(output)],
        cwd=ROOT,
        check=True,
        timeout=30,
    )
    assert output.read_bytes() == package.openwhisk_zip("matrix")
    refused = subprocess.run(
        [sys.executable, "-m", "functions.package", "nope", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 2
    assert "invalid choice: 'nope'" in refused.stderr


def test_action_sources_keep_to_python_3_9_syntax() -> None:
    """OpenWhisk's python:3 kind may be an older interpreter than the image's: what an action
    carries keeps to 3.9 grammar, with annotations postponed so `X | None` is never evaluated."""
    files = {
        path: content
        for name in FUNCTION_NAMES
        for path, content in package.action_files(name).items()
    }
    for path, content in sorted(files.items()):
        tree = ast.parse(content, filename=path, feature_version=(3, 9))
        future = [
            node
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module == "__future__"
        ]
        if path.startswith("functions/") and not path.endswith("__init__.py"):
            assert future, f"{path} lacks from __future__ import annotations"


# --- other languages -------------------------------------------------------------------------

_NODE_ACTION = """
const fs = require("fs");
const path = require("path");
exports.main = (params) => {
  const chosen = JSON.parse(fs.readFileSync(path.join(__dirname, "function.json"))).function;
  return { function: chosen, params: params, helper: require("./helper.js").name };
};
"""


def node_functions(tmp_path: Path) -> Path:
    """A stand-in `functions/` whose Node folder has an action.js that reads function.json."""
    node = tmp_path / "functions" / "node"
    node.mkdir(parents=True)
    (node / "action.js").write_text(_NODE_ACTION)
    (node / "helper.js").write_text('exports.name = "helper";\n')
    (node / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path / "functions"


def test_node_zip_holds_the_scripts_a_package_json_and_the_function_name(tmp_path: Path) -> None:
    functions = node_functions(tmp_path)
    content = package.openwhisk_zip("sleep", "node", functions)
    assert content == package.openwhisk_zip("sleep", "node", functions)
    assert content != package.openwhisk_zip("echo", "node", functions)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert sorted(archive.namelist()) == [
            "action.js",
            "function.json",
            "helper.js",
            "package.json",
        ]
        assert json.loads(archive.read("package.json"))["main"] == "action.js"
        assert json.loads(archive.read("function.json")) == {"function": "sleep"}


def test_node_zip_runs_as_the_nodejs_runtime_loads_it(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed here")
    directory = tmp_path / "action"
    content = package.openwhisk_zip("matrix", "node", node_functions(tmp_path))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        archive.extractall(directory)
    # The runtime requires the package's directory (package.json `main`) and calls `main`.
    script = f"console.log(JSON.stringify(require({str(directory)!r}).main({{n: 2}})))"
    result = subprocess.run(
        [node, "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(result.stdout) == {
        "function": "matrix",
        "params": {"n": 2},
        "helper": "helper",
    }


@pytest.mark.parametrize(
    ("name", "language", "reason"),
    [
        ("ftp", "node", "function 'ftp' has no node implementation"),
        ("ftp", "go", "function 'ftp' has no go implementation"),
        ("chain", "java", "function 'chain' has no java implementation"),
    ],
)
def test_languages_and_functions_without_an_action_are_refused(
    tmp_path: Path, name: str, language: Language, reason: str
) -> None:
    with pytest.raises(package.NoAction, match=reason):
        package.openwhisk_zip(name, language, node_functions(tmp_path))


def test_missing_node_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(package.NoAction, match=r"no action\.js"):
        package.openwhisk_zip("echo", "node", tmp_path)


def test_command_line_names_the_language_and_refuses_one_without_an_action(
    tmp_path: Path,
) -> None:
    output = tmp_path / "echo.zip"
    refused = subprocess.run(
        [sys.executable, "-m", "functions.package", "--language", "go", "ftp", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 2
    assert "function 'ftp' has no go implementation" in refused.stderr
    assert not output.exists()


def go_functions(tmp_path: Path) -> Path:
    """A stand-in `functions/` whose Go folder has a server entry, shared code and a test."""
    go = tmp_path / "functions" / "go"
    go.mkdir(parents=True)
    (go / "go.mod").write_text("module faasbench/functions\n\ngo 1.17\n")
    (go / "serve.go").write_text("package main\n\nfunc main() {}\n")
    (go / "shared.go").write_text("package main\n\nconst shared = 1\n")
    (go / "shared_test.go").write_text("package main\n")
    (go / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path / "functions"


def test_go_zip_holds_the_sources_but_the_server_and_an_entry_naming_the_function(
    tmp_path: Path,
) -> None:
    functions = go_functions(tmp_path)
    content = package.openwhisk_zip("matrix", "go", functions)
    assert content == package.openwhisk_zip("matrix", "go", functions)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert sorted(archive.namelist()) == ["action.go", "go.mod", "shared.go"]
        entry = archive.read("action.go").decode()
    assert 'const actionFunction = "matrix"' in entry
    assert "return RunAction(actionFunction, params)" in entry
    assert package.ACTION_MAIN["go"] == "Main"
    with zipfile.ZipFile(io.BytesIO(package.openwhisk_zip("echo", "go", functions))) as archive:
        assert 'const actionFunction = "echo"' in archive.read("action.go").decode()


def test_go_sources_that_lack_go_mod_or_take_the_entry_s_name_are_refused(
    tmp_path: Path,
) -> None:
    functions = go_functions(tmp_path)
    (functions / "go" / "action.go").write_text("package main\n")
    with pytest.raises(package.NoAction, match=r"action\.go exists"):
        package.openwhisk_zip("echo", "go", functions)
    (functions / "go" / "go.mod").unlink()
    with pytest.raises(package.NoAction, match=r"no Go sources and go\.mod"):
        package.openwhisk_zip("echo", "go", functions)


def java_functions(tmp_path: Path) -> Path:
    """A stand-in `functions/` whose Java folder has a server the action leaves out (it would
    not compile at --release 8), shared code and an action class."""
    java = tmp_path / "functions" / "java"
    (java / "action").mkdir(parents=True)
    (java / "Serve.java").write_text("final class Serve { void f() { var x = 1; } }\n")
    (java / "Shared.java").write_text("final class Shared { static final int N = 1; }\n")
    (java / "action" / "WhiskAction.java").write_text(
        "import com.google.gson.JsonObject;\n"
        "public final class WhiskAction {\n"
        "    public static JsonObject main(JsonObject args) { return args; }\n}\n"
    )
    return tmp_path / "functions"


def need_java_toolchain() -> None:
    if shutil.which("javac") is None or not package.gson_jar().is_file():
        pytest.skip(
            "java: javac or Gson missing (Debian packages default-jdk-headless and "
            "libgoogle-gson-java; scripts/bootstrap.sh installs them)"
        )


def test_java_jar_holds_release_8_classes_a_manifest_and_the_function_name(
    tmp_path: Path,
) -> None:
    need_java_toolchain()
    functions = java_functions(tmp_path)
    content = package.openwhisk_zip("sleep", "java", functions)
    assert content == package.openwhisk_zip("sleep", "java", functions)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        assert names[0] == "META-INF/MANIFEST.MF"
        assert sorted(names[1:]) == ["Shared.class", "WhiskAction.class", "function.json"]
        assert json.loads(archive.read("function.json")) == {"function": "sleep"}
        # Class file major version 52 is Java 8's.
        assert archive.read("Shared.class")[6:8] == (52).to_bytes(2, "big")


def test_java_without_gson_or_with_broken_sources_is_refused_naming_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_java_toolchain()
    functions = java_functions(tmp_path)
    (functions / "java" / "Shared.java").write_text("final class Shared { int x = ; }\n")
    with pytest.raises(package.NoAction, match=r"java: javac failed: .*Shared\.java"):
        package.openwhisk_zip("echo", "java", functions)
    monkeypatch.setenv("FAASBENCH_GSON_JAR", str(tmp_path / "missing.jar"))
    with pytest.raises(package.NoAction, match=r"no Gson jar at .*missing\.jar.*libgoogle-gson"):
        package.openwhisk_zip("echo", "java", functions)
