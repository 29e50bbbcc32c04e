"""Converting record files into Parquet or CSV for pandas, polars and DuckDB.

Rows are streamed in batches, so a long run converts in bounded memory. Times stay in ns since
the run's monotonic epoch; `latency_ns`, `service_ns` and `sched_lag_ns` follow the project's
definitions, and the wall-clock anchor travels in the Parquet metadata (and, for both formats,
as the `wall_anchor_ns` column).
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from loadgen.engine.errors import ErrorKind, error_class
from loadgen.record.format import FLAG_NEW_CONNECTION, FLAG_WARMUP, ExportFormat
from loadgen.record.inspect import NoRecordsError
from loadgen.record.reader import RecordFile, record_files

BATCH_ROWS = 65_536

_FIXED_FIELDS: list[pa.Field] = [
    pa.field("process", pa.int32()),
    pa.field("intended_ns", pa.int64()),
    pa.field("send_ns", pa.int64()),
    pa.field("end_ns", pa.int64()),
    pa.field("latency_ns", pa.int64()),
    pa.field("service_ns", pa.int64()),
    pa.field("sched_lag_ns", pa.int64()),
    pa.field("status", pa.int32()),
    pa.field("bytes", pa.int64()),
    pa.field("ok", pa.bool_()),
    pa.field("error", pa.string()),
    pa.field("warmup", pa.bool_()),
    pa.field("new_connection", pa.bool_()),
    pa.field("wall_anchor_ns", pa.int64()),
]


def header_column(name: str) -> str:
    """Column of a captured header: `X-Call-Id` -> `header_x_call_id`."""
    return "header_" + name.lower().replace("-", "_")


def _schema(capture_headers: list[str], metadata: dict[str, str]) -> pa.Schema:
    fields = list(_FIXED_FIELDS)
    fields.extend(pa.field(header_column(name), pa.string()) for name in capture_headers)
    fields.append(pa.field("meta", pa.string()))
    return pa.schema(fields, metadata=metadata)


def _batches(record_file: RecordFile, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    header = record_file.header
    open_loop = header.workload.get("kind") == "open"
    captures = [header_column(name) for name in header.capture_headers]
    columns: dict[str, list[Any]] = {field.name: [] for field in schema}
    dropped = int(ErrorKind.DROPPED)
    rows = 0
    for record in record_file.records():
        sent = record.error != dropped
        columns["process"].append(header.process_index)
        columns["intended_ns"].append(record.intended_ns)
        columns["send_ns"].append(record.send_ns if sent else None)
        columns["end_ns"].append(record.end_ns)
        if sent:
            start = record.intended_ns if open_loop else record.send_ns
            columns["latency_ns"].append(record.end_ns - start)
            columns["service_ns"].append(record.end_ns - record.send_ns)
            columns["sched_lag_ns"].append(record.send_ns - record.intended_ns if open_loop else 0)
        else:
            columns["latency_ns"].append(None)
            columns["service_ns"].append(None)
            columns["sched_lag_ns"].append(None)
        columns["status"].append(record.status)
        columns["bytes"].append(record.bytes)
        columns["ok"].append(record.ok)
        columns["error"].append(error_class(record.error, record.status))
        columns["warmup"].append(bool(record.flags & FLAG_WARMUP))
        columns["new_connection"].append(bool(record.flags & FLAG_NEW_CONNECTION))
        columns["wall_anchor_ns"].append(header.wall_anchor_ns)
        values = dict(record.captured)
        for slot, column in enumerate(captures):
            raw = values.get(slot)
            columns[column].append(None if raw is None else raw.decode("latin-1"))
        columns["meta"].append(None if record.meta is None else record.meta.decode())
        rows += 1
        if rows == BATCH_ROWS:
            yield pa.RecordBatch.from_pydict(columns, schema=schema)
            columns = {name: [] for name in columns}
            rows = 0
    if rows:
        yield pa.RecordBatch.from_pydict(columns, schema=schema)


def export_run(
    directory: str | os.PathLike[str], output: str | os.PathLike[str], fmt: ExportFormat
) -> int:
    """Write every record of the run to `output`; returns the number of rows."""
    paths = record_files(directory)
    if not paths:
        raise NoRecordsError(f"no record files in {Path(directory)}")
    files = [RecordFile(path) for path in paths]
    try:
        first = files[0].header
        captures = list(first.capture_headers)
        for record_file in files[1:]:
            if record_file.header.capture_headers != captures:
                raise ValueError("record files disagree on captured headers")
        metadata = {
            "loadgen.run_id": first.run_id,
            "loadgen.format_version": str(first.format_version),
            "loadgen.wall_anchor_ns": str(first.wall_anchor_ns),
            "loadgen.url": first.url,
            "loadgen.method": first.method,
        }
        schema = _schema(captures, metadata)
        rows = 0
        if fmt == "parquet":
            with pq.ParquetWriter(os.fspath(output), schema) as parquet_writer:
                for record_file in files:
                    for batch in _batches(record_file, schema):
                        parquet_writer.write_batch(batch)
                        rows += batch.num_rows
        else:
            with pa_csv.CSVWriter(os.fspath(output), schema) as csv_writer:
                for record_file in files:
                    for batch in _batches(record_file, schema):
                        csv_writer.write_batch(batch)
                        rows += batch.num_rows
        return rows
    finally:
        for record_file in files:
            record_file.close()
