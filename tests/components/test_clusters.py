"""Each orchestrator on each cloud, under mocks: machines, the ordered chain of remote steps,
connections through the bastion, secrets kept secret."""

from __future__ import annotations

import io
from typing import Any

import hcl2
import pytest
import yaml
from support.pulumi_mocks import (
    FAKE_KUBECONFIG,
    STEP_STDOUT,
    ProgramRun,
    Recorded,
    run_program,
    stack_file_config,
    step_of,
)
from support.snapshots import assert_snapshot
from support.validators import cloud_init_schema

from components.nomad_config import (
    CONSUL_AGENT_POLICY,
    OPENFAAS_VAULT_POLICY,
    AgentSecrets,
    consul_config,
    nomad_config,
    vault_config,
)

ORCHESTRATORS = ["k8s", "swarm", "nomad"]
CLOUDS = ["aws", "openstack"]
INSTANCE = {"aws": "aws:ec2/instance:Instance", "openstack": "openstack:compute/instance:Instance"}
COMMAND = "command:remote:Command"


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str], ProgramRun]:
    return {
        (cloud, orchestrator): run_program(
            {**stack_file_config(cloud), "orchestrator": orchestrator, "workerCount": "2"},
            stack=f"{cloud}-{orchestrator}",
        )
        for cloud in CLOUDS
        for orchestrator in ORCHESTRATORS
    }


CASES = [(c, o) for c in CLOUDS for o in ORCHESTRATORS]


def instances(run: ProgramRun, cloud: str) -> list[Recorded]:
    return run.mocks.of_type(INSTANCE[cloud])


def bastion_ip(run: ProgramRun) -> str:
    return str(run.value("bastion.host"))


def commands(run: ProgramRun) -> list[Recorded]:
    return run.mocks.of_type(COMMAND)


def private_ip(run: ProgramRun, cloud: str, instance: Recorded) -> str:
    if cloud == "aws":
        return str(instance.outputs["privateIp"])
    port = next(
        p
        for p in run.mocks.of_type("openstack:networking/port:Port")
        if p.id == instance.inputs["networks"][0]["port"]
    )
    return str(port.outputs["allFixedIps"][0])


@pytest.mark.parametrize(("cloud", "orchestrator"), CASES)
def test_machines_per_role_with_their_hostnames(
    runs: dict[tuple[str, str], ProgramRun], cloud: str, orchestrator: str
) -> None:
    run = runs[(cloud, orchestrator)]
    machines = instances(run, cloud)
    stack = f"{cloud}-{orchestrator}"
    expected = [
        "bastion",
        f"faasbench-{stack}-manager-0",
        f"faasbench-{stack}-worker-0",
        f"faasbench-{stack}-worker-1",
    ]
    # OpenFaaS, its front (HAProxy) and the FTP server.
    expected += [f"faasbench-{stack}-ftp", f"faasbench-{stack}-haproxy"]
    hostnames = sorted(
        yaml.safe_load(m.inputs["userData"]).get("hostname", "bastion") for m in machines
    )
    assert hostnames == sorted(expected)
    assert run.value("nodes.managers") == [
        private_ip(run, cloud, m) for m in machines if "manager-0" in m.inputs["userData"]
    ]
    assert len(run.value("nodes.workers")) == 2


@pytest.mark.parametrize("orchestrator", ORCHESTRATORS)
def test_every_user_data_document_is_valid_cloud_config(
    runs: dict[tuple[str, str], ProgramRun], orchestrator: str
) -> None:
    documents = {m.inputs["userData"] for m in instances(runs[("aws", orchestrator)], "aws")}
    for document in documents:
        cloud_init_schema(document)
        assert len(document.encode()) < 16 * 1024, "AWS caps user data at 16 KB"


def test_worker_user_data_snapshot(runs: dict[tuple[str, str], ProgramRun]) -> None:
    run = runs[("aws", "k8s")]
    [worker] = [m for m in instances(run, "aws") if "worker-0" in m.inputs["userData"]]
    assert_snapshot("node.cloud-config.yaml", worker.inputs["userData"])


