"""`thumbnail` and its pieces: SigV4 signing against AWS's published examples, the PPM and PNG
codecs, area-average scaling, the seeded inputs, and the function end to end against the local
target's S3 server on 127.0.0.1 (signatures verified there)."""

from __future__ import annotations

import hashlib
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from functions import thumbnail
from functions._params import FunctionError, ParamError
from functions._runtime import invoke
from functions._s3 import Credentials, S3Client, S3Error, authorization
from functions.thumbnail import Image, ImageError
from loadgen.local.s3_server import S3Config, make_server

# AWS's examples in "Authenticating Requests: Using the Authorization Header (AWS Signature
# Version 4)", Amazon S3 API Reference: the documentation's account and request values.
AWS_EXAMPLE = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
AWS_DATE = "20130524T000000Z"


def test_signs_aws_get_object_example() -> None:
    empty = hashlib.sha256(b"").hexdigest()
    headers = {
        "Host": "examplebucket.s3.amazonaws.com",
        "Range": "bytes=0-9",
        "x-amz-content-sha256": empty,
        "x-amz-date": AWS_DATE,
    }
    value = authorization(AWS_EXAMPLE, "GET", "/test.txt", {}, headers, empty, AWS_DATE)
    assert value == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_signs_aws_put_object_example() -> None:
    body = b"Welcome to Amazon S3."
    payload = hashlib.sha256(body).hexdigest()
    headers = {
        "Host": "examplebucket.s3.amazonaws.com",
        "Date": "Fri, 24 May 2013 00:00:00 GMT",
        "x-amz-date": AWS_DATE,
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": payload,
    }
    value = authorization(AWS_EXAMPLE, "PUT", "/test$file.text", {}, headers, payload, AWS_DATE)
    assert value.endswith(
        "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
        "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
    )


def test_signs_aws_list_objects_example_with_a_query() -> None:
    empty = hashlib.sha256(b"").hexdigest()
    headers = {
        "Host": "examplebucket.s3.amazonaws.com",
        "x-amz-content-sha256": empty,
        "x-amz-date": AWS_DATE,
    }
    query = {"max-keys": "2", "prefix": "J"}
    value = authorization(AWS_EXAMPLE, "GET", "/", query, headers, empty, AWS_DATE)
    assert value.endswith(
        "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
    )


# --- codecs and scaling ----------------------------------------------------------------------


def gradient(width: int, height: int) -> Image:
    pixels = bytes(
        (x * 7 + y * 13 + c * 50) % 256
        for y in range(height)
        for x in range(width)
        for c in range(3)
    )
    return Image(width, height, pixels)


def test_ppm_round_trip_keeps_every_pixel() -> None:
    image = gradient(17, 9)
    data = thumbnail.encode_ppm(image, comment=" made by a test")
    assert data.startswith(b"P6\n# made by a test\n17 9\n255\n")
    assert thumbnail.decode_ppm(data) == image


def test_ppm_decoder_reads_comments_anywhere_in_the_header() -> None:
    pixels = bytes(range(12))
    data = b"P6 # one\n2\n# two\n 2 255\n" + pixels
    assert thumbnail.decode_ppm(data) == Image(2, 2, pixels)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"P5\n1 1\n255\n\0", "no P6 magic"),
        (b"P6\n1 1\n65535\n" + b"\0" * 6, "maxval 65535"),
        (b"P6\n2 2\n255\n" + b"\0" * 5, "needs 12 bytes of pixels, has 5"),
        (b"P6\n2 x\n255\n", "non-digit"),
        (b"P6\n2 2", "ends early"),
    ],
)
def test_ppm_decoder_refuses_what_it_cannot_read(data: bytes, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        thumbnail.decode_ppm(data)


def read_png(data: bytes) -> Image:
    """A reader for the encoder's own output (8-bit RGB, filter 0), checking every CRC."""
    assert data[:8] == thumbnail.PNG_SIGNATURE
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks.append((kind, body))
        position += 12 + length
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color, interlace) == (8, 2, 0)
    raw = zlib.decompress(chunks[1][1])
    stride = width * 3 + 1
    assert all(raw[row * stride] == 0 for row in range(height))
    pixels = b"".join(raw[row * stride + 1 : (row + 1) * stride] for row in range(height))
    return Image(width, height, pixels)


def test_png_encoding_decodes_to_the_same_pixels() -> None:
    image = gradient(23, 5)
    assert read_png(thumbnail.encode_png(image)) == image


