"""The loader pool's parts without a network: the throwaway certificates (a chain that
verifies, keys that only their owner reads, the CA's key never stored), the dask and ssh
command lines it builds, and the errors of a stack without a pool."""

from __future__ import annotations

import ipaddress
import ssl
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from contract.outputs import PortRange, StackOutputs
from loadgen.loaders import stack_scripts
from loadgen.loaders.stack import PoolOptions, stack_pool
from loadgen.loaders.stack_dask import scheduler_args, worker_args
from loadgen.loaders.stack_ssh import LoaderPoolError, forward_argv
from loadgen.loaders.stack_tls import make_certificates
from loadgen.remote.ssh import SshTarget

HOSTS = ["10.0.2.5", "10.0.2.6", "loader.example"]


def test_certificates_chain_to_a_throwaway_ca_and_name_their_hosts(tmp_path: Path) -> None:
    certificates = make_certificates(HOSTS, tmp_path / "tls")
    ca = x509.load_pem_x509_certificate(certificates.ca_pem)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert len(certificates.loaders) == 3
    for host, issued in zip(HOSTS, certificates.loaders, strict=True):
        cert = x509.load_pem_x509_certificate(issued.cert_pem)
        cert.verify_directly_issued_by(ca)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if host[0].isdigit():
            assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address(host)]
        else:
            assert names.get_values_for_type(x509.DNSName) == [host]
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(usages)
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert b"PRIVATE KEY" in issued.key_pem
    driver = x509.load_pem_x509_certificate(certificates.driver_cert.read_bytes())
    driver.verify_directly_issued_by(ca)
    # Each run has its own CA: another pool's certificates are not this one's.
    other = make_certificates(HOSTS, tmp_path / "other")
    with pytest.raises((ValueError, TypeError)):
        driver.verify_directly_issued_by(x509.load_pem_x509_certificate(other.ca_pem))


def test_only_the_driver_key_is_stored_and_only_its_owner_reads_it(tmp_path: Path) -> None:
    directory = tmp_path / "tls"
    certificates = make_certificates(HOSTS[:1], directory)
    assert sorted(p.name for p in directory.iterdir()) == ["ca.pem", "driver-key.pem", "driver.pem"]
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(certificates.driver_key.stat().st_mode) == 0o600
    for path in directory.iterdir():
        assert b"PRIVATE KEY" not in path.read_bytes() or path == certificates.driver_key
    # A second pool in the same folder replaces the files (a fresh CA each time).
    again = make_certificates(HOSTS[:1], directory)
    assert again.ca_pem != certificates.ca_pem
    assert stat.S_IMODE(again.driver_key.stat().st_mode) == 0o600


