"""`--loaders stack`: Dask distributed on the stack's loader pool, for the length of a `with`.

`stack_pool(outputs, work_dir)` makes a throwaway certificate authority and a certificate for
every loader and for this driver (keys 0600 in `work_dir/tls`), installs the wheel of this
faasbench tree on every loader over SSH through the bastion (the venv `run --remote` uses,
keyed by the code's content hash), starts `dask scheduler` on the first loader and one `dask
worker` (one process, one thread, no nanny: the worker starts loader processes itself) on each,
TLS required everywhere, and yields the scheduler's address and the `Security` a
`distributed.Client` needs. The driver reaches the scheduler directly when it can (on the
bastion or a loader), else through an SSH port forward by the bastion. On the way out (also on
Ctrl-C and errors) it stops the workers and the scheduler, keeps their logs in
`work_dir/logs`, removes the certificates and keys from the loaders and the keys from here.

Progress goes to `echo` (stderr by default). Everything here is synchronous.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import ipaddress
import os
import secrets
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from distributed.security import Security

from contract.outputs import Loaders, PortRange, SshHost, StackOutputs
from loadgen.loaders.stack_scripts import (
    CLEAR_STALE,
    PROBE,
    REMOVE,
    START,
    STOP,
    TAIL,
    UNPACK,
    WAIT_FOR_LOG,
)
from loadgen.remote.scripts import INSTALL
from loadgen.remote.ssh import (
    NO_PYTHON,
    SSH_FAILED,
    RemoteError,
    SshTarget,
    describe_ssh_failure,
    private_key_file,
)
from loadgen.remote.wheel import Wheel, build_wheel, bundled_pip, project_root

Echo = Callable[[str], None]
Reach = Literal["auto", "direct", "forward"]
T = TypeVar("T")

#: What the scheduler logs once it listens.
SCHEDULER_READY = "Scheduler at:"
#: A worker that loses its scheduler for this long exits (a pool whose driver vanished ends).
WORKER_DEATH_TIMEOUT_S = 60
#: The certificates' lifetime: longer than any campaign, short enough to be throwaway.
CERTIFICATE_DAYS = 30
#: How many loaders are prepared, started and stopped at once.
PARALLEL = 16


class LoaderPoolError(RemoteError):
    """The loader pool could not be started; the message names the loader and never holds a
    secret."""


@dataclass(frozen=True)
class PoolOptions:
    """How to reach the loaders and where faasbench lives on them.

    `reach`: `direct` connects to the scheduler's private address (the driver runs on the
    bastion or a loader), `forward` through an SSH port forward by the bastion, `auto` tries
    direct first. `wheelhouse`: dependencies for loaders without internet access.
    """

    ssh_port: int = 22
    remote_dir: str = "~/faasbench"
    wheelhouse: Path | None = None
    reach: Reach = "auto"
    start_timeout_s: float = 120.0


def _stderr(line: str) -> None:
    print(f"loaders: {line}", file=sys.stderr, flush=True)


# --- certificates ------------------------------------------------------------------------------


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


# --- command lines -----------------------------------------------------------------------------

#: The files each loader's slot holds, as the dask commands name them (relative to the slot).
TLS_ARGS = ["--tls-ca-file", "ca.pem", "--tls-cert", "cert.pem", "--tls-key", "key.pem"]


def scheduler_args(host: str, port: int) -> list[str]:
    """`dask scheduler`'s arguments: TLS on `host:port` (the first loader), no dashboard."""
    return [
        "--protocol", "tls", "--host", host, "--port", str(port), *TLS_ARGS, "--no-dashboard",
    ]  # fmt: skip


def worker_args(scheduler: str, host: str, ports: PortRange, name: str) -> list[str]:
    """`dask worker`'s arguments: one process with one thread and no nanny (the worker starts
    loader processes with subprocess; a nanny's daemonic worker could not), TLS on `host` in
    the pool's port range, gone when its scheduler is gone for `WORKER_DEATH_TIMEOUT_S`."""
    return [
        scheduler, "--name", name, "--protocol", "tls", "--host", host,
        "--worker-port", ports.dask(), *TLS_ARGS, "--nworkers", "1", "--nthreads", "1",
        "--no-nanny", "--no-dashboard", "--local-directory", "work",
        "--death-timeout", str(WORKER_DEATH_TIMEOUT_S),
    ]  # fmt: skip


def forward_argv(bastion: SshTarget, local_port: int, host: str, port: int) -> list[str]:
    """ssh forwarding 127.0.0.1:`local_port` here to `host:port` as the bastion sees it."""
    return [
        "ssh", *bastion.options(), "-N", "-o", "ExitOnForwardFailure=yes",
        "-L", f"127.0.0.1:{local_port}:{host}:{port}", f"{bastion.user}@{bastion.host}",
    ]  # fmt: skip


