"""The loader pool's throwaway TLS: a certificate authority whose key lives only in memory, a
certificate for every loader (its address as subject alternative name) and one for the driver,
and the `Security` a `distributed.Client` of the pool uses."""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from distributed.security import Security

#: The certificates' lifetime: longer than any campaign, short enough to be throwaway.
CERTIFICATE_DAYS = 30


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, PEM."""

    cert_pem: bytes
    key_pem: bytes


@dataclass(frozen=True)
class PoolCertificates:
    """The run's CA certificate (its key is never stored), one certificate per loader (in the
    order of the outputs' hosts) and the driver's, whose files are in `directory`."""

    ca_pem: bytes
    loaders: list[Issued]
    directory: Path

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def driver_cert(self) -> Path:
        return self.directory / "driver.pem"

    @property
    def driver_key(self) -> Path:
        return self.directory / "driver-key.pem"

    def security(self) -> Security:
        """What a `distributed.Client` of this pool uses: TLS only, with the driver's
        certificate (the scheduler refuses connections without one of this CA)."""
        return Security(
            tls_ca_file=str(self.ca_file),
            tls_client_cert=str(self.driver_cert),
            tls_client_key=str(self.driver_key),
            require_encryption=True,
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "faasbench loader pool"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _alternative_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _issue(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name,
    common_name: str,
    hosts: Sequence[str],
    now: datetime.datetime,
    days: int,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        # Every Dask node is a server and a client (workers dial each other and the scheduler).
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(_alternative_names(hosts)), critical=False
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """`data` in a new file created with `mode` (never readable by others, not even briefly)."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def make_certificates(
    hosts: Sequence[str], directory: Path, *, days: int = CERTIFICATE_DAYS
) -> PoolCertificates:
    """A throwaway CA (its key only in memory, gone when this returns), a certificate for each
    loader host (its address as subject alternative name) and one for the driver, written to
    `directory` (0700): `ca.pem` and `driver.pem` 0644, `driver-key.pem` 0600."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"faasbench loader pool CA {secrets.token_hex(4)}")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    loaders = [
        _issue(ca_key, ca_name, f"loader-{index}", [host], now, days)
        for index, host in enumerate(hosts)
    ]
    driver = _issue(ca_key, ca_name, "driver", [], now, days)
    certificates = PoolCertificates(ca_pem, loaders, directory)
    _write_private(certificates.ca_file, ca_pem, 0o644)
    _write_private(certificates.driver_cert, driver.cert_pem, 0o644)
    _write_private(certificates.driver_key, driver.key_pem, 0o600)
    return certificates
