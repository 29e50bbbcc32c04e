"""The stack's SSH key pair: generated with pulumi-tls, or the user's own from secret config."""

from __future__ import annotations

import pulumi
import pulumi_tls as tls
from pydantic import SecretStr

from contract.ssh_keys import parse_private_key


class SshKeyPair(pulumi.ComponentResource):
    """`private_key` is always a secret Output; `public_key_openssh` goes into key pairs."""

    private_key: pulumi.Output[str]
    public_key_openssh: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        user_key: SecretStr | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("faasbench:access:SshKeyPair", name, None, opts)
        if user_key is None:
            generated = tls.PrivateKey(
                f"{name}-generated",
                algorithm="ED25519",
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.private_key = pulumi.Output.secret(generated.private_key_openssh)
            self.public_key_openssh = generated.public_key_openssh.apply(str.strip)
        else:
            text = user_key.get_secret_value()
            self.private_key = pulumi.Output.secret(text)
            self.public_key_openssh = pulumi.Output.from_input(
                parse_private_key(text).public_key_openssh
            )
        self.register_outputs(
            {"private_key": self.private_key, "public_key_openssh": self.public_key_openssh}
        )
