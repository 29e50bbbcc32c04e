"""Processes the local target starts, told apart from a later process that reuses the pid.

A pid alone is not an identity: after a crash or a reboot the number may belong to something
else, and `down` must never signal that. Each tracked process is recorded with its start time
(field 22 of `/proc/<pid>/stat`, clock ticks since boot), which no other process can share with
the same pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcStat:
    """The fields of `/proc/<pid>/stat` the local target uses."""

    state: str
    start_ticks: int
    cpu_seconds: float


def read_stat(pid: int) -> ProcStat | None:
    """None when there is no such process (or it vanished while being read)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return ProcStat(
        state=fields[0], start_ticks=int(fields[19]), cpu_seconds=(utime + stime) / CLOCK_TICKS
    )


def resident_bytes(pid: int) -> int | None:
    """Resident set size from `/proc/<pid>/statm` (second field, in pages)."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return int(fields[1]) * PAGE_SIZE


@dataclass(frozen=True)
class Tracked:
    """A process `down` may stop: its name (for messages), pid and start time."""

    name: str
    pid: int
    start_ticks: int

    @classmethod
    def of(cls, name: str, pid: int) -> Tracked:
        stat = read_stat(pid)
        if stat is None:
            raise ProcessLookupError(f"{name} (pid {pid}) exited at once")
        return cls(name, pid, stat.start_ticks)

    def alive(self) -> bool:
        """True while this very process runs (a zombie has finished: it counts as gone)."""
        stat = read_stat(self.pid)
        return stat is not None and stat.start_ticks == self.start_ticks and stat.state != "Z"

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Tracked:
        return cls(str(data["name"]), int(str(data["pid"])), int(str(data["start_ticks"])))


def stop(process: Tracked, grace_s: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after `grace_s`; False if it was not running (nothing was sent)."""
    if not process.alive():
        return False
    try:
        os.kill(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not process.alive():
            return True
        _reap(process.pid)
        time.sleep(0.02)
    if process.alive():
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return True
        while process.alive():
            _reap(process.pid)
            time.sleep(0.02)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when the process is our own child, so it does not linger."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (it may hold passwords), atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_json(path: Path, data: object) -> None:
    write_private(path, json.dumps(data, indent=2) + "\n")
