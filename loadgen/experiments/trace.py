"""Per-minute invocation counts in the layout of the Azure Functions 2019 trace.

`invocations_per_function_md.anon.d<NN>.csv`: columns HashOwner, HashApp, HashFunction,
Trigger, then `1` .. `1440`, the invocations of that function in each minute of the day. The
trace itself is not shipped (and cannot be downloaded here); any file in that layout works.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from loadgen.userfiles import TRACE_LIMIT, TRACE_LINE_LIMIT, UserFileError, shorten, text_lines

KEY_COLUMNS = ("HashOwner", "HashApp", "HashFunction", "Trigger")
MINUTES = 1440
#: The most invocations a trace minute may hold (the Azure trace's busiest functions stay far
#: below); a replay's rate is bounded again after scaling (`MAX_RATE`).
MAX_COUNT = 1_000_000_000


class TraceError(ValueError):
    """The trace file cannot be used (the message names the file and the problem)."""


class TraceRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    function: str
    trigger: str
    counts: tuple[int, ...]
    """Invocations in minutes 1..1440."""


def read_trace(path: Path, functions: set[str]) -> dict[str, TraceRow]:
    """The rows of the given HashFunction values (each must be present once). The file is
    streamed through `loadgen.userfiles` (a regular file; lines and size bounded)."""
    lines = text_lines(path, kind="a trace file", limit=TRACE_LIMIT, line_limit=TRACE_LINE_LIMIT)
    try:
        return _rows(path, csv.DictReader(lines), functions)
    except UserFileError as exc:
        raise TraceError(str(exc)) from None
    except csv.Error as exc:
        raise TraceError(f"{path}: not CSV ({shorten(str(exc))})") from None


def _rows(path: Path, reader: csv.DictReader[str], functions: set[str]) -> dict[str, TraceRow]:
    rows: dict[str, TraceRow] = {}
    header = reader.fieldnames or []
    expected = [*KEY_COLUMNS, *(str(m) for m in range(1, MINUTES + 1))]
    if list(header[: len(expected)]) != expected:
        raise TraceError(
            f"{path}: not the Azure Functions trace layout (expected columns "
            f"{', '.join(KEY_COLUMNS)}, 1 .. {MINUTES})"
        )
    for row in reader:
        line = reader.line_num
        function = row["HashFunction"]
        if function not in functions:
            continue
        if function in rows:
            raise TraceError(f"{path}:{line}: HashFunction {shorten(function)} appears twice")
        try:
            counts = tuple(int(row[str(m)]) for m in range(1, MINUTES + 1))
        except (TypeError, ValueError):
            raise TraceError(
                f"{path}:{line}: counts must be whole numbers (1440 of them)"
            ) from None
        if min(counts) < 0 or max(counts) > MAX_COUNT:
            raise TraceError(f"{path}:{line}: counts must be from 0 to {MAX_COUNT:,}")
        rows[function] = TraceRow(function=function, trigger=row["Trigger"] or "", counts=counts)
    missing = sorted(functions - set(rows))
    if missing:
        raise TraceError(f"{path}: no row for HashFunction {shorten(', '.join(missing))}")
    return rows