@pytest.mark.parametrize(("cloud", "orchestrator"), CASES)
def test_every_remote_step_reaches_its_machine_through_the_bastion(
    runs: dict[tuple[str, str], ProgramRun], cloud: str, orchestrator: str
) -> None:
    run = runs[(cloud, orchestrator)]
    bastion = bastion_ip(run)
    private = {private_ip(run, cloud, m) for m in instances(run, cloud)}
    steps = commands(run)
    assert steps
    for step in steps:
        connection = step.inputs["connection"]
        assert connection["user"] == "ubuntu"
        assert connection["dialErrorLimit"] > 0, "bounded retries: destroy must not hang"
        if connection["host"] == bastion:
            assert "proxy" not in connection, step.name
        else:
            assert connection["host"] in private, step.name
            assert connection["proxy"]["host"] == bastion, f"{step.name} bypasses the bastion"
        assert step.inputs["create"] == "sudo bash -s"


@pytest.mark.parametrize(("cloud", "orchestrator"), CASES)
def test_steps_rerun_when_their_machine_is_replaced(
    runs: dict[tuple[str, str], ProgramRun], cloud: str, orchestrator: str
) -> None:
    run = runs[(cloud, orchestrator)]
    instance_ids = {m.id for m in instances(run, cloud)}
    for step in commands(run):
        assert step.inputs["triggers"], step.name
        assert set(step.inputs["triggers"]) <= instance_ids, step.name


ORDER = {
    "k8s": [
        ("k8s-api-forward", "k8s-server-install"),
        ("k8s-worker-0-install", "k8s-server-install"),
        ("k8s-worker-0-ready", "k8s-worker-0-install"),
        ("k8s-worker-1-ready", "k8s-worker-1-install"),
        ("k8s-kubeconfig", "k8s-worker-0-ready"),
        ("k8s-kubeconfig", "k8s-worker-1-ready"),
    ],
    "swarm": [
        ("swarm-init", "swarm-manager-0-docker"),
        ("swarm-join-token", "swarm-init"),
        ("swarm-worker-0-join", "swarm-worker-0-docker"),
        ("swarm-worker-0-join", "swarm-join-token"),
        ("swarm-worker-1-ready", "swarm-worker-1-join"),
        ("openfaas-deploy", "swarm-worker-1-ready"),
    ],
    "nomad": [
        ("nomad-manager-0-consul", "nomad-manager-0-install"),
        ("nomad-consul-acl", "nomad-manager-0-consul"),
        ("nomad-vault", "nomad-manager-0-install"),
        ("nomad-manager-0-nomad", "nomad-consul-acl"),
        ("nomad-manager-0-nomad", "nomad-vault"),
        ("nomad-nomad-acl", "nomad-manager-0-nomad"),
        ("nomad-workload-identity", "nomad-nomad-acl"),
        ("nomad-worker-0-consul", "nomad-consul-acl"),
        ("nomad-worker-0-nomad", "nomad-worker-0-docker"),
        ("nomad-worker-0-nomad", "nomad-worker-0-cni"),
        ("nomad-worker-0-nomad", "nomad-worker-0-consul"),
        ("nomad-worker-0-nomad", "nomad-manager-0-nomad"),
        ("nomad-worker-0-ready", "nomad-worker-0-nomad"),
        ("nomad-worker-0-ready", "nomad-nomad-acl"),
        ("openfaas-deploy", "nomad-worker-1-ready"),
        ("openfaas-deploy", "nomad-workload-identity"),
    ],
}


@pytest.mark.parametrize("orchestrator", ORCHESTRATORS)
def test_remote_steps_run_in_order(
    runs: dict[tuple[str, str], ProgramRun], orchestrator: str
) -> None:
    run = runs[("aws", orchestrator)]
    names = {c.name for c in commands(run)}
    for later, earlier in ORDER[orchestrator]:
        assert {later, earlier} <= names, (later, earlier)
        assert earlier in run.mocks.dependencies[later], f"{later} does not wait for {earlier}"


