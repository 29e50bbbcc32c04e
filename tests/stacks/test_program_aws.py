"""The program on AWS, from Pulumi.aws.yaml unchanged: inventory, wiring, outputs, secrets."""

from __future__ import annotations

import pytest
from support.expected_outputs import EXPECTED
from support.keys import ed25519_openssh
from support.pulumi_mocks import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY, ProgramRun, run_program

EC2 = "aws:ec2/"
CLOUD_SIDE = ("aws:", "tls:", "faasbench:aws:", "faasbench:access:")


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    from support.pulumi_mocks import stack_file_config

    return run_program(stack_file_config("aws"), stack="aws")


def test_inventory(run: ProgramRun) -> None:
    """The cloud side of the example stack (k3s: 1 server + 2 agents, API port on the bastion,
    HAProxy and FTP machines);
    the cluster's own resources are checked in tests/components/test_clusters.py."""
    counts = {t: n for t, n in run.mocks.inventory().items() if t.startswith(CLOUD_SIDE)}
    expected = {
        "faasbench:aws:Network": 1,
        "faasbench:access:SshKeyPair": 1,
        "tls:index/privateKey:PrivateKey": 1,
        f"{EC2}vpc:Vpc": 1,
        f"{EC2}subnet:Subnet": 2,
        f"{EC2}internetGateway:InternetGateway": 1,
        f"{EC2}eip:Eip": 2,
        f"{EC2}natGateway:NatGateway": 1,
        f"{EC2}routeTable:RouteTable": 2,
        f"{EC2}routeTableAssociation:RouteTableAssociation": 2,
        f"{EC2}keyPair:KeyPair": 1,
        f"{EC2}securityGroup:SecurityGroup": 2,
        # SSH, the API, and the callback port from the VPC (`run --remote`'s receiver).
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 4,
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 2,
        f"{EC2}instance:Instance": 6,
        f"{EC2}eipAssociation:EipAssociation": 1,
        "faasbench:aws:NodePool": 4,
    }
    assert counts == expected