# --- the pool ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One loader of the pool: its index, address and how ssh reaches it."""

    index: int
    target: SshTarget

    @property
    def name(self) -> str:
        return f"loader-{self.index}"

    @property
    def host(self) -> str:
        return self.target.host


@dataclass
class _Pool:
    loaders: Loaders
    slots: list[Slot]
    session: str
    directory: str
    wheel: Wheel
    work_dir: Path
    echo: Echo
    started: list[tuple[Slot, str]]


def _call(
    target: SshTarget,
    script: str,
    *args: str,
    stdin: IO[bytes] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[bytes]:
    """ssh running `script` in a session of its own, so that a terminal's Ctrl-C reaches only
    this process, which then stops the pool in order; ssh's failures raise `LoaderPoolError`."""
    try:
        result = subprocess.run(
            target.argv(script, *args),
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        raise LoaderPoolError(f"{target.name}: no answer in {timeout:.0f} s") from None
    if result.returncode == SSH_FAILED:
        raise LoaderPoolError(describe_ssh_failure(target, result.stderr.decode(errors="replace")))
    return result


def _last_lines(data: bytes, count: int = 15) -> str:
    lines = [line for line in data.decode(errors="replace").splitlines() if line.strip()]
    return "\n".join(lines[-count:]) if lines else "no message"


def _each(items: Sequence[T], work: Callable[[T], None]) -> None:
    """`work` on every item at once (at most `PARALLEL`); the first failure is raised after
    all have ended."""
    if not items:
        return
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(items))) as pool:
        futures = [pool.submit(work, item) for item in items]
    for future in futures:
        future.result()


def _tar(members: list[tuple[str, Path | bytes, int]], archive: IO[bytes]) -> None:
    """`members` (name, content, mode) as a tar stream into `archive`, rewound after; files are
    streamed from disk (a wheelhouse may be large)."""
    now = int(time.time())
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for arcname, content, mode in members:
            if isinstance(content, Path):
                info = tarfile.TarInfo(arcname)
                info.size, info.mode, info.mtime = content.stat().st_size, mode, now
                with content.open("rb") as source:
                    tar.addfile(info, source)
            else:
                info = tarfile.TarInfo(arcname)
                info.size, info.mode, info.mtime = len(content), mode, now
                tar.addfile(info, io.BytesIO(content))
    archive.seek(0)


def _prepare_host(
    pool: _Pool,
    slots: list[Slot],
    certificates: PoolCertificates,
    wheelhouse: Path | None,
) -> None:
    """One machine (which may hold several slots): python3 checked, what an earlier run left
    stopped, the certificates of its slots (and the wheel) unpacked, faasbench installed."""
    target = slots[0].target
    probe = _call(target, PROBE, pool.directory, pool.wheel.content_hash, timeout=120)
    if probe.returncode == NO_PYTHON:
        raise LoaderPoolError(
            f"{target.name}: {_last_lines(probe.stderr)}: the loader needs python3 (3.11+) "
            "with venv (the stack's loaders get it at first boot)"
        )
    if probe.returncode != 0:
        raise LoaderPoolError(f"{target.name}: {_last_lines(probe.stderr)}")
    ready = b"venv=ready" in probe.stdout
    cleared = _call(target, CLEAR_STALE, pool.directory, pool.session, timeout=120)
    for line in cleared.stdout.decode(errors="replace").splitlines():
        pool.echo(f"{target.name}: {line}")
    members: list[tuple[str, Path | bytes, int]] = []
    for slot in slots:
        base = f"dask/{pool.session}/{slot.name}"
        issued = certificates.loaders[slot.index]
        members += [
            (f"{base}/ca.pem", certificates.ca_pem, 0o644),
            (f"{base}/cert.pem", issued.cert_pem, 0o644),
            (f"{base}/key.pem", issued.key_pem, 0o600),
        ]
    if not ready:
        wheel = pool.wheel
        members.append((f"wheels/{wheel.content_hash}/{wheel.path.name}", wheel.path, 0o644))
        pip = bundled_pip()
        if pip is not None:
            members.append((f"bootstrap/{pip.name}", pip, 0o644))
        if wheelhouse is not None:
            members += [
                (f"wheelhouse/{path.name}", path, 0o644)
                for path in sorted(wheelhouse.iterdir())
                if path.is_file() and path.suffix in {".whl", ".gz", ".zip"}
            ]
    with tempfile.TemporaryFile() as archive:
        _tar(members, archive)
        unpacked = _call(target, UNPACK, pool.directory, stdin=archive)
    if unpacked.returncode != 0:
        raise LoaderPoolError(
            f"{target.name}: copying the certificates failed: {_last_lines(unpacked.stderr)}"
        )
    if ready:
        pool.echo(f"{target.name}: reusing {pool.directory}/venv-{pool.wheel.content_hash}")
        return
    pool.echo(f"{target.name}: installing faasbench {pool.wheel.version}")
    relative = f"wheels/{pool.wheel.content_hash}/{pool.wheel.path.name}"
    mode = "offline" if wheelhouse is not None else "online"
    installed = _call(
        target, INSTALL, pool.directory, pool.wheel.content_hash, relative, mode, timeout=1800
    )
    if installed.returncode != 0:
        hint = (
            "the wheelhouse lacks a dependency"
            if wheelhouse is not None
            else "pip needs the loader's internet access (through the NAT)"
        )
        raise LoaderPoolError(
            f"{target.name}: installing faasbench failed; {hint}:\n{_last_lines(installed.stderr)}"
        )


