"""One fake for every system tool a remote step calls, dispatched on the name it is run as.

Each call is appended to $SHIM_LOG as a JSON argv list (what a process list would show). The
fakes answer like the real tools from $SHIM_STATE, a JSON file the test prepares and the fakes
update (installed packages, systemd units, swarm membership, ACL objects, Vault's seal, ...), so
a second run of a step sees what the first one did, as on a real machine. HTTP APIs reached with
curl (Docker's socket, Consul, Nomad, Vault) are answered by small routers below.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import fnmatch
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

STATE = Path(os.environ["SHIM_STATE"])
LOG = Path(os.environ["SHIM_LOG"])

#: Options (of the tools faked here) that take a value.
VALUED = {
    "--output", "-o", "--format", "-f", "--retry", "--advertise-addr", "--listen-addr", "--token",
    "--label-add", "--availability", "--filter", "--opt", "--driver", "-d", "--request", "-X",
    "--header", "-H", "--data-binary", "--unix-socket", "-jwks-url", "-path", "-version",
    "-key-shares", "-key-threshold", "--data", "--compose-file", "-c", "--name", "--restart",
    "--label", "--publish", "--volume", "--tag", "--file", "--username", "--kubeconfig",
    "--namespace", "-n", "--write-out", "-w", "--max-time", "--request-timeout",
}  # fmt: skip


class Exit(Exception):
    def __init__(self, code: int, message: str = "") -> None:
        self.code = code
        self.message = message


@contextlib.contextmanager
def state() -> Iterator[dict[str, Any]]:
    with open(STATE, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        data = json.load(handle)
        yield data
        handle.seek(0)
        handle.truncate()
        json.dump(data, handle, indent=1)


def read_state() -> dict[str, Any]:
    with state() as s:
        return s


def option(args: list[str], *names: str) -> str | None:
    for index, arg in enumerate(args):
        if arg in names and index + 1 < len(args):
            return args[index + 1]
        for name in names:
            if name.startswith("-") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def options(args: list[str], name: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == name]


def positional(args: list[str]) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in VALUED:
            skip = True
        elif not arg.startswith("-") or arg == "-":
            out.append(arg)
    return out


# --- HTTP (curl) ---------------------------------------------------------------------------


def curl(args: list[str]) -> None:
    url = positional(args)[-1]
    method = option(args, "--request", "-X") or ("POST" if "--data-binary" in args else "GET")
    headers: dict[str, str] = {}
    for header in options(args, "--header") + options(args, "-H"):
        text = Path(header[1:]).read_text() if header.startswith("@") else header
        for line in text.splitlines():
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    body = sys.stdin.read() if option(args, "--data-binary") == "@-" else ""
    fail = "--fail" in args or "--fail-with-body" in args
    if url.startswith("http://localhost/") and option(args, "--unix-socket"):
        status, text = docker_api(method, url.split("/", 3)[3], body)
    elif ":8500/" in url:
        status, text = consul_api(method, url.split(":8500", 1)[1], headers, body)
    elif ":4646/" in url:
        status, text = nomad_api(method, url.split(":4646", 1)[1], headers, body)
    elif ":8200/" in url:
        status, text = vault_api(method, url.split(":8200", 1)[1], headers, body)
    elif url.endswith("/v2/") and registry_serving(read_state(), url.split("/")[2]):
        status, text = 200, "{}"
    else:
        status, text = download(url)
    if status >= 400 and fail:
        if "--fail-with-body" in args:
            sys.stdout.write(text)
        raise Exit(22, f"curl: (22) The requested URL returned error: {status}")
    target = option(args, "--output", "-o")
    if target == "/dev/null":
        pass
    elif target:
        data = text.encode("latin-1")
        Path(target).write_bytes(data)
    else:
        sys.stdout.write(text)
    write_out = option(args, "--write-out", "-w")
    if write_out:
        sys.stdout.write(write_out.replace("%{http_code}", str(status)))


def download(url: str) -> tuple[int, str]:
    with state() as s:
        entry = s.get("urls", {}).get(url)
    if entry is None:
        return 404, "not found"
    if isinstance(entry, dict):
        return 200, base64.b64decode(entry["base64"]).decode("latin-1")
    return 200, entry


def docker_api(method: str, path: str, body: str) -> tuple[int, str]:
    path = "/" + path.split("/", 1)[1]  # drop the API version
    if (method, path) == ("POST", "/swarm/join"):
        request = json.loads(body)
        with state() as s:
            swarm = s.setdefault("swarm", {})
            if swarm.get("local", "inactive") != "inactive":
                return 503, '{"message": "This node is already part of a swarm."}'
            if request["JoinToken"] != s.get("expected_swarm_token", request["JoinToken"]):
                return 400, '{"message": "invalid join token"}'
            # The node's ID: the mocks predict it from the advertised address (swarm_node_id).
            swarm.update(
                local="active",
                manager=False,
                joined_via=request["RemoteAddrs"],
                node_id=f"swarm-{request['AdvertiseAddr']}",
            )
        return 200, ""
    return 404, '{"message": "page not found"}'


def _token(headers: dict[str, str], name: str) -> str:
    return headers.get(name, "")


def consul_api(method: str, path: str, headers: dict[str, str], body: str) -> tuple[int, str]:
    with state() as s:
        consul = s.setdefault("consul", {"policies": {}, "tokens": {}, "auth_methods": []})
        if path == "/v1/status/leader":
            return 200, '"10.0.2.10:8300"'
        if _token(headers, "x-consul-token") != s.get("consul_management_token"):
            return 403, "ACL not found"
        if path == "/v1/acl/token/self":
            return 200, "{}"
        if path.startswith("/v1/acl/policy/name/"):
            name = path.rsplit("/", 1)[1]
            return (200, "{}") if name in consul["policies"] else (404, "not found")
        if (method, path) == ("PUT", "/v1/acl/policy"):
            policy = json.loads(body)
            consul["policies"][policy["Name"]] = policy["Rules"]
            return 200, "{}"
        if (method, path) == ("PUT", "/v1/acl/token"):
            token = json.loads(body)
            consul["tokens"][token["AccessorID"]] = token
            return 200, "{}"
        if path.startswith("/v1/acl/token/"):
            accessor = path.rsplit("/", 1)[1]
            return (200, "{}") if accessor in consul["tokens"] else (403, "ACL not found")
        if path.startswith("/v1/acl/auth-method/"):
            name = path.rsplit("/", 1)[1]
            return (200, "{}") if name in consul["auth_methods"] else (404, "not found")
    return 404, "not found"


def nomad_api(method: str, path: str, headers: dict[str, str], body: str) -> tuple[int, str]:
    with state() as s:
        nomad = s.setdefault("nomad", {"bootstrap": None})
        if path == "/v1/status/leader":
            return 200, '"10.0.2.10:4647"'
        if (method, path) == ("POST", "/v1/acl/bootstrap"):
            if nomad["bootstrap"] is not None:
                return 400, "ACL bootstrap already done"
            nomad["bootstrap"] = json.loads(body)["BootstrapSecret"]
            return 200, "{}"
        token = _token(headers, "x-nomad-token")
        if nomad["bootstrap"] is None or token != nomad["bootstrap"]:
            return 403, "Permission denied"
        if path == "/v1/acl/token/self":
            return 200, "{}"
        if path == "/v1/nodes":
            nodes = s.get("nomad_nodes", {})
            return 200, json.dumps(
                [
                    {
                        "ID": f"id-{name}",
                        "Name": name,
                        "Status": status,
                        "SchedulingEligibility": "eligible",
                    }
                    for name, status in nodes.items()
                ]
            )
        if path.startswith("/v1/node/") and path.count("/") == 3 and method == "GET":
            node_id = path.rsplit("/", 1)[1]
            name = node_id.removeprefix("id-")
            status = s.get("nomad_nodes", {}).get(name)
            if not node_id.startswith("id-") or status is None:
                return 404, "node not found"
            return 200, json.dumps(
                {"ID": node_id, "Name": name, "Status": status, "SchedulingEligibility": "eligible"}
            )
        if path.startswith("/v1/namespace/"):
            spaces = nomad.setdefault("namespaces", ["default"])
            name = path.rsplit("/", 1)[1]
            if method == "POST":
                spaces.append(json.loads(body)["Name"])
                return 200, "{}"
            return (200, "{}") if name in spaces else (404, "namespace not found")
        if path.startswith("/v1/var/"):
            variables = nomad.setdefault("variables", {})
            if method == "PUT":
                variables[path[len("/v1/var/") :]] = json.loads(body)["Items"]
                return 200, "{}"
            return (200, "{}") if path[len("/v1/var/") :] in variables else (404, "not found")
        if (method, path) == ("POST", "/v1/jobs"):
            job = json.loads(body)["Job"]
            nomad.setdefault("jobs", {})[job["ID"]] = job
            return 200, '{"EvalID": "fake"}'
        if path.startswith("/v1/job/"):
            found = path.rsplit("/", 1)[1] in nomad.get("jobs", {})
            return (200, "{}") if found else (404, "job not found")
        if method == "PUT" and path.endswith("/purge"):
            node_id = path.split("/")[3].removeprefix("id-")
            s.get("nomad_nodes", {}).pop(node_id, None)
            return 200, "{}"
    return 404, "not found"


def vault_api(method: str, path: str, headers: dict[str, str], body: str) -> tuple[int, str]:
    with state() as s:
        vault = s.setdefault("vault", {"initialized": False, "sealed": True, "tokens": []})
        if (method, path) == ("PUT", "/v1/sys/unseal"):
            if json.loads(body)["key"] != vault.get("unseal_key"):
                return 400, "invalid key"
            vault["sealed"] = False
            return 200, "{}"
        if _token(headers, "x-vault-token") != vault.get("root_token"):
            return 403, "permission denied"
        if (method, path) == ("POST", "/v1/auth/token/lookup"):
            token = json.loads(body)["token"]
            return (200, "{}") if token in vault["tokens"] else (403, "bad token")
    return 404, "not found"


# --- command-line tools ---------------------------------------------------------------------


def cloud_init(args: list[str]) -> None:
    """State `cloud_init`: {status, exit} of `cloud-init status` (default done, 0)."""
    if args[:1] == ["status"]:
        answer = read_state().get("cloud_init", {})
        print(f"status: {answer.get('status', 'done')}")
        if answer.get("exit"):
            raise Exit(answer["exit"])


def systemctl(args: list[str]) -> None:
    words = [a for a in args if not a.startswith("-")]
    if not words:
        return
    verb, units = words[0], words[1:]
    to_start: list[str] = []
    with state() as s:
        running = s.setdefault("units", {})
        enabled = set(s.get("enabled", []))
        if verb in {"start", "restart", "reload-or-restart", "try-reload-or-restart"}:
            for unit in units:
                if unit in s.get("failing_units", []):
                    raise Exit(
                        1,
                        f"Job for {unit} failed: the control process exited with an error.",
                    )
                running[unit] = "active"
                to_start.append(unit)
        elif verb == "stop":
            for unit in units:
                running[unit] = "inactive"
        elif verb == "enable":
            enabled |= set(units)
            if "--now" in args:
                running.update({u: "active" for u in units})
        elif verb == "disable":
            enabled -= set(units)
            if "--now" in args:
                running.update({u: "inactive" for u in units})
        elif verb == "is-active":
            if any(running.get(u) != "active" for u in units):
                print("inactive")
                raise Exit(3)
            print("active")
        s["enabled"] = sorted(enabled)
    for unit in to_start:  # outside the lock: a unit may run tools that read the state
        started(unit)


#: The admin kubeconfig a k3s server writes when it starts.
K3S_KUBECONFIG = """apiVersion: v1
clusters:
- cluster:
    server: https://127.0.0.1:6443
  name: default
