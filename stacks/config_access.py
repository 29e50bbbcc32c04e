"""The access section of the stack configuration: who may reach the bastion's SSH and the
Kubernetes API it forwards, how wide those ranges may be, and with which key."""

from __future__ import annotations

import ipaddress
from functools import cached_property

from pydantic import Field, SecretStr, field_validator, model_validator

from contract.ssh_keys import ParsedPrivateKey, parse_private_key
from stacks.config_fields import Cidr, Section

#: Most SSH ranges: one security-group rule each, and AWS allows 60 per group by default.
MAX_SSH_CIDRS = 50
#: The widest union of SSH ranges taken without allowPublicSsh: a /8 of IPv4, a /32 of IPv6.
MAX_SSH_ADDRESSES = {4: 2**24, 6: 2**96}


def _too_wide(cidrs: list[str] | None) -> str | None:
    """Why `cidrs` open too much of the internet (a /0, or ranges that together cover more
    than MAX_SSH_ADDRESSES, such as 0.0.0.0/1 + 128.0.0.0/1), or None."""
    for cidr in cidrs or ():
        if ipaddress.ip_network(cidr).prefixlen == 0:
            return f"contains {cidr}, the whole internet"
    networks = [ipaddress.ip_network(cidr) for cidr in cidrs or ()]
    for version, limit in MAX_SSH_ADDRESSES.items():
        same = [network for network in networks if network.version == version]
        covered = sum(n.num_addresses for n in ipaddress.collapse_addresses(same))  # type: ignore[type-var]
        bits = 32 if version == 4 else 128
        if covered > limit:
            share = "the whole internet" if covered == 2**bits else f"{covered / 2**bits:.2%}"
            return (
                f"together cover {covered:,} IPv{version} addresses ({share}), more than a "
                f"/{bits - limit.bit_length() + 1}"
            )
    return None


class AccessConfig(Section):
    """Who may reach the bastion (SSH) and the Kubernetes API it forwards, and with which key."""

    allowed_ssh_cidrs: list[Cidr] | None = Field(
        None, alias="allowedSshCidrs", min_length=1, max_length=MAX_SSH_CIDRS
    )
    allow_public_ssh: bool = Field(False, alias="allowPublicSsh")
    kube_api_cidrs: list[Cidr] | None = Field(
        None,
        alias="kubeApiCidrs",
        min_length=1,
        description="who may reach the Kubernetes API on the bastion; default: allowedSshCidrs",
    )
    allow_public_kube_api: bool = Field(False, alias="allowPublicKubeApi")
    ssh_user: str = Field("ubuntu", alias="sshUser", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    ssh_private_key: SecretStr | None = Field(None, alias="sshPrivateKey")

    @field_validator("ssh_private_key")
    @classmethod
    def _key_parses(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_private_key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _no_world_open_ssh(self) -> AccessConfig:
        if self.allow_public_ssh:
            return self
        problem = _too_wide(self.allowed_ssh_cidrs)
        if problem is not None:
            raise ValueError(
                f"allowedSshCidrs {problem}, which opens SSH to too much of the internet; "
                "list your own address ranges, or set allowPublicSsh: true to accept that"
            )
        return self

    @property
    def kube_api_sources(self) -> list[str]:
        """Who may reach the Kubernetes API forwarded on the bastion: `kubeApiCidrs`, else the
        SSH ranges."""
        return list(self.kube_api_cidrs or self.allowed_ssh_cidrs or [])

    def kube_api_problem(self) -> str | None:
        """Why the Kubernetes API's sources are refused (a world-open range without its own
        opt-in, even when allowPublicSsh accepted one for SSH), or None."""
        if self.allow_public_kube_api:
            return None
        problem = _too_wide(self.kube_api_sources)
        if problem is None:
            return None
        key = "kubeApiCidrs" if self.kube_api_cidrs else "kubeApiCidrs (default: allowedSshCidrs)"
        return (
            f"{key} {problem}, which opens the Kubernetes API (port 6443 on the bastion) to "
            "too much of the internet; set kubeApiCidrs to your own address ranges, or set "
            "allowPublicKubeApi: true to accept that"
        )

    @cached_property
    def ssh_key(self) -> ParsedPrivateKey | None:
        """The user's key pair, or None when the stack generates one."""
        if self.ssh_private_key is None:
            return None
        return parse_private_key(self.ssh_private_key.get_secret_value())
