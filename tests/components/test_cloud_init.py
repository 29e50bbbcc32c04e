"""Cloud-init documents: valid for cloud-init itself, and reviewed as golden files."""

from __future__ import annotations

import pytest
import yaml
from support.snapshots import assert_snapshot
from support.validators import cloud_init_schema

from components.cloud_init import bastion_cloud_config, render_cloud_config


def test_bastion_cloud_config_is_valid() -> None:
    cloud_init_schema(bastion_cloud_config())


def test_bastion_cloud_config_snapshot() -> None:
    assert_snapshot("bastion.cloud-config.yaml", bastion_cloud_config())


def test_bastion_allows_many_proxied_connections_and_no_passwords() -> None:
    document = yaml.safe_load(bastion_cloud_config())
    assert document["ssh_pwauth"] is False
    [sshd] = [f for f in document["write_files"] if f["path"].startswith("/etc/ssh/")]
    settings = dict(line.split(" ", 1) for line in sshd["content"].splitlines())
    assert settings["PasswordAuthentication"] == "no"
    assert settings["AllowTcpForwarding"] == "yes"
    assert int(settings["MaxStartups"].split(":")[0]) >= 100


def test_the_validator_rejects_a_broken_document() -> None:
    broken = render_cloud_config({"packages": "chrony", "runcmd": {"not": "a list"}})
    with pytest.raises(AssertionError, match="runcmd"):
        cloud_init_schema(broken)