contexts:
- context: {cluster: default, user: default}
  name: default
current-context: default
kind: Config
users:
- name: default
  user: {client-key-data: a2V5}
"""


def started(unit: str) -> None:
    """What a unit does on start that later steps can see: k3s writes its kubeconfig; a
    oneshot unit of ours runs its ExecStart (as systemd would, synchronously)."""
    if unit == "k3s.service":
        path = Path("/etc/rancher/k3s/k3s.yaml")
        path.write_text(K3S_KUBECONFIG)
        path.chmod(0o600)
    if unit == "nomad.service":
        nomad_client_started()
    unit_file = Path("/etc/systemd/system") / unit
    if unit_file.exists() and "Type=oneshot" in unit_file.read_text():
        [command] = [
            line.split("=", 1)[1]
            for line in unit_file.read_text().splitlines()
            if line.startswith("ExecStart=")
        ]
        import subprocess  # here only: most calls never need it, and each call is a process

        result = subprocess.run(command.split(), check=False)
        if result.returncode != 0:
            raise Exit(1, f"Job for {unit} failed (exit {result.returncode})")


def nomad_client_started() -> None:
    """A Nomad client makes its node ID at its first start, in <data_dir>/client/client-id
    (id-<name>: what the fake API and the mocks use) and keeps it."""
    config = Path("/etc/nomad.d/nomad.hcl").read_text()
    client = re.search(r"^client \{\n  enabled = true$", config, flags=re.MULTILINE)
    data_dir = re.search(r'^data_dir = "([^"]+)"$', config, flags=re.MULTILINE)
    name = re.search(r'^name = "([^"]+)"$', config, flags=re.MULTILINE)
    if client is None or data_dir is None or name is None:
        return
    path = Path(data_dir[1]) / "client" / "client-id"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"id-{name[1]}")


def kubectl(args: list[str]) -> None:
    """Nodes have a Ready status (`k8s_nodes`, default `k8s_default_ready`) and a uid
    (`k8s_uids`, default uid-<name>, as the mocks predict: k3s_uid)."""
    words = positional(args)
    fmt = option(args, "-o", "--output") or ""
    with state() as s:
        nodes = s.setdefault("k8s_nodes", {})
        if words[:1] == ["get"] and "--raw" in args:
            print("ok")
        elif words[:2] == ["get", "node"] and len(words) > 2:
            status = nodes.get(words[2], s.get("k8s_default_ready", "True"))
            if status == "absent":
                if "--ignore-not-found" in args:
                    return
                raise Exit(1, f'Error from server (NotFound): nodes "{words[2]}" not found')
            uid = s.get("k8s_uids", {}).get(words[2], f"uid-{words[2]}")
            if "metadata.uid" in fmt and "Ready" in fmt:
                print(f"{uid} {status}", end="")
            elif "metadata.uid" in fmt:
                print(uid, end="")
            else:
                print(status, end="")
        elif words[:2] == ["delete", "node"]:
            nodes[words[2]] = "absent"
        elif words[:2] == ["delete", "secret"]:
            namespace = option(args, "--namespace", "-n") or "default"
            s.setdefault("k8s_deleted_secrets", []).append(f"{namespace}/{words[2]}")
        else:
            raise Exit(1, f"fake kubectl: unsupported {args}")


#: System users the HashiCorp packages create (their postinst scripts do this for real).
PACKAGE_USERS = {"consul": 997, "nomad": 996, "vault": 995}


def apt_get(args: list[str]) -> None:
    words = positional(args)
    if words[:1] != ["install"]:
        return
    with state() as s:
        installed = s.setdefault("packages", {})
        for spec in words[1:]:
            name, _, version = spec.partition("=")
            # No version: the candidate (the newest available).
            matches = fnmatch.filter(s.get("available", {}).get(name, []), version or "*")
            if not matches:
                raise Exit(100, f"E: Version '{version}' for '{name}' was not found")
            installed[name] = sorted(matches)[-1]
            if name in PACKAGE_USERS:
                uid = PACKAGE_USERS[name]
                with open("/etc/passwd", "a") as passwd:
                    passwd.write(f"{name}:x:{uid}:{uid}::/opt/{name}:/usr/sbin/nologin\n")
                with open("/etc/group", "a") as group:
                    group.write(f"{name}:x:{uid}:\n")


def dpkg_query(args: list[str]) -> None:
    name = positional(args)[-1]
    with state() as s:
        version = s.get("packages", {}).get(name)
    if version is None:
        raise Exit(1, f"dpkg-query: no packages found matching {name}")
    print(version, end="")


def gpg(args: list[str]) -> None:
    if "--show-keys" in args:
        content = Path(positional(args)[-1]).read_text()
        with state() as s:
            fingerprint = s.get("gpg_keys", {}).get(content.strip())
        if fingerprint is None:
            raise Exit(2, "gpg: no valid OpenPGP data found.")
        print(f"pub:-:4096:1:ABCDEF:1:::-:::scESC::::::23::0:\nfpr:::::::::{fingerprint}:")
    elif "--dearmor" in args:
        source = positional(args)[-1]
        Path(option(args, "--output") or "").write_text(Path(source).read_text())


def registry_serving(s: dict[str, Any], address: str) -> bool:
    """Whether a running registry container of the fake Docker publishes `address`."""
    containers = s.get("docker", {}).get("containers", {}).values()
    return any(c["running"] and c["publish"].startswith(address + ":") for c in containers)


def insecure_registries() -> list[str]:
    """What the real daemon would read from /etc/docker/daemon.json (at its last restart; the
    steps restart it whenever the file changes)."""
    path = Path("/etc/docker/daemon.json")
    return json.loads(path.read_text()).get("insecure-registries", []) if path.exists() else []


def registry_of(image: str) -> str:
    """The registry host of an image reference (Docker's rule: a first component with a dot or
    a colon names one; otherwise Docker Hub)."""
    first = image.split("/", 1)[0]
    return first if "/" in image and ("." in first or ":" in first) else "docker.io"


def docker_images(args: list[str], words: list[str], s: dict[str, Any]) -> bool:
    """Containers, builds, logins and pushes; False when the command is not one of those."""
    engine = s.setdefault("docker", {})
    containers = engine.setdefault("containers", {})
    fmt = option(args, "--format", "-f") or ""
    if words[:2] == ["container", "inspect"]:
        container = containers.get(words[2])
        if container is None:
            raise Exit(1, f"Error: No such container: {words[2]}")
        if "faasbench.spec" in fmt:
            print(container["labels"].get("faasbench.spec", ""))
        else:
            print("true" if container["running"] else "false")
    elif words[:2] == ["container", "rm"]:
        containers.pop(words[2], None)
    elif words[:2] == ["container", "start"]:
        containers[words[2]]["running"] = True
    elif words[:2] == ["container", "run"]:
        name = option(args, "--name") or ""
        if name in containers:
            raise Exit(125, f'Error response from daemon: Conflict. "/{name}" is already in use')
        labels = dict(label.split("=", 1) for label in options(args, "--label"))
        containers[name] = {
            "image": words[2],
            "labels": labels,
            "publish": option(args, "--publish"),
            "volume": option(args, "--volume"),
            "restart": option(args, "--restart"),
            "running": True,
        }
    elif words[:2] == ["image", "inspect"]:
        if words[2] not in engine.get("images", {}):
            raise Exit(1, f"Error response from daemon: No such image: {words[2]}")
        print(f"sha256:{words[2]}")
    elif words[:1] == ["build"]:
        dockerfile = Path(option(args, "--file") or "")
        context = Path(words[1])
        if not dockerfile.is_file() or not context.is_dir():
            raise Exit(1, "ERROR: the Dockerfile or the build context is missing")
        missing = copied_sources(dockerfile.read_text()) - {
            "." if p == context else str(p.relative_to(context)).rstrip("/")
            for p in [context, *context.rglob("*")]
        }
        if missing:
            raise Exit(1, f"COPY failed: {sorted(missing)[0]} is not in the build context")
        tag = option(args, "--tag") or ""
        labels = dict(label.split("=", 1) for label in options(args, "--label"))
        engine.setdefault("images", {})[tag] = {
            "labels": labels,
            "dockerfile": dockerfile.read_text(),
            "context": sorted(str(p.relative_to(context)) for p in context.rglob("*")),
        }
        engine["builds"] = engine.get("builds", 0) + 1
    elif words[:1] == ["login"]:
        if "--password-stdin" not in args:
            raise Exit(1, "fake docker: a password on the command line")
        server = words[1]
        password = sys.stdin.read()
        accounts = s.get("registry_accounts", {}).get(server, {})
        user = option(args, "--username") or ""
        if accounts.get(user) != password:
            raise Exit(1, "Error response from daemon: unauthorized: incorrect username/password")
        engine.setdefault("logins", {})[server] = user
    elif words[:1] == ["logout"]:
        engine.setdefault("logins", {}).pop(words[1], None)
    elif words[:1] == ["push"]:
        image = words[1]
        if image not in engine.get("images", {}):
            raise Exit(1, f"An image does not exist locally with the tag: {image}")
        host = registry_of(image)
        if registry_serving(s, host):
            if host not in insecure_registries():
                raise Exit(1, "http: server gave HTTP response to HTTPS client")
        elif host not in engine.get("logins", {}):
            raise Exit(1, "denied: requested access to the resource is denied")
        s.setdefault("registries", {}).setdefault(host, []).append(image)
    else:
        return False
    return True


def copied_sources(dockerfile: str) -> set[str]:
    """The build-context paths a Dockerfile's `COPY` lines read (not `COPY --from=stage`)."""
    sources: set[str] = set()
    for line in dockerfile.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from=") for w in words):
            sources |= {w.rstrip("/") or "." for w in words[1:-1] if not w.startswith("--")}
    return sources


