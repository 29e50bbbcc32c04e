"""Per-request records: crash-safe append-only files, one per worker process."""

from loadgen.record.export import export_run
from loadgen.record.format import FORMAT_VERSION, RecordFooter, RecordHeader
from loadgen.record.inspect import NoRecordsError, RunInspection, inspect_run
from loadgen.record.reader import Record, RecordFile, RecordFormatError, record_files
from loadgen.record.writer import RecordWriter

__all__ = [
    "FORMAT_VERSION",
    "NoRecordsError",
    "Record",
    "RecordFile",
    "RecordFooter",
    "RecordFormatError",
    "RecordHeader",
    "RecordWriter",
    "RunInspection",
    "export_run",
    "inspect_run",
    "record_files",
]