def generated_secrets(run: ProgramRun) -> set[str]:
    values: set[str] = set()
    for resource in run.mocks.resources:
        if resource.typ.startswith("random:") and not resource.name.endswith("-accessor"):
            values.add(resource.outputs.get("result") or resource.outputs["base64"])
        if resource.typ == "tls:index/privateKey:PrivateKey":
            values.add(resource.outputs["privateKeyOpenssh"].strip())
    values.add(STEP_STDOUT["swarm-join-token"].strip())
    values.add(yaml.safe_load(FAKE_KUBECONFIG)["users"][0]["user"]["client-key-data"])
    return values


@pytest.mark.parametrize(("cloud", "orchestrator"), CASES)
def test_no_secret_in_any_plain_input(
    runs: dict[tuple[str, str], ProgramRun], cloud: str, orchestrator: str
) -> None:
    run = runs[(cloud, orchestrator)]
    secrets = generated_secrets(run)
    assert len(secrets) >= 3
    for resource in run.mocks.resources:
        plain = repr({k: v for k, v in resource.inputs.items() if k not in resource.secret_inputs})
        for secret in secrets:
            assert secret not in plain, f"a generated secret is in {resource.name}'s plain inputs"


@pytest.mark.parametrize(("cloud", "orchestrator"), CASES)
def test_steps_carrying_secrets_keep_them_secret(
    runs: dict[tuple[str, str], ProgramRun], cloud: str, orchestrator: str
) -> None:
    run = runs[(cloud, orchestrator)]
    secrets = generated_secrets(run)
    for step in commands(run):
        stdin = step.inputs["stdin"]
        if any(secret in stdin for secret in secrets):
            assert "stdin" in step.secret_inputs, step.name
        for secret in secrets:
            assert secret not in step.inputs["create"]
            assert secret not in step.inputs.get("delete", "")
        if step_of(stdin) in STEP_STDOUT:
            assert "stdout" in run.mocks.secret_outputs[step.name], step.name
            assert step.inputs["logging"] == "none", step.name


def test_kubeconfig_points_at_the_bastion_and_the_provider_uses_it(
    runs: dict[tuple[str, str], ProgramRun],
) -> None:
    run = runs[("aws", "k8s")]
    assert run.secret("kubeconfig")
    kubeconfig = yaml.safe_load(run.value("kubeconfig"))
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://{bastion_ip(run)}:6443"
    assert kubeconfig["current-context"] == "faasbench-aws-k8s-k3s"
    server = run.value("nodes.managers")[0]
    assert run.value("kube_api_internal") == f"https://{server}:6443"
    provider = run.mocks.one("pulumi:providers:kubernetes")
    assert yaml.safe_load(provider.inputs["kubeconfig"]) == kubeconfig
    assert "kubeconfig" in provider.secret_inputs
    # The server certificate must name the bastion's address that kubeconfig uses.
    server_step = run.mocks.one(COMMAND, "k8s-server-install")
    assert f"TLS_SANS='{bastion_ip(run)} {server}'" in server_step.inputs["stdin"]
    assert "NODE_TAINTS=faasbench.io/control-plane=true:NoSchedule" in server_step.inputs["stdin"]


def test_nomad_outputs_are_secret_where_they_should_be(
    runs: dict[tuple[str, str], ProgramRun],
) -> None:
    run = runs[("aws", "nomad")]
    server = run.value("nodes.managers")[0]
    assert run.value("nomad.address") == f"http://{server}:4646"
    assert run.value("nomad.consul_address") == f"http://{server}:8500"
    assert run.value("nomad.vault_address") == f"http://{server}:8200"
    for key in ("token", "consul_token", "vault_token"):
        assert run.secret(f"nomad.{key}"), key
        assert run.value(f"nomad.{key}") in generated_secrets(run)
    assert not run.secret("nomad.address")