def test_resize_averages_each_box_rounding_to_nearest() -> None:
    # 4x2 -> 2x1: each output pixel averages a 2x2 box of the input.
    red = [10, 20, 30, 40, 51, 60, 70, 80]
    pixels = bytes(v for r in red for v in (r, 255 - r, 7))
    small = thumbnail.resize(Image(4, 2, pixels), 2, 1)
    left = round((10 + 20 + 51 + 60) / 4)  # 35.25 -> 35
    right = (30 + 40 + 70 + 80 + 2) // 4  # 55
    assert small.pixels == bytes([left, 255 - left, 7, right, 200, 7])


def test_resize_to_the_same_size_is_identity_and_growing_repeats_pixels() -> None:
    image = gradient(5, 4)
    assert thumbnail.resize(image, 5, 4) == image
    grown = thumbnail.resize(Image(1, 1, b"\x01\x02\x03"), 2, 3)
    assert grown.pixels == b"\x01\x02\x03" * 6


def test_resize_of_a_flat_image_is_flat() -> None:
    flat = Image(37, 21, b"\x10\x80\xf0" * 37 * 21)
    small = thumbnail.resize(flat, 8, 5)
    assert small.pixels == b"\x10\x80\xf0" * 40


def test_thumbnail_keeps_the_aspect_ratio() -> None:
    assert thumbnail.thumbnail_size(Image(400, 100, b"\0" * 120000), 128) == (128, 32)
    assert thumbnail.thumbnail_size(Image(3, 300, b"\0" * 2700), 1) == (1, 100)
    assert thumbnail.thumbnail_size(Image(1000, 1, b"\0" * 3000), 10) == (10, 1)


# --- seeded inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [*thumbnail.SEEDED_SIZES, 1024, 5000, 1_000_003])
def test_seeded_inputs_are_exactly_their_size_and_deterministic(size: int) -> None:
    data = thumbnail.seed_image(size)
    assert len(data) == size
    assert thumbnail.seed_image(size) == data
    image = thumbnail.decode_ppm(data)
    # Near-square, and the pixels are all but the header's room of the file.
    assert abs(image.width - image.height) <= 1
    assert size - 3 * image.width * image.height < 64 + 3 * image.width


def test_seeded_inputs_differ_by_size_and_are_not_flat() -> None:
    small, large = (thumbnail.decode_ppm(thumbnail.seed_image(s)) for s in (4096, 8192))
    assert small.pixels != large.pixels[: len(small.pixels)]
    assert len(set(small.pixels)) > 100


def test_seed_sizes_outside_the_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="not within"):
        thumbnail.seed_image(thumbnail.MIN_INPUT_SIZE - 1)


# --- end to end against the local S3 server ---------------------------------------------------


def call(params: dict[str, object]) -> dict[str, Any]:
    """The function's result, timings dropped (the runtime puts them in meta)."""
    timed = thumbnail.main(params)
    assert set(timed.timings) == {"fetch_ms", "compute_ms", "store_ms"}
    result: dict[str, Any] = timed.result
    return result


ACCESS, SECRET = "test-access", "test-secret-key-0123456789"
BUCKET = "faasbench"


