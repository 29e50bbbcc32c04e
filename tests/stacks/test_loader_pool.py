"""The loader pool (`loaderCount`): loader machines in the private network, in their own
security group (SSH from the bastion, Dask's ports from the loaders and the bastion, nothing
from any address range), checked ready by a remote step, and exported as the contract's
`loaders` section; without it (the default) the stack has none of this."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError
from support.pulumi_mocks import ProgramRun, Recorded, run_program, stack_file_config

from components.loader_pool import LOADER_PORTS
from contract.machines import ROLES
from contract.outputs import StackOutputs
from contract.prices import AWS_ON_DEMAND_USD_PER_HOUR, StackConfigFileError, stack_machines
from stacks.read_config import ConfigError, load_stack_config

AWS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
AWS_GROUP = "aws:ec2/securityGroup:SecurityGroup"
OS_RULE = "openstack:networking/secGroupRule:SecGroupRule"
OS_GROUP = "openstack:networking/secGroup:SecGroup"


@pytest.fixture(scope="module", params=["aws", "openstack"])
def run(request: pytest.FixtureRequest) -> ProgramRun:
    cloud = request.param
    config = {**stack_file_config(cloud), "loaderCount": "3"}
    if cloud == "aws":
        config["loaderSize"] = "c6a.xlarge"
    return run_program(config, stack=cloud)


def loaders_section(run: ProgramRun) -> dict[str, Any]:
    """The exported `loaders` section, nested again from the run's flattened leaves."""
    section: dict[str, Any] = {}
    for key, leaf in run.leaves.items():
        if key.startswith("loaders."):
            *parents, last = key.removeprefix("loaders.").split(".")
            node = section
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = leaf.value
    return section


def group_of(run: ProgramRun, name: str) -> Recorded:
    cloud = run.value("cloud")
    return run.mocks.one(AWS_GROUP if cloud == "aws" else OS_GROUP, name)


def loader_machines(run: ProgramRun) -> list[tuple[Recorded, list[str]]]:
    """Each loader instance with the security groups it carries (OpenStack: on its port)."""
    m = run.mocks
    if run.value("cloud") == "aws":
        found = [r for r in m.of_type("aws:ec2/instance:Instance") if "loaders-machines" in r.name]
        return [(r, r.inputs["vpcSecurityGroupIds"]) for r in found]
    ports = {r.name: r for r in m.of_type("openstack:networking/port:Port") if "loaders" in r.name}
    found = [
        r for r in m.of_type("openstack:compute/instance:Instance") if "loaders-machines" in r.name
    ]
    result = []
    for instance in found:
        [port_id] = [n["port"] for n in instance.inputs["networks"]]
        port = next(p for p in ports.values() if p.id == port_id)
        result.append((instance, port.inputs["securityGroupIds"]))
    return result


def ingress(run: ProgramRun, group: Recorded) -> set[tuple[int, int, str | None, str | None]]:
    """(first port, last port, source group's name, source range) of a group's ingress rules."""
    m = run.mocks
    rules = set()
    if run.value("cloud") == "aws":
        for rule in m.of_type(AWS_RULE):
            if rule.inputs["securityGroupId"] != group.id:
                continue
            assert rule.inputs["ipProtocol"] == "tcp"
            source = rule.inputs.get("referencedSecurityGroupId")
            cidr = rule.inputs.get("cidrIpv4") or rule.inputs.get("cidrIpv6")
            rules.add(
                (
                    rule.inputs["fromPort"],
                    rule.inputs["toPort"],
                    m.by_id(source).name if source else None,
                    cidr,
                )
            )
        return rules
    for rule in m.of_type(OS_RULE):
        if rule.inputs["securityGroupId"] != group.id or rule.inputs["direction"] != "ingress":
            continue
        assert rule.inputs["protocol"] == "tcp"
        source = rule.inputs.get("remoteGroupId")
        rules.add(
            (
                rule.inputs["portRangeMin"],
                rule.inputs["portRangeMax"],
                m.by_id(source).name if source else None,
                rule.inputs.get("remoteIpPrefix"),
            )
        )
    return rules