def test_subnets_routes_and_nat_are_wired(run: ProgramRun) -> None:
    m = run.mocks
    vpc = m.one(f"{EC2}vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    public = m.one(f"{EC2}subnet:Subnet", "public")
    private = m.one(f"{EC2}subnet:Subnet", "private")
    assert public.inputs["cidrBlock"] == "10.0.1.0/24"
    assert private.inputs["cidrBlock"] == "10.0.2.0/24"
    assert public.inputs["vpcId"] == private.inputs["vpcId"] == vpc.id
    assert public.inputs["availabilityZone"] == private.inputs["availabilityZone"] == "us-east-1b"
    assert not public.inputs["mapPublicIpOnLaunch"]

    igw = m.one(f"{EC2}internetGateway:InternetGateway")
    nat = m.one(f"{EC2}natGateway:NatGateway")
    assert nat.inputs["subnetId"] == public.id, "the NAT gateway must sit in the public subnet"
    assert m.by_id(nat.inputs["allocationId"]).typ == f"{EC2}eip:Eip"

    routes = {r.id: r for r in m.of_type(f"{EC2}routeTable:RouteTable")}
    associations = {
        a.inputs["subnetId"]: routes[a.inputs["routeTableId"]]
        for a in m.of_type(f"{EC2}routeTableAssociation:RouteTableAssociation")
    }
    assert associations[public.id].inputs["routes"] == [
        {"cidrBlock": "0.0.0.0/0", "gatewayId": igw.id}
    ]
    assert associations[private.id].inputs["routes"] == [
        {"cidrBlock": "0.0.0.0/0", "natGatewayId": nat.id}
    ]


def test_bastion_is_public_hardened_and_keeps_its_address(run: ProgramRun) -> None:
    m = run.mocks
    bastion = m.one(f"{EC2}instance:Instance", "network-bastion")
    public = m.one(f"{EC2}subnet:Subnet", "public")
    bastion_sg = m.one(f"{EC2}securityGroup:SecurityGroup", "bastion")
    assert bastion.inputs["subnetId"] == public.id
    assert bastion.inputs["vpcSecurityGroupIds"] == [bastion_sg.id]
    assert bastion.inputs["instanceType"] == "t3a.medium"
    assert bastion.inputs["ami"] == "ami-0looked0up0000001"
    assert bastion.inputs["keyName"] == m.one(f"{EC2}keyPair:KeyPair").inputs["keyName"]
    assert bastion.inputs["metadataOptions"]["httpTokens"] == "required"
    assert bastion.inputs["rootBlockDevice"] == {
        "volumeSize": 15,
        "volumeType": "gp3",
        "encrypted": True,
        "deleteOnTermination": True,
    }
    assert bastion.inputs["creditSpecification"] == {"cpuCredits": "unlimited"}
    assert bastion.inputs["userData"].startswith("#cloud-config\n")

    association = m.one(f"{EC2}eipAssociation:EipAssociation")
    assert association.inputs["instanceId"] == bastion.id
    eip = m.by_id(association.inputs["allocationId"])
    assert run.value("bastion.host") == eip.outputs["publicIp"]
    assert run.value("bastion.user") == "ubuntu"


def test_outputs_follow_the_contract_with_secrets_marked(run: ProgramRun) -> None:
    assert set(run.outputs) == EXPECTED[("k8s", "openfaas")]
    assert run.secret("kubeconfig")
    assert (run.value("cloud"), run.value("orchestrator"), run.value("framework")) == (
        "aws",
        "k8s",
        "openfaas",
    )
    assert run.secret("ssh_private_key")
    assert run.value("ssh_private_key") == FAKE_PRIVATE_KEY
    assert not run.secret("bastion.host")
    assert run.value("machines.image") == "ami-0looked0up0000001"
    assert run.value("machines.sizes.bastion") == "t3a.medium"
    assert run.value("machines.cpu_credits.bastion") == "unlimited"
    assert run.value("machines.sizes.worker") == "t3a.large"


def test_generated_key_pair_reaches_aws_and_never_plain_inputs(run: ProgramRun) -> None:
    key_pair = run.mocks.one("aws:ec2/keyPair:KeyPair")
    assert key_pair.inputs["publicKey"] == FAKE_PUBLIC_KEY.strip()
    assert run.mocks.one("tls:index/privateKey:PrivateKey").inputs["algorithm"] == "ED25519"
    for resource in run.mocks.resources:
        plain = {k: v for k, v in resource.inputs.items() if k not in resource.secret_inputs}
        assert "mock-generated-key" not in repr(plain), resource.name


def test_looked_up_ami_is_not_followed_and_a_pinned_one_is(aws_config: dict[str, str]) -> None:
    pinned = run_program({**aws_config, "awsAmi": "ami-0123456789abcdef0"}, stack="aws")
    bastion = pinned.mocks.one("aws:ec2/instance:Instance", "network-bastion")
    assert bastion.inputs["ami"] == "ami-0123456789abcdef0"
    assert pinned.value("machines.image") == "ami-0123456789abcdef0"
    assert not any(token == "aws:ec2/getAmi:getAmi" for token, _ in pinned.mocks.calls)


def test_ami_lookup_filters_ubuntu_noble_amd64_from_canonical(run: ProgramRun) -> None:
    [args] = [a for token, a in run.mocks.calls if token == "aws:ec2/getAmi:getAmi"]
    assert args["owners"] == ["099720109477"]
    assert args["mostRecent"] is True
    filters = {f["name"]: f["values"] for f in args["filters"]}
    assert filters["name"] == ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]
    assert filters["architecture"] == ["x86_64"]


def test_first_available_zone_when_none_is_configured(aws_config: dict[str, str]) -> None:
    config = {k: v for k, v in aws_config.items() if k != "awsAvailabilityZone"}
    result = run_program(config, stack="aws")
    zones = {s.inputs["availabilityZone"] for s in result.mocks.of_type("aws:ec2/subnet:Subnet")}
    assert zones == {"us-east-1a"}