@dataclass
class Storage:
    endpoint: str
    root: Path

    def client(self, secret: str = SECRET) -> S3Client:
        return S3Client(self.endpoint, Credentials(ACCESS, secret), timeout_s=10)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    config = S3Config(
        root=tmp_path / "s3", access_key=ACCESS, secret_key=SECRET, addr_file=tmp_path / "addr"
    )
    server = make_server(config)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield Storage(f"http://{host}:{port}", config.root)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def seeded(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> Storage:
    thumbnail.seed_inputs(storage.client(), BUCKET, (4096, 262144))
    monkeypatch.setenv("S3_ENDPOINT", storage.endpoint)
    monkeypatch.setenv("S3_BUCKET", BUCKET)
    monkeypatch.setenv("S3_ACCESS_KEY", ACCESS)
    monkeypatch.setenv("S3_SECRET_KEY", SECRET)
    return storage


@pytest.mark.parametrize("size", [4096, 262144])
def test_thumbnail_fetches_scales_and_stores_with_timings(seeded: Storage, size: int) -> None:
    outcome = invoke("thumbnail", thumbnail.main, {"input_size": size, "width": 32}, "http")
    assert outcome.status == 200, outcome.document
    result, meta = outcome.document["result"], outcome.document["meta"]
    source = thumbnail.seed_image(size)
    assert result["input_key"] == f"inputs/{size}.ppm"
    assert result["input_bytes"] == size
    assert result["input_sha256"] == hashlib.sha256(source).hexdigest()
    assert result["output_width"] == 32
    expected = thumbnail.resize(
        thumbnail.decode_ppm(source),
        *thumbnail.thumbnail_size(thumbnail.decode_ppm(source), 32),
    )
    stored = seeded.client().get_object(BUCKET, result["output_key"])
    assert hashlib.sha256(stored).hexdigest() == result["output_sha256"]
    assert len(stored) == result["output_bytes"]
    assert read_png(stored) == expected
    assert set(meta["timings"]) == {"fetch_ms", "compute_ms", "store_ms"}
    assert all(meta["timings"][k] == result[k] and result[k] >= 0 for k in meta["timings"])


def test_every_call_stores_under_its_own_key_and_ppm_output_works(seeded: Storage) -> None:
    first = call({"input_size": 4096, "format": "ppm", "width": 8})
    second = call({"input_size": 4096, "format": "ppm", "width": 8})
    assert first["output_key"] != second["output_key"]
    assert first["output_key"].endswith(".ppm")
    assert first["output_sha256"] == second["output_sha256"]
    stored = thumbnail.decode_ppm(seeded.client().get_object(BUCKET, second["output_key"]))
    assert (stored.width, stored.height) == (8, 8)


def test_a_missing_input_is_a_failure_naming_the_key(seeded: Storage) -> None:
    outcome = invoke("thumbnail", thumbnail.main, {"input_size": 5000}, "http")
    assert outcome.status == 500
    assert outcome.document["error"] == (
        "thumbnail: no input object inputs/5000.ppm in bucket faasbench (404 NoSuchKey); "
        "deployments seed input_size 4096, 262144, 4194304"
    )
    assert "timings" not in outcome.document["meta"]


def test_s3_errors_carry_status_and_code_and_never_the_secret(
    seeded: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S3_SECRET_KEY", "not-the-secret")
    outcome = invoke("thumbnail", thumbnail.main, {"input_size": 4096}, "http")
    assert outcome.status == 500
    assert "403 SignatureDoesNotMatch" in outcome.document["error"]
    assert "not-the-secret" not in outcome.document["error"]
    monkeypatch.setenv("S3_SECRET_KEY", SECRET)
    outcome = invoke("thumbnail", thumbnail.main, {"bucket": "no-such-bucket"}, "http")
    assert "404 NoSuchBucket" in outcome.document["error"]


def test_parameters_override_the_environment(seeded: Storage) -> None:
    other = "other-bucket"
    thumbnail.seed_inputs(seeded.client(), other, (4096,))
    result = call({"bucket": other, "endpoint": seeded.endpoint + "/"})
    assert result["input_bytes"] == 4096
    assert seeded.client().head_object(other, result["output_key"]) == result["output_bytes"]


def test_an_unreachable_endpoint_is_a_failure(seeded: Storage) -> None:
    with pytest.raises(FunctionError, match=r"http://127\.0\.0\.1:9 unreachable"):
        call({"endpoint": "http://127.0.0.1:9", "timeout_s": 2})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"input_size": 100}, "input_size must be between 1024 and 16777216"),
        ({"width": 0}, "width must be between 1 and 2048"),
        ({"format": "gif"}, "format must be one of png, ppm"),
        ({"endpoint": "ftp://x"}, "endpoint must be http"),
        ({"endpoint": "http://:"}, "endpoint: S3 endpoint must be http"),
        ({"bucket": "A_B"}, "bucket must be an S3 bucket name"),
    ],
)
def test_bad_parameters_are_refused(
    seeded: Storage, params: dict[str, object], message: str
) -> None:
    with pytest.raises(ParamError, match=message):
        thumbnail.main(params)


def test_missing_settings_and_credentials_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("S3_ENDPOINT", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ParamError, match="environment variable S3_ENDPOINT"):
        call({})
    with pytest.raises(ParamError, match="S3_ACCESS_KEY and S3_SECRET_KEY"):
        call({"endpoint": "http://127.0.0.1:1", "bucket": "abc"})


def test_seeding_through_the_client_is_idempotent(storage: Storage) -> None:
    first = thumbnail.seed_inputs(storage.client(), BUCKET, (4096,))
    second = thumbnail.seed_inputs(storage.client(), BUCKET, (4096,))
    assert (
        first
        == second
        == {"inputs/4096.ppm": hashlib.sha256(thumbnail.seed_image(4096)).hexdigest()}
    )
    with pytest.raises(S3Error, match="403 SignatureDoesNotMatch"):
        thumbnail.seed_inputs(storage.client("wrong"), BUCKET, (4096,))
