"""Cloud-init documents rendered from validated values (pure functions, validated in tests).

Cloud-init itself only writes files and sets the hostname; everything that can fail (packages,
services, kernel modules, sysctls) is one setup script (`scripts/machine-setup.sh`) written by
`write_files` and run as the only `runcmd`, in bash strict mode with named steps. It writes the
"done" sentinel only when every step succeeded, and otherwise a failure marker naming the step;
the remote steps' `wait_for_cloud_init` (scripts/lib.sh) reports either.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

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


#: Written last by every machine's setup script, only when it succeeded; remote steps wait for
#: it (see scripts/lib.sh).
CLOUD_INIT_SENTINEL = "/var/lib/faasbench/cloud-init.done"
#: Written instead when a setup step failed: `step=<name>`, `exit=<status>`, `log=<path>`.
CLOUD_INIT_FAILED = "/var/lib/faasbench/cloud-init.failed"
SETUP_LOG = "/var/log/faasbench-setup.log"
SETUP_SCRIPT = "/usr/local/sbin/faasbench-setup"
SETUP_SOURCE = Path(__file__).parent / "scripts" / "machine-setup.sh"
#: What every private machine installs at first boot (the remote steps need curl, gpg, jq).
NODE_PACKAGES = ("chrony", "curl", "gnupg", "ca-certificates", "jq")
BASTION_PACKAGES = ("chrony",)
#: A loader of the loader pool: a node's packages and Python 3 with venv, which `loadgen
#: --loaders stack` installs the faasbench wheel into (Ubuntu 24.04: Python 3.12).
LOADER_PACKAGES = (*NODE_PACKAGES, "python3", "python3-venv")

#: Kernel settings container networking needs (bridge traffic through iptables, forwarding).
CONTAINER_SYSCTLS = """\
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.bridge.bridge-nf-call-arptables = 1
net.ipv4.ip_forward = 1
"""
CONTAINER_MODULES = "overlay\nbr_netfilter\n"


def render_setup_script(packages: Sequence[str], *, container_kernel: bool) -> str:
    """The setup script: its parameters, then `scripts/machine-setup.sh` (shebang first)."""
    shebang, body = SETUP_SOURCE.read_text().split("\n", 1)
    header = [
        shebang,
        f"PACKAGES={shlex.quote(' '.join(packages))}",
        f"CONTAINER_KERNEL={'true' if container_kernel else 'false'}",
    ]
    return "\n".join(header) + "\n" + body


def _setup_file(packages: Sequence[str], *, container_kernel: bool) -> dict[str, str]:
    return {
        "path": SETUP_SCRIPT,
        "owner": "root:root",
        "permissions": "0755",
        "content": render_setup_script(packages, container_kernel=container_kernel),
    }


def node_cloud_config(
    hostname: str, *, containers: bool, packages: Sequence[str] = NODE_PACKAGES
) -> str:
    """A private machine: its hostname (cluster node names), time sync, hardened sshd, and
    with `containers` the modules and sysctls Docker, k3s and Nomad's bridge mode need.

    Kept small on purpose (AWS caps user data at 16 KB): software is installed by remote
    steps, which can be ordered across machines and re-run. What runs at boot is the setup
    script (`render_setup_script`), not cloud-init's own `packages`/`runcmd` lists, whose
    failures cloud-init would log and carry on past.
    """
    files: list[dict[str, str]] = [
        {
            "path": "/etc/ssh/sshd_config.d/60-faasbench.conf",
            "owner": "root:root",
            "permissions": "0644",
            "content": SSHD_HARDENING,
        }
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
    files.append(_setup_file(packages, container_kernel=containers))
    return render_cloud_config(
        {
            "hostname": hostname,
            "fqdn": hostname,
            "prefer_fqdn_over_hostname": False,
            "manage_etc_hosts": True,
            "ssh_pwauth": False,
            "disable_root": True,
            "write_files": files,
            "runcmd": [[SETUP_SCRIPT]],
        }
    )


def loader_cloud_config(hostname: str) -> str:
    """A loader of the loader pool: a private machine without container networking, whose
    setup also installs Python 3 and venv (chrony, as on every machine, keeps its clock close
    to the others': the loaders share one start instant)."""
    return node_cloud_config(hostname, containers=False, packages=LOADER_PACKAGES)


def bastion_cloud_config() -> str:
    """The bastion: time sync, no passwords, and an sshd that proxies many connections."""
    return render_cloud_config(
        {
            "ssh_pwauth": False,
            "disable_root": True,
            "write_files": [
                {
                    "path": "/etc/ssh/sshd_config.d/60-faasbench.conf",
                    "owner": "root:root",
                    "permissions": "0644",
                    "content": BASTION_SSHD,
                },
                _setup_file(BASTION_PACKAGES, container_kernel=False),
            ],
            "runcmd": [[SETUP_SCRIPT]],
        }
    )
