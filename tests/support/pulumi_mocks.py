"""Run the Pulumi program (or one component) under `pulumi.runtime.set_mocks` and record it.

The mocks behave like the providers where the program depends on it: computed outputs that other
resources consume (ids, private and public addresses, key material, MTU) are filled in with
distinct values, so wiring can be checked by following ids.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi
import yaml
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parents[2]
FAKE_PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nmock-generated-key\n-----END OPENSSH PRIVATE KEY-----\n"
)
FAKE_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockGeneratedKey mock\n"
FAKE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: Q0EK
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    client-certificate-data: Q0VSVAo=
    client-key-data: S0VZCg==
"""
#: What a step prints, by step name (the mock runs nothing: steps are run in the sandbox).
STEP_STDOUT = {
    "k3s-kubeconfig": FAKE_KUBECONFIG,
    "swarm-join-token": "SWMTKN-1-mockjointoken\n",
}


def step_of(stdin: str) -> str | None:
    """The step name a rendered remote step declares (FAASBENCH_STEP=...)."""
    for line in stdin.splitlines():
        if line.startswith("FAASBENCH_STEP="):
            return line.split("=", 1)[1].strip("'")
    return None


def param_of(script: str, name: str) -> str | None:
    """A one-line parameter of a rendered step (`NAME=value`, shell-quoted), or None."""
    found = re.search(rf"^{name}=(.*)$", script, flags=re.MULTILINE)
    if found is None:
        return None
    words = shlex.split(found[1])
    return words[0] if words else ""


#: The node IDs the fake tools give (tests/support/shims/fake_tool.py): a k3s Node's uid from
#: its name, a Swarm node's ID from the address it advertises, a Nomad client's ID from its name.
def k3s_uid(node_name: str) -> str:
    return f"uid-{node_name}"


def swarm_node_id(node_ip: str) -> str:
    return f"swarm-{node_ip}"


def nomad_node_id(node_name: str) -> str:
    return f"id-{node_name}"


def mock_stdout(stdin: str) -> str:
    """What a step prints, from its rendered script (the mock runs nothing: the steps run in
    the sandbox). Join steps print the node ID the fake tools would give that node."""
    step = step_of(stdin) or ""
    if step in STEP_STDOUT:
        return STEP_STDOUT[step]
    node_id = None
    if step == "k3s-agent":
        node_id = k3s_uid(param_of(stdin, "NODE_NAME") or "")
    elif step == "swarm-join":
        node_id = swarm_node_id(param_of(stdin, "NODE_IP") or "")
    elif step == "nomad-agent" and param_of(stdin, "NODE_ID_FILE"):
        node_id = nomad_node_id(param_of(stdin, "NODE_NAME") or "")
    return f"FAASBENCH_NODE_ID={node_id}\n" if node_id else ""


def generated_secret(name: str, kind: str) -> str:
    """Distinct, recognisable values for generated secrets, so tests can look for leaks."""
    digest = hashlib.sha256(f"{kind}:{name}".encode()).hexdigest()
    if kind == "uuid":
        return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"
    if kind == "bytes":
        return base64.b64encode(bytes.fromhex(digest)).decode()
    return f"GENSECRET{digest[:39]}"


#: How the mock monitor hands over a secret input: {SECRET_SIG: SECRET_MARK, "value": ...}.
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def unwrap(value: Any) -> tuple[Any, bool]:
    """A mock input without its secret wrappers, and whether any part of it was secret."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            inner, _ = unwrap(value.get("value"))
            return inner, True
        pairs = {k: unwrap(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [unwrap(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


@dataclass
class Recorded:
    typ: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    #: Inputs that were (wholly or in part) secret when registered.
    secret_inputs: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Options:
    """The resource options the engine acts on when it replaces or deletes a resource."""

    custom: bool
    delete_before_replace: bool
    #: The name of the resource this one is deleted with (None: none).
    deleted_with: str | None
    ignore_changes: tuple[str, ...]
    replace_on_changes: tuple[str, ...]
    #: Input property -> the names of the resources its value came from.
    property_dependencies: dict[str, frozenset[str]]


def _name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[1]


class RecordingMonitor(MockMonitor):
    """The mock monitor, also keeping what `new_resource` is not told: explicit dependencies,
    additional secret outputs and the options that decide replacement and deletion."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks

    def RegisterResource(self, request: Any) -> Any:
        name = request.name
        self.recording.dependencies[name] = [_name_of(urn) for urn in request.dependencies]
        self.recording.secret_outputs[name] = list(request.additionalSecretOutputs)
        if request.provider:  # "<provider urn>::<provider id>"
            self.recording.providers[name] = request.provider.rsplit("::", 2)[1]
        self.recording.options[name] = Options(
            custom=request.custom,
            delete_before_replace=request.deleteBeforeReplace,
            deleted_with=_name_of(request.deletedWith) if request.deletedWith else None,
            ignore_changes=tuple(request.ignoreChanges),
            replace_on_changes=tuple(request.replaceOnChanges),
            property_dependencies={
                key: frozenset(_name_of(urn) for urn in deps.urns)
                for key, deps in request.propertyDependencies.items()
            },
        )
        self.recording.order.append(name)
        return super().RegisterResource(request)