def docker(args: list[str]) -> None:
    words = positional(args)
    fmt = option(args, "--format", "-f") or ""
    if words[:1] in (["container"], ["build"], ["login"], ["logout"], ["push"]) or words[:2] == [
        "image",
        "inspect",
    ]:
        with state() as s:
            if docker_images(args, words, s):
                return
    with state() as s:
        swarm = s.setdefault("swarm", {})
        local = swarm.get("local", "inactive")
        if local == "pending" and "LocalNodeState" in fmt:
            # A join under way: `pending` for `pending_reads` more reads, then `settles_to`.
            swarm["pending_reads"] = swarm.get("pending_reads", 0) - 1
            if swarm["pending_reads"] < 0:
                local = swarm["local"] = swarm.get("settles_to", "active")
        if words[:1] in (["info"], ["version"]):
            if "LocalNodeState" in fmt:
                print(local)
            elif "Swarm.NodeID" in fmt:
                print(swarm.get("node_id", "") if local == "active" else "")
            elif "ControlAvailable" in fmt:
                print("true" if swarm.get("manager") else "false")
            else:
                print(s.get("docker_version", "28.5.2"))
        elif words[:2] == ["swarm", "init"]:
            if local == "active":
                raise Exit(1, "Error response from daemon: This node is already part of a swarm.")
            swarm.update(local="active", manager=True, ingress_mtu="")
        elif words[:2] == ["swarm", "join-token"]:
            print(s.get("expected_swarm_token", "SWMTKN-1-fake"))
        elif words[:2] == ["swarm", "leave"]:
            swarm["local"] = "inactive"
        elif words[:2] == ["network", "inspect"]:
            print(swarm.get("ingress_mtu", ""))
        elif words[:2] == ["network", "rm"]:
            swarm["ingress_mtu"] = None
        elif words[:2] == ["network", "create"]:
            mtu = (option(args, "--opt") or "").split("=", 1)[-1]
            swarm["ingress_mtu"] = mtu
        elif words[:2] == ["node", "update"]:
            labels = swarm.setdefault("labels", {})
            labels[words[2]] = option(args, "--label-add")
        elif words[:2] == ["node", "inspect"]:
            status = s.get("swarm_nodes", {}).get(words[2], "ready")
            if status == "absent":
                raise Exit(1, f"Error: No such node: {words[2]}")
            print(status)
        elif words[:2] == ["node", "rm"]:
            nodes = s.setdefault("swarm_nodes", {})
            if nodes.get(words[2], "ready") == "absent":
                raise Exit(1, f"Error response from daemon: node {words[2]} not found")
            nodes[words[2]] = "absent"
        elif words[:2] == ["node", "ls"]:
            listed = s.get("swarm_nodes", {})
            print("\n".join(n for n, status in listed.items() if status != "absent"))
        elif words[:2] == ["stack", "ls"]:
            print("\n".join(swarm.get("stacks", [])))
        elif words[:2] == ["stack", "deploy"]:
            compose = Path(option(args, "--compose-file") or "").read_text()
            missing = [n for n in ("basic-auth-user", "basic-auth-password") if n in compose
                       and n not in swarm.get("secrets", {})]  # fmt: skip
            if missing:
                raise Exit(1, f"secret not found: {missing[0]}")
            swarm["stacks"] = sorted({*swarm.get("stacks", []), words[2]})
        elif words[:1] == ["run"]:
            # A one-shot container (`docker run --rm`): recorded with the environment variables
            # it takes from the caller (`-e NAME`), as the container would see them.
            names = [a for i, a in enumerate(args) if i and args[i - 1] == "-e"]
            swarm.setdefault("runs", []).append(
                {"image": words[1], "env": {n: os.environ.get(n, "") for n in names}}
            )
        elif words[:2] == ["stack", "rm"]:
            swarm["stacks"] = [n for n in swarm.get("stacks", []) if n != words[2]]
        elif words[:2] == ["service", "ls"]:
            print("\n".join(f"svc-{n}" for n in swarm.get("stacks", [])))
        elif words[:2] == ["secret", "inspect"]:
            if words[2] not in swarm.get("secrets", {}):
                raise Exit(1, f"Error: no such secret: {words[2]}")
            print("[{}]")
        elif words[:2] == ["secret", "create"]:
            secrets = swarm.setdefault("secrets", {})
            if words[2] in secrets:
                raise Exit(1, f"Error response from daemon: secret {words[2]} already exists")
            secrets[words[2]] = sys.stdin.read()
        elif words[:2] == ["secret", "rm"]:
            for name in words[2:]:
                swarm.setdefault("secrets", {}).pop(name, None)
        else:
            raise Exit(1, f"fake docker: unsupported {args}")


