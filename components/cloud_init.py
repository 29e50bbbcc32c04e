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


#: Written last by every machine's cloud-init; remote steps wait for it (see scripts/lib.sh).
CLOUD_INIT_SENTINEL = "/var/lib/faasbench/cloud-init.done"

#: Kernel settings container networking needs (bridge traffic through iptables, forwarding).
CONTAINER_SYSCTLS = """\
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.bridge.bridge-nf-call-arptables = 1
net.ipv4.ip_forward = 1
"""
CONTAINER_MODULES = "overlay\nbr_netfilter\n"


def node_cloud_config(hostname: str, *, containers: bool) -> str:
    """A private machine: its hostname (cluster node names), time sync, hardened sshd, and
    with `containers` the modules and sysctls Docker, k3s and Nomad's bridge mode need.

    Kept small on purpose (AWS caps user data at 16 KB): software is installed by remote
    steps, which can be ordered across machines and re-run.
    """
    files: list[dict[str, str]] = [
        {
            "path": "/etc/ssh/sshd_config.d/60-faasbench.conf",
            "owner": "root:root",
            "permissions": "0644",
            "content": SSHD_HARDENING,
        }
    ]
    commands: list[list[str]] = [
        ["systemctl", "try-reload-or-restart", "ssh.service"],
        ["systemctl", "enable", "--now", "chrony.service"],
    ]
    if containers:
        files += [
            {
                "path": "/etc/modules-load.d/faasbench.conf",
                "owner": "root:root",
                "permissions": "0644",
                "content": CONTAINER_MODULES,
            },
            {
                "path": "/etc/sysctl.d/90-faasbench.conf",
                "owner": "root:root",
                "permissions": "0644",
                "content": CONTAINER_SYSCTLS,
            },
        ]
        commands += [
            ["modprobe", "overlay"],
            ["modprobe", "br_netfilter"],
            ["sysctl", "--system"],
        ]
    commands += [
        ["install", "-d", "-m", "0755", "/var/lib/faasbench"],
        ["touch", CLOUD_INIT_SENTINEL],
    ]
    return render_cloud_config(
        {
            "hostname": hostname,
            "fqdn": hostname,
            "prefer_fqdn_over_hostname": False,
            "manage_etc_hosts": True,
            "package_update": True,
            "packages": ["chrony", "curl", "gnupg", "ca-certificates", "jq"],
            "ssh_pwauth": False,
            "disable_root": True,
            "write_files": files,
            "runcmd": commands,
        }
    )


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
                ["install", "-d", "-m", "0755", "/var/lib/faasbench"],
                ["touch", CLOUD_INIT_SENTINEL],
            ],
        }
    )
