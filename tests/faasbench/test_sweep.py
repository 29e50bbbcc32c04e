"""`faasbench sweep` against the fake `pulumi` CLI: the project's stacks from `stack ls --json`,
each stack's expiry from its `expires_at` output (else its stack config), and `--destroy`
destroying only those past it."""

from __future__ import annotations

import yaml
from support.faasbench_world import World

PAST = "2020-01-01T00:00:00Z"
FUTURE = "2999-01-01T00:00:00Z"


def configured(world: World, name: str, expires: str | None) -> None:
    config: dict[str, object] = {"faasbench:cloud": "aws"}
    if expires is not None:
        config["faasbench:expiresAt"] = expires
    (world.project / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    world.pulumi("stack", "init", name)


def deployed(world: World, name: str, expires: str | None) -> None:
    """A stack brought up by the CLI, as `pulumi up` leaves it."""
    configured(world, name, expires)
    world.pulumi("up", "--yes", "--skip-preview", "--stack", name)


def rows(output: str) -> dict[str, list[str]]:
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("stack "))
    table = [line for line in lines[header + 1 :] if not line.startswith(("1 past", "destroying"))]
    return {line.split()[0]: line.split()[1:] for line in table if line.strip()}


def test_sweep_lists_and_destroys_only_the_expired(world: World) -> None:
    deployed(world, "old", PAST)
    deployed(world, "fresh", FUTURE)
    deployed(world, "plain", None)
    configured(world, "empty", PAST)  # no resources: nothing to sweep
    listed = world.invoke("sweep", "--project", str(world.project))
    assert listed.exit_code == 0, listed.output
    assert rows(listed.output) == {
        "fresh": ["12", FUTURE, "running"],
        "old": ["12", PAST, "EXPIRED"],
        "plain": ["12", "none", "no", "expiry"],
    }
    assert "1 past expiry: faasbench sweep --destroy destroys them" in listed.output
    assert "destroy" not in world.commands()

    swept = world.invoke("sweep", "--project", str(world.project), "--destroy")
    assert swept.exit_code == 0, swept.output
    assert f"destroying old (expired {PAST})" in swept.output
    destroyed = [argv[argv.index("--stack") + 1] for argv in world.calls() if "destroy" in argv]
    assert destroyed == ["old"]
    assert set(rows(world.invoke("sweep", "--project", str(world.project)).output)) == {
        "fresh",
        "plain",
    }


def test_a_stack_whose_up_failed_is_swept_by_its_config(world: World) -> None:
    """A failed `up` leaves resources but exports nothing: the config says when it expires."""
    configured(world, "broken", PAST)
    failed = world.pulumi("up", "--stack", "broken", check=False, FAKE_PULUMI_FAIL="up")
    assert failed.returncode != 0
    listed = world.invoke("sweep", "--project", str(world.project))
    assert rows(listed.output) == {"broken": ["3", PAST, "EXPIRED"]}


def test_an_empty_backend_and_a_missing_project(world: World) -> None:
    empty = world.invoke("sweep", "--project", str(world.project))
    assert empty.exit_code == 0, empty.output
    assert "no stack of this project has resources" in empty.output
    missing = world.invoke("sweep", "--project", str(world.base))
    assert missing.exit_code == 2
    assert f"--project: no Pulumi.yaml in {world.base}" in missing.output