def git(args: list[str]) -> None:
    """`git init DIR`, `git -C DIR fetch --depth 1 URL COMMIT`, `git -C DIR checkout --detach
    FETCH_HEAD`, `git -C DIR rev-parse HEAD`: the remotes are `git_remotes` in the state, URL ->
    {commit: {path: content}}; `git_heads` (commit -> commit) makes a remote hand out another
    commit than the one asked for."""
    directory = Path(".")
    if args[:1] == ["-C"]:
        directory, args = Path(args[1]), args[2:]
    while args and args[0] == "-c":
        args = args[2:]
    words = [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] != "--depth"]
    meta = directory / ".git"
    with state() as s:
        if words[:1] == ["init"]:
            (Path(words[1]) / ".git").mkdir(parents=True, exist_ok=True)
        elif words[:1] == ["fetch"]:
            url, commit = words[1], words[2]
            if commit not in s.get("git_remotes", {}).get(url, {}):
                raise Exit(128, f"fatal: remote error: upload-pack: not our ref {commit}")
            (meta / "FETCH_HEAD").write_text(s.get("git_heads", {}).get(commit, commit))
            (meta / "remote").write_text(url)
        elif words[:1] == ["checkout"]:
            commit = (meta / "FETCH_HEAD").read_text()
            files = s["git_remotes"][(meta / "remote").read_text()][commit]
            for name, content in files.items():
                (directory / name).parent.mkdir(parents=True, exist_ok=True)
                (directory / name).write_text(content)
            (meta / "HEAD").write_text(commit)
        elif words[:2] == ["rev-parse", "HEAD"]:
            print((meta / "HEAD").read_text())
        else:
            raise Exit(1, f"fake git: unsupported {args}")


