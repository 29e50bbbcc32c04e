"""OpenWhisk: the chart fetched and verified by its git tree hash, the values checked against
the chart's own defaults and schema, the runtimes manifest, and the stacks under mocks."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any
from unittest import mock

import jsonschema
import pulumi
import pytest
import yaml
from support.k8s_objects import plain
from support.openwhisk_chart import (
    archive_path,
    pack_archive,
    serve_archives,
    write_chart,
)
from support.pulumi_mocks import FAKE_KUBECONFIG, run_program, stack_file_config
from support.specs import OPENWHISK_CHART_SPEC, require_tree

from components.endpoint import Endpoint
from components.monitoring_config import SCRAPER
from components.openwhisk_chart import (
    OPENWHISK_CHART,
    ChartError,
    ChartFetchError,
    chart_with_runtimes,
    fetch_chart,
)
from components.openwhisk_config import (
    METRICS_OPTION,
    NEW_SCHEDULER_MIB,
    OpenWhiskSettings,
    Prewarm,
    Scraper,
    go_float_string,
    metrics_network_policy,
    openwhisk_values,
    plan_capacity,
    runtimes_with_prewarm,
)
from components.pinned_source import git_tree_hash

# --- the chart: fetched pinned, one copy per runtimes manifest ------------------------------


def test_the_chart_is_fetched_through_the_pinned_cache(tmp_path: Path) -> None:
    folder = tmp_path / "chart"
    write_chart(folder)
    source = dataclasses.replace(OPENWHISK_CHART, tree=git_tree_hash(folder))
    with serve_archives({archive_path(source): pack_archive(folder, source)}) as url:
        chart = fetch_chart(dataclasses.replace(source, host=url), cache=tmp_path / "cache")
    assert git_tree_hash(chart) == source.tree
    with serve_archives({}) as url, pytest.raises(ChartFetchError, match=r"OpenWhisk chart.*404"):
        fetch_chart(dataclasses.replace(source, host=url, tree="0" * 40), cache=tmp_path / "c2")


def test_each_runtimes_manifest_gets_its_own_named_copy(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    write_chart(chart)
    runtimes = json.loads((chart / "runtimes.json").read_text())
    copies = tmp_path / "copies"
    first, name = chart_with_runtimes(chart, runtimes, into=copies)
    assert json.loads((first / name).read_text()) == runtimes
    assert (first / "Chart.yaml").is_file()
    assert first.parent == copies
    changed = runtimes_with_prewarm(runtimes, [Prewarm("python:3", 256, 1)])
    second, other = chart_with_runtimes(chart, changed, into=copies)
    assert other != name
    assert second != first
    assert chart_with_runtimes(chart, runtimes, into=copies) == (first, name)


# --- values ----------------------------------------------------------------------------------

SETTINGS = OpenWhiskSettings(invokers=3, invoker_label="invoker", core_label="core")


def values_for(settings: OpenWhiskSettings = SETTINGS) -> dict[str, Any]:
    return openwhisk_values(
        settings,
        api=Endpoint("http", "10.0.2.40", 8080),
        runtimes_file="runtimes-0123456789abcdef.json",
        system_auth="00000000-0000-4000-8000-000000000001:" + "s" * 64,
        guest_auth="00000000-0000-4000-8000-000000000002:" + "g" * 64,
    )


def key_paths(tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            paths += key_paths(value, (*prefix, key))
        else:
            paths.append((*prefix, key))
    return paths


def merged(defaults: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    result = dict(defaults)
    for key, value in ours.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


@pytest.mark.parametrize("scheduler", ["default", "new"])
def test_every_key_we_set_is_a_chart_default_and_the_result_passes_its_schema(
    scheduler: str,
) -> None:
    chart = require_tree(OPENWHISK_CHART_SPEC)
    defaults = yaml.safe_load((chart / "values.yaml").read_text())
    settings = dataclasses.replace(SETTINGS, scheduler=scheduler, storage_class="fast")  # type: ignore[arg-type]
    values = values_for(settings)
    for path in key_paths(values):
        node: Any = defaults
        for part in path:
            assert isinstance(node, dict), f"{'.'.join(path)}: parent is not a map"
            assert part in node, f"{'.'.join(path)} is not in the chart's values.yaml"
            node = node[part]
    schema = json.loads((chart / "values.schema.json").read_text())
    # The schema names a draft jsonschema does not ship; Draft 7 is what Helm validates with.
    jsonschema.Draft7Validator(schema).validate(merged(defaults, values))


def test_values_raise_throttles_and_turn_off_what_a_benchmark_does_not_use() -> None:
    values = values_for()
    limits = values["whisk"]["limits"]
    assert limits["actionsInvokesPerminute"] == 999_999
    assert limits["actionsInvokesConcurrent"] == 999_999
    assert values["whisk"]["auth"]["guest"].startswith("00000000-0000-4000-8000-000000000002:")
    assert values["whisk"]["runtimes"] == "runtimes-0123456789abcdef.json"
    assert values["whisk"]["ingress"] == {
        "apiHostName": "10.0.2.40",
        "apiHostPort": 8080,
        "apiHostProto": "http",
        "type": "NodePort",
    }
    assert values["nginx"]["httpsNodePort"] == 31001
    assert values["pdb"] == {"enable": False}
    assert values["providers"] == {"alarm": {"enabled": False}, "kafka": {"enabled": False}}
    # /metrics without the chart's own Prometheus and Grafana.
    assert values["metrics"] == {"kamonEnabled": True, "prometheusEnabled": False}
    assert values["controller"]["options"] == METRICS_OPTION
    assert METRICS_OPTION in values["invoker"]["options"].split()
    assert values["scheduler"] == {"enabled": False}
    new = values_for(dataclasses.replace(SETTINGS, scheduler="new"))
    assert new["scheduler"] == {"enabled": True, "options": METRICS_OPTION}
    assert values["invoker"]["containerFactory"]["kubernetes"]["replicaCount"] == 3
    assert "idle-container=600s" in values["invoker"]["options"]
    assert values["toleration"]["coreValue"] == "core"
    assert values["affinity"]["invokerNodeLabel"] == "invoker"


def test_numbers_reach_openwhisk_as_plain_integers() -> None:
    # Seed 002's failure: a limit of 50,000,000 rendered by Helm's quote as "5e+07".
    assert go_float_string(50_000_000) == "5e+07"
    assert go_float_string(1_000_000) == "1e+06"
    assert go_float_string(999_999) == "999999"
    values = values_for()
    for path in key_paths(values["whisk"]["limits"]):
        node: Any = values["whisk"]["limits"]
        for part in path:
            node = node[part]
        if isinstance(node, int | float):
            assert go_float_string(node).isdigit(), path
    with pytest.raises(ValueError, match="5e\\+07"):
        values_for(dataclasses.replace(SETTINGS, invokes_per_minute=50_000_000))


def test_prewarm_sets_exactly_the_stem_cells_asked_for(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    write_chart(chart)
    runtimes = json.loads((chart / "runtimes.json").read_text())
    prewarmed = runtimes_with_prewarm(
        runtimes, [Prewarm.parse("python:3:256:2"), Prewarm.parse("python:3:512:1")]
    )
    by_kind = {r["kind"]: r for family in prewarmed["runtimes"].values() for r in family}
    assert by_kind["python:3"]["stemCells"] == [
        {"initialCount": 2, "memory": "256 MB"},
        {"initialCount": 1, "memory": "512 MB"},
    ]
    assert [k for k, r in by_kind.items() if "stemCells" in r] == ["python:3"]
    assert runtimes_with_prewarm(runtimes, None) == runtimes
    with pytest.raises(ChartError, match="python:2"):
        runtimes_with_prewarm(runtimes, [Prewarm("python:2", 256, 1)])


# --- stacks ----------------------------------------------------------------------------------


def test_a_k3s_stack_puts_openwhisk_behind_haproxy_over_tls() -> None:
    config = {
        **stack_file_config("aws"),
        "framework": "openwhisk",
        "openwhiskPrewarm": '["python:3:256:2"]',
        "openwhiskScheduler": "new",
    }
    run = run_program(config, stack="ow")
    release = run.mocks.one("kubernetes:helm.sh/v3:Release", "openwhisk")
    assert release.inputs["timeout"] >= 1200
    assert "values" in release.secret_inputs
    values = release.inputs["values"]
    haproxy = next(r for r in run.mocks.of_type("aws:ec2/instance:Instance") if "haproxy" in r.name)
    ingress = values["whisk"]["ingress"]
    assert ingress["apiHostName"] == haproxy.outputs["privateIp"]
    # The API URL OpenWhisk announces is the one the stack exports: HAProxy's plain HTTP front.
    announced = f"{ingress['apiHostProto']}://{ingress['apiHostName']}:{ingress['apiHostPort']:.0f}"
    assert (
        announced
        == run.value("openwhisk.api_host")
        == f"http://{haproxy.outputs['privateIp']}:8080"
    )
    assert values["scheduler"]["enabled"] is True
    assert values["invoker"]["containerFactory"]["kubernetes"]["replicaCount"] == 2
    runtimes = Path(release.inputs["chart"]) / values["whisk"]["runtimes"]
    assert '"initialCount": 2' in runtimes.read_text()
    server_step = next(
        r for r in run.mocks.of_type("command:remote:Command") if r.name == "k8s-server-install"
    )
    assert "NODE_TAINTS=openwhisk-role=core:NoSchedule" in server_step.inputs["stdin"]
    haproxy_step = next(
        r for r in run.mocks.of_type("command:remote:Command") if r.name == "haproxy-install"
    )
    config_text = haproxy_step.inputs["stdin"]
    assert "default-server check inter 2000 fall 2 rise 2 ssl verify none" in config_text
    assert "http-check send meth GET uri /api/v1" in config_text
    for worker in run.value("nodes.workers"):
        assert f"{worker}:31001" in config_text
    assert run.value("openwhisk.api_host") == run.value("gateway_url")
    assert run.secret("openwhisk.auth")
    assert run.value("openwhisk.auth") in str(values["whisk"]["auth"]["guest"])


def test_the_stack_lets_its_prometheus_in_to_the_metrics_ports_only() -> None:
    config = {**stack_file_config("aws"), "framework": "openwhisk", "openwhiskScheduler": "new"}
    run = run_program(config, stack="ow")
    [policy] = run.mocks.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    assert plain(policy.inputs) == metrics_network_policy("new", SCRAPER)
    assert "openwhisk-namespace" in run.mocks.dependencies[policy.name]
    spec = metrics_network_policy("default", Scraper("mon", {"app": "p"}))["spec"]
    [selector] = spec["podSelector"]["matchExpressions"]
    assert selector["values"] == ["owdev-controller", "owdev-invoker"]
    [rule] = spec["ingress"]
    assert rule["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mon"}},
            "podSelector": {"matchLabels": {"app": "p"}},
        }
    ]
    assert rule["ports"] == [
        {"protocol": "TCP", "port": "controller"},
        {"protocol": "TCP", "port": "invoker"},
    ]


def test_an_unknown_prewarm_kind_stops_the_program_with_a_message() -> None:
    # RunError: the language host prints its message alone, no traceback (test_program_errors).
    config = {
        "cloud": "existing",
        "framework": "openwhisk",
        "kubeconfig": FAKE_KUBECONFIG,
        "openwhiskPrewarm": '["cobol:85:256:1"]',
    }
    with pytest.raises(pulumi.RunError, match=r"runtime kinds the chart does not have: cobol:85"):
        run_program(config, ("kubeconfig",), stack="lab")


# --- capacity ---------------------------------------------------------------------------------


def test_invokers_and_action_memory_are_sized_from_the_workers() -> None:
    capacity = plan_capacity(
        scheduler="default",
        workers=2,
        worker_mib=8192,
        server_mib=8192,
        invokers=None,
        user_memory_mb=None,
    )
    assert capacity.problems == ()
    assert capacity.invokers == 2
    # 8192 - 1024 (OS, kubelet) - 768 (the invoker) = 6400, a multiple of 256.
    assert capacity.user_memory_mb == 6400
    assert capacity.containers_per_invoker == 25
    two_each = plan_capacity(
        scheduler="default",
        workers=2,
        worker_mib=8192,
        server_mib=8192,
        invokers=4,
        user_memory_mb=None,
    )
    assert two_each.user_memory_mb == (8192 - 1024 - 2 * 768) // 2 // 256 * 256


def test_what_does_not_fit_is_named_with_its_numbers() -> None:
    small = plan_capacity(
        scheduler="new",
        workers=1,
        worker_mib=2048,
        server_mib=4096,
        invokers=None,
        user_memory_mb=4096,
    )
    [workers, server] = small.problems
    assert "openwhiskUserMemoryMb 4096" in workers
    assert "workers have 2048 MiB" in workers
    assert "server has 4096 MiB" in server
    assert "scheduler 1536, etcd 256" in server
    assert "managerSize" in server
    # The new scheduler brings the scheduler and etcd; ElasticSearch only comes with the
    # ElasticSearch activation store.
    assert set(NEW_SCHEDULER_MIB) == {"scheduler", "etcd"}


def test_an_undersized_server_fails_the_preview_with_the_numbers() -> None:
    errors: list[str] = []
    config = {
        **stack_file_config("aws"),
        "framework": "openwhisk",
        "managerSize": "t3a.medium",
        "openwhiskScheduler": "new",
    }
    with mock.patch.object(pulumi.log, "error", side_effect=errors.append):
        run_program(config, stack="ow")
    assert len(errors) == 1
    assert "OpenWhisk does not fit: the k3s server has 4096 MiB" in errors[0]
    fitting: list[str] = []
    with mock.patch.object(pulumi.log, "error", side_effect=fitting.append):
        run = run_program({**stack_file_config("aws"), "framework": "openwhisk"}, stack="ow")
    assert fitting == []
    assert run.value("openwhisk.capacity.invokers") == 2
    assert run.value("openwhisk.capacity.user_memory_mb") == 6400