#: Memory of the machine sizes the example stacks and tests use (AWS: the published sizes).
MACHINE_MEMORY_MIB = {
    "t3a.small": 2048,
    "t3a.medium": 4096,
    "t3a.large": 8192,
    "t3a.xlarge": 16384,
    "m5.large": 8192,
    "m6i.large": 8192,
    "c5.large": 4096,
    "m1.small": 2048,
    "m1.medium": 4096,
    "m1.large": 8192,
    "m1.xlarge": 16384,
}


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every registration and answers with plausible provider outputs."""

    def __init__(self) -> None:
        self.resources: list[Recorded] = []
        self.dependencies: dict[str, list[str]] = {}
        self.secret_outputs: dict[str, list[str]] = {}
        #: Resource name -> the name of the provider it was registered with (explicit ones).
        self.providers: dict[str, str] = {}
        #: Resource name -> its replacement and deletion options (RecordingMonitor).
        self.options: dict[str, Options] = {}
        #: Resource names in registration order (a resource registers after its dependencies).
        self.order: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        #: Addresses handed out, by network prefix: resource name -> host part.
        self._addresses: dict[str, dict[str, int]] = {}

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id = f"{args.name}-id"
        outputs = dict(args.inputs)
        typ = args.typ
        if typ == "aws:ec2/instance:Instance":
            subnet = "10.1" if "bastion" in args.name else "10.2"
            outputs["privateIp"] = self.address(subnet, args.name)
        elif typ == "aws:ec2/eip:Eip":
            outputs["publicIp"] = self.address("198.51.100", args.name)
        elif typ == "openstack:networking/port:Port":
            outputs["allFixedIps"] = [self.address("192.168.0", args.name)]
        elif typ == "openstack:networking/floatingIp:FloatingIp":
            outputs["address"] = self.address("203.0.113", args.name)
        elif typ == "openstack:networking/network:Network":
            outputs["mtu"] = 1450
        elif typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = generated_secret(args.name, "password")
        elif typ == "random:index/randomUuid:RandomUuid":
            outputs["result"] = generated_secret(args.name, "uuid")
        elif typ == "random:index/randomBytes:RandomBytes":
            outputs["base64"] = generated_secret(args.name, "bytes")
            outputs["hex"] = base64.b64decode(outputs["base64"]).hex()
        elif typ == "command:remote:Command":
            stdin = unwrap(args.inputs.get("stdin", ""))[0]
            outputs["stdout"] = mock_stdout(stdin)
            outputs["stderr"] = ""
        elif typ == "tls:index/privateKey:PrivateKey":
            outputs["privateKeyOpenssh"] = FAKE_PRIVATE_KEY
            outputs["publicKeyOpenssh"] = FAKE_PUBLIC_KEY
        plain: dict[str, Any] = {}
        secret_inputs: set[str] = set()
        for key, value in args.inputs.items():
            plain[key], is_secret = unwrap(value)
            if is_secret:
                secret_inputs.add(key)
        outputs = {k: unwrap(v)[0] for k, v in outputs.items()}
        self.resources.append(Recorded(typ, args.name, resource_id, plain, outputs, secret_inputs))
        return resource_id, outputs

    def address(self, prefix: str, name: str) -> str:
        """A distinct address under `prefix` (two octets: a /16, one: a /24) that depends on
        the resource's name, not on the order in which the engine happens to register
        resources, since golden files hold some. In a /16 names practically never collide; a
        collision takes the next free address."""
        octets = 4 - len(prefix.split("."))
        size = 240 if octets == 1 else 250 * 256
        taken = self._addresses.setdefault(prefix, {})
        if name not in taken:
            host = int(hashlib.sha256(name.encode()).hexdigest(), 16) % size
            used = set(taken.values())
            while host in used:
                host = (host + 1) % size
            taken[name] = host
        host = taken[name]
        if octets == 1:
            return f"{prefix}.{10 + host}"
        return f"{prefix}.{host // 250}.{host % 250 + 1}"

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append((args.token, dict(args.args)))
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": ["us-east-1b", "us-east-1a"], "zoneIds": ["use1-az2", "use1-az1"]}, []
        if args.token == "aws:ec2/getAmi:getAmi":
            return {"id": "ami-0looked0up0000001", "name": "ubuntu-noble-24.04"}, []
        if args.token == "openstack:networking/getNetwork:getNetwork":
            return {"id": "external-net-id", "name": args.args.get("name")}, []
        if args.token == "openstack:images/getImage:getImage":
            return {"id": "looked-up-image-id", "name": args.args.get("name")}, []
        if args.token == "aws:ec2/getInstanceType:getInstanceType":
            size = args.args["instanceType"]
            return {"instanceType": size, "memorySize": MACHINE_MEMORY_MIB[size]}, []
        if args.token == "openstack:compute/getFlavor:getFlavor":
            return {"name": args.args["name"], "ram": MACHINE_MEMORY_MIB[args.args["name"]]}, []
        raise NotImplementedError(f"no mock for invoke {args.token}")

    # --- queries used by tests -------------------------------------------------------------
    def of_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name_contains: str = "") -> Recorded:
        found = [r for r in self.of_type(typ) if name_contains in r.name]
        assert len(found) == 1, f"expected one {typ} named *{name_contains}*, got {found}"
        return found[0]

    def by_id(self, resource_id: str) -> Recorded:
        found = [r for r in self.resources if r.id == resource_id]
        assert len(found) == 1, f"no single resource with id {resource_id}"
        return found[0]

    def upstream(self, name: str) -> set[str]:
        """Every resource `name` waits for, directly or not: dependencies and providers."""
        seen: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            before = [*self.dependencies.get(current, [])]
            if current in self.providers:
                before.append(self.providers[current])
            for other in before:
                if other not in seen:
                    seen.add(other)
                    pending.append(other)
        return seen

    def inventory(self) -> Counter[str]:
        return Counter(r.typ for r in self.resources)


@dataclass
class Leaf:
    value: Any
    secret: bool


@dataclass
class ProgramRun:
    mocks: RecordingMocks
    outputs: dict[str, Any]
    leaves: dict[str, Leaf] = field(default_factory=dict)

    def secret(self, path: str) -> bool:
        return self.leaves[path].secret

    def value(self, path: str) -> Any:
        return self.leaves[path].value


async def _flatten(value: Any, path: str, secret: bool, into: dict[str, Leaf]) -> None:
    if isinstance(value, pulumi.Output):
        is_secret = secret or await value.is_secret()
        await _flatten(await value.future(), path, is_secret, into)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            await _flatten(item, f"{path}.{key}" if path else str(key), secret, into)
        if not value:
            into[path] = Leaf(value={}, secret=secret)
    else:
        into[path] = Leaf(value=value, secret=secret)


def resolve(value: Any) -> Any:
    """Inside a mocked run: the plain value of an Output (or a nested structure of them)."""
    return _sync_await(pulumi.Output.from_input(value).future())


def is_secret(value: pulumi.Output[Any]) -> bool:
    """Inside a mocked run: whether an Output is marked secret."""
    return _sync_await(value.is_secret())


def _ensure_event_loop() -> None:
    """Pulumi's mocks run on the main thread's event loop. `asyncio.run` (the load generator's
    tests, in the same process before these) closes its loop and leaves none set: give the
    thread a fresh one then."""
    policy = asyncio.get_event_loop_policy()
    try:
        loop = policy.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        policy.set_event_loop(policy.new_event_loop())


def run_under_mocks(
    body: Callable[[], Any],
    *,
    config: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
    stack: str = "test",
) -> tuple[RecordingMocks, Any]:
    """Run `body` as a Pulumi program; returns the mocks and body's result, fully resolved."""
    _ensure_event_loop()
    mocks = RecordingMocks()
    full = {f"faasbench:{k}" if ":" not in k else k: v for k, v in (config or {}).items()}
    secret = [f"faasbench:{k}" if ":" not in k else k for k in secret_keys]
    pulumi.runtime.set_all_config(full, secret)
    pulumi.runtime.set_mocks(
        mocks, project="faasbench", stack=stack, preview=False, monitor=RecordingMonitor(mocks)
    )
    result: dict[str, Any] = {}

    def program() -> None:
        result["value"] = body()

    _sync_await(run_pulumi_func(program))
    return mocks, result.get("value")


def run_program(
    config: Mapping[str, str], secret_keys: Iterable[str] = (), stack: str = "test"
) -> ProgramRun:
    """Run stacks.program.main as the Pulumi CLI would, capturing every export."""
    from stacks import program

    exported: dict[str, Any] = {}
    leaves: dict[str, Leaf] = {}

    def body() -> None:
        with mock.patch.object(pulumi, "export", side_effect=exported.__setitem__):
            program.main()
        _sync_await(_flatten(exported, "", False, leaves))

    mocks, _ = run_under_mocks(body, config=config, secret_keys=secret_keys, stack=stack)
    return ProgramRun(mocks=mocks, outputs=exported, leaves=leaves)


def project_defaults() -> dict[str, str]:
    """Pulumi.yaml's declared defaults, as the CLI hands them to the program (strings/JSON)."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    return {key: _as_config_string(spec["default"]) for key, spec in declared.items()}


def stack_file_config(stack: str) -> dict[str, str]:
    """A stack file's `faasbench:*` values merged over the project defaults, as the CLI does."""
    data = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    values = project_defaults()
    for key, value in data.items():
        namespace, _, name = key.partition(":")
        if namespace == "faasbench":
            values[name] = _as_config_string(value)
    return values


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)
