"""Per-request records: crash-safe append-only files, one per worker process."""

from loadgen.record.format import FORMAT_VERSION, RecordFooter, RecordHeader
from loadgen.record.inspect import NoRecordsError, RunInspection, inspect_run
from loadgen.record.reader import Record, RecordFile, RecordFormatError, record_files
from loadgen.record.writer import RecordWriter


def __getattr__(name: str) -> object:
    """`export_run` needs pyarrow: imported on first use, so reading records stays light."""
    if name == "export_run":
        from loadgen.record.export import export_run

        return export_run
    raise AttributeError(name)


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