def vault(args: list[str]) -> None:
    words = positional(args)
    with state() as s:
        vault_state = s.setdefault("vault", {"initialized": False, "sealed": True, "tokens": []})
        token = os.environ.get("VAULT_TOKEN", "")
        if words[:1] == ["status"]:
            if "-format=json" in args:
                print(
                    json.dumps(
                        {"initialized": vault_state["initialized"], "sealed": vault_state["sealed"]}
                    )
                )
            if vault_state["sealed"]:
                raise Exit(2)
            return
        if words[:2] == ["operator", "init"]:
            if vault_state["initialized"]:
                raise Exit(2, "Error initializing: Vault is already initialized")
            vault_state.update(
                initialized=True, unseal_key="dW5zZWFsLWtleQ==", root_token="hvs.fake-root"
            )
            print(
                json.dumps({"unseal_keys_b64": ["dW5zZWFsLWtleQ=="], "root_token": "hvs.fake-root"})
            )
            return
        if token != vault_state.get("root_token") or vault_state["sealed"]:
            raise Exit(2, "Error: permission denied or sealed")
        if words[:2] == ["secrets", "list"]:
            print(json.dumps({path: {} for path in vault_state.setdefault("mounts", ["secret/"])}))
        elif words[:2] == ["secrets", "enable"]:
            vault_state.setdefault("mounts", ["secret/"]).append(option(args, "-path") + "/")
        elif words[:2] == ["policy", "write"]:
            vault_state.setdefault("policies", {})[words[2]] = sys.stdin.read()
        elif words[:1] == ["write"] and words[1] == "auth/token/create":
            request = json.loads(sys.stdin.read())
            vault_state["tokens"].append(request["id"])
            print("{}")
        elif words[:2] == ["auth", "list"]:
            print(json.dumps({path: {} for path in vault_state.setdefault("auth", ["token/"])}))
        else:
            raise Exit(1, f"fake vault: unsupported {args}")


