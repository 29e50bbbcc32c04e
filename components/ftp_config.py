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
PASSIVE_PORTS = (30000, 30019)
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
    passive_ports: tuple[int, int] = PASSIVE_PORTS
    userlist_file: str = "/etc/vsftpd.userlist"
    max_clients: int = 500
    in_container: bool = False
    """vsftpd's own sandboxes need what a container lacks: its seccomp filter fails under the
    runtime's seccomp profile ("500 OOPS: child died") and `isolate` makes namespaces, which
    needs CAP_SYS_ADMIN. The container is the sandbox there, so they are off."""


def render_vsftpd(settings: FtpSettings) -> str:
    """vsftpd.conf: local users only (one, listed), read-only, chrooted, passive mode on a
    small fixed port range, bound to the private address."""
    low, high = settings.passive_ports
    if not 1024 <= low <= high <= 65535:
        raise ValueError(f"vsftpd: bad passive port range {low}-{high}")
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


def ftp_outputs(host: object, password: object, seed: str, size: int) -> dict[str, object]:
    """The `ftp` output of the contract, wherever the server runs (machine or pod)."""
    return {
        "host": host,
        "port": FTP_PORT,
        "user": FTP_USER,
        "password": password,
        "test_file": TEST_FILE,
        "test_file_bytes": size,
        "test_file_sha256": seeded_file_sha256(seed, size),
    }