def test_swarm_output_names_the_manager(runs: dict[tuple[str, str], ProgramRun]) -> None:
    run = runs[("openstack", "swarm")]
    assert run.value("swarm.manager") == run.value("nodes.managers")[0]


# --- rendered Nomad, Consul and Vault configuration -------------------------------------------

SECRETS = AgentSecrets(
    consul_gossip_key="Y29uc3VsLWdvc3NpcC1rZXktMzItYnl0ZXMtbG9uZyE=",
    nomad_gossip_key="bm9tYWQtZ29zc2lwLWtleS0zMi1ieXRlcy1sb25nISE=",
    consul_management_token="0b6cd3c4-58f6-4b44-8f5e-111111111111",
    consul_agent_token="0b6cd3c4-58f6-4b44-8f5e-222222222222",
)


def parse_hcl(text: str) -> dict[str, Any]:
    return hcl2.load(io.StringIO(text))


def unquote(value: Any) -> Any:
    return value.strip('"') if isinstance(value, str) else value


@pytest.mark.parametrize("server", [True, False], ids=["server", "client"])
def test_agent_configs_parse_and_bind_to_the_private_address(server: bool) -> None:
    kind = "server" if server else "client"
    consul = consul_config(
        node_name="n1", ip="10.0.2.7", server_ips=["10.0.2.5"], server=server, secrets=SECRETS
    )
    nomad = nomad_config(
        node_name="n1",
        ip="10.0.2.7",
        server_ips=["10.0.2.5"],
        server=server,
        secrets=SECRETS,
        vault_ip="10.0.2.5",
    )
    parsed_consul = parse_hcl(consul)
    parsed_nomad = parse_hcl(nomad)
    assert unquote(parsed_consul["bind_addr"]) == "10.0.2.7"
    assert unquote(parsed_consul["client_addr"]) == "127.0.0.1 10.0.2.7"
    assert parsed_consul["server"] is server
    acl = parsed_consul["acl"][0]
    assert acl["enabled"] is True
    assert unquote(acl["default_policy"]) == "deny"
    assert unquote(parsed_nomad["bind_addr"]) == "10.0.2.7"
    assert parsed_nomad["acl"][0]["enabled"] is True
    telemetry = parsed_nomad["telemetry"][0]
    assert telemetry["prometheus_metrics"] is True
    assert telemetry["publish_allocation_metrics"] is True
    if server:
        assert parsed_nomad["server"][0]["bootstrap_expect"] == 1
        assert unquote(parsed_nomad["server"][0]["encrypt"]) == SECRETS.nomad_gossip_key
        assert parsed_nomad["client"][0]["enabled"] is False
    else:
        client = parsed_nomad["client"][0]
        assert client["enabled"] is True
        assert [unquote(s) for s in client["servers"]] == ["10.0.2.5:4647"]
        assert unquote(client["cni_path"]) == "/opt/cni/bin"
    assert_snapshot(f"consul-{kind}.hcl", consul)
    assert_snapshot(f"nomad-{kind}.hcl", nomad)


def test_vault_and_policies_parse() -> None:
    vault = parse_hcl(vault_config("10.0.2.5"))
    listener = vault["listener"][0]['"tcp"']
    assert unquote(listener["address"]) == "10.0.2.5:8200"
    policy = parse_hcl(OPENFAAS_VAULT_POLICY)
    paths = {unquote(k) for block in policy["path"] for k in block if k != "__is_block__"}
    assert paths == {"openfaas-fn/*", "auth/token/lookup-self"}
    consul_policy = parse_hcl(CONSUL_AGENT_POLICY)
    assert {"node_prefix", "service_prefix", "agent_prefix"} <= set(consul_policy)


def test_hcl_writer_refuses_what_hcl1_and_hcl2_read_differently() -> None:
    from components.hcl import render_hcl

    with pytest.raises(ValueError, match="template sequence"):
        render_hcl({"name": "${oops}"})
    with pytest.raises(ValueError, match="not an identifier"):
        render_hcl({"a.b": "c"})