def test_users_own_key_is_used_and_stays_secret(aws_config: dict[str, str]) -> None:
    private, public = ed25519_openssh()
    result = run_program({**aws_config, "sshPrivateKey": private}, ("sshPrivateKey",), stack="aws")
    assert not result.mocks.of_type("tls:index/privateKey:PrivateKey")
    assert result.mocks.one("aws:ec2/keyPair:KeyPair").inputs["publicKey"] == public
    assert result.secret("ssh_private_key")
    assert result.value("ssh_private_key") == private


def test_standard_credits_and_non_burstable_types(aws_config: dict[str, str]) -> None:
    result = run_program(
        {**aws_config, "cpuCredits": "standard", "bastionSize": "c6a.large"}, stack="aws"
    )
    bastion = result.mocks.one("aws:ec2/instance:Instance", "network-bastion")
    assert bastion.inputs.get("creditSpecification") is None
    assert result.value("machines.cpu_credits.bastion") is None


def test_ftp_max_clients_sizes_the_server_and_is_exported(aws_config: dict[str, str]) -> None:
    run = run_program({**aws_config, "ftpMaxClients": "1200"}, stack="aws")
    assert run.value("ftp.max_clients") == 1200
    [install] = [s for s in run.mocks.of_type("command:remote:Command") if s.name == "ftp-install"]
    stdin = install.inputs["stdin"]
    assert "max_clients=1200\n" in stdin
    assert "pasv_min_port=20000\n" in stdin
    assert "pasv_max_port=24799\n" in stdin


def test_object_storage_runs_in_the_k3s_cluster_only_when_asked(aws_config: dict[str, str]) -> None:
    plain = run_program(aws_config, stack="aws")
    assert "object_storage" not in plain.outputs
    assert "faasbench:storage:ObjectStorageInCluster" not in dict(plain.mocks.inventory())
    run = run_program({**aws_config, "objectStorage": "true"}, stack="aws")
    assert dict(run.mocks.inventory())["faasbench:storage:ObjectStorageInCluster"] == 1
    assert run.value("object_storage.kind") == "versitygw"
    assert run.value("object_storage.endpoint").endswith(".faasbench-storage.svc:7070")
    assert run.secret("object_storage.secret_key")
    # Nothing of it reaches a security group: it listens inside the cluster only.
    kind = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

    def rules(program: ProgramRun) -> list[str]:
        return sorted(f"{r.name} {r.inputs}" for r in program.mocks.of_type(kind))

    assert rules(plain)
    assert rules(plain) == rules(run)


def test_object_storage_on_swarm_is_a_stack_on_the_manager(aws_config: dict[str, str]) -> None:
    run = run_program({**aws_config, "orchestrator": "swarm", "objectStorage": "true"}, stack="aws")
    assert run.value("object_storage.endpoint") == "http://faasbench-storage_object-storage:7070"
    assert run.secret("object_storage.secret_key")
    step = run.mocks.one("command:remote:Command", "object-storage-deploy")
    # The key travels in the step's stdin (a secret input), never on its command line.
    key = run.value("object_storage.secret_key")
    assert f"SECRET_KEY={key}" in step.inputs["stdin"]
    assert "stdin" in step.secret_inputs
    assert key not in step.inputs["create"]


def test_object_storage_on_nomad_is_a_job_on_the_first_worker(aws_config: dict[str, str]) -> None:
    run = run_program({**aws_config, "orchestrator": "nomad", "objectStorage": "true"}, stack="aws")
    worker = run.value("nodes.workers")[0]
    assert run.value("object_storage.endpoint") == f"http://{worker}:7070"
    assert run.secret("object_storage.secret_key")
    step = run.mocks.one("command:remote:Command", "object-storage-deploy")
    key = run.value("object_storage.secret_key")
    assert key in step.inputs["stdin"]
    assert "stdin" in step.secret_inputs
    # Once: in the variable's body, not in the job.
    assert step.inputs["stdin"].count(key) == 1
    assert f'"RTarget": "{worker}"' in step.inputs["stdin"]
