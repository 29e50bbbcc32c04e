"""A stand-in for the `pulumi` CLI, for testing what drives it through the Automation API.

It answers the commands `pulumi.automation` (LocalWorkspace, Stack; the SDK in uv.lock) runs,
with the fields that API reads from the CLI's `--json` output (`StackSummary`, `UpdateSummary`,
`OutputMap`, the engine events), timestamps in its `%Y-%m-%dT%H:%M:%S.%fZ`:

- `version`, `stack select --stack S`, `stack init S`, `stack ls --json`,
- `config set KEY --plaintext --stack S -- VALUE`,
- `up --yes --skip-preview`, `preview --event-log FILE`, `destroy --skip-preview --yes`,
- `stack output --json [--show-secrets]`, `stack history --json`.

Anything else exits 2 ("unsupported"), so a test notices a command it did not expect.

State: one JSON file per stack under `$PULUMI_BACKEND_URL` (a `file://` directory), in
`.pulumi/stacks/<project>/<stack>.json` like the local backend; `config set` edits
`Pulumi.<stack>.yaml` in the project, as the CLI does. Every call is appended to
`$FAKE_PULUMI_LOG` (JSON lines: argv and cwd).

It reports version 3.200.0, a CLI that writes engine events to `--event-log FILE` (from 3.206
the SDK streams them over gRPC instead, which this stand-in does not speak).

What `up` exports: the JSON object in `$FAKE_PULUMI_OUTPUTS` (e.g. the local target's
outputs.json) with `expires_at` from the config. Failure injection: `$FAKE_PULUMI_FAIL` names a
command (`up`, `destroy`) that fails after creating a few resources; `$FAKE_PULUMI_KILL` one
that kills its caller (SIGKILL: a crash); `$FAKE_PULUMI_INTERRUPT` one that sends its caller
SIGINT (Ctrl-C) and then ends as a cancelled update.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

VERSION = "v3.200.0"
SECRET = "[secret]"
#: Top-level outputs the program marks secret (contract.outputs' SecretStr fields and the
#: objects holding one).
SECRET_KEYS = {"ssh_private_key", "kubeconfig", "grafana_password"}
RESOURCES = 12


def now() -> str:
    """The CLI's timestamps, as `pulumi.automation` parses them (`%Y-%m-%dT%H:%M:%S.%fZ`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fail(message: str, code: int = 255) -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.exit(code)


def backend() -> Path:
    url = os.environ.get("PULUMI_BACKEND_URL", "")
    if not url.startswith("file://"):
        fail(f"fake pulumi: a file:// PULUMI_BACKEND_URL is needed, got {url!r}", 2)
    return Path(os.path.expanduser(url.removeprefix("file://")))


def project_name() -> str:
    return str(yaml.safe_load(Path("Pulumi.yaml").read_text())["name"])


def stack_path(name: str) -> Path:
    return backend() / ".pulumi" / "stacks" / project_name() / f"{name}.json"


def load(name: str) -> dict[str, Any]:
    path = stack_path(name)
    if not path.exists():
        fail(f"no stack named '{name}' found")
    return json.loads(path.read_text())


def save(name: str, stack: dict[str, Any]) -> None:
    path = stack_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stack, indent=2))


def settings_path(name: str) -> Path:
    return Path(f"Pulumi.{name.split('/')[-1]}.yaml")


def stack_config(name: str) -> dict[str, Any]:
    path = settings_path(name)
    if not path.exists():
        return {}
    return dict((yaml.safe_load(path.read_text()) or {}).get("config") or {})


def option(args: list[str], flag: str) -> str | None:
    if flag in args:
        index = args.index(flag)
        value = args[index + 1]
        del args[index : index + 2]
        return value
    return None


def history(stack: dict[str, Any], kind: str, result: str, changes: dict[str, int]) -> None:
    stack["history"].insert(
        0,
        {
            "version": len(stack["history"]) + 1,
            "kind": kind,
            "startTime": now(),
            "message": "",
            "environment": {"exec.kind": "auto.local"},
            "config": {},
            "result": result,
            "endTime": now(),
            "resourceChanges": changes,
        },
    )


def inject(command: str) -> None:
    if os.environ.get("FAKE_PULUMI_KILL") == command:
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(0.2)
        fail("killed", 255)
    if os.environ.get("FAKE_PULUMI_INTERRUPT") == command:
        print("^C received; cancelling the current operation", flush=True)
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(1)
        fail("update canceled", 255)


def up(name: str) -> None:
    stack = load(name)
    config = stack_config(name)
    print(f"Updating ({name})\n")
    print("     Type                 Name              Status")
    inject("up")
    if os.environ.get("FAKE_PULUMI_FAIL") == "up":
        stack["resources"] = 3
        history(stack, "update", "failed", {"create": 3})
        save(name, stack)
        print(" +   pulumi:pulumi:Stack  faasbench-" + name + "  created (1s)")
        print("     aws:ec2:Instance     worker-1          **creating failed**")
        fail("update failed")
    unchanged = stack["resources"] == RESOURCES and stack.get("deployed_config") == config
    source = os.environ.get("FAKE_PULUMI_OUTPUTS")
    outputs = json.loads(Path(source).read_text()) if source else {}
    outputs["expires_at"] = str(config.get("faasbench:expiresAt", "none"))
    if unchanged:
        changes = {"same": RESOURCES}
        print(f"\nResources:\n    {RESOURCES} unchanged\n\nDuration: 1s")
    else:
        created = RESOURCES - stack["resources"]
        changes = {"create": created, "same": stack["resources"]}
        print(f" +   pulumi:pulumi:Stack  faasbench-{name}  created (1s)")
        print(f"\nResources:\n    + {created} created\n\nDuration: 1s")
    stack.update(resources=RESOURCES, outputs=outputs, deployed_config=config)
    history(stack, "update", "succeeded", changes)
    save(name, stack)


