"""How remote steps reach machines: SSH to the bastion, and through it to private machines.

The private key never lands on the bastion: the bastion is only a TCP proxy
(`pulumi_command.remote.ProxyConnectionArgs`), so a compromised bastion does not hand out the
key to every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_command import remote

#: Fresh machines take a minute or two before sshd answers; these bound each attempt and the
#: number of attempts so that neither `up` on a booting VM nor `destroy` on a gone one hangs.
DIAL_ERROR_LIMIT = 20
PER_DIAL_TIMEOUT_S = 15


@dataclass(frozen=True)
class SshAccess:
    """The SSH identity of a stack and the bastion's public address."""

    user: str
    private_key: pulumi.Output[str]
    bastion_host: pulumi.Output[str]

    def bastion(self) -> remote.ConnectionArgs:
        """A connection to the bastion itself."""
        return remote.ConnectionArgs(
            host=self.bastion_host,
            user=self.user,
            private_key=self.private_key,
            dial_error_limit=DIAL_ERROR_LIMIT,
            per_dial_timeout=PER_DIAL_TIMEOUT_S,
        )

    def via_bastion(self, host: pulumi.Input[str]) -> remote.ConnectionArgs:
        """A connection to a private machine, proxied through the bastion."""
        return remote.ConnectionArgs(
            host=host,
            user=self.user,
            private_key=self.private_key,
            dial_error_limit=DIAL_ERROR_LIMIT,
            per_dial_timeout=PER_DIAL_TIMEOUT_S,
            proxy=remote.ProxyConnectionArgs(
                host=self.bastion_host,
                user=self.user,
                private_key=self.private_key,
                dial_error_limit=DIAL_ERROR_LIMIT,
                per_dial_timeout=PER_DIAL_TIMEOUT_S,
            ),
        )