def test_the_loaders_output_names_every_loader_and_the_scheduler_on_the_first(
    run: ProgramRun,
) -> None:
    section = loaders_section(run)
    machines = loader_machines(run)
    assert len(machines) == 3
    private_ips = [
        r.outputs.get("privateIp") or r.outputs.get("accessIpV4")
        for r, _ in sorted(machines, key=lambda m: m[0].name)
    ]
    hosts = section["hosts"]
    assert [h["user"] for h in hosts] == ["ubuntu"] * 3
    assert len({h["host"] for h in hosts}) == 3
    if run.value("cloud") == "aws":
        assert [h["host"] for h in hosts] == private_ips
    assert section["scheduler"] == f"tls://{hosts[0]['host']}:{LOADER_PORTS.scheduler}"
    assert section["worker_ports"] == {
        "first": LOADER_PORTS.workers_first,
        "last": LOADER_PORTS.workers_last,
    }
    assert not any(run.secret(f"loaders.{key}") for key in ("scheduler", "worker_ports.first"))
    # The loader side reads it with the same model.
    document = {"cloud": run.value("cloud"), "orchestrator": "k8s", "framework": "openfaas"}
    parsed = StackOutputs.model_validate({**document, "loaders": section})
    assert parsed.loaders is not None
    assert parsed.loaders.scheduler_port == 8786
    assert parsed.loaders.worker_ports.dask() == "8788:8795"


def test_loaders_carry_only_the_loader_group(run: ProgramRun) -> None:
    loader = group_of(run, "loader")
    for instance, groups in loader_machines(run):
        assert groups == [loader.id], instance.name
    other_pools = [
        r
        for r in run.mocks.of_type(
            "aws:ec2/instance:Instance"
            if run.value("cloud") == "aws"
            else "openstack:networking/port:Port"
        )
        if "loaders" not in r.name and "bastion" not in r.name
    ]
    assert other_pools
    key = "vpcSecurityGroupIds" if run.value("cloud") == "aws" else "securityGroupIds"
    assert all(r.inputs[key] == [group_of(run, "private").id] for r in other_pools)


def test_dask_ports_open_between_loaders_and_from_the_bastion_only(run: ProgramRun) -> None:
    loader = group_of(run, "loader")
    bastion = group_of(run, "bastion")
    scheduler = (8786, 8786)
    workers = (LOADER_PORTS.workers_first, LOADER_PORTS.workers_last)
    sources = (loader, bastion)
    expected = {(22, 22, bastion.name, None)} | {
        (*ports, source.name, None) for ports in (scheduler, workers) for source in sources
    }
    assert ingress(run, loader) == expected
    # Dask's dashboard port stays closed, and the workers' range is what the output says.
    assert not any(first <= 8787 <= last for first, last, _, _ in expected)


def test_each_loader_is_checked_ready_through_the_bastion(run: ProgramRun) -> None:
    steps = [r for r in run.mocks.of_type("command:remote:Command") if "loaders-ready" in r.name]
    assert len(steps) == 3
    bastion = run.value("bastion.host")
    hosts = {h["host"] for h in loaders_section(run)["hosts"]}
    assert {s.inputs["connection"]["host"] for s in steps} == hosts
    for step in steps:
        assert step.inputs["connection"]["proxy"]["host"] == bastion
        assert step.inputs["create"] == "sudo bash -s"
        assert "wait_for_cloud_init" in step.inputs["stdin"]
        assert "MIN_PYTHON=3.11" in step.inputs["stdin"]


def test_loader_sizes_are_recorded(run: ProgramRun) -> None:
    expected = "c6a.xlarge" if run.value("cloud") == "aws" else "m1.large"
    assert run.value("machines.sizes.loader") == expected
    for instance, _ in loader_machines(run):
        size = instance.inputs.get("instanceType") or instance.inputs.get("flavorName")
        assert size == expected
    if run.value("cloud") == "aws":
        assert run.value("machines.cpu_credits.loader") is None  # c6a is not burstable


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_no_loader_pool_by_default(cloud: str) -> None:
    run = run_program(stack_file_config(cloud), stack=cloud)
    assert "loaders" not in run.outputs
    assert "machines.sizes.loader" not in run.leaves
    names = [r.name for r in run.mocks.resources]
    assert not [name for name in names if "loader" in name]


# --- configuration -----------------------------------------------------------------------------

MINIMAL_AWS = {"cloud": "aws", "allowedSshCidrs": "203.0.113.7/32"}


