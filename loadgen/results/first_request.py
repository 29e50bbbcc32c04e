"""The first measured request of a segment, read from its record files: what a forced or
natural cold start led to (`summary.json`'s `first_request`)."""

from __future__ import annotations

from pathlib import Path

from loadgen.engine.errors import ErrorKind
from loadgen.engine.options import CORRELATION_HEADERS
from loadgen.record.format import FLAG_WARMUP
from loadgen.record.reader import RecordFile
from loadgen.results.models import FirstRequest


def first_request(paths: list[Path]) -> FirstRequest | None:
    """The measured request with the earliest intended start across a segment's record files,
    in wall-clock ns (each file's wall anchor plus the record's offset from its epoch), with its
    outcome and captured correlation id; None when the segment measured none."""
    found: tuple[int, FirstRequest] | None = None
    dropped = int(ErrorKind.DROPPED)
    for path in paths:
        with RecordFile(path) as records:
            header = records.header
            slots = {
                slot
                for slot, name in enumerate(header.capture_headers)
                if name.lower() in CORRELATION_HEADERS
            }
            for record in records.records():
                intended = record.intended_ns + header.monotonic_epoch_ns
                if record.flags & FLAG_WARMUP or record.error == dropped:
                    continue
                if found is not None and intended >= found[0]:
                    continue
                call_id = next(
                    (value.decode("latin-1") for slot, value in record.captured if slot in slots),
                    None,
                )
                found = (
                    intended,
                    FirstRequest(
                        send_ns=header.wall_anchor_ns + record.send_ns,
                        end_ns=header.wall_anchor_ns + record.end_ns,
                        ok=record.error_class is None,
                        id=call_id,
                    ),
                )
    return None if found is None else found[1]