def destroy(name: str) -> None:
    stack = load(name)
    print(f"Destroying ({name})\n")
    inject("destroy")
    if os.environ.get("FAKE_PULUMI_FAIL") == "destroy":
        fail("destroy failed: DependencyViolation")
    deleted = stack["resources"]
    stack.update(resources=0, outputs={}, deployed_config=None)
    history(stack, "destroy", "succeeded", {"delete": deleted})
    save(name, stack)
    print(f"\nResources:\n    - {deleted} deleted\n\nDuration: 1s")


def events(path: Path) -> None:
    """The engine's event log (`--event-log FILE`, CLIs before 3.206; later ones stream it over
    gRPC): the summary, then the cancel event that ends the log."""
    stamp = int(time.time())
    summary = {"maybeCorrupt": False, "durationSeconds": 1, "resourceChanges": {"same": RESOURCES}}
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps({"sequence": 0, "timestamp": stamp, "summaryEvent": summary}) + "\n")
        file.write(json.dumps({"sequence": 1, "timestamp": stamp, "cancelEvent": {}}) + "\n")


def masked(outputs: dict[str, Any]) -> dict[str, Any]:
    def secret(key: str, value: Any) -> bool:
        return key in SECRET_KEYS or (isinstance(value, dict) and "password" in value)

    return {k: SECRET if secret(k, v) else v for k, v in outputs.items()}


def stack_ls() -> None:
    directory = backend() / ".pulumi" / "stacks" / project_name()
    current = (directory / ".current").read_text() if (directory / ".current").exists() else ""
    listed = []
    for path in sorted(directory.glob("*.json")):
        stack = json.loads(path.read_text())
        entry: dict[str, Any] = {
            "name": path.stem,
            "current": path.stem == current,
            "updateInProgress": False,
            "resourceCount": stack["resources"],
        }
        if stack["history"]:
            entry["lastUpdate"] = stack["history"][0]["endTime"]
        listed.append(entry)
    print(json.dumps(listed, indent=4))


def main(argv: list[str]) -> None:
    log = os.environ.get("FAKE_PULUMI_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(json.dumps({"argv": argv, "cwd": os.getcwd()}) + "\n")
    args = [a for a in argv if a != "--non-interactive"]
    value: str | None = None
    if "--" in args:
        index = args.index("--")
        args, value = args[:index], " ".join(args[index + 1 :])
    name = option(args, "--stack")
    option(args, "--exec-kind")
    event_log = option(args, "--event-log")
    if event_log is not None:
        events(Path(event_log))
    for flag in ("--yes", "--skip-preview", "--show-secrets", "--json", "--plaintext"):
        if flag in args:
            args.remove(flag)
    flags = set(argv)
    match args:
        case ["version"]:
            print(VERSION)
        case ["stack", "select"] if name:
            load(name)
            current = stack_path(name).parent / ".current"
            current.write_text(name)
        case ["stack", "init", new]:
            if stack_path(new).exists():
                fail(f"stack '{new}' already exists")
            save(new, {"resources": 0, "outputs": {}, "history": [], "deployed_config": None})
            (stack_path(new).parent / ".current").write_text(new)
        case ["stack", "ls"]:
            stack_ls()
        case ["config", "set", key] if name and value is not None:
            path = settings_path(name)
            document = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
            document.setdefault("config", {})[key] = value
            path.write_text(yaml.safe_dump(document, sort_keys=False))
        case ["up"] if name:
            up(name)
        case ["preview"] if name:
            load(name)
            print(f"Previewing update ({name})\n\nResources:\n    {RESOURCES} unchanged")
        case ["destroy"] if name:
            destroy(name)
        case ["stack", "output"] if name:
            outputs = load(name)["outputs"]
            print(json.dumps(outputs if "--show-secrets" in flags else masked(outputs), indent=2))
        case ["stack", "history", *_] if name:
            option(args, "--page-size")
            option(args, "--page")
            entries = load(name)["history"]
            print(json.dumps(entries[:1] if "--page-size" in flags else entries, indent=2))
        case _:
            fail(f"fake pulumi: unsupported: {' '.join(argv)}", 2)


def install(bin_dir: Path) -> Path:
    """Put `pulumi` (this module, run by this interpreter) in BIN_DIR; its path."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "pulumi"
    # A shell wrapper, not a `#!python` line: a shebang cannot name an interpreter whose path
    # has a space in it (a checkout under "/tmp/final space/").
    script.write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(Path(__file__)))} "$@"\n'
    )
    script.chmod(0o755)
    return script


if __name__ == "__main__":
    main(sys.argv[1:])
