"""Stack configuration: defaults, the rules, and one readable message per mistake."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from support.keys import ecdsa_pem, ed25519_openssh, encrypted_ed25519, rsa_pem
from support.pulumi_mocks import FAKE_KUBECONFIG, ROOT

from contract.machines import AWS_DEFAULT_SIZES
from stacks.config import StackConfig
from stacks.read_config import ConfigError, key_locations, load_stack_config

MINIMAL_AWS = {"cloud": "aws", "allowedSshCidrs": "203.0.113.7/32"}
MINIMAL_OPENSTACK = {
    "cloud": "openstack",
    "allowedSshCidrs": "203.0.113.0/24",
    "openstackExternalNetwork": "public",
    "openstackImage": "ubuntu-24.04",
    "openstackFlavor": "m1.large",
}


def problems_of(raw: dict[str, str], secret: tuple[str, ...] = ()) -> str:
    with pytest.raises(ConfigError) as caught:
        load_stack_config(raw, secret)
    return str(caught.value)


def test_minimal_aws_takes_the_seeds_defaults() -> None:
    config = load_stack_config(MINIMAL_AWS)
    assert config.orchestrator == "k8s"
    assert config.framework == "openfaas"
    assert (config.machines.manager_count, config.machines.worker_count) == (1, 2)
    assert config.machines.volume_size_gb == 15
    assert {role: config.size(role) for role in AWS_DEFAULT_SIZES} == AWS_DEFAULT_SIZES
    assert config.aws.vpc_cidr == "10.0.0.0/16"
    assert config.aws.public_subnet_cidr == "10.0.1.0/24"
    assert config.aws.private_subnet_cidr == "10.0.2.0/24"
    assert config.cpu_credits("worker") == "unlimited"
    assert config.access.allowed_ssh_cidrs == ["203.0.113.7/32"]


def test_openstack_roles_default_to_the_flavor_and_have_no_cpu_credits() -> None:
    config = load_stack_config({**MINIMAL_OPENSTACK, "bastionSize": "m1.small"})
    assert config.size("worker") == "m1.large"
    assert config.size("bastion") == "m1.small"
    assert config.cpu_credits("worker") is None
    assert config.openstack.subnet_cidr == "192.168.0.0/24"
    assert config.openstack.dns_servers == ["8.8.8.8", "8.8.4.4"]


def test_cpu_credits_only_on_burstable_types() -> None:
    config = load_stack_config(
        {**MINIMAL_AWS, "workerSize": "c6a.xlarge", "cpuCredits": "standard"}
    )
    assert config.cpu_credits("worker") is None
    assert config.cpu_credits("manager") == "standard"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["203.0.113.0/24", "2001:db8::/32"]', ["203.0.113.0/24", "2001:db8::/32"]),
        ("203.0.113.0/24, 198.51.100.7", ["203.0.113.0/24", "198.51.100.7/32"]),
    ],
)
def test_allowed_ssh_cidrs_accepts_json_lists_and_plain_strings(
    value: str, expected: list[str]
) -> None:
    config = load_stack_config({**MINIMAL_AWS, "allowedSshCidrs": value})
    assert config.access.allowed_ssh_cidrs == expected


BAD_CONFIGS: list[tuple[str, dict[str, str], list[str]]] = [
    ("missing cloud", {}, ["faasbench:cloud is required", "pulumi config set cloud"]),
    (
        "wrong enum",
        {**MINIMAL_AWS, "cloud": "gcp"},
        ["faasbench:cloud = 'gcp'", "'aws', 'openstack' or 'existing'"],
    ),
    (
        "unknown key",
        {**MINIMAL_AWS, "workerCont": "3"},
        ["faasbench:workerCont: unknown key", "did you mean workerCount?"],
    ),
    (
        "bad CIDR",
        {**MINIMAL_AWS, "allowedSshCidrs": "203.0.113.0/33"},
        ["faasbench:allowedSshCidrs[0] = '203.0.113.0/33'", "not a valid CIDR"],
    ),
    (
        "host bits",
        {**MINIMAL_AWS, "allowedSshCidrs": "10.0.0.5/24"},
        ["allowedSshCidrs[0]", "has host bits set"],
    ),
    (
        "world SSH",
        {**MINIMAL_AWS, "allowedSshCidrs": "0.0.0.0/0"},
        ["0.0.0.0/0", "allowPublicSsh: true"],
    ),
    ("world SSH v6", {**MINIMAL_AWS, "allowedSshCidrs": "::/0"}, ["::/0", "allowPublicSsh"]),
    (
        "public SSH does not open the API",
        {**MINIMAL_AWS, "allowedSshCidrs": "0.0.0.0/0", "allowPublicSsh": "true"},
        ["kubeApiCidrs (default: allowedSshCidrs) contains 0.0.0.0/0", "allowPublicKubeApi: true"],
    ),
    (
        "world API",
        {**MINIMAL_AWS, "kubeApiCidrs": '["192.0.2.0/24", "::/0"]'},
        ["kubeApiCidrs contains ::/0", "Kubernetes API", "allowPublicKubeApi: true"],
    ),
    (
        "bad API CIDR",
        {**MINIMAL_AWS, "kubeApiCidrs": "192.0.2.0/33"},
        ["faasbench:kubeApiCidrs[0] = '192.0.2.0/33'", "not a valid CIDR"],
    ),
    (
        "API CIDRs without Kubernetes",
        {**MINIMAL_AWS, "orchestrator": "swarm", "kubeApiCidrs": "192.0.2.0/24"},
        ["kubeApiCidrs applies to orchestrator k8s only"],
    ),
    ("no SSH CIDRs", {"cloud": "aws"}, ["requires allowedSshCidrs"]),
    (
        "empty SSH CIDRs",
        {"cloud": "aws", "allowedSshCidrs": "[]"},
        ["faasbench:allowedSshCidrs", "at least 1 item"],
    ),
    (
        "openwhisk on swarm",
        {**MINIMAL_AWS, "orchestrator": "swarm", "framework": "openwhisk"},
        ["openwhisk runs only on orchestrator k8s, not swarm"],
    ),
    (
        "openwhisk on nomad",
        {**MINIMAL_AWS, "orchestrator": "nomad", "framework": "openwhisk"},
        ["not nomad"],
    ),
    (
        "existing without kubeconfig",
        {"cloud": "existing"},
        ["cloud existing requires kubeconfig", "--secret kubeconfig"],
    ),
    (
        "existing on swarm",
        {"cloud": "existing", "orchestrator": "swarm"},
        ["orchestrator must be k8s, not swarm"],
    ),
    (
        "openstack names missing",
        {"cloud": "openstack", "allowedSshCidrs": "203.0.113.0/24"},
        ["openstackExternalNetwork, openstackImage, openstackFlavor"],
    ),
    (
        "bad integer",
        {**MINIMAL_AWS, "workerCount": "two"},
        ["faasbench:workerCount = 'two'", "valid integer"],
    ),
    (
        "too many workers",
        {**MINIMAL_AWS, "workerCount": "500"},
        ["faasbench:workerCount = '500'", "less than or equal to 200"],
    ),
    (
        "even managers",
        {**MINIMAL_AWS, "orchestrator": "swarm", "managerCount": "2"},
        ["managerCount must be odd"],
    ),
    ("k3s servers", {**MINIMAL_AWS, "managerCount": "3"}, ["managerCount 3", "one server"]),
    (
        "subnet outside VPC",
        {**MINIMAL_AWS, "awsPrivateSubnetCidr": "10.9.2.0/24"},
        ["awsPrivateSubnetCidr 10.9.2.0/24 is not inside awsVpcCidr"],
    ),
    (
        "overlapping subnets",
        {
            **MINIMAL_AWS,
            "awsPublicSubnetCidr": "10.0.0.0/22",
            "awsPrivateSubnetCidr": "10.0.2.0/24",
        },
        ["overlaps"],
    ),
    (
        "public VPC range",
        {**MINIMAL_AWS, "awsVpcCidr": "8.8.0.0/16"},
        ["faasbench:awsVpcCidr = '8.8.0.0/16'", "not a private range"],
    ),
    (
        "bad AMI id",
        {**MINIMAL_AWS, "awsAmi": "ubuntu"},
        ["faasbench:awsAmi = 'ubuntu'", "should match pattern"],
    ),
    (
        "arm instance",
        {**MINIMAL_AWS, "workerSize": "m7g.large"},
        ["workerSize m7g.large is an arm64"],
    ),
    (
        "bad credits",
        {**MINIMAL_AWS, "cpuCredits": "infinite"},
        ["faasbench:cpuCredits = 'infinite'", "'standard' or 'unlimited'"],
    ),
    ("bad env name", {**MINIMAL_AWS, "envName": "My_Env"}, ["faasbench:envName = 'My_Env'"]),
    (
        "bad expiry",
        {**MINIMAL_AWS, "expiresAt": "tomorrow"},
        ["faasbench:expiresAt = 'tomorrow'", "ISO-8601 UTC"],
    ),
    ("ttl too long", {**MINIMAL_AWS, "ttlHours": "721"}, ["faasbench:ttlHours = '721'", "720"]),
    (
        "bad dns",
        {**MINIMAL_OPENSTACK, "openstackDnsServers": '["8.8.8.8", "dns.google"]'},
        ["openstackDnsServers[1] = 'dns.google'", "not an IP address"],
    ),
    (
        "bad bool",
        {**MINIMAL_AWS, "allowPublicSsh": "perhaps"},
        ["faasbench:allowPublicSsh = 'perhaps'", "valid boolean"],
    ),
    (
        "bad list",
        {**MINIMAL_AWS, "allowedSshCidrs": '["203.0.113.0/24"'},
        ["faasbench:allowedSshCidrs", "not a valid list"],
    ),
    (
        "mtu too small",
        {**MINIMAL_AWS, "networkMtu": "576"},
        ["faasbench:networkMtu = '576'", "greater than or equal to 1280"],
    ),
    (
        "shell in an AWS type",
        {**MINIMAL_AWS, "workerSize": "$(id)"},
        ["workerSize '$(id)' is not an AWS instance type", "t3a.large"],
    ),
    (
        "AWS type without family",
        {**MINIMAL_AWS, "managerSize": "large"},
        ["managerSize 'large' is not an AWS instance type"],
    ),
    ("two commands", {**MINIMAL_AWS, "ftpSize": "a;b"}, ["ftpSize 'a;b' is not an AWS"]),
    (
        "two halves of the internet",
        {**MINIMAL_AWS, "allowedSshCidrs": "0.0.0.0/1,128.0.0.0/1"},
        ["allowedSshCidrs together cover", "the whole internet", "allowPublicSsh"],
    ),
    (
        "IPv6 halves",
        {**MINIMAL_AWS, "allowedSshCidrs": "::/1,8000::/1"},
        ["allowedSshCidrs together cover", "IPv6"],
    ),
    (
        "wider than a /8",
        {**MINIMAL_AWS, "allowedSshCidrs": "10.0.0.0/8,11.0.0.0/8"},
        ["more than a /8"],
    ),
    (
        "too many SSH ranges",
        {
            **MINIMAL_AWS,
            "allowedSshCidrs": ",".join(f"203.0.113.{i}/32" for i in range(51)),
        },
        ["faasbench:allowedSshCidrs", "at most 50 items"],
    ),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [(r, e) for _, r, e in BAD_CONFIGS], ids=[n for n, _, _ in BAD_CONFIGS]
)
def test_bad_config_names_the_key_and_what_is_allowed(
    raw: dict[str, str], expected: list[str]
) -> None:
    message = problems_of(raw)
    assert message.startswith("invalid faasbench stack configuration:")
    for fragment in expected:
        assert fragment in message


def test_every_problem_is_reported_at_once() -> None:
    message = problems_of({**MINIMAL_AWS, "workerCount": "x", "cpuCredits": "y", "typo": "z"})
    assert "faasbench:workerCount" in message
    assert "faasbench:cpuCredits" in message
    assert "faasbench:typo: unknown key" in message
    assert message.count("\n  - ") == 3


def test_public_ssh_needs_explicit_opt_in() -> None:
    config = load_stack_config(
        {**MINIMAL_AWS, "allowedSshCidrs": "0.0.0.0/0", "allowPublicSsh": "true"}
        | {"orchestrator": "swarm"}
    )
    assert config.access.allowed_ssh_cidrs == ["0.0.0.0/0"]


def test_the_kubernetes_api_sources_default_to_the_ssh_ranges() -> None:
    assert load_stack_config(MINIMAL_AWS).access.kube_api_sources == ["203.0.113.7/32"]
    config = load_stack_config(
        {
            **MINIMAL_AWS,
            "allowedSshCidrs": "0.0.0.0/0",
            "allowPublicSsh": "true",
            "kubeApiCidrs": "192.0.2.7",
        }
    )
    assert config.access.kube_api_sources == ["192.0.2.7/32"]


def test_credentials_must_be_secret_and_are_never_echoed() -> None:
    private, _ = ed25519_openssh()
    message = problems_of({**MINIMAL_AWS, "sshPrivateKey": private})
    assert "faasbench:sshPrivateKey is stored in plain text" in message
    assert "--secret" in message
    assert "PRIVATE KEY" not in message
    message = problems_of({"cloud": "existing", "kubeconfig": "apiVersion: v1"})
    assert "faasbench:kubeconfig is stored in plain text" in message


def test_existing_cluster_with_secret_kubeconfig() -> None:
    config = load_stack_config(
        {"cloud": "existing", "kubeconfig": FAKE_KUBECONFIG}, ("kubeconfig",)
    )
    assert config.existing.kubeconfig is not None
    assert config.access.allowed_ssh_cidrs is None


def test_a_kubeconfig_without_a_server_is_refused_without_echoing_it() -> None:
    message = problems_of({"cloud": "existing", "kubeconfig": "token: abc123"}, ("kubeconfig",))
    assert "kubeconfig is not a kubeconfig with a current-context" in message
    assert "abc123" not in message


def test_storage_class_only_for_existing_clusters() -> None:
    message = problems_of({**MINIMAL_AWS, "storageClass": "openebs-hostpath"})
    assert "storageClass applies to cloud existing only" in message
    config = load_stack_config(
        {"cloud": "existing", "kubeconfig": FAKE_KUBECONFIG, "storageClass": "openebs-hostpath"},
        ("kubeconfig",),
    )
    assert config.cluster.storage_class == "openebs-hostpath"


def test_users_key_pair_public_key_is_derived() -> None:
    private, public = ed25519_openssh()
    config = load_stack_config({**MINIMAL_AWS, "sshPrivateKey": private}, ("sshPrivateKey",))
    assert config.access.ssh_key is not None
    assert config.access.ssh_key.public_key_openssh == public
    assert config.access.ssh_key.algorithm == "ed25519"


def test_rsa_pem_keys_work() -> None:
    config = load_stack_config({**MINIMAL_AWS, "sshPrivateKey": rsa_pem(3072)}, ("sshPrivateKey",))
    assert config.access.ssh_key is not None
    assert config.access.ssh_key.algorithm == "rsa-3072"
    assert config.access.ssh_key.public_key_openssh.startswith("ssh-rsa ")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (encrypted_ed25519(), "passphrase-protected"),
        (rsa_pem(1024), "1024-bit RSA key"),
        (ecdsa_pem(), "take ed25519 or RSA keys"),
        ("not a key", "not a private key in OpenSSH or PEM format"),
    ],
    ids=["encrypted", "short-rsa", "ecdsa", "garbage"],
)
def test_unusable_keys_are_refused_without_echoing_them(key: str, expected: str) -> None:
    message = problems_of({**MINIMAL_AWS, "sshPrivateKey": key}, ("sshPrivateKey",))
    assert expected in message
    assert "sshPrivateKey = " not in message
    for body_line in key.strip().splitlines()[1:-1]:
        assert body_line not in message


# --- Pulumi.yaml agrees with the model ----------------------------------------------------------


def _model_defaults() -> dict[str, Any]:
    """Every key of StackConfig with a default that is a value (not None: 'unset')."""
    defaults: dict[str, Any] = {}
    models = [
        StackConfig,
        *(
            f.annotation
            for f in StackConfig.model_fields.values()
            if isinstance(f.annotation, type) and hasattr(f.annotation, "model_fields")
        ),
    ]
    for model in models:
        for field in model.model_fields.values():
            if field.alias is None or field.is_required() or hasattr(field.default, "model_fields"):
                continue
            if field.default is not None:
                defaults[field.alias] = field.default
    return defaults


def test_pulumi_yaml_declares_exactly_the_keys_with_defaults_and_the_same_defaults() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert {key: spec["default"] for key, spec in declared.items()} == _model_defaults()
    locations = key_locations()
    for key, spec in declared.items():
        assert key in locations
        assert spec.get("description"), f"{key} has no description"
        expected_type = {bool: "boolean", int: "integer", str: "string", list: "array"}
        assert spec["type"] == expected_type[type(spec["default"])]


def test_pulumi_yaml_uses_the_uv_toolchain_and_project_name() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "faasbench"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "uv"}}


@pytest.mark.parametrize("stack", ["aws", "openstack"])
def test_example_stack_files_only_use_known_keys(stack: str) -> None:
    data = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    ours = {k.split(":", 1)[1] for k in data if k.startswith("faasbench:")}
    assert ours <= set(key_locations())
    assert json.dumps(data)  # plain data, loadable by the CLI


def test_every_key_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `([A-Za-z0-9]+)`", text, flags=re.MULTILINE))
    assert documented == set(key_locations())


@pytest.mark.parametrize(
    "size", ["t3a.large", "c5n.18xlarge", "m7i-flex.large", "u-6tb1.metal", "m7i.metal-24xl"]
)
def test_real_aws_instance_types_pass(size: str) -> None:
    config = load_stack_config({**MINIMAL_AWS, "workerSize": size})
    assert config.size("worker") == size


def test_openstack_flavors_keep_their_own_names() -> None:
    config = load_stack_config({**MINIMAL_OPENSTACK, "workerSize": "general.v1.tiny"})
    assert config.size("worker") == "general.v1.tiny"


def test_ssh_ranges_up_to_a_slash_8_pass() -> None:
    config = load_stack_config({**MINIMAL_AWS, "allowedSshCidrs": "10.0.0.0/8,2001:db8::/32"})
    assert config.access.allowed_ssh_cidrs == ["10.0.0.0/8", "2001:db8::/32"]
    opened = {**MINIMAL_AWS, "allowedSshCidrs": "0.0.0.0/1,128.0.0.0/1", "allowPublicSsh": "true"}
    # SSH's opt-in does not open the Kubernetes API: its ranges follow the same rule.
    with pytest.raises(ConfigError, match=r"kubeApiCidrs \(default: allowedSshCidrs\) together"):
        load_stack_config(opened)
    opened["kubeApiCidrs"] = "203.0.113.0/24"
    assert load_stack_config(opened).access.allow_public_ssh


@pytest.mark.parametrize(
    "raw",
    [
        {**MINIMAL_AWS, "allowedSshCidrs": "1" * 1_000_000},
        {**MINIMAL_AWS, "awsVpcCidr": "x" * 1_000_000},
        {**MINIMAL_AWS, "envName": "y" * 1_000_000},
        {**MINIMAL_AWS, "allowedSshCidrs": "[" + "1," * 500_000 + "1]"},
    ],
)
def test_messages_quote_a_short_excerpt_of_a_huge_value(raw: dict[str, str]) -> None:
    message = problems_of(raw)
    assert len(message) < 1000
    for line in message.splitlines()[1:]:
        assert len(line) < 400


def test_object_storage_is_off_by_default_and_on_every_orchestrator() -> None:
    assert load_stack_config(MINIMAL_AWS).platform.object_storage is False
    config = load_stack_config({**MINIMAL_AWS, "objectStorage": "true"})
    assert config.platform.object_storage is True
    for orchestrator in ("swarm", "nomad"):
        other = {**MINIMAL_AWS, "orchestrator": orchestrator, "objectStorage": "true"}
        assert load_stack_config(other).platform.object_storage is True
    message = problems_of({**MINIMAL_AWS, "objectStorage": "sometimes"})
    assert "objectStorage" in message
