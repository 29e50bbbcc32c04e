"""The user's own SSH key pair: the private key comes from secret config, the public key is derived.

Deriving (instead of asking for both) means the two can never disagree, and the key is checked
at preview time instead of failing on the first SSH connection minutes into `pulumi up`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class ParsedPrivateKey:
    algorithm: str
    public_key_openssh: str


def parse_private_key(text: str) -> ParsedPrivateKey:
    """Parse an OpenSSH or PEM private key; raise ValueError with a readable reason."""
    data = text.strip().encode() + b"\n"
    try:
        if b"BEGIN OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ValueError(
            "sshPrivateKey is passphrase-protected; remote steps cannot type a passphrase: "
            "store an unencrypted copy as secret config (pulumi encrypts it)"
        ) from None
    except UnsupportedAlgorithm as err:
        raise ValueError(f"sshPrivateKey uses an unsupported algorithm ({err})") from None
    except (ValueError, IndexError):
        raise ValueError(
            "sshPrivateKey is not a private key in OpenSSH or PEM format "
            "(expected a '-----BEGIN ... PRIVATE KEY-----' block)"
        ) from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm = "ed25519"
    elif isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(
                f"sshPrivateKey is a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits"
            )
        algorithm = f"rsa-{key.key_size}"
    else:
        raise ValueError(
            f"sshPrivateKey is a {type(key).__name__.removeprefix('_')} key; "
            "AWS and OpenStack key pairs take ed25519 or RSA keys"
        )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return ParsedPrivateKey(algorithm=algorithm, public_key_openssh=public.decode())
