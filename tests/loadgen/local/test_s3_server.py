"""The local target's S3 server on 127.0.0.1: it serves only requests signed for its account,
checks payload hashes and clock skew, answers S3's XML error codes, and keeps every key inside
its root."""

from __future__ import annotations

import calendar
import hashlib
import http.client
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions._s3 import Credentials, S3Client, S3Error, authorization
from loadgen.local.s3_server import S3Config, S3Failure, make_server, verify

ACCESS, SECRET = "local-access", "local-secret"
CREDENTIALS = Credentials(ACCESS, SECRET)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    config = S3Config(
        root=tmp_path / "root", access_key=ACCESS, secret_key=SECRET, addr_file=tmp_path / "a"
    )
    running = make_server(config)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    host, port = running.server_address[:2]
    try:
        yield str(host), int(port), config.root
    finally:
        running.shutdown()
        running.server_close()


def raw(
    host: str, port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_objects_round_trip_and_keys_stay_inside_the_root(server: tuple[str, int, Path]) -> None:
    host, port, root = server
    client = S3Client(f"http://{host}:{port}", CREDENTIALS)
    assert client.create_bucket("bucket") is True
    assert client.create_bucket("bucket") is False
    key = "../../escape/ü b+c.bin"
    etag = client.put_object("bucket", key, b"payload")
    assert etag == hashlib.md5(b"payload", usedforsecurity=False).hexdigest()
    assert client.get_object("bucket", key) == b"payload"
    assert client.head_object("bucket", key) == 7
    assert client.head_object("bucket", "absent") is None
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert files[0].parent == root / "bucket"
    assert not (root.parent / "escape").exists()


def test_unsigned_and_wrongly_signed_requests_are_refused(server: tuple[str, int, Path]) -> None:
    host, port, _ = server
    status, body = raw(host, port, "GET", "/bucket/key", {})
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body
    for credentials, code in (
        (Credentials("someone-else", SECRET), "InvalidAccessKeyId"),
        (Credentials(ACCESS, "wrong"), "SignatureDoesNotMatch"),
    ):
        client = S3Client(f"http://{host}:{port}", credentials)
        with pytest.raises(S3Error, match=f"403 {code}") as caught:
            client.get_object("bucket", "key")
        assert caught.value.code == code


def test_a_body_that_does_not_match_its_signed_hash_is_refused(
    server: tuple[str, int, Path],
) -> None:
    host, port, _ = server
    S3Client(f"http://{host}:{port}", CREDENTIALS).create_bucket("bucket")
    date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    signed = {
        "host": f"{host}:{port}",
        "x-amz-content-sha256": hashlib.sha256(b"original").hexdigest(),
        "x-amz-date": date,
    }
    headers = dict(signed)
    headers["Authorization"] = authorization(
        CREDENTIALS, "PUT", "/bucket/k", {}, signed, signed["x-amz-content-sha256"], date
    )
    status, body = raw(host, port, "PUT", "/bucket/k", headers, b"tampered")
    assert status == 400
    assert b"XAmzContentSHA256Mismatch" in body
    status, _ = raw(host, port, "PUT", "/bucket/k", headers, b"original")
    assert status == 200


def test_stale_signatures_are_refused() -> None:
    date = "20130524T000000Z"
    signed = {
        "host": "h",
        "x-amz-content-sha256": hashlib.sha256(b"").hexdigest(),
        "x-amz-date": date,
    }
    headers = dict(signed)
    headers["authorization"] = authorization(
        CREDENTIALS, "GET", "/b/k", {}, signed, signed["x-amz-content-sha256"], date
    )
    five_minutes_later = calendar.timegm((2013, 5, 24, 0, 5, 0, 0, 0, 0))
    verify(CREDENTIALS, "GET", "/b/k", {}, headers, b"", five_minutes_later)
    with pytest.raises(S3Failure, match="too far") as caught:
        verify(CREDENTIALS, "GET", "/b/k", {}, headers, b"", time.time())
    assert caught.value.code == "RequestTimeTooSkewed"


def test_unknown_operations_and_buckets_get_s3_codes(server: tuple[str, int, Path]) -> None:
    host, port, _ = server
    client = S3Client(f"http://{host}:{port}", CREDENTIALS)
    with pytest.raises(S3Error, match="404 NoSuchBucket"):
        client.get_object("nobucket", "key")
    with pytest.raises(S3Error, match="405 MethodNotAllowed"):
        client.request("list", "GET", "/")
    with pytest.raises(S3Error, match="400 InvalidBucketName"):
        client.create_bucket("Bad_Name")