def _start(pool: _Pool, slot: Slot, role: str, args: list[str]) -> None:
    pool.started.append((slot, role))
    result = _call(
        slot.target, START, pool.directory, pool.session, slot.name, role,
        pool.wheel.content_hash, *args, timeout=120,
    )  # fmt: skip
    if result.returncode != 0:
        raise LoaderPoolError(
            f"{slot.target.name}: starting the {role} failed: {_last_lines(result.stderr)}"
        )


def _start_scheduler(pool: _Pool, timeout_s: float) -> None:
    first = pool.slots[0]
    port = pool.loaders.scheduler_port
    pool.echo(f"starting the scheduler on {first.host}:{port} (TLS only)")
    _start(pool, first, "scheduler", scheduler_args(first.host, port))
    waited = _call(
        first.target, WAIT_FOR_LOG, pool.directory, pool.session, first.name, "scheduler",
        SCHEDULER_READY, str(int(timeout_s)), timeout=timeout_s + 60,
    )  # fmt: skip
    if waited.returncode != 0:
        raise LoaderPoolError(f"{first.target.name}: {_last_lines(waited.stderr, 25)}")


def _start_workers(pool: _Pool) -> None:
    ports = pool.loaders.worker_ports
    pool.echo(f"starting {len(pool.slots)} worker(s) on ports {ports.first}-{ports.last}")

    def start(slot: Slot) -> None:
        _start(
            pool, slot, "worker", worker_args(pool.loaders.scheduler, slot.host, ports, slot.name)
        )

    _each(pool.slots, start)


