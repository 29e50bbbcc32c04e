"""The local target's object storage: a small S3-compatible server on 127.0.0.1 for `thumbnail`,
with what that function and the seeding use and nothing more.

    python -m loadgen.local.s3_server STATE_DIR/s3.json

Path-style requests only: `PUT /bucket` (create), `PUT`, `GET`, `HEAD` and `DELETE
/bucket/key`. Every request must carry a valid AWS Signature Version 4 `Authorization` header
(the one account in the configuration, signed within 15 minutes, payload hash checked against
the body unless `UNSIGNED-PAYLOAD`), verified with the same signing code the function uses
(`functions._s3`), so a signing bug fails here as it would against a real server. Errors are S3's
XML documents with its codes (`NoSuchKey`, `NoSuchBucket`, `SignatureDoesNotMatch`, ...).

Objects are files under the root, one directory per bucket, the key percent-encoded into one
file name (no key can reach outside the root); a PUT writes a temporary file and renames it, so
a concurrent GET sees the old object or the new one. It binds an ephemeral port (written to the
address file once it serves). SIGTERM stops it.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

from pydantic import BaseModel, ConfigDict, ValidationError

from functions._s3 import ALGORITHM, SERVICE, Credentials, authorization
from loadgen.local.procs import write_json

#: How far a request's x-amz-date may be from the server's clock (S3's own limit).
MAX_SKEW_S = 15 * 60
#: The largest object a PUT may carry.
MAX_OBJECT_BYTES = 64 * 1024 * 1024
UNSIGNED = "UNSIGNED-PAYLOAD"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9\-;]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


class S3Config(BaseModel):
    """What `up` hands the server (a 0600 file, as it holds the secret key)."""

    model_config = ConfigDict(frozen=True)

    root: Path
    access_key: str
    secret_key: str
    addr_file: Path
    host: str = "127.0.0.1"
    port: int = 0


class S3Failure(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _amz_epoch(amz_date: str) -> float:
    return calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))


def verify(
    credentials: Credentials,
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    now: float,
) -> None:
    """`S3Failure` unless the request is signed by `credentials` (SigV4, header form) and its
    payload hash matches `body`. `headers` are lower-cased names to values; `path` is decoded."""
    match = _AUTH.fullmatch(headers.get("authorization", "").strip())
    if match is None:
        raise S3Failure(403, "AccessDenied", f"an {ALGORITHM} Authorization header is required")
    if match["key"] != credentials.access_key:
        raise S3Failure(403, "InvalidAccessKeyId", "the access key is not known here")
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = _amz_epoch(amz_date)
    except ValueError:
        raise S3Failure(403, "AccessDenied", "x-amz-date is missing or malformed") from None
    if abs(now - signed_at) > MAX_SKEW_S or match["date"] != amz_date[:8]:
        raise S3Failure(403, "RequestTimeTooSkewed", "the request time is too far from ours")
    if match["service"] != SERVICE:
        raise S3Failure(403, "AccessDenied", f"credential scope is not for {SERVICE}")
    names = match["signed"].split(";")
    if "host" not in names or any(name not in headers for name in names):
        raise S3Failure(403, "AccessDenied", "a signed header is missing from the request")
    payload = headers.get("x-amz-content-sha256", "")
    if payload != UNSIGNED and payload != hashlib.sha256(body).hexdigest():
        raise S3Failure(400, "XAmzContentSHA256Mismatch", "the body does not match its hash")
    expected = authorization(
        credentials,
        method,
        path,
        query,
        {name: headers[name] for name in names},
        payload,
        amz_date,
        match["region"],
    )
    signature = expected.rpartition("Signature=")[2]
    if not hmac.compare_digest(signature, match["signature"]):
        raise S3Failure(403, "SignatureDoesNotMatch", "the request signature does not match")


class Store:
    """Buckets as directories, objects as files named by their percent-encoded key."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()

    def bucket(self, name: str, *, create: bool = False) -> Path:
        if not _BUCKET.fullmatch(name):
            raise S3Failure(400, "InvalidBucketName", f"bad bucket name {name[:80]!r}")
        path = self.root / name
        if create:
            with self.lock:
                if path.is_dir():
                    raise S3Failure(409, "BucketAlreadyOwnedByYou", f"bucket {name} exists")
                path.mkdir(parents=True)
        elif not path.is_dir():
            raise S3Failure(404, "NoSuchBucket", f"no bucket {name}")
        return path

    def object(self, bucket: str, key: str) -> Path:
        if not key or len(key.encode()) > 1024:
            raise S3Failure(400, "KeyTooLongError" if key else "InvalidArgument", "bad key")
        return self.bucket(bucket) / quote(key, safe="")

    def put(self, bucket: str, key: str, body: bytes) -> str:
        path = self.object(bucket, key)
        temporary = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
        temporary.write_bytes(body)
        os.replace(temporary, path)
        return hashlib.md5(body, usedforsecurity=False).hexdigest()

    def get(self, bucket: str, key: str) -> bytes:
        path = self.object(bucket, key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise S3Failure(404, "NoSuchKey", f"no key {key[:200]} in {bucket}") from None

    def delete(self, bucket: str, key: str) -> None:
        self.object(bucket, key).unlink(missing_ok=True)


def make_handler(store: Store, credentials: Credentials) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "faasbench-local-s3"

        def log_message(self, format: str, *args: object) -> None:
            """No line per request: a benchmark makes millions."""

        def _send(
            self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, failure: S3Failure) -> None:
            document = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
                f"<Code>{escape(failure.code)}</Code><Message>{escape(failure.message)}</Message>"
                "</Error>"
            ).encode()
            self._send(failure.status, document, {"Content-Type": "application/xml"})

        def _handle(self) -> None:
            length = self.headers.get("Content-Length", "0")
            if not length.isdigit() or int(length) > MAX_OBJECT_BYTES:
                self.close_connection = True
                raise S3Failure(400, "EntityTooLarge" if length.isdigit() else "InvalidArgument",
                                "bad or too large Content-Length")  # fmt: skip
            body = self.rfile.read(int(length)) if int(length) else b""
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            headers = {name.lower(): value for name, value in self.headers.items()}
            verify(credentials, self.command, path, query, headers, body, time.time())
            bucket, _, key = path.lstrip("/").partition("/")
            if self.command == "PUT" and not key:
                store.bucket(bucket, create=True)
                self._send(200, headers={"Location": f"/{bucket}"})
            elif self.command == "PUT":
                etag = store.put(bucket, key, body)
                self._send(200, headers={"ETag": f'"{etag}"'})
            elif self.command in ("GET", "HEAD") and key:
                data = store.get(bucket, key)
                etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
                content = {"Content-Type": "application/octet-stream", "ETag": f'"{etag}"'}
                if self.command == "HEAD":
                    self.send_response(200)
                    for name, value in content.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                else:
                    self._send(200, data, content)
            elif self.command == "DELETE" and key:
                store.delete(bucket, key)
                self._send(204)
            else:
                raise S3Failure(
                    405, "MethodNotAllowed", f"{self.command} {path[:200]} is not served"
                )

        def _run(self) -> None:
            try:
                self._handle()
            except S3Failure as failure:
                self._error(failure)

        do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _run

    return Handler


class S3Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512


def make_server(config: S3Config) -> S3Server:
    config.root.mkdir(parents=True, exist_ok=True)
    handler = make_handler(Store(config.root), Credentials(config.access_key, config.secret_key))
    return S3Server((config.host, config.port), handler)


def serve(config: S3Config) -> None:
    server = make_server(config)
    host, port = server.server_address[:2]
    write_json(config.addr_file, {"host": host, "port": port})

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    server.server_close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m loadgen.local.s3_server CONFIG.json", file=sys.stderr)
        return 2
    try:
        config = S3Config.model_validate_json(Path(args[0]).read_text())
    except (OSError, ValidationError) as exc:
        print(f"s3: bad configuration {args[0]}: {exc}", file=sys.stderr)
        return 2
    try:
        serve(config)
    except OSError as exc:
        print(f"s3: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