def test_no_loaders_by_default_and_the_workers_size_for_them() -> None:
    config = load_stack_config(MINIMAL_AWS)
    assert config.machines.loader_count == 0
    assert config.size("loader") == "t3a.large" == config.size("worker")
    assert config.cpu_credits("loader") == "unlimited"
    sized = load_stack_config({**MINIMAL_AWS, "loaderCount": "4", "loaderSize": "c7a.large"})
    assert (sized.machines.loader_count, sized.size("loader")) == (4, "c7a.large")
    openstack = load_stack_config(
        {
            "cloud": "openstack",
            "allowedSshCidrs": "203.0.113.0/24",
            "openstackExternalNetwork": "public",
            "openstackImage": "ubuntu-24.04",
            "openstackFlavor": "m1.large",
            "loaderCount": "1",
        }
    )
    assert openstack.size("loader") == "m1.large"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"loaderCount": "-1"}, ["faasbench:loaderCount = '-1'", "greater than or equal to 0"]),
        ({"loaderCount": "two"}, ["faasbench:loaderCount = 'two'", "valid integer"]),
        ({"loaderCount": "101"}, ["faasbench:loaderCount", "less than or equal to 100"]),
        ({"loaderSize": "huge"}, ["loaderSize 'huge' is not an AWS instance type"]),
        ({"loaderSize": "c7g.large"}, ["loaderSize c7g.large is an arm64 (Graviton) type"]),
        ({"loaderSize": ""}, ["faasbench:loaderSize"]),
    ],
)
def test_bad_loader_keys_are_named(raw: dict[str, str], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_stack_config({**MINIMAL_AWS, "loaderCount": "2", **raw})
    message = str(caught.value)
    assert message.startswith("invalid faasbench stack configuration:")
    for fragment in expected:
        assert fragment in message


def test_the_cost_estimate_counts_loaders_only_when_there_are_some() -> None:
    document = {"config": {"faasbench:cloud": "aws", "faasbench:loaderCount": 3}}
    groups = {g.role: g for g in stack_machines(document, "Pulumi.x.yaml").groups}
    assert (groups["loader"].count, groups["loader"].size) == (3, "t3a.large")
    assert groups["loader"].size in AWS_ON_DEMAND_USD_PER_HOUR
    document["config"]["faasbench:loaderCount"] = 0
    assert "loader" not in {g.role for g in stack_machines(document, "Pulumi.x.yaml").groups}
    with pytest.raises(StackConfigFileError, match="faasbench:loaderCount"):
        stack_machines({"config": {"faasbench:cloud": "aws", "faasbench:loaderCount": -2}}, "x")
    sized = {f"faasbench:{role}Size": "m1.small" for role in ROLES if role != "loader"}
    flavorless = {"config": {"faasbench:cloud": "openstack", "faasbench:loaderCount": 1, **sized}}
    with pytest.raises(StackConfigFileError, match=r"for the loader machine .*loaderSize"):
        stack_machines(flavorless, "x")


# --- the contract's `loaders` section ----------------------------------------------------------


def loaders_document(**changes: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "hosts": [{"host": "10.0.2.5", "user": "ubuntu"}, {"host": "10.0.2.6", "user": "ubuntu"}],
        "scheduler": "tls://10.0.2.5:8786",
        "worker_ports": {"first": 8788, "last": 8795},
    }
    section.update(changes)
    return {"cloud": "aws", "orchestrator": "k8s", "framework": "openfaas", "loaders": section}


def test_the_contract_reads_the_loaders_section() -> None:
    outputs = StackOutputs.model_validate(loaders_document())
    assert outputs.loaders is not None
    assert [h.host for h in outputs.loaders.hosts] == ["10.0.2.5", "10.0.2.6"]
    assert outputs.loaders.scheduler_port == 8786
    assert StackOutputs.model_validate(loaders_document() | {"loaders": None}).loaders is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"scheduler": "tcp://10.0.2.5:8786"}, "must be tls://<first loader's host>:<port>"),
        ({"scheduler": "tls://10.0.2.6:8786"}, "must be tls://<first loader's host>:<port>"),
        ({"scheduler": "tls://10.0.2.5"}, "must be tls://<first loader's host>:<port>"),
        ({"hosts": []}, "at least 1 item"),
        ({"worker_ports": {"first": 8795, "last": 8788}}, "last is below first"),
        ({"worker_ports": {"first": 0, "last": 8788}}, "greater than or equal to 1"),
    ],
)
def test_the_contract_refuses_an_inconsistent_loaders_section(
    changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(expected)):
        StackOutputs.model_validate(loaders_document(**changes))
