"""The per-process record file, format version 1.

A file is a preamble, a JSON header, then blocks:

    preamble  magic b"LGRECORD", u32 format version, u32 header length   (little-endian)
    header    UTF-8 JSON, a `RecordHeader`
    block*    tag (4 bytes), u32 payload length, u32 CRC-32, u32 record count,
              i64 latest end_ns in the block, then the payload

`RECS` blocks hold records back to back; one `FOOT` block (JSON `RecordFooter`) ends a file
that was closed normally. The CRC covers the block's other header fields and its payload, so a
reader stops at the first torn or corrupt block and keeps everything before it.

A record is a fixed part (`RECORD`) followed by its captured headers (`CAPTURE` + value bytes
each) and its `meta` JSON:

    intended_ns, send_ns, end_ns   i64, ns since the run's monotonic epoch
    status                         u16, 0 when no response was parsed
    bytes                          u64, response body bytes (after de-chunking)
    error                          u8, code into the header's `error_classes`
    flags                          u8, FLAG_WARMUP | FLAG_NEW_CONNECTION
    captured                       u8, number of captured headers that follow
    meta_length                    u32, bytes of meta JSON after the captured headers
"""

import struct
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAGIC = b"LGRECORD"
FORMAT_VERSION = 1
FORMAT_NAME = "faasbench-loadgen-records"

PREAMBLE = struct.Struct("<8sII")
BLOCK = struct.Struct("<4sIIIq")
BLOCK_CHECKED = struct.Struct("<4sIIq")
"""The block header fields the CRC covers (all but the CRC itself)."""
RECORD = struct.Struct("<qqqHQBBBI")
CAPTURE = struct.Struct("<BH")

TAG_RECORDS = b"RECS"
TAG_FOOTER = b"FOOT"

FLAG_WARMUP = 0x01
FLAG_NEW_CONNECTION = 0x02

RECORD_FILE_SUFFIX = ".lgrec"

ExportFormat = Literal["parquet", "csv"]


def record_file_name(process_index: int) -> str:
    return f"records-{process_index:03d}{RECORD_FILE_SUFFIX}"


class RecordHeader(BaseModel):
    """Describes one process's record file; identical run fields in every file of a run."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["faasbench-loadgen-records"] = FORMAT_NAME
    format_version: int = FORMAT_VERSION
    run_id: str
    process_index: int = Field(ge=0)
    processes: int = Field(ge=1)
    monotonic_epoch_ns: int
    """CLOCK_MONOTONIC reading that every *_ns field in the records is relative to."""
    wall_anchor_ns: int
    """Unix epoch ns at the monotonic epoch: wall time of a record = anchor + its *_ns."""
    start_ns: int
    """When the run started (first intended send), ns since the epoch."""
    hostname: str
    pid: int
    loadgen_version: str
    engine: str
    method: str
    url: str
    workload: dict[str, Any]
    capture_headers: list[str]
    #: Closed-loop asynchronous jobs: how long each user waited for its call's completion
    #: after the 202 (a completion later than that is lost); None for every other run.
    job_deadline_s: float | None = None
    error_classes: dict[int, str]
    """Error code -> class; code `http` stands for `http_<status>`."""
    record_layout: str = RECORD.format


Reason = Literal["completed", "interrupted", "aborted"]
"""Why a process stopped: its work was done, it was told to stop, or its coordinator vanished."""


class RecordFooter(BaseModel):
    """Written last by a process that ended normally."""

    model_config = ConfigDict(extra="forbid")

    records: int = Field(ge=0)
    warmup_records: int = Field(ge=0)
    dropped: int = Field(ge=0)
    end_ns: int
    reason: Reason
