"""Cloud-init documents rendered from validated values (pure functions, validated in tests)."""

from __future__ import annotations

import yaml

#: sshd settings for every machine; on the bastion they also carry every remote step's proxied
#: connection, and Pulumi runs many of those at once: sshd's default MaxStartups (10:30:100)
#: would drop some of them at random.
SSHD_HARDENING = """\
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
"""

BASTION_SSHD = (
    SSHD_HARDENING
    + """\
AllowTcpForwarding yes
MaxStartups 200:30:400
MaxSessions 100
"""
)


class _BlockStyleDumper(yaml.SafeDumper):
    """Multi-line strings (file contents, scripts) as `|` blocks, readable in reviews."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockStyleDumper.add_representer(str, _represent_str)


def render_cloud_config(document: dict[str, object]) -> str:
    """Serialise a cloud-config dict with the mandatory `#cloud-config` header."""
    body = yaml.dump(document, Dumper=_BlockStyleDumper, sort_keys=False, width=1000)
    return "#cloud-config\n" + body


def bastion_cloud_config() -> str:
    """The bastion: time sync, no passwords, and an sshd that proxies many connections."""
    return render_cloud_config(
        {
            "package_update": True,
            "packages": ["chrony"],
            "ssh_pwauth": False,
            "disable_root": True,
            "write_files": [
                {
                    "path": "/etc/ssh/sshd_config.d/60-faasbench.conf",
                    "owner": "root:root",
                    "permissions": "0644",
                    "content": BASTION_SSHD,
                }
            ],
            "runcmd": [
                ["systemctl", "try-reload-or-restart", "ssh.service"],
                ["systemctl", "enable", "--now", "chrony.service"],
            ],
        }
    )
