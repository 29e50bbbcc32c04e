"""Reading record files back, including files whose writer was killed mid-run.

Blocks are checked one by one; the first torn or corrupt block ends the file, and everything
before it is returned. Only a file with a footer and nothing after it is complete.
"""

import mmap
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from loadgen.engine.errors import ErrorKind, error_class
from loadgen.record.format import (
    BLOCK,
    BLOCK_CHECKED,
    CAPTURE,
    MAGIC,
    PREAMBLE,
    RECORD,
    RECORD_FILE_SUFFIX,
    TAG_FOOTER,
    TAG_RECORDS,
    RecordFooter,
    RecordHeader,
)
from loadgen.userfiles import UserFileError, open_regular, shorten

SUPPORTED_VERSIONS = frozenset({1})


class RecordFormatError(ValueError):
    """The file is not a readable record file (bad magic, unknown version, broken header)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One request as stored; times are ns since the run's monotonic epoch."""

    intended_ns: int
    send_ns: int
    end_ns: int
    status: int
    bytes: int
    error: int
    flags: int
    captured: tuple[tuple[int, bytes], ...]
    meta: bytes | None

    @property
    def ok(self) -> bool:
        return self.error == ErrorKind.NONE

    @property
    def error_class(self) -> str | None:
        return error_class(self.error, self.status)


@dataclass(frozen=True, slots=True)
class Block:
    """Where an intact records block's payload lies in the file."""

    count: int
    last_end_ns: int
    offset: int
    length: int


class RecordFile:
    """A record file opened for reading; the header is parsed eagerly, blocks lazily.

    The file is memory-mapped, so reading a long run does not load it into memory at once.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            handle = open_regular(self.path)
        except UserFileError as exc:
            raise RecordFormatError(str(exc)) from None
        with handle:
            size = os.fstat(handle.fileno()).st_size
            if size < PREAMBLE.size:
                raise RecordFormatError(f"{self.path}: too short to be a record file")
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._parse_header()
        except RecordFormatError:
            self._data.close()
            raise
        self.footer: RecordFooter | None = None
        self.torn = False
        self._scanned: list[Block] | None = None

    def close(self) -> None:
        self._scanned = None
        self._data.close()

    def __enter__(self) -> "RecordFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _parse_header(self) -> None:
        magic, version, header_length = PREAMBLE.unpack_from(self._data)
        if magic != MAGIC:
            raise RecordFormatError(f"{self.path}: not a loadgen record file")
        if version not in SUPPORTED_VERSIONS:
            raise RecordFormatError(f"{self.path}: unsupported record format version {version}")
        start = PREAMBLE.size
        end = start + header_length
        if end > len(self._data):
            raise RecordFormatError(f"{self.path}: header is truncated")
        try:
            self.header = RecordHeader.model_validate_json(self._data[start:end])
        except ValidationError as exc:
            first = exc.errors(include_input=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "(header)"
            problem = shorten(f"{where}: {first['msg']}", 120)
            raise RecordFormatError(f"{self.path}: invalid header: {problem}") from None
        self._blocks_start = end

    def blocks(self) -> list[Block]:
        """Every intact records block, in order; sets `footer` and `torn`."""
        if self._scanned is not None:
            return self._scanned
        data = self._data
        offset = self._blocks_start
        blocks: list[Block] = []
        while offset < len(data):
            if offset + BLOCK.size > len(data):
                self.torn = True
                break
            tag, length, crc, count, last_end = BLOCK.unpack_from(data, offset)
            payload_start = offset + BLOCK.size
            payload_end = payload_start + length
            if payload_end > len(data):
                self.torn = True
                break
            payload = data[payload_start:payload_end]
            checked = BLOCK_CHECKED.pack(tag, length, count, last_end)
            if zlib.crc32(payload, zlib.crc32(checked)) != crc:
                self.torn = True
                break
            offset = payload_end
            if tag == TAG_RECORDS:
                blocks.append(Block(count, last_end, payload_start, length))
            elif tag == TAG_FOOTER:
                try:
                    self.footer = RecordFooter.model_validate_json(payload)
                except ValidationError:
                    self.torn = True
                if offset != len(data):
                    self.torn = True
                break
            else:
                self.torn = True
                break
        self._scanned = blocks
        return blocks

    @property
    def record_count(self) -> int:
        return sum(block.count for block in self.blocks())

    @property
    def last_end_ns(self) -> int | None:
        blocks = self.blocks()
        if not blocks:
            return None
        return max(block.last_end_ns for block in blocks)

    @property
    def complete(self) -> bool:
        blocks = self.blocks()
        footer = self.footer
        return (
            footer is not None
            and not self.torn
            and footer.records == sum(block.count for block in blocks)
        )

    def records(self) -> Iterator[Record]:
        for block in self.blocks():
            yield from decode_block(self._data[block.offset : block.offset + block.length])


def decode_block(payload: bytes) -> Iterator[Record]:
    unpack_record = RECORD.unpack_from
    record_size = RECORD.size
    unpack_capture = CAPTURE.unpack_from
    capture_size = CAPTURE.size
    offset = 0
    end = len(payload)
    while offset < end:
        intended, send, finish, status, nbytes, error, flags, ncaptured, meta_length = (
            unpack_record(payload, offset)
        )
        offset += record_size
        captured: tuple[tuple[int, bytes], ...] = ()
        if ncaptured:
            pairs = []
            for _ in range(ncaptured):
                slot, length = unpack_capture(payload, offset)
                offset += capture_size
                pairs.append((slot, payload[offset : offset + length]))
                offset += length
            captured = tuple(pairs)
        meta = None
        if meta_length:
            meta = payload[offset : offset + meta_length]
            offset += meta_length
        yield Record(intended, send, finish, status, nbytes, error, flags, captured, meta)


def record_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The record files of a run directory, in process order."""
    return sorted(Path(directory).glob(f"*{RECORD_FILE_SUFFIX}"))