def _reachable(host: str, port: int, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _free_local_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _forward(bastion: SshTarget, host: str, port: int, log: Path, echo: Echo) -> Iterator[str]:
    """An SSH local forward to the scheduler through the bastion, for the `with` block."""
    local = _free_local_port()
    echo(f"reaching the scheduler through {bastion.name} (127.0.0.1:{local})")
    with log.open("ab") as errors:
        process = subprocess.Popen(
            forward_argv(bastion, local, host, port),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not _reachable("127.0.0.1", local, timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                detail = _last_lines(log.read_bytes(), 3) if log.exists() else "no message"
                raise LoaderPoolError(
                    f"forwarding 127.0.0.1:{local} to {host}:{port} through {bastion.name} "
                    f"failed: {detail}"
                )
            time.sleep(0.2)
        yield f"tls://127.0.0.1:{local}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _await_workers(pool: _Pool, address: str, security: Security, timeout_s: float) -> None:
    """Connect as the driver and wait until every loader's worker has joined; name those that
    did not, with their logs' last lines."""
    from distributed import Client

    expected = {slot.name for slot in pool.slots}
    joined: set[str] = set()
    try:
        with Client(address, security=security, timeout=timeout_s) as client:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                workers = client.scheduler_info(n_workers=-1)["workers"].values()
                joined = {str(worker.get("name")) for worker in workers}
                if expected <= joined:
                    break
                time.sleep(0.5)
    except OSError as exc:
        raise LoaderPoolError(f"cannot reach the scheduler at {address} over TLS: {exc}") from exc
    missing = [slot for slot in pool.slots if slot.name not in joined]
    if not missing:
        pool.echo(f"{len(expected)} worker(s) joined the scheduler")
        return
    details = []
    for slot in missing:
        tail = _call(slot.target, TAIL, pool.directory, pool.session, slot.name, "worker")
        details.append(f"{slot.name} ({slot.host}):\n{_last_lines(tail.stdout)}")
    raise LoaderPoolError(
        f"{len(missing)} of {len(expected)} worker(s) did not join in {timeout_s:.0f} s: "
        + "\n".join(details)
    )


def _stop(pool: _Pool) -> None:
    """Workers first, then the scheduler; each one's log kept in work_dir/logs; then every
    slot's files (certificates, key) removed from the loaders."""
    if pool.started:
        pool.echo("stopping the workers and the scheduler")
    logs = pool.work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    def stop(item: tuple[Slot, str]) -> None:
        slot, role = item
        try:
            result = _call(
                slot.target, STOP, pool.directory, pool.session, slot.name, role, timeout=60
            )
        except RemoteError as exc:
            problems.append(str(exc))
            return
        (logs / f"{slot.name}-{role}.log").write_bytes(result.stdout)

    workers = [item for item in pool.started if item[1] == "worker"]
    _each(workers, stop)
    _each([item for item in pool.started if item[1] != "worker"], stop)

    def remove(slot: Slot) -> None:
        try:
            _call(slot.target, REMOVE, pool.directory, pool.session, slot.name, timeout=60)
        except RemoteError as exc:
            problems.append(str(exc))

    _each(pool.slots, remove)
    for problem in problems:
        pool.echo(f"WARNING: {problem}")
    if pool.started:
        pool.echo(f"stopped; their logs are in {logs}")


def _slots(
    loaders: Loaders, key: Path, known_hosts: Path, port: int, bastion: SshHost | None
) -> list[Slot]:
    proxy = (
        SshTarget(bastion.host, bastion.user, port, key, known_hosts)
        if bastion is not None
        else None
    )
    return [
        Slot(index, SshTarget(host.host, host.user, port, key, known_hosts, proxy))
        for index, host in enumerate(loaders.hosts)
    ]


@contextlib.contextmanager
def stack_pool(
    outputs: StackOutputs,
    work_dir: Path,
    *,
    options: PoolOptions | None = None,
    echo: Echo | None = None,
) -> Iterator[tuple[str, Security]]:
    """Dask on the stack's loader pool for the `with` block: yields (scheduler address,
    Security) for `distributed.Client(address, security=security)`; stops it all after."""
    options = options or PoolOptions()
    echo = echo or _stderr
    loaders = outputs.loaders
    if loaders is None:
        raise LoaderPoolError(
            "the stack has no loader pool (loaders output absent): set loaderCount to 1 or "
            "more and run pulumi up, or use --loaders local:N"
        )
    if outputs.ssh_private_key is None:
        raise LoaderPoolError("the stack exports no ssh_private_key: the loader pool needs it")
    if options.wheelhouse is not None and not options.wheelhouse.is_dir():
        raise LoaderPoolError(f"wheelhouse {options.wheelhouse}: not a directory")
    if options.reach == "forward" and outputs.bastion is None:
        raise LoaderPoolError("reaching the scheduler through the bastion needs a bastion")
    work_dir.mkdir(parents=True, exist_ok=True)
    certificates = make_certificates([host.host for host in loaders.hosts], work_dir / "tls")
    echo(f"certificates for {len(loaders.hosts)} loader(s) and this driver in {work_dir / 'tls'}")
    try:
        echo("building the faasbench wheel for the loaders")
        wheel = build_wheel(project_root())
        with private_key_file(outputs.ssh_private_key.get_secret_value()) as key:
            slots = _slots(
                loaders, key, work_dir / "known_hosts", options.ssh_port, outputs.bastion
            )
            pool = _Pool(
                loaders=loaders,
                slots=slots,
                session=f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}",
                directory=options.remote_dir,
                wheel=wheel,
                work_dir=work_dir,
                echo=echo,
                started=[],
            )
            try:
                yield from _run(pool, certificates, options)
            finally:
                _stop(pool)
    finally:
        certificates.driver_key.unlink(missing_ok=True)


def _run(
    pool: _Pool, certificates: PoolCertificates, options: PoolOptions
) -> Iterator[tuple[str, Security]]:
    by_host: dict[str, list[Slot]] = {}
    for slot in pool.slots:
        by_host.setdefault(f"{slot.target.user}@{slot.host}", []).append(slot)
    hosts = list(by_host.values())
    pool.echo(f"preparing {len(hosts)} loader machine(s) in {options.remote_dir}")
    _each(hosts, lambda slots: _prepare_host(pool, slots, certificates, options.wheelhouse))
    _start_scheduler(pool, options.start_timeout_s)
    _start_workers(pool)
    security = certificates.security()
    first = pool.slots[0]
    port = pool.loaders.scheduler_port
    direct = options.reach == "direct" or (options.reach == "auto" and _reachable(first.host, port))
    if direct:
        pool.echo(f"reaching the scheduler directly at {pool.loaders.scheduler}")
        _await_workers(pool, pool.loaders.scheduler, security, options.start_timeout_s)
        yield pool.loaders.scheduler, security
        return
    if first.target.proxy is None:
        raise LoaderPoolError(
            f"the scheduler at {first.host}:{port} is out of reach and the stack exports no "
            "bastion to forward through"
        )
    log = pool.work_dir / "logs" / "forward.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with _forward(first.target.proxy, first.host, port, log, pool.echo) as address:
        _await_workers(pool, address, security, options.start_timeout_s)
        yield address, security
