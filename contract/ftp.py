"""The FTP server the network-bound function downloads from: vsftpd configuration and the
seeded test file, both from plain values.

The test file's content is deterministic (an AES-128-CTR keystream from a seed), so its size and
SHA-256 are known to the program without reading anything back from the machine, and the
function can verify every download. The machine makes the same bytes with `openssl enc`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

FTP_PORT = 21
#: The first passive data port; the range grows from here with the concurrency allowed.
PASSIVE_BASE = 20000
#: Passive ports per allowed client. vsftpd 3.0 picks a passive port at random and tries 9
#: of them before the session dies (privops.c, vsf_privop_pasv_listen: `bind_retries = 10`,
#: `while (--bind_retries)`): with the range 4x the sessions, a session that finds every one of
#: its 9 picks taken has a chance below 0.25**9 (4e-6) even at full concurrency.
PASSIVE_PORTS_PER_CLIENT = 4
#: The default `ftpMaxClients`, and the most: the range stays below Linux's ephemeral ports
#: (32768 and up), which the machine's own outgoing connections use.
DEFAULT_MAX_CLIENTS = 500
MAX_CLIENTS_LIMIT = 3000
FTP_USER = "faasbench"
FTP_HOME = "/srv/ftp"
TEST_FILE = "testfile.bin"


@dataclass(frozen=True, kw_only=True)
class FtpSettings:
    user: str
    listen_address: str | None = None
    """None: every address (a pod, whose address is not known in advance)."""
    passive_address: str | None = None
    """None: the address the client reached the server on (right inside a cluster)."""
    port: int = FTP_PORT
    max_clients: int = DEFAULT_MAX_CLIENTS
    """Concurrent sessions (and per client address) the server accepts."""
    passive_ports: tuple[int, int] | None = None
    """None: sized from `max_clients` (`passive_range`)."""
    userlist_file: str = "/etc/vsftpd.userlist"
    in_container: bool = False
    """vsftpd's own sandboxes need what a container lacks: its seccomp filter fails under the
    runtime's seccomp profile ("500 OOPS: child died") and `isolate` makes namespaces, which
    needs CAP_SYS_ADMIN. The container is the sandbox there, so they are off."""


def passive_range(max_clients: int) -> tuple[int, int]:
    """The passive data ports for `max_clients` concurrent sessions (first, last)."""
    if not 1 <= max_clients <= MAX_CLIENTS_LIMIT:
        raise ValueError(f"vsftpd: max_clients {max_clients} is not within 1..{MAX_CLIENTS_LIMIT}")
    return PASSIVE_BASE, PASSIVE_BASE + PASSIVE_PORTS_PER_CLIENT * max_clients - 1


def render_vsftpd(settings: FtpSettings) -> str:
    """vsftpd.conf: local users only (one, listed), read-only, chrooted, passive mode on a
    port range sized for `max_clients` sessions, bound to the private address."""
    low, high = settings.passive_ports or passive_range(settings.max_clients)
    if not 1024 <= low <= high <= 65535:
        raise ValueError(f"vsftpd: bad passive port range {low}-{high}")
    if high - low + 1 < settings.max_clients:
        raise ValueError(
            f"vsftpd: passive port range {low}-{high} has fewer ports than max_clients "
            f"{settings.max_clients}: sessions beyond it would fail their transfers"
        )
    lines: dict[str, str | None] = {
        "listen": "YES",
        "listen_ipv6": "NO",
        "listen_address": settings.listen_address,
        "listen_port": str(settings.port),
        "background": "NO",
        "anonymous_enable": "NO",
        "local_enable": "YES",
        "write_enable": "NO",
        "chroot_local_user": "YES",
        "allow_writeable_chroot": "NO",
        "userlist_enable": "YES",
        "userlist_deny": "NO",
        "userlist_file": settings.userlist_file,
        "pam_service_name": "vsftpd",
        "secure_chroot_dir": "/var/run/vsftpd/empty",
        "pasv_enable": "YES",
        "pasv_min_port": str(low),
        "pasv_max_port": str(high),
        "pasv_address": settings.passive_address,
        "port_enable": "NO",
        "max_clients": str(settings.max_clients),
        "max_per_ip": str(settings.max_clients),
        "xferlog_enable": "YES",
        "xferlog_std_format": "NO",
        "log_ftp_protocol": "NO",
        "idle_session_timeout": "300",
        "data_connection_timeout": "120",
    }
    if settings.in_container:
        lines |= {"seccomp_sandbox": "NO", "isolate": "NO", "isolate_network": "NO"}
    return "".join(f"{key}={value}\n" for key, value in lines.items() if value is not None)


def seeded_file_key(seed: str) -> bytes:
    """The AES-128 key of the test file's keystream."""
    return hashlib.sha256(seed.encode()).digest()[:16]


def seeded_file_bytes(seed: str, size: int) -> bytes:
    """The test file: `size` bytes of AES-128-CTR keystream (zero IV) keyed from `seed`; equal
    to `openssl enc -aes-128-ctr -K <key> -iv 0 -nosalt` over `size` zero bytes."""
    encryptor = Cipher(algorithms.AES(seeded_file_key(seed)), modes.CTR(b"\0" * 16)).encryptor()
    return encryptor.update(b"\0" * size) + encryptor.finalize()


def seeded_file_sha256(seed: str, size: int) -> str:
    return hashlib.sha256(seeded_file_bytes(seed, size)).hexdigest()


def ftp_outputs(
    host: object, password: object, seed: str, size: int, max_clients: int
) -> dict[str, object]:
    """The `ftp` output of the contract, wherever the server runs (machine or pod)."""
    return {
        "host": host,
        "port": FTP_PORT,
        "user": FTP_USER,
        "password": password,
        "test_file": TEST_FILE,
        "test_file_bytes": size,
        "test_file_sha256": seeded_file_sha256(seed, size),
        "max_clients": max_clients,
    }
