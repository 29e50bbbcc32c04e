"""What a records directory holds, and whether every process finished writing it.

A directory holds one engine run (`records-NNN.lgrec`, one file per process) or, for a campaign
cell with several segments (a forced cold start, then load; an idle wait, then load), one engine
run per segment, each its own run id, the files prefixed `sNNN-` with the segment's index. Each
run must have one intact file with a footer for every one of its processes.
"""

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from loadgen.record.format import RecordHeader
from loadgen.record.reader import RecordFile, RecordFormatError, record_files

_SEGMENT = re.compile(r"^s(\d{3})-")


class FileInspection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    segment: int | None = None
    """The campaign segment the file belongs to (its `sNNN-` prefix); None without one."""
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
    """The run's id; None when the directory holds several runs (segments)."""
    format_version: int | None
    segments: int
    """Engine runs of a segmented cell (`sNNN-` files); 0 for a plain `hit --records` run."""
    files: list[FileInspection]
    problems: list[str]
    """What is wrong, one sentence each, naming the file or the process; empty when complete."""


class NoRecordsError(ValueError):
    """The directory holds no record files."""


def _iso(epoch_ns: int) -> str:
    moment = datetime.fromtimestamp(epoch_ns / 1e9, tz=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _segment(path: Path) -> int | None:
    match = _SEGMENT.match(path.name)
    return int(match.group(1)) if match else None


def _run_problems(
    label: str, files: list[FileInspection], headers: list[RecordHeader]
) -> list[str]:
    """What is wrong with the files of one engine run (LABEL names it in the sentences)."""
    problems: list[str] = []
    run_ids = {header.run_id for header in headers}
    if len(run_ids) > 1:
        problems.append(
            f"{label}records of {len(run_ids)} different runs are mixed in one directory "
            f"(run ids {', '.join(sorted(run_ids))}); give each run its own directory"
        )
    declared = {header.processes for header in headers}
    if len(declared) > 1:
        problems.append(
            f"{label}the files disagree on how many processes the run had "
            f"({', '.join(str(n) for n in sorted(declared))})"
        )
    processes = max(declared) if declared else len(files)
    indices = {file.process_index for file in files if file.process_index is not None}
    for index in sorted(set(range(processes)) - indices):
        problems.append(
            f"{label}no record file for process {index} of {processes} "
            "(it did not start, or its file was removed)"
        )
    return problems


def inspect_run(directory: str | os.PathLike[str]) -> RunInspection:
    """Scan every block of every file (checksums included) without decoding records."""
    paths = record_files(directory)
    if not paths:
        raise NoRecordsError(f"no record files in {Path(directory)}")
    files: list[FileInspection] = []
    problems: list[str] = []
    headers: dict[int | None, list[RecordHeader]] = {}
    versions: set[int] = set()
    starts: list[int] = []
    ends: list[int] = []
    for path in paths:
        segment = _segment(path)
        try:
            record_file = RecordFile(path)
        except RecordFormatError as exc:
            files.append(
                FileInspection(
                    path=str(path),
                    segment=segment,
                    process_index=None,
                    records=0,
                    complete=False,
                    torn=True,
                    reason=None,
                    error=str(exc),
                )
            )
            problems.append(f"{path.name}: unreadable, not a record file or cut short: {exc}")
            continue
        with record_file:
            header = record_file.header
            headers.setdefault(segment, []).append(header)
            versions.add(header.format_version)
            starts.append(header.wall_anchor_ns + header.start_ns)
            last_end = record_file.last_end_ns
            if last_end is not None:
                ends.append(header.wall_anchor_ns + last_end)
            footer = record_file.footer
            process = f"process {header.process_index}"
            if record_file.torn:
                problems.append(
                    f"{path.name}: ends in a torn or corrupt block ({process} stopped while "
                    f"writing); the {record_file.record_count:,} records before it are intact"
                )
            elif footer is None:
                problems.append(
                    f"{path.name}: no footer: {process} did not finish (killed, or still running)"
                )
            elif footer.reason == "aborted":
                problems.append(
                    f"{path.name}: process {header.process_index} stopped when its coordinator "
                    "went away, before its work was done; its records are intact"
                )
            files.append(
                FileInspection(
                    path=str(path),
                    segment=segment,
                    process_index=header.process_index,
                    records=record_file.record_count,
                    complete=record_file.complete,
                    torn=record_file.torn,
                    reason=footer.reason if footer is not None else None,
                    error=None,
                )
            )
    segmented = sorted(key for key in {_segment(path) for path in paths} if key is not None)
    if segmented and any(_segment(path) is None for path in paths):
        problems.append(
            "plain record files (records-NNN) beside segment files (sNNN-records-NNN): "
            "records of a `hit` run and of a campaign cell are mixed in one directory"
        )
    for segment, group in sorted(headers.items(), key=lambda item: (item[0] is None, item[0])):
        label = "" if segment is None else f"segment {segment}: "
        members = [file for file in files if file.segment == segment]
        problems.extend(_run_problems(label, members, group))
    run_ids = {header.run_id for group in headers.values() for header in group}
    processes = max((h.processes for group in headers.values() for h in group), default=len(paths))
    complete = not problems and all(file.complete for file in files)
    return RunInspection(
        records=sum(file.records for file in files),
        complete=complete,
        processes=processes,
        started=_iso(min(starts)) if starts else None,
        ended=_iso(max(ends)) if ends else None,
        run_id=run_ids.pop() if len(run_ids) == 1 else None,
        format_version=versions.pop() if len(versions) == 1 else None,
        segments=len(segmented),
        files=files,
        problems=problems,
    )