def nomad(args: list[str]) -> None:
    words = positional(args)
    with state() as s:
        if words[:2] == ["setup", "consul"]:
            if os.environ.get("CONSUL_HTTP_TOKEN") != s.get("consul_management_token"):
                raise Exit(1, "Consul ACL token lacks acl:write")
            s.setdefault("consul", {}).setdefault("auth_methods", []).append("nomad-workloads")
        elif words[:2] == ["setup", "vault"]:
            vault_state = s.setdefault("vault", {})
            if os.environ.get("VAULT_TOKEN") != vault_state.get("root_token"):
                raise Exit(1, "Vault token lacks sudo")
            vault_state.setdefault("auth", ["token/"]).append("jwt-nomad/")
        else:
            raise Exit(1, f"fake nomad: unsupported {args}")


def sleep(args: list[str]) -> None:
    time.sleep(min(float(args[0]) if args else 0, 0.02))


def sudo(args: list[str]) -> None:
    """Steps already run as root here: run the command, keeping the fakes first on PATH."""
    os.execvp(args[0], args)  # noqa: S606 (an exec, like sudo's own)


def record_only(args: list[str]) -> None:
    """Tools whose effect the tests read from the log (modprobe, sysctl, apt-mark, ...)."""


TOOLS: dict[str, Callable[[list[str]], None]] = {
    "curl": curl,
    "cloud-init": cloud_init,
    "systemctl": systemctl,
    "kubectl": kubectl,
    "apt-get": apt_get,
    "dpkg-query": dpkg_query,
    "gpg": gpg,
    "docker": docker,
    "git": git,
    "vault": vault,
    "nomad": nomad,
    "sleep": sleep,
    "sudo": sudo,
}


