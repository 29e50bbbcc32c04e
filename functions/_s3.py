"""A minimal S3 client for the suite: AWS Signature Version 4 (header form, signed payload) and
path-style requests over `http.client`, standard library only.

Path style (`{endpoint}/{bucket}/{key}`) is what every S3-compatible server accepts without DNS
tricks; `region` only enters the signature (servers of our own take any, `us-east-1` by default).
Every error answer is raised as `S3Error` with the HTTP status and the S3 error code from the
XML body, so a caller can report `404 NoSuchKey` rather than a bare failure. Credentials are
never part of an error message or a `repr`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "s3"
DEFAULT_REGION = "us-east-1"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: Characters left as they are in a canonical URI or query (RFC 3986 unreserved).
_UNRESERVED = "-_.~"
_CODE = re.compile(rb"<Code>([^<]{1,200})</Code>")
_MESSAGE = re.compile(rb"<Message>([^<]{1,500})</Message>")


class S3Error(RuntimeError):
    """An S3 request that failed: the HTTP status (0: no answer) and S3's error code."""

    def __init__(self, operation: str, status: int, code: str, message: str = "") -> None:
        self.operation, self.status, self.code = operation, status, code
        detail = f"{status} {code}" if status else code
        super().__init__(f"s3 {operation}: {detail}" + (f": {message}" if message else ""))


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str = field(repr=False)


def uri_encode(text: str, *, keep_slash: bool) -> str:
    """SigV4's URI encoding: everything but unreserved characters as %XX (upper case)."""
    return quote(text, safe=_UNRESERVED + ("/" if keep_slash else ""))


def canonical_query(query: Mapping[str, str]) -> str:
    pairs = sorted(
        (uri_encode(k, keep_slash=False), uri_encode(v, keep_slash=False)) for k, v in query.items()
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
) -> tuple[str, str]:
    """(canonical request, signed headers) of a request whose `path` is not yet encoded. Every
    header given is signed; names are lower-cased and values trimmed."""
    canonical = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    names = sorted(canonical)
    signed = ";".join(names)
    lines = [
        method,
        uri_encode(path or "/", keep_slash=True),
        canonical_query(query),
        "".join(f"{name}:{canonical[name]}\n" for name in names),
        signed,
        payload_sha256,
    ]
    return "\n".join(lines), signed


def signing_key(secret_key: str, date: str, region: str, service: str = SERVICE) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def authorization(
    credentials: Credentials,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
    amz_date: str,
    region: str = DEFAULT_REGION,
) -> str:
    """The `Authorization` header value for a request signed at `amz_date`
    (`YYYYMMDDTHHMMSSZ`); `headers` must hold every header to sign (`host`,
    `x-amz-content-sha256`, `x-amz-date` at least)."""
    creq, signed = canonical_request(method, path, query, headers, payload_sha256)
    date = amz_date[:8]
    scope = f"{date}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join((ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()))
    signature = hmac.new(
        signing_key(credentials.secret_key, date, region), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    return (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )


def amz_now() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def _error_code(body: bytes, status: int) -> tuple[str, str]:
    code = _CODE.search(body)
    message = _MESSAGE.search(body)
    return (
        code.group(1).decode("utf-8", "replace") if code else http.client.responses.get(status, ""),
        message.group(1).decode("utf-8", "replace") if message else "",
    )


class S3Client:
    """Path-style requests to one endpoint (`http://host:port` or `https://...`), a connection
    per request (functions run concurrently on threads; nothing is shared)."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        region: str = DEFAULT_REGION,
        timeout_s: float = 30.0,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"S3 endpoint must be http://host[:port] or https://..., got {endpoint!r}"
            )
        if parts.path not in ("", "/") or parts.query:
            raise ValueError(f"S3 endpoint must have no path or query, got {endpoint!r}")
        self.scheme, self.netloc = parts.scheme, parts.netloc
        self.host, self.port = parts.hostname, parts.port
        self.credentials, self.region, self.timeout_s = credentials, region, timeout_s

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of a 2xx answer; `S3Error` for anything else."""
        payload = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        amz_date = amz_now()
        signed = {
            "host": self.netloc,
            "x-amz-content-sha256": payload,
            "x-amz-date": amz_date,
            **(headers or {}),
        }
        sent = dict(signed)
        sent["Authorization"] = authorization(
            self.credentials, method, path, {}, signed, payload, amz_date, self.region
        )
        sent["Content-Length"] = str(len(body))
        connection: http.client.HTTPConnection
        if self.scheme == "https":
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout_s)
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            connection.request(
                method, uri_encode(path, keep_slash=True), body=body or None, headers=sent
            )
            response = connection.getresponse()
            data = response.read()
            status = response.status
            answer = {k.lower(): v for k, v in response.getheaders()}
        except (OSError, http.client.HTTPException) as exc:
            where = f"{self.scheme}://{self.netloc}"
            raise S3Error(operation, 0, f"{where} unreachable: {exc}") from exc
        finally:
            connection.close()
        if not 200 <= status < 300:
            code, message = _error_code(data, status)
            raise S3Error(operation, status, code, message)
        return status, answer, data

    def get_object(self, bucket: str, key: str) -> bytes:
        return self.request(f"GET {bucket}/{key}", "GET", f"/{bucket}/{key}")[2]

    def put_object(
        self, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> str:
        """Stores `body`; returns the ETag the server gave (quotes removed)."""
        _, headers, _ = self.request(
            f"PUT {bucket}/{key}", "PUT", f"/{bucket}/{key}", body, {"content-type": content_type}
        )
        return headers.get("etag", "").strip('"')

    def head_object(self, bucket: str, key: str) -> int | None:
        """The object's size, or None when there is no such object."""
        try:
            _, headers, _ = self.request(f"HEAD {bucket}/{key}", "HEAD", f"/{bucket}/{key}")
        except S3Error as exc:
            if exc.status == 404:
                return None
            raise
        return int(headers.get("content-length", "0"))

    def create_bucket(self, bucket: str) -> bool:
        """Creates `bucket`; False when this account already owns it."""
        try:
            self.request(f"PUT {bucket}", "PUT", f"/{bucket}")
        except S3Error as exc:
            if exc.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return False
            raise
        return True
