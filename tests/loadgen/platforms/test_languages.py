"""Every platform deploys the implementation `FunctionSpec.language` names: the language's image
(OpenFaaS, Knative, KEDA's HTTP add-on mode), the language's zip and runtime kind (OpenWhisk),
or a refusal that says why (KEDA's queue mode, a missing image, a missing toolchain)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fake_kube import fake_kube, kubeconfig
from support.fake_openfaas import FakeGateway, running_gateway
from support.openwhisk_spec import SwaggerSpec, chart_kinds

from contract.keda_objects import FUNCTION_NAMESPACE as KEDA_NAMESPACE
from contract.knative import DOMAIN, FUNCTION_NAMESPACE
from contract.outputs import Knative, OpenFaas, OpenWhisk, StackOutputs
from functions._registry import LANGUAGES
from functions.package import gson_jar
from loadgen.platforms import (
    FunctionSpec,
    KedaPlatform,
    KnativePlatform,
    LimitExceeded,
    OpenFaasPlatform,
    OpenWhiskPlatform,
    PlatformError,
    make_platform,
)
from loadgen.platforms.k8s_events import KubeAccess
from loadgen.platforms.languages import LOCAL_IMAGES, language_unavailable
from loadgen.platforms.openfaas import LANGUAGE_LABEL
from loadgen.platforms.openwhisk import LANGUAGE_KINDS

PASSWORD = "s3cret-gateway-password"
TOKEN = "kube-token"
IMAGE = "registry.example/faasbench/faasbench-functions:1-aaaa"
IMAGES = {
    "node": "registry.example/faasbench/faasbench-functions-node:1-bbbb",
    "go": "registry.example/faasbench/faasbench-functions-go:1-cccc",
    "java": "registry.example/faasbench/faasbench-functions-java:1-dddd",
}
LIMITS = {"max_functions": None, "max_replicas": None, "scale_to_zero": True, "idler": False}
AUTH = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:" + "k" * 64


def openfaas_config(url: str) -> OpenFaas:
    return OpenFaas(
        url=url,
        username="admin",
        password=PASSWORD,
        namespace="openfaas-fn",
        limits=LIMITS,
        versions={"gateway": "0.27.13", "provider": "0.18.17"},
    )


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with running_gateway("admin", PASSWORD, community_edition=False) as running:
        yield running
    assert running.violations == []


def test_openfaas_deploys_the_language_s_image_and_labels_it(gateway: FakeGateway) -> None:
    platform = OpenFaasPlatform(openfaas_config(gateway.url), "swarm", IMAGE, images=IMAGES)
    node = FunctionSpec(function="echo", language="node", name="echo-node")

    async def go() -> None:
        try:
            await platform.deploy(node, 1, {"MODE": "x"})
        finally:
            await platform.aclose()

    asyncio.run(go())
    deployed = gateway.functions["echo-node"].deployment
    assert deployed["image"] == IMAGES["node"]
    assert deployed["envVars"]["FUNCTION"] == "echo"
    assert deployed["labels"][LANGUAGE_LABEL] == "node"
    for language in ("go", "java"):
        spec = FunctionSpec(function="matrix", language=language)
        assert platform.deployment(spec, 1, {}).image == IMAGES[language]


def test_openfaas_python_deployments_carry_no_language_label() -> None:
    platform = OpenFaasPlatform(
        openfaas_config("http://127.0.0.1:9"), "swarm", IMAGE, images=IMAGES
    )
    deployment = platform.deployment(FunctionSpec(function="echo"), 1, {})
    assert deployment.image == IMAGE
    assert LANGUAGE_LABEL not in (deployment.labels or {})
    asyncio.run(platform.aclose())


def test_a_language_without_an_image_is_refused_naming_the_output_and_the_key() -> None:
    platform = OpenFaasPlatform(openfaas_config("http://127.0.0.1:9"), "k8s", IMAGE)
    spec = FunctionSpec(function="sleep", language="go")
    with pytest.raises(PlatformError, match=r"registry\.images\.go.*functionLanguages"):
        platform.deployment(spec, 1, {})
    asyncio.run(platform.aclose())


def test_make_platform_takes_the_language_images_from_the_registry_output() -> None:
    outputs = StackOutputs.model_validate(
        {
            "cloud": "aws",
            "orchestrator": "nomad",
            "framework": "openfaas",
            "openfaas": openfaas_config("http://10.0.0.5:8080").model_dump(mode="json")
            | {"password": PASSWORD},
            "registry": {"url": "https://docker.io", "image": IMAGE, "images": IMAGES},
        }
    )
    platform = make_platform(outputs, IMAGE)
    assert isinstance(platform, OpenFaasPlatform)
    java = platform.deployment(FunctionSpec(function="echo", language="java"), 1, {})
    assert java.image == IMAGES["java"]
    asyncio.run(platform.aclose())


def test_the_local_target_is_told_each_language_by_label() -> None:
    outputs = StackOutputs.model_validate(
        {
            "cloud": "local",
            "orchestrator": "local",
            "framework": "openfaas",
            "openfaas": openfaas_config("http://127.0.0.1:8080").model_dump(mode="json")
            | {"password": PASSWORD},
        }
    )
    platform = make_platform(outputs, "faasbench-functions:local")
    assert isinstance(platform, OpenFaasPlatform)
    deployment = platform.deployment(FunctionSpec(function="echo", language="go"), 1, {})
    assert deployment.image == LOCAL_IMAGES["go"]
    assert (deployment.labels or {})[LANGUAGE_LABEL] == "go"
    asyncio.run(platform.aclose())


@pytest.fixture
def knative() -> Iterator[Any]:
    from support.fake_knative import running_knative

    with running_knative(
        None, TOKEN, namespace=FUNCTION_NAMESPACE, domain=DOMAIN, grace_s=30
    ) as server:
        yield server
    assert server.violations == []


def test_knative_services_run_the_language_s_image(knative: Any) -> None:
    config = Knative(
        url=knative.front_url,
        domain=DOMAIN,
        namespace=FUNCTION_NAMESPACE,
        scale_to_zero_grace_period_s=30,
        stable_window_s=6,
        max_scale_limit=0,
        versions={"serving": "v1.23.0", "kourier": "v1.23.0"},
        manifests={},
    )
    access = KubeAccess(server=knative.api_url, token=TOKEN)
    platform = KnativePlatform(config, access, IMAGE, images=IMAGES)
    go = FunctionSpec(function="matrix", language="go", name="matrix-go")

    async def deploy() -> None:
        try:
            await platform.deploy(go, 1, {})
            await platform.deploy(FunctionSpec(function="matrix"), 1, {})
        finally:
            await platform.aclose()

    asyncio.run(deploy())

    def image(name: str) -> str:
        [container] = knative.services[name]["spec"]["template"]["spec"]["containers"]
        return str(container["image"])

    assert image("matrix-go") == IMAGES["go"]
    assert image("matrix") == IMAGE


def keda_outputs(server: str, mode: str) -> StackOutputs:
    keda: dict[str, Any] = {
        "mode": mode,
        "namespace": KEDA_NAMESPACE,
        "versions": {"keda": "2.20.2", "http_add_on": "0.15.0"},
    }
    if mode == "queue":
        keda["queue"] = {
            "url": "redis://10.0.0.6:30379",
            "password": "p",
            "internal_address": "faasbench-queue.faasbench-fn.svc:6379",
        }
    return StackOutputs.model_validate(
        {
            "cloud": "existing",
            "orchestrator": "k8s",
            "framework": "keda",
            "kubeconfig": kubeconfig(server),
            "keda": keda,
            "gateway_url": "http://10.0.0.5:8080",
            "registry": {"url": "https://docker.io", "image": IMAGE, "images": IMAGES},
        }
    )


def test_keda_http_mode_runs_the_language_s_image_and_queue_mode_refuses_it() -> None:
    java = FunctionSpec(function="echo", language="java", name="echo-java")
    with fake_kube() as (state, server):
        http = make_platform(keda_outputs(server, "http"), IMAGE)
        queue = make_platform(keda_outputs(server, "queue"), IMAGE)
        assert isinstance(http, KedaPlatform)
        assert isinstance(queue, KedaPlatform)

        async def go() -> None:
            try:
                await http.deploy(java, 1, {})
                with pytest.raises(
                    LimitExceeded, match=r"written in node, and queue mode.*consumer\.py"
                ):
                    await queue.deploy(FunctionSpec(function="echo", language="node"), 1, {})
            finally:
                await http.aclose()
                await queue.aclose()

        asyncio.run(go())
        assert state.violations == []
        deployment = state.get("deployments", KEDA_NAMESPACE, "echo-java")
        assert deployment is not None
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["image"] == IMAGES["java"]
        assert state.get("deployments", KEDA_NAMESPACE, "echo") is None


def node_sources(root: Path) -> Path:
    """A stand-in `functions/` with the Node layout the packager reads."""
    node = root / "functions" / "node"
    node.mkdir(parents=True)
    (node / "action.js").write_text("exports.main = (params) => ({ params });\n")
    (node / "echo.js").write_text("module.exports = (params) => params;\n")
    (node / "README.txt").write_text("not a script\n")
    return root / "functions"


@pytest.fixture
def openwhisk() -> Iterator[Any]:
    from support.fake_openwhisk import running_openwhisk

    with running_openwhisk(SwaggerSpec.load(), AUTH) as server:
        yield server
    assert server.violations == []


def test_openwhisk_deploys_node_as_a_zip_of_the_chart_s_nodejs_16_kind(
    openwhisk: Any, tmp_path: Path
) -> None:
    assert LANGUAGE_KINDS["node"] in chart_kinds()
    config = OpenWhisk(
        api_host=openwhisk.url, auth=AUTH, namespace="guest", insecure_tls=False, idle_timeout_s=1
    )
    platform = OpenWhiskPlatform(config, functions_dir=node_sources(tmp_path))
    node = FunctionSpec(function="echo", language="node", name="echo-node")

    async def go() -> None:
        try:
            await platform.deploy(node, 1, {})
        finally:
            await platform.aclose()

    asyncio.run(go())
    action = openwhisk.actions["echo-node"]
    assert action["exec"]["kind"] == "nodejs:16"
    assert action["exec"]["main"] == "main"
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(action["exec"]["code"])))
    assert sorted(archive.namelist()) == ["action.js", "echo.js", "function.json", "package.json"]
    assert json.loads(archive.read("package.json"))["main"] == "action.js"
    assert json.loads(archive.read("function.json")) == {"function": "echo"}


def go_sources(root: Path) -> Path:
    """A stand-in `functions/` with the Go layout the packager reads."""
    go = root / "functions" / "go"
    go.mkdir(parents=True)
    (go / "go.mod").write_text("module faasbench/functions\n\ngo 1.17\n")
    (go / "serve.go").write_text("package main\n\nfunc main() {}\n")
    (go / "openwhisk.go").write_text(
        "package main\n\n"
        "func RunAction(name string, params map[string]interface{}) map[string]interface{} {\n"
        '\treturn map[string]interface{}{"name": name}\n}\n'
    )
    return root / "functions"


def java_sources(root: Path) -> Path:
    """A stand-in `functions/` with the Java layout the packager compiles."""
    java = root / "functions" / "java"
    (java / "action").mkdir(parents=True)
    (java / "Serve.java").write_text("final class Serve { void f() { var x = 1; } }\n")
    (java / "Shared.java").write_text('final class Shared { static final String NAME = "x"; }\n')
    (java / "action" / "WhiskAction.java").write_text(
        "import com.google.gson.JsonObject;\n"
        "public final class WhiskAction {\n"
        "    public static JsonObject main(JsonObject args) { return args; }\n}\n"
    )
    return root / "functions"


def openwhisk_action(openwhisk: Any, functions: Path, spec: FunctionSpec) -> dict[str, Any]:
    """The action `OpenWhiskPlatform` creates for `spec` from the sources under `functions`."""
    config = OpenWhisk(
        api_host=openwhisk.url, auth=AUTH, namespace="guest", insecure_tls=False, idle_timeout_s=1
    )
    platform = OpenWhiskPlatform(config, functions_dir=functions)

    async def go() -> None:
        try:
            await platform.deploy(spec, 1, {})
        finally:
            await platform.aclose()

    asyncio.run(go())
    return dict(openwhisk.actions[spec.deployed_name])


def test_openwhisk_deploys_go_as_a_source_zip_of_the_chart_s_go_1_17_kind(
    openwhisk: Any, tmp_path: Path
) -> None:
    assert LANGUAGE_KINDS["go"] in chart_kinds()
    spec = FunctionSpec(function="sleep", language="go", name="sleep-go")
    action = openwhisk_action(openwhisk, go_sources(tmp_path), spec)
    assert action["exec"]["kind"] == "go:1.17"
    assert action["exec"]["main"] == "Main"
    assert action["exec"]["binary"] is True
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(action["exec"]["code"])))
    # The server's entry stays out: the runtime's launcher brings its own main.
    assert sorted(archive.namelist()) == ["action.go", "go.mod", "openwhisk.go"]
    entry = archive.read("action.go").decode()
    assert 'const actionFunction = "sleep"' in entry
    assert "func Main(params map[string]interface{}) map[string]interface{}" in entry


def test_openwhisk_deploys_java_as_a_jar_of_the_chart_s_java_8_kind(
    openwhisk: Any, tmp_path: Path
) -> None:
    if shutil.which("javac") is None or not gson_jar().is_file():
        pytest.skip(
            "java: javac or Gson missing (Debian packages default-jdk-headless and "
            "libgoogle-gson-java; scripts/bootstrap.sh installs them)"
        )
    assert LANGUAGE_KINDS["java"] in chart_kinds()
    spec = FunctionSpec(function="matrix", language="java", name="matrix-java")
    action = openwhisk_action(openwhisk, java_sources(tmp_path), spec)
    assert action["exec"]["kind"] == "java:8"
    assert action["exec"]["main"] == "WhiskAction"
    assert action["exec"]["binary"] is True
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(action["exec"]["code"])))
    assert archive.namelist()[0] == "META-INF/MANIFEST.MF"
    assert sorted(archive.namelist()[1:]) == ["Shared.class", "WhiskAction.class", "function.json"]
    assert json.loads(archive.read("function.json")) == {"function": "matrix"}
    # --release 8: class file major version 52, what the runtime's JVM loads.
    assert archive.read("WhiskAction.class")[6:8] == (52).to_bytes(2, "big")


def test_openwhisk_names_a_toolchain_it_cannot_package_with_before_any_call(
    openwhisk: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAASBENCH_GSON_JAR", str(tmp_path / "no-gson.jar"))
    config = OpenWhisk(
        api_host=openwhisk.url, auth=AUTH, namespace="guest", insecure_tls=False, idle_timeout_s=1
    )
    platform = OpenWhiskPlatform(config, functions_dir=java_sources(tmp_path))
    spec = FunctionSpec(function="echo", language="java")

    async def go() -> None:
        try:
            await platform.deploy(spec, 1, {})
        finally:
            await platform.aclose()

    with pytest.raises(
        PlatformError, match=r"package function 'echo' in java: java: (javac|no Gson)"
    ):
        asyncio.run(go())
    assert openwhisk.actions == {}


def test_validate_knows_which_languages_a_stack_can_deploy() -> None:
    """`language_unavailable`, what `validate` refuses before anything is deployed."""
    server = "https://10.0.2.4:6443"
    http, queue = keda_outputs(server, "http"), keda_outputs(server, "queue")
    assert language_unavailable(http, "java") is None
    assert language_unavailable(queue, "python") is None
    assert "queue mode runs the Python consumer" in str(language_unavailable(queue, "java"))
    bare = http.model_copy(update={"registry": None})
    assert "no node image (registry.images.node)" in str(language_unavailable(bare, "node"))
    local = bare.model_copy(update={"cloud": "local"})
    assert language_unavailable(local, "go") is None
    whisk = StackOutputs.model_validate(
        {
            "cloud": "aws",
            "orchestrator": "k8s",
            "framework": "openwhisk",
            "gateway_url": "https://10.0.0.5",
            "openwhisk": {
                "api_host": "https://10.0.0.5",
                "auth": "u:k",
                "namespace": "guest",
                "insecure_tls": False,
                "idle_timeout_s": 600,
            },
        }
    )
    for language in LANGUAGES:
        reason = language_unavailable(whisk, language)
        assert (reason is None) == (language == "python" or language in LANGUAGE_KINDS)


def test_a_forced_cold_start_sends_the_archive_built_at_deploy_again(
    openwhisk: Any, tmp_path: Path
) -> None:
    config = OpenWhisk(
        api_host=openwhisk.url, auth=AUTH, namespace="guest", insecure_tls=False, idle_timeout_s=1
    )
    functions = go_sources(tmp_path)
    platform = OpenWhiskPlatform(config, functions_dir=functions)
    spec = FunctionSpec(function="echo", language="go", name="echo-go")
    codes: list[str] = []

    async def go() -> None:
        try:
            await platform.deploy(spec, 1, {})
            codes.append(openwhisk.actions["echo-go"]["exec"]["code"])
            # Sources edited mid-campaign do not reach the update: it is the same action, new.
            (functions / "go" / "later.go").write_text("package main\n")
            await platform.force_cold(spec)
            codes.append(openwhisk.actions["echo-go"]["exec"]["code"])
        finally:
            await platform.aclose()

    asyncio.run(go())
    assert openwhisk.actions["echo-go"]["revision"] == 2
    assert codes[0] == codes[1]
