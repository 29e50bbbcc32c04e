"""The pieces of `faasbench` that need no CLI: the backend default, the expiry rule, the cost
guard, the credentials a preview needs, the state file and the CLI's error lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from contract.expiry import expiry_after, format_expiry, parse_expiry, read_expiry_keys
from faasbench.cli import credentials_missing, guard_refusal
from faasbench.pulumi_stack import LOCAL_BACKEND, _last_error, backend_env
from faasbench.state import StateError, StudyState, load_state, save_state
from faasbench.study import wanted_expiry

NOW = datetime(2026, 12, 3, 18, 0, 0, tzinfo=UTC)


def test_the_backend_is_local_unless_named() -> None:
    assert backend_env(None, {}) == {"PULUMI_BACKEND_URL": LOCAL_BACKEND}
    assert backend_env(None, {"PULUMI_BACKEND_URL": "s3://bucket"}) == {}
    assert backend_env("https://api.pulumi.com", {"PULUMI_BACKEND_URL": "s3://b"}) == {
        "PULUMI_BACKEND_URL": "https://api.pulumi.com"
    }


def test_expiry_is_renewed_only_once_it_has_passed() -> None:
    assert wanted_expiry(None, 24, NOW) == "2026-12-04T18:00:00Z"
    assert wanted_expiry("2026-12-03T19:00:00Z", 24, NOW) is None  # still ahead: kept
    assert wanted_expiry("2026-12-03T17:59:59Z", 2, NOW) == "2026-12-03T20:00:00Z"
    assert parse_expiry(expiry_after(NOW, 1.5)) == datetime(2026, 12, 3, 19, 30, tzinfo=UTC)
    assert format_expiry(NOW) == "2026-12-03T18:00:00Z"
    with pytest.raises(ValueError, match="ISO-8601 UTC"):
        parse_expiry("2026-12-03 18:00")


def test_expiry_keys_of_a_stack_file() -> None:
    assert read_expiry_keys({}, "f") == (24, None)
    assert read_expiry_keys({"faasbench:ttlHours": "6"}, "f") == (6, None)
    with pytest.raises(ValueError, match=r"f: faasbench:ttlHours: .* got 'lots'"):
        read_expiry_keys({"faasbench:ttlHours": "lots"}, "f")
    with pytest.raises(ValueError, match="f: faasbench:expiresAt: expected an ISO-8601"):
        read_expiry_keys({"faasbench:expiresAt": "soon"}, "f")


def test_the_cost_guard() -> None:
    assert guard_refusal(4.0, (), 10.0) is None
    refusal = guard_refusal(12.5, (), 10.0)
    assert refusal is not None
    assert "$12.50 is above --budget $10.00" in refusal
    unknown = guard_refusal(None, ("m1.large",), 10.0)
    assert unknown is not None
    assert "no price for m1.large" in unknown


def test_credentials_a_preview_needs(tmp_path: Path) -> None:
    assert credentials_missing("aws", {}, {}, tmp_path) is not None
    assert credentials_missing("aws", {}, {"AWS_PROFILE": "lab"}, tmp_path) is None
    assert credentials_missing("aws", {"aws:profile": "lab"}, {}, tmp_path) is None
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\n")
    assert credentials_missing("aws", {}, {}, tmp_path) is None
    assert credentials_missing("openstack", {}, {}, tmp_path) is not None
    assert credentials_missing("openstack", {}, {"OS_CLOUD": "lab"}, tmp_path) is None
    assert credentials_missing("existing", {}, {}, tmp_path) is None


def test_the_state_file_round_trips_and_refuses_garbage(tmp_path: Path) -> None:
    campaign = tmp_path / "c.yaml"
    state = load_state(tmp_path / "s", "dev", campaign)
    assert state == StudyState(stack="dev", campaign=str(campaign.resolve()))
    state.begin("up")
    state.finish("up")
    save_state(tmp_path / "s", state)
    again = load_state(tmp_path / "s", "dev", campaign)
    assert again.is_done("up")
    assert again.started == ["up"]
    (tmp_path / "s" / "study.json").write_text('{"stack": "dev", "campaign": "x", "done": 3}')
    with pytest.raises(StateError, match=r"study.json: done: "):
        load_state(tmp_path / "s", "dev", campaign)
    (tmp_path / "s" / "study.json").write_text("{")
    with pytest.raises(StateError):
        load_state(tmp_path / "s", "dev", campaign)


def test_the_clis_error_line_is_what_a_failure_shows() -> None:
    text = "\n code: 255\n stdout: Updating (dev)\n stderr: warning: x\nerror: update failed"
    assert _last_error(RuntimeError(text)) == "error: update failed"
    assert _last_error(RuntimeError("\n code: 1\n stdout: \n stderr: boom")) == "stderr: boom"
