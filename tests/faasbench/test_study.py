"""`faasbench study` against the fake `pulumi` CLI: the commands it runs, the cost guard, the
dry run, and what a failure, a crash or Ctrl-C leaves (the stack destroyed unless --keep, and
said so; the state resumable). The whole cycle on the local target is in test_study_e2e.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from support.faasbench_world import World

from contract.expiry import parse_expiry

RUN_FAILS = "failed: run: the stack's outputs:"


def test_dry_run_checks_and_estimates_offline(world: World) -> None:
    done = world.invoke(*world.study_args("--dry-run"), PATH="/usr/bin:/bin")
    assert done.exit_code == 0, done.output
    assert "about 30 s for 1 cells in 1 run(s)" in done.output
    assert "2 x worker   t3a.large      $0.0752/h each" in done.output
    assert "left running until it expires (2 h): $0.68" in done.output
    assert "preview: skipped (no pulumi CLI on PATH)" in done.output
    assert not world.study.exists()
    assert world.calls() == []


def test_dry_run_previews_when_the_cli_and_credentials_are_there(world: World) -> None:
    home = world.base / "home"
    home.mkdir()
    no_credentials = world.invoke(*world.study_args("--dry-run"), HOME=str(home))
    assert no_credentials.exit_code == 0, no_credentials.output
    assert "preview: skipped (no AWS credentials" in no_credentials.output
    assert world.calls() == []
    keyed = {"HOME": str(home), "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}
    missing = world.invoke(*world.study_args("--dry-run"), **keyed)
    assert missing.exit_code == 0, missing.output
    assert "stack dev does not exist yet" in missing.output
    assert "stack init" not in world.commands()  # a dry run creates nothing
    world.pulumi("stack", "init", "dev")
    previewed = world.invoke(*world.study_args("--dry-run"), **keyed)
    assert previewed.exit_code == 0, previewed.output
    assert "Previewing update (dev)" in previewed.output
    assert "preview" in world.commands()
    assert "up" not in world.commands()


def test_a_bad_stack_config_or_campaign_is_named_before_anything_runs(world: World) -> None:
    (world.project / "Pulumi.dev.yaml").write_text(
        "config:\n  faasbench:cloud: aws\n  faasbench:ttlHours: 0\n"
    )
    world.campaign.write_text("name: x\nexperiments: []\nnumber_of_runs: -1\n")
    done = world.invoke(*world.study_args())
    assert done.exit_code == 2
    lines = done.output.splitlines()
    assert any("faasbench:ttlHours: expected hours from 1 to 720, got '0'" in x for x in lines)
    assert any(str(world.campaign) in x and "number_of_runs" in x for x in lines)
    assert world.calls() == []


def test_the_cost_guard_wants_yes_above_the_budget(world: World) -> None:
    refused = world.invoke(*world.study_args("--budget", "0.05"))
    assert refused.exit_code == 2
    assert "cost guard: the estimate $0.17 is above --budget $0.05: pass --yes" in refused.output
    assert world.calls() == []
    assert not (world.study / "study.json").exists()
    # OpenStack has no public price: without --price the guard cannot vouch for any budget.
    (world.project / "Pulumi.dev.yaml").write_text(
        "config:\n  faasbench:cloud: openstack\n  faasbench:openstackFlavor: m1.large\n"
    )
    unpriced = world.invoke(*world.study_args())
    assert unpriced.exit_code == 2
    assert "the cost is not estimated (no price for m1.large)" in unpriced.output
    priced = world.invoke(*world.study_args("--price", "m1.large=0.1", "--dry-run"))
    assert "cost: about $0.6000/h" in priced.output
    assert world.calls() == []


def test_a_failed_up_destroys_the_stack_and_says_so(world: World) -> None:
    done = world.invoke(*world.study_args("--budget", "0.05", "--yes"), FAKE_PULUMI_FAIL="up")
    assert done.exit_code == 1
    assert "faasbench: failed: up: error: update failed" in done.output
    assert "a stage failed: destroying stack dev (--keep keeps it)" in done.output
    assert "- 3 deleted" in done.output
    assert "stack dev destroyed" in done.output
    assert world.commands() == [
        "version", "stack select", "stack init", "config set", "up", "destroy", "stack history",
    ]  # fmt: skip
    assert world.state()["done"] == {}


def test_a_failed_stage_after_up_destroys(world: World) -> None:
    done = world.invoke(*world.study_args())
    assert done.exit_code == 1
    assert RUN_FAILS in done.output
    assert "a stage failed: destroying stack dev" in done.output
    assert world.commands()[-2:] == ["destroy", "stack history"]
    assert world.state()["started"] == ["up", "run"]
    assert "up" not in world.state()["done"]


def test_keep_leaves_a_failed_stack_and_a_rerun_ups_without_changes(world: World) -> None:
    first = world.invoke(*world.study_args("--keep"))
    assert first.exit_code == 1, first.output
    assert RUN_FAILS in first.output
    assert "--keep: stack dev left as it is" in first.output
    assert "destroy" not in world.commands()
    assert set(world.state()["done"]) == {"up"}
    expiry = world.stack_config()["faasbench:expiresAt"]
    assert isinstance(expiry, str)
    ahead = parse_expiry(expiry) - datetime.now(UTC)
    assert timedelta(hours=1, minutes=50) < ahead <= timedelta(hours=2)
    outputs = world.study / "outputs.json"
    assert json.loads(outputs.read_text())["expires_at"] == expiry
    assert outputs.stat().st_mode & 0o777 == 0o600

    calls_before = len(world.calls())
    again = world.invoke(*world.study_args("--keep"))
    assert again.exit_code == 1
    rerun = world.commands()[calls_before:]
    assert rerun[:4] == ["version", "stack select", "up", "stack output"]
    assert "config set" not in rerun  # the expiry still ahead is kept: nothing changes
    assert f"expiresAt {expiry} kept" in again.output
    assert "12 unchanged" in again.output


def test_an_expired_expiry_is_renewed(world: World) -> None:
    config = world.stack_config()
    config["faasbench:expiresAt"] = "2020-01-01T00:00:00Z"
    (world.project / "Pulumi.dev.yaml").write_text(json.dumps({"config": config}))
    world.invoke(*world.study_args("--keep"))
    renewed = world.stack_config()["faasbench:expiresAt"]
    assert isinstance(renewed, str)
    assert parse_expiry(renewed) > datetime.now(UTC)


def test_ctrl_c_during_up_destroys_and_exits_130(world: World) -> None:
    done = world.faasbench(*world.study_args(), FAKE_PULUMI_INTERRUPT="up")
    assert done.returncode == 130, done.stderr
    assert "interrupted: destroying stack dev (--keep keeps it)" in done.stderr
    assert "stack dev destroyed" in done.stderr
    assert world.commands()[-2:] == ["destroy", "stack history"]


def test_a_crash_during_up_resumes_at_up(world: World) -> None:
    crashed = world.faasbench(*world.study_args("--keep"), FAKE_PULUMI_KILL="up")
    assert crashed.returncode == -9
    assert world.state()["started"] == ["up"]
    assert world.state()["done"] == {}
    assert "destroy" not in world.commands()
    resumed = world.invoke(*world.study_args("--keep"))
    assert "faasbench: == up" in resumed.output
    assert "+ 12 created" in resumed.output
    assert world.state()["done"].keys() == {"up"}


def test_a_failed_destroy_names_the_way_out(world: World) -> None:
    done = world.invoke(*world.study_args(), FAKE_PULUMI_FAIL="destroy")
    assert done.exit_code == 1
    assert (
        "destroy failed: destroy: error: destroy failed: DependencyViolation; stack dev may "
        "still have resources: pulumi destroy --stack dev, or faasbench sweep --destroy"
    ) in done.output


def test_another_studys_directory_is_refused(world: World) -> None:
    world.invoke(*world.study_args("--keep"))
    other = world.campaign.with_name("other.yaml")
    other.write_text(world.campaign.read_text())
    args = ["study", "dev", str(other), "--project", str(world.project), "--dir", str(world.study)]
    done = world.invoke(*args)
    assert done.exit_code == 2
    assert "belongs to the study of stack dev with" in done.output


def test_when_only_destroy_is_left_only_destroy_runs(world: World) -> None:
    world.pulumi("stack", "init", "dev")
    world.pulumi("up", "--stack", "dev")
    world.study.mkdir()
    done = {stage: "2026-12-03T18:00:00+00:00" for stage in ("up", "run", "aggregate", "report")}
    state = {"stack": "dev", "campaign": str(world.campaign.resolve()), "done": done}
    (world.study / "study.json").write_text(json.dumps(state))
    calls_before = len(world.calls())
    kept = world.invoke(*world.study_args("--keep"))
    assert kept.exit_code == 0, kept.output
    assert "--keep: stack dev keeps running (and costing) until destroyed" in kept.output
    assert world.calls()[calls_before:] == []
    destroyed = world.invoke(*world.study_args())
    assert destroyed.exit_code == 0, destroyed.output
    assert world.commands()[calls_before:] == [
        "version", "stack select", "destroy", "stack history",
    ]  # fmt: skip
    assert "stack dev destroyed" in destroyed.output
    assert "destroy" in world.state()["done"]
