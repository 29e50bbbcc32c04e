"""Per-minute invocation counts in the layout of the Azure Functions 2019 trace.

`invocations_per_function_md.anon.d<NN>.csv`: columns HashOwner, HashApp, HashFunction,
Trigger, then `1` .. `1440`, the invocations of that function in each minute of the day. The
trace itself is not shipped (and cannot be downloaded here); any file in that layout works.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import BaseModel, ConfigDict

KEY_COLUMNS = ("HashOwner", "HashApp", "HashFunction", "Trigger")
MINUTES = 1440


class TraceError(ValueError):
    """The trace file cannot be used (the message names the file and the problem)."""


class TraceRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    function: str
    trigger: str
    counts: tuple[int, ...]
    """Invocations in minutes 1..1440."""


def read_trace(path: Path, functions: set[str]) -> dict[str, TraceRow]:
    """The rows of the given HashFunction values (each must be present once)."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise TraceError(f"{path}: {exc.strerror}") from None
    rows: dict[str, TraceRow] = {}
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        expected = [*KEY_COLUMNS, *(str(m) for m in range(1, MINUTES + 1))]
        if header[: len(expected)] != expected:
            raise TraceError(
                f"{path}: not the Azure Functions trace layout (expected columns "
                f"{', '.join(KEY_COLUMNS)}, 1 .. {MINUTES})"
            )
        for line, row in enumerate(reader, start=2):
            function = row["HashFunction"]
            if function not in functions:
                continue
            if function in rows:
                raise TraceError(f"{path}:{line}: HashFunction {function} appears twice")
            try:
                counts = tuple(int(row[str(m)]) for m in range(1, MINUTES + 1))
            except (TypeError, ValueError):
                raise TraceError(f"{path}:{line}: counts must be whole numbers") from None
            if min(counts) < 0:
                raise TraceError(f"{path}:{line}: counts must not be negative")
            rows[function] = TraceRow(function=function, trigger=row["Trigger"], counts=counts)
    missing = sorted(functions - set(rows))
    if missing:
        raise TraceError(f"{path}: no row for HashFunction {', '.join(missing)}")
    return rows


def minute_rates(
    row: TraceRow, *, start_minute: int, minutes: int, scale: float, minute_s: float
) -> list[float]:
    """Requests per second for each minute of the window: count × scale spread over the
    (possibly compressed) minute. A zero is a minute without load."""
    window = row.counts[start_minute - 1 : start_minute - 1 + minutes]
    return [count * scale / minute_s for count in window]
