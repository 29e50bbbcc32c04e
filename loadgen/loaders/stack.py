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

Progress goes to `echo` (stderr by default). Everything here is synchronous. Its parts: the
certificates in `stack_tls.py`, ssh and the forward in `stack_ssh.py`, the scheduler's and
workers' start and stop in `stack_dask.py`, the shell scripts in `stack_scripts.py`.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from distributed.security import Security

from contract.outputs import StackOutputs
from loadgen.loaders.stack_dask import (
    PoolRun,
    await_workers,
    start_scheduler,
    start_workers,
    stop_pool,
)
from loadgen.loaders.stack_scripts import CLEAR_STALE, PROBE, UNPACK
from loadgen.loaders.stack_ssh import (
    Echo,
    LoaderPoolError,
    Slot,
    each,
    last_lines,
    loader_slots,
    reachable,
    run_ssh,
    scheduler_forward,
)
from loadgen.loaders.stack_tls import PoolCertificates, make_certificates
from loadgen.remote.scripts import INSTALL
from loadgen.remote.ssh import NO_PYTHON, private_key_file
from loadgen.remote.wheel import build_wheel, bundled_pip, project_root

Reach = Literal["auto", "direct", "forward"]


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
    pool: PoolRun,
    slots: list[Slot],
    certificates: PoolCertificates,
    wheelhouse: Path | None,
) -> None:
    """One machine (which may hold several slots): python3 checked, what an earlier run left
    stopped, the certificates of its slots (and the wheel) unpacked, faasbench installed."""
    target = slots[0].target
    probe = run_ssh(target, PROBE, pool.directory, pool.wheel.content_hash, timeout=120)
    if probe.returncode == NO_PYTHON:
        raise LoaderPoolError(
            f"{target.name}: {last_lines(probe.stderr)}: the loader needs python3 (3.11+) "
            "with venv (the stack's loaders get it at first boot)"
        )
    if probe.returncode != 0:
        raise LoaderPoolError(f"{target.name}: {last_lines(probe.stderr)}")
    ready = b"venv=ready" in probe.stdout
    cleared = run_ssh(target, CLEAR_STALE, pool.directory, pool.session, timeout=120)
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
        unpacked = run_ssh(target, UNPACK, pool.directory, stdin=archive)
    if unpacked.returncode != 0:
        raise LoaderPoolError(
            f"{target.name}: copying the certificates failed: {last_lines(unpacked.stderr)}"
        )
    if ready:
        pool.echo(f"{target.name}: reusing {pool.directory}/venv-{pool.wheel.content_hash}")
        return
    pool.echo(f"{target.name}: installing faasbench {pool.wheel.version}")
    relative = f"wheels/{pool.wheel.content_hash}/{pool.wheel.path.name}"
    mode = "offline" if wheelhouse is not None else "online"
    installed = run_ssh(
        target, INSTALL, pool.directory, pool.wheel.content_hash, relative, mode, timeout=1800
    )
    if installed.returncode != 0:
        hint = (
            "the wheelhouse lacks a dependency"
            if wheelhouse is not None
            else "pip needs the loader's internet access (through the NAT)"
        )
        raise LoaderPoolError(
            f"{target.name}: installing faasbench failed; {hint}:\n{last_lines(installed.stderr)}"
        )


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
            slots = loader_slots(
                loaders, key, work_dir / "known_hosts", options.ssh_port, outputs.bastion
            )
            pool = PoolRun(
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
                stop_pool(pool)
    finally:
        certificates.driver_key.unlink(missing_ok=True)


def _run(
    pool: PoolRun, certificates: PoolCertificates, options: PoolOptions
) -> Iterator[tuple[str, Security]]:
    by_host: dict[str, list[Slot]] = {}
    for slot in pool.slots:
        by_host.setdefault(f"{slot.target.user}@{slot.host}", []).append(slot)
    hosts = list(by_host.values())
    pool.echo(f"preparing {len(hosts)} loader machine(s) in {options.remote_dir}")
    each(hosts, lambda slots: _prepare_host(pool, slots, certificates, options.wheelhouse))
    start_scheduler(pool, options.start_timeout_s)
    start_workers(pool)
    security = certificates.security()
    first = pool.slots[0]
    port = pool.loaders.scheduler_port
    direct = options.reach == "direct" or (options.reach == "auto" and reachable(first.host, port))
    if direct:
        pool.echo(f"reaching the scheduler directly at {pool.loaders.scheduler}")
        await_workers(pool, pool.loaders.scheduler, security, options.start_timeout_s)
        yield pool.loaders.scheduler, security
        return
    if first.target.proxy is None:
        raise LoaderPoolError(
            f"the scheduler at {first.host}:{port} is out of reach and the stack exports no "
            "bastion to forward through"
        )
    log = pool.work_dir / "logs" / "forward.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with scheduler_forward(first.target.proxy, first.host, port, log, pool.echo) as address:
        await_workers(pool, address, security, options.start_timeout_s)
        yield address, security
