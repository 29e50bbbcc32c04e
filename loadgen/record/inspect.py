"""What a records directory holds, and whether every process finished writing it."""

import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from loadgen.record.reader import RecordFile, RecordFormatError, record_files


class FileInspection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    process_index: int | None
    records: int
    complete: bool
    torn: bool
    reason: str | None
    """The footer's reason (completed, interrupted, aborted); None without a footer."""
    error: str | None


class RunInspection(BaseModel):
    """`loadgen inspect --json`; the first five keys are the documented contract."""

    model_config = ConfigDict(extra="forbid")

    records: int
    complete: bool
    processes: int
    started: str | None
    ended: str | None
    run_id: str | None
    format_version: int | None
    files: list[FileInspection]
    problems: list[str]


class NoRecordsError(ValueError):
    """The directory holds no record files."""


def _iso(epoch_ns: int) -> str:
    moment = datetime.fromtimestamp(epoch_ns / 1e9, tz=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def inspect_run(directory: str | os.PathLike[str]) -> RunInspection:
    """Scan every block of every file (checksums included) without decoding records."""
    paths = record_files(directory)
    if not paths:
        raise NoRecordsError(f"no record files in {Path(directory)}")
    files: list[FileInspection] = []
    problems: list[str] = []
    run_ids: set[str] = set()
    declared: set[int] = set()
    versions: set[int] = set()
    starts: list[int] = []
    ends: list[int] = []
    for path in paths:
        try:
            record_file = RecordFile(path)
        except RecordFormatError as exc:
            files.append(
                FileInspection(
                    path=str(path),
                    process_index=None,
                    records=0,
                    complete=False,
                    torn=True,
                    reason=None,
                    error=str(exc),
                )
            )
            problems.append(str(exc))
            continue
        with record_file:
            header = record_file.header
            run_ids.add(header.run_id)
            declared.add(header.processes)
            versions.add(header.format_version)
            starts.append(header.wall_anchor_ns + header.start_ns)
            last_end = record_file.last_end_ns
            if last_end is not None:
                ends.append(header.wall_anchor_ns + last_end)
            complete = record_file.complete
            footer = record_file.footer
            if record_file.torn:
                problems.append(f"{path.name}: ends in a torn or corrupt block")
            elif footer is None:
                problems.append(f"{path.name}: no footer (the process did not finish)")
            files.append(
                FileInspection(
                    path=str(path),
                    process_index=header.process_index,
                    records=record_file.record_count,
                    complete=complete,
                    torn=record_file.torn,
                    reason=footer.reason if footer is not None else None,
                    error=None,
                )
            )
    processes = max(declared) if declared else len(paths)
    if len(run_ids) > 1:
        problems.append(f"files from {len(run_ids)} different runs")
    if len(declared) > 1:
        problems.append("files disagree on the number of processes")
    indices = {file.process_index for file in files if file.process_index is not None}
    missing = sorted(set(range(processes)) - indices)
    if missing:
        problems.append(f"record files missing for processes {missing}")
    complete = not problems and all(file.complete for file in files)
    return RunInspection(
        records=sum(file.records for file in files),
        complete=complete,
        processes=processes,
        started=_iso(min(starts)) if starts else None,
        ended=_iso(max(ends)) if ends else None,
        run_id=run_ids.pop() if len(run_ids) == 1 else None,
        format_version=versions.pop() if len(versions) == 1 else None,
        files=files,
        problems=problems,
    )
