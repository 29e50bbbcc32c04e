"""`thumbnail`: an image pipeline's step. It fetches a seeded image from S3-compatible object
storage, scales it down to `width` pixels (area average, aspect kept), encodes the result (PNG or
PPM) and stores it under a key unique to the call; it returns sizes and digests, never data,
with the time spent fetching, computing and storing (also in `meta.timings`, through `Timed`).

Inputs are binary PPM (P6) images the deployment seeds, one per size, at
`inputs/<input_size>.ppm`, each exactly `input_size` bytes (`seed_image`). Decoding is parsing a
header; the work is the area average, which reads every input byte, and the encoding (zlib for
PNG), so compute grows with `input_size`.

Settings come from parameters, else the environment the deployment sets:

    endpoint  S3_ENDPOINT   (http://host:port, path-style requests)
    bucket    S3_BUCKET
    region    S3_REGION     (us-east-1; only enters the signature)

The credentials come from the environment only (`S3_ACCESS_KEY`, `S3_SECRET_KEY`), never from
parameters, and never appear in a result or an error.

    python -m functions.thumbnail seed    # create the bucket and upload the seeded inputs
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import sys
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._params import (
    FloatParam,
    FunctionError,
    IntParam,
    ParamError,
    TextParam,
    Timed,
    required,
)
from ._s3 import DEFAULT_REGION, Credentials, S3Client, S3Error

#: The sizes every deployment seeds (4 KiB, 256 KiB, 4 MiB).
SEEDED_SIZES: tuple[int, ...] = (4096, 262144, 4194304)
MIN_INPUT_SIZE = 1024
MAX_INPUT_SIZE = 16 * 1024 * 1024
MAX_WIDTH = 2048
INPUT_PREFIX = "inputs/"
OUTPUT_PREFIX = "outputs/"
#: Room kept for the PPM header; the rest of it is a comment that pads to the exact size.
_HEADER_ROOM = 64
_SEED = b"faasbench-thumbnail-input"
_CONTENT_TYPES = {"png": "image/png", "ppm": "image/x-portable-pixmap"}

ACCESS_KEY_ENV = "S3_ACCESS_KEY"
SECRET_KEY_ENV = "S3_SECRET_KEY"  # noqa: S105 (the variable's name)

INPUT_SIZE = IntParam("input_size", SEEDED_SIZES[0], MIN_INPUT_SIZE, MAX_INPUT_SIZE)
WIDTH = IntParam("width", 128, 1, MAX_WIDTH)
FORMAT = TextParam("format", default="png", choices=("png", "ppm"))
ENDPOINT = TextParam(
    "endpoint",
    env="S3_ENDPOINT",
    pattern=r"https?://[A-Za-z0-9.\-\[\]:]+/?",
    rule="http(s)://host[:port]",
    max_length=256,
)
BUCKET = TextParam(
    "bucket",
    env="S3_BUCKET",
    pattern=r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]",
    rule="an S3 bucket name (3 to 63 of a-z 0-9 . -)",
)
REGION = TextParam(
    "region", env="S3_REGION", default=DEFAULT_REGION, pattern=r"[a-z0-9\-]{1,32}", rule="a region"
)
TIMEOUT_S = FloatParam("timeout_s", 30.0, 0.1, 600.0)
PARAMS = (INPUT_SIZE, WIDTH, FORMAT, ENDPOINT, BUCKET, REGION, TIMEOUT_S)


@dataclass(frozen=True)
class Image:
    """8-bit RGB pixels, row-major, 3 bytes a pixel."""

    width: int
    height: int
    pixels: bytes

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError(f"image size {self.width}x{self.height} is empty")
        if len(self.pixels) != self.width * self.height * 3:
            raise ValueError(
                f"{len(self.pixels)} bytes of pixels for a {self.width}x{self.height} RGB image"
            )


class ImageError(ValueError):
    """Bytes that are not an image this codec reads."""


# --- PPM (P6, maxval 255) -------------------------------------------------------------------


def decode_ppm(data: bytes) -> Image:
    """A binary PPM: `P6`, width, height, maxval 255 (whitespace and `#` comments between), one
    whitespace byte, then the pixels."""
    if not data.startswith(b"P6"):
        raise ImageError("not a binary PPM (no P6 magic)")
    position, fields = 2, []
    while len(fields) < 3:
        if position >= len(data):
            raise ImageError("PPM header ends early")
        byte = data[position : position + 1]
        if byte.isspace():
            position += 1
        elif byte == b"#":
            end = data.find(b"\n", position)
            if end < 0:
                raise ImageError("PPM header ends in a comment")
            position = end + 1
        else:
            start = position
            while position < len(data) and data[position : position + 1].isdigit():
                position += 1
            if position == start:
                raise ImageError(f"PPM header has a non-digit at byte {start}")
            fields.append(int(data[start:position]))
    if position >= len(data) or not data[position : position + 1].isspace():
        raise ImageError("PPM header is not followed by one whitespace byte")
    width, height, maxval = fields
    if maxval != 255:
        raise ImageError(f"PPM maxval {maxval}: only 8-bit images (255) are read")
    if width < 1 or height < 1:
        raise ImageError(f"PPM size {width}x{height} is empty")
    start = position + 1
    end = start + width * height * 3
    if len(data) < end:
        raise ImageError(
            f"PPM {width}x{height} needs {end - start} bytes of pixels, has {len(data) - start}"
        )
    return Image(width, height, data[start:end])


def encode_ppm(image: Image, comment: str = "") -> bytes:
    header = b"P6\n"
    if comment:
        header += b"#" + comment.encode("ascii") + b"\n"
    return header + f"{image.width} {image.height}\n255\n".encode() + image.pixels


# --- PNG (8-bit RGB, not interlaced) ---------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_png(image: Image, level: int = 6) -> bytes:
    """PNG with filter type 0 (None) on every row, compressed with zlib at `level`."""
    stride = image.width * 3
    raw = b"".join(
        b"\0" + image.pixels[row * stride : (row + 1) * stride] for row in range(image.height)
    )
    header = struct.pack(">IIBBBBB", image.width, image.height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, level))
        + _chunk(b"IEND", b"")
    )


# --- scaling ---------------------------------------------------------------------------------


def _spans(source: int, target: int) -> list[tuple[int, int]]:
    """For each target index, the source range [start, stop) it averages: a box when shrinking,
    the nearest source pixel when growing."""
    spans = []
    for index in range(target):
        start = index * source // target
        stop = max((index + 1) * source // target, start + 1)
        spans.append((start, stop))
    return spans


def resize(image: Image, width: int, height: int) -> Image:
    """Area-average scaling to `width` x `height`: each output pixel is the rounded mean of the
    input pixels its box covers. Sums a box's rows lane by lane (C-level `map`), then each
    output pixel's columns (slices), so every input byte is read once per output row it feeds."""
    if width < 1 or height < 1:
        raise ValueError(f"target size {width}x{height} is empty")
    stride = image.width * 3
    columns = _spans(image.width, width)
    out = bytearray()
    pixels = image.pixels
    for y0, y1 in _spans(image.height, height):
        sums: list[int] = list(pixels[y0 * stride : (y0 + 1) * stride])
        for row in range(y0 + 1, y1):
            sums = list(map(int.__add__, sums, pixels[row * stride : (row + 1) * stride]))
        rows = y1 - y0
        for x0, x1 in columns:
            count = rows * (x1 - x0)
            half = count // 2
            for channel in range(3):
                total = sum(sums[x0 * 3 + channel : x1 * 3 : 3])
                out.append((total + half) // count)
    return Image(width, height, bytes(out))


def thumbnail_size(image: Image, width: int) -> tuple[int, int]:
    """`width` and the height that keeps the aspect ratio (at least 1)."""
    return width, max(1, round(image.height * width / image.width))


# --- seeded inputs ---------------------------------------------------------------------------


def input_key(size: int) -> str:
    return f"{INPUT_PREFIX}{size}.ppm"


def seed_dimensions(size: int) -> tuple[int, int]:
    """A near-square image whose pixels leave at least `_HEADER_ROOM` bytes of `size`."""
    if not MIN_INPUT_SIZE <= size <= MAX_INPUT_SIZE:
        raise ValueError(f"input size {size} is not within {MIN_INPUT_SIZE}..{MAX_INPUT_SIZE}")
    room = size - _HEADER_ROOM
    width = max(1, math.isqrt(room // 3))
    return width, room // (3 * width)


def seed_image(size: int) -> bytes:
    """The seeded input of `size` bytes, exactly: a PPM of a diagonal gradient with noise, the
    same bytes everywhere (SHAKE-256 from a fixed seed, no `random`). A header comment pads the
    file to `size`."""
    width, height = seed_dimensions(size)
    stride = width * 3
    noise = hashlib.shake_256(_SEED + str(size).encode()).digest(stride * height)
    # Lanes never carry: gradient 0..191 plus noise 0..63 stays below 256.
    gradient = bytes(
        (x * 3 + c) * 191 // max(1, stride - 1) for x in range(width) for c in range(3)
    )
    mask = bytes(range(64)) * 4
    rows = []
    for y in range(height):
        shift = y * 191 // max(1, height - 1)
        table = bytes((value + shift) % 192 for value in range(256))
        lane = int.from_bytes(gradient.translate(table)) + int.from_bytes(
            noise[y * stride : (y + 1) * stride].translate(mask)
        )
        rows.append(lane.to_bytes(stride))
    body = f"{width} {height}\n255\n".encode() + b"".join(rows)
    pad = size - len(b"P6\n") - len(body) - 2
    return b"P6\n#" + b" " * pad + b"\n" + body


def seed_inputs(
    client: S3Client, bucket: str, sizes: Iterable[int] = SEEDED_SIZES
) -> dict[str, str]:
    """Creates `bucket` if needed and uploads the seeded input of each size; key -> sha256."""
    client.create_bucket(bucket)
    digests = {}
    for size in sizes:
        data = seed_image(size)
        client.put_object(bucket, input_key(size), data, _CONTENT_TYPES["ppm"])
        if client.head_object(bucket, input_key(size)) != len(data):
            raise S3Error(f"HEAD {bucket}/{input_key(size)}", 0, "size differs after upload")
        digests[input_key(size)] = hashlib.sha256(data).hexdigest()
    return digests


# --- the function ----------------------------------------------------------------------------


def _credentials() -> Credentials:
    access = os.environ.get(ACCESS_KEY_ENV, "")
    secret = os.environ.get(SECRET_KEY_ENV, "")
    if not access or not secret:
        raise ParamError(f"missing environment variables {ACCESS_KEY_ENV} and {SECRET_KEY_ENV}")
    return Credentials(access, secret)


def client_from(params: Mapping[str, Any]) -> tuple[S3Client, str]:
    """The client and bucket a call uses: parameters over the environment."""
    endpoint = required(ENDPOINT.read(params), "endpoint", ENDPOINT.env)
    bucket = required(BUCKET.read(params), "bucket", BUCKET.env)
    region = REGION.read(params) or DEFAULT_REGION
    credentials, timeout_s = _credentials(), TIMEOUT_S.read(params)
    try:
        client = S3Client(endpoint.rstrip("/"), credentials, region, timeout_s)
    except ValueError as exc:
        raise ParamError(f"endpoint: {exc}") from None
    return client, bucket


def _ms(start: int, stop: int) -> float:
    return round((stop - start) / 1e6, 3)


def main(params: Mapping[str, Any]) -> Timed:
    size = INPUT_SIZE.read(params)
    width = WIDTH.read(params)
    kind = FORMAT.read(params) or "png"
    client, bucket = client_from(params)
    key = input_key(size)

    started = time.perf_counter_ns()
    try:
        data = client.get_object(bucket, key)
    except S3Error as exc:
        if exc.status == 404 and exc.code == "NoSuchKey":
            sizes = ", ".join(str(s) for s in SEEDED_SIZES)
            raise FunctionError(
                f"thumbnail: no input object {key} in bucket {bucket} ({exc.status} {exc.code}); "
                f"deployments seed input_size {sizes}"
            ) from exc
        raise FunctionError(f"thumbnail: {exc}") from exc
    fetched = time.perf_counter_ns()

    try:
        image = decode_ppm(data)
    except ImageError as exc:
        raise FunctionError(f"thumbnail: {key} is not a readable image: {exc}") from exc
    small = resize(image, *thumbnail_size(image, width))
    encoded = encode_png(small) if kind == "png" else encode_ppm(small)
    computed = time.perf_counter_ns()

    output = f"{OUTPUT_PREFIX}{time.time_ns()}-{os.urandom(6).hex()}.{kind}"
    try:
        client.put_object(bucket, output, encoded, _CONTENT_TYPES[kind])
    except S3Error as exc:
        raise FunctionError(f"thumbnail: {exc}") from exc
    stored = time.perf_counter_ns()

    timings = {
        "fetch_ms": _ms(started, fetched),
        "compute_ms": _ms(fetched, computed),
        "store_ms": _ms(computed, stored),
    }
    result = {
        "input_size": size,
        "input_key": key,
        "input_bytes": len(data),
        "input_sha256": hashlib.sha256(data).hexdigest(),
        "input_width": image.width,
        "input_height": image.height,
        "output_key": output,
        "output_bytes": len(encoded),
        "output_sha256": hashlib.sha256(encoded).hexdigest(),
        "output_width": small.width,
        "output_height": small.height,
        "format": kind,
        **timings,
    }
    return Timed(result, timings)


def cli(argv: list[str]) -> int:
    """`seed`: create the bucket and upload the seeded inputs (settings from the environment)."""
    if argv != ["seed"]:
        print("usage: python -m functions.thumbnail seed", file=sys.stderr)
        return 2
    try:
        client, bucket = client_from({})
        for key, digest in seed_inputs(client, bucket).items():
            print(f"{key} sha256 {digest}")
    except (ParamError, S3Error, ValueError) as exc:
        print(f"thumbnail seed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
