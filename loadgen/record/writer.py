"""Appending records without slowing the event loop and without losing them in a crash.

The loop packs each record into an in-memory buffer (tens of nanoseconds); every `flush()` (the
worker calls it at least every 100 ms) hands the buffer to a writer thread as one block. The
thread checksums and writes blocks and calls fsync at least once a second, so neither disk
latency nor fsync ever blocks the loop, and memory holds at most a flush interval of records.
"""

import os
import queue
import threading
import time
import zlib

from loadgen.engine.interface import Captured
from loadgen.record.format import (
    BLOCK,
    BLOCK_CHECKED,
    CAPTURE,
    MAGIC,
    PREAMBLE,
    RECORD,
    TAG_FOOTER,
    TAG_RECORDS,
    Reason,
    RecordFooter,
    RecordHeader,
)

FSYNC_EVERY_S = 1.0
_IDLE_WAKE_S = 0.25

_Block = tuple[bytes, bytes, int, int]


class RecordWriter:
    """One process's record file."""

    def __init__(self, path: str | os.PathLike[str], header: RecordHeader) -> None:
        self.path = os.fspath(path)
        self._epoch = header.monotonic_epoch_ns
        self._pack = RECORD.pack
        self._buffer = bytearray()
        self._pending = 0
        self._last_end = 0
        self.records = 0
        self.error: str | None = None
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        header_json = header.model_dump_json().encode()
        _write_all(fd, PREAMBLE.pack(MAGIC, header.format_version, len(header_json)) + header_json)
        self._fd = fd
        self._queue: queue.SimpleQueue[_Block | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, name="record-writer", daemon=True)
        self._thread.start()

    def append(
        self,
        intended_ns: int,
        send_ns: int,
        end_ns: int,
        status: int,
        nbytes: int,
        error: int,
        flags: int,
        captured: Captured,
        meta: bytes | None,
    ) -> None:
        epoch = self._epoch
        end = end_ns - epoch
        if captured is None and meta is None:
            self._buffer += self._pack(
                intended_ns - epoch, send_ns - epoch, end, status, nbytes, error, flags, 0, 0
            )
        else:
            self._append_variable(
                intended_ns - epoch,
                send_ns - epoch,
                end,
                status,
                nbytes,
                error,
                flags,
                captured,
                meta,
            )
        self._pending += 1
        if end > self._last_end:
            self._last_end = end

    def _append_variable(
        self,
        intended: int,
        send: int,
        end: int,
        status: int,
        nbytes: int,
        error: int,
        flags: int,
        captured: Captured,
        meta: bytes | None,
    ) -> None:
        pairs = [(slot, value[:0xFFFF]) for slot, value in captured or ()][:255]
        meta_bytes = meta or b""
        buffer = self._buffer
        buffer += self._pack(
            intended, send, end, status, nbytes, error, flags, len(pairs), len(meta_bytes)
        )
        for slot, value in pairs:
            buffer += CAPTURE.pack(slot, len(value))
            buffer += value
        buffer += meta_bytes

    def flush(self) -> None:
        """Hand what was appended since the last flush to the writer thread."""
        if self._pending:
            self._queue.put((TAG_RECORDS, bytes(self._buffer), self._pending, self._last_end))
            self.records += self._pending
            self._buffer = bytearray()
            self._pending = 0

    def close(self, *, warmup_records: int, dropped: int, end_ns: int, reason: Reason) -> None:
        """Flush, write the footer, fsync and wait for the thread; blocks the caller.

        `end_ns` is CLOCK_MONOTONIC, like the records.
        """
        self.flush()
        footer = RecordFooter(
            records=self.records,
            warmup_records=warmup_records,
            dropped=dropped,
            end_ns=end_ns - self._epoch,
            reason=reason,
        )
        payload = footer.model_dump_json().encode()
        self._queue.put((TAG_FOOTER, payload, 0, footer.end_ns))
        self._queue.put(None)
        self._thread.join()

    def _drain(self) -> None:
        fd = self._fd
        last_sync = time.monotonic()
        dirty = True  # the header: synced within a second like everything else
        while True:
            try:
                item = self._queue.get(timeout=_IDLE_WAKE_S)
            except queue.Empty:
                item = ()
            if item is None:
                break
            if item:
                tag, payload, count, last_end = item
                dirty = self._write_block(fd, tag, payload, count, last_end) or dirty
            if dirty and time.monotonic() - last_sync >= FSYNC_EVERY_S:
                self._sync(fd)
                last_sync = time.monotonic()
                dirty = False
        self._sync(fd)
        os.close(fd)

    def _write_block(self, fd: int, tag: bytes, payload: bytes, count: int, last_end: int) -> bool:
        if self.error is not None:
            return False
        checked = BLOCK_CHECKED.pack(tag, len(payload), count, last_end)
        crc = zlib.crc32(payload, zlib.crc32(checked))
        head = BLOCK.pack(tag, len(payload), crc, count, last_end)
        try:
            _write_all(fd, head + payload)
        except OSError as exc:
            self.error = f"writing {self.path}: {exc}"
            return False
        return True

    def _sync(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as exc:
            if self.error is None:
                self.error = f"fsync {self.path}: {exc}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