#: What a tool says when the service it talks to is gone (state `broken`: {tool: "fail"}).
UNREACHABLE = {
    "curl": (7, "curl: (7) Failed to connect to 10.0.2.10 port 4646: Connection refused"),
    "kubectl": (1, "The connection to the server 127.0.0.1:6443 was refused"),
    "docker": (1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."),
    "systemctl": (1, "Failed to connect to bus: No such file or directory"),
    "apt-get": (100, "E: Failed to fetch http://archive.ubuntu.com/ubuntu/dists/noble/InRelease"),
    "modprobe": (1, "modprobe: FATAL: Module br_netfilter not found in directory /lib/modules"),
    "sysctl": (255, "sysctl: cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables"),
}


def broken(tool: str) -> None:
    """State `broken` {tool: "fail" | "hang"}: the tool cannot reach its service, or waits for
    one that never answers (until something kills it)."""
    mode = read_state().get("broken", {}).get(tool)
    if mode == "hang":
        time.sleep(3600)
    if mode == "fail":
        code, message = UNREACHABLE.get(tool, (1, f"{tool}: failed"))
        raise Exit(code, message)


def main(tool: str) -> None:
    args = sys.argv[1:]
    with open(LOG, "a") as handle:
        handle.write(json.dumps([tool, *args]) + "\n")
    try:
        broken(tool)
        TOOLS.get(tool, record_only)(args)
    except Exit as stop:
        if stop.message:
            print(stop.message, file=sys.stderr)
        sys.exit(stop.code)
