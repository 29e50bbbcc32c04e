"""The local target's FTP server: pyftpdlib on 127.0.0.1, one read-only user, serving the seeded
test file the `ftp` function downloads and verifies.

    python -m loadgen.local.ftp_server STATE_DIR/ftp.json

It binds an ephemeral port (written to `STATE_DIR/ftp.addr` once it serves); passive data
connections use ephemeral ports on the control connection's address, loopback. SIGTERM stops it.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from pydantic import BaseModel, ConfigDict, ValidationError
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

from loadgen.local.procs import write_json


class FtpConfig(BaseModel):
    """What `up` hands the FTP server (a 0600 file, as it holds the password)."""

    model_config = ConfigDict(frozen=True)

    root: Path
    user: str
    password: str
    addr_file: Path
    host: str = "127.0.0.1"
    port: int = 0
    max_connections: int = 512


def serve(config: FtpConfig) -> None:
    authorizer = DummyAuthorizer()
    # e: change directory, l: list, r: retrieve; nothing that writes.
    authorizer.add_user(config.user, config.password, str(config.root), perm="elr")
    handler = type("LocalFtpHandler", (FTPHandler,), {})
    handler.authorizer = authorizer
    handler.banner = "faasbench local FTP server"
    handler.permit_foreign_addresses = False
    # A refused login answers at once: a misconfigured benchmark fails fast, not 3 s per call.
    handler.auth_failed_timeout = 0
    server = FTPServer((config.host, config.port), handler)
    server.max_cons = config.max_connections
    server.max_cons_per_ip = config.max_connections
    host, port = server.address[:2]
    write_json(config.addr_file, {"host": host, "port": port})

    def stop(signum: int, frame: FrameType | None) -> None:
        server.close_all()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(handle_exit=False)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m loadgen.local.ftp_server CONFIG.json", file=sys.stderr)
        return 2
    # One line per connection and per transfer would flood the log under load.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    try:
        config = FtpConfig.model_validate_json(Path(args[0]).read_text())
    except (OSError, ValidationError) as exc:
        print(f"ftp: bad configuration {args[0]}: {exc}", file=sys.stderr)
        return 2
    try:
        serve(config)
    except OSError as exc:
        print(f"ftp: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