def test_the_security_is_tls_only_and_loads_into_a_verifying_context(tmp_path: Path) -> None:
    certificates = make_certificates(HOSTS, tmp_path / "tls")
    security = certificates.security()
    assert security.require_encryption is True
    context = security.get_connection_args("client")["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    key = x509.load_pem_x509_certificate(certificates.driver_cert.read_bytes()).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)


def test_the_scheduler_listens_with_tls_on_the_first_loader_without_dashboard() -> None:
    args = scheduler_args("10.0.2.5", 8786)
    assert args[args.index("--protocol") + 1] == "tls"
    assert args[args.index("--host") + 1] == "10.0.2.5"
    assert args[args.index("--port") + 1] == "8786"
    for flag, value in (("--tls-ca-file", "ca.pem"), ("--tls-cert", "cert.pem"),
                        ("--tls-key", "key.pem")):  # fmt: skip
        assert args[args.index(flag) + 1] == value
    assert "--no-dashboard" in args


def test_a_worker_is_one_process_one_thread_without_nanny_in_the_pool_range() -> None:
    args = worker_args("tls://10.0.2.5:8786", "10.0.2.6", PortRange(first=8788, last=8795), "l-1")
    assert args[0] == "tls://10.0.2.5:8786"
    pairs = {args[i]: args[i + 1] for i in range(1, len(args) - 1) if args[i].startswith("--")}
    assert pairs["--nworkers"] == "1"
    assert pairs["--nthreads"] == "1"
    assert pairs["--worker-port"] == "8788:8795"
    assert pairs["--host"] == "10.0.2.6"
    assert pairs["--protocol"] == "tls"
    assert pairs["--name"] == "l-1"
    assert (pairs["--tls-ca-file"], pairs["--tls-cert"], pairs["--tls-key"]) == (
        "ca.pem", "cert.pem", "key.pem",
    )  # fmt: skip
    assert int(pairs["--death-timeout"]) > 0
    assert "--no-nanny" in args
    assert "--no-dashboard" in args


def target(tmp_path: Path, host: str, proxy: SshTarget | None = None) -> SshTarget:
    return SshTarget(host, "ubuntu", 22, tmp_path / "k%y", tmp_path / "known", proxy)


def test_loaders_are_reached_through_the_bastion_and_the_forward_goes_there(
    tmp_path: Path,
) -> None:
    bastion = target(tmp_path, "198.51.100.7")
    loader = target(tmp_path, "10.0.2.5", bastion)
    options = loader.options()
    [proxy] = [o.removeprefix("ProxyCommand=") for o in options if o.startswith("ProxyCommand=")]
    # ssh expands % tokens in ProxyCommand: the key's % is doubled, %h:%p stays.
    assert proxy.startswith("ssh ")
    assert proxy.endswith("-W %h:%p ubuntu@198.51.100.7")
    assert "k%%y" in proxy
    assert not [o for o in bastion.options() if o.startswith("ProxyCommand=")]
    argv = forward_argv(bastion, 40000, "10.0.2.5", 8786)
    assert argv[argv.index("-L") + 1] == "127.0.0.1:40000:10.0.2.5:8786"
    assert argv[-1] == "ubuntu@198.51.100.7"
    assert "ExitOnForwardFailure=yes" in argv
    assert "-N" in argv


BASE = {"cloud": "aws", "orchestrator": "k8s", "framework": "openfaas"}


def test_a_stack_without_a_pool_is_a_clear_error(tmp_path: Path) -> None:
    outputs = StackOutputs.model_validate({**BASE, "ssh_private_key": "k"})
    with (
        pytest.raises(LoaderPoolError, match=r"no loader pool .* loaderCount"),
        stack_pool(outputs, tmp_path),
    ):
        pytest.fail("no pool")
    loaders = {
        "hosts": [{"host": "10.0.2.5", "user": "ubuntu"}],
        "scheduler": "tls://10.0.2.5:8786",
        "worker_ports": {"first": 8788, "last": 8795},
    }
    keyless = StackOutputs.model_validate({**BASE, "loaders": loaders})
    with pytest.raises(LoaderPoolError, match="ssh_private_key"), stack_pool(keyless, tmp_path):
        pytest.fail("no key")
    no_bastion = StackOutputs.model_validate({**BASE, "loaders": loaders, "ssh_private_key": "k"})
    with (
        pytest.raises(LoaderPoolError, match="needs a bastion"),
        stack_pool(no_bastion, tmp_path, options=PoolOptions(reach="forward")),
    ):
        pytest.fail("no bastion")
    assert not (tmp_path / "tls").exists(), "nothing made before the checks pass"


@pytest.mark.parametrize(
    "name", ["PROBE", "CLEAR_STALE", "UNPACK", "START", "WAIT_FOR_LOG", "TAIL", "STOP", "REMOVE"]
)
def test_every_loader_script_passes_shellcheck_as_posix_sh(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.sh"
    path.write_text(getattr(stack_scripts, name))
    # SC2088: the shared prelude matches a literal "~" (the remote directory as given) on
    # purpose, to expand it itself.
    result = subprocess.run(
        ["shellcheck", "--shell=sh", "--exclude=SC2088", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
