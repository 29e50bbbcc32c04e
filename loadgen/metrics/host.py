"""How busy the loader's host was during a run: load average and CPU shares from /proc.

Linux only: elsewhere (or where /proc cannot be read) every figure is None. The validity rule
(`loadgen.metrics.validity`) uses these to tell a saturated loader from a busy host.

- load average: the first field of /proc/loadavg (runnable and uninterruptible tasks, averaged
  over a minute), read when the run starts and when it ends;
- CPU shares: from the aggregate `cpu` line of /proc/stat, read at both instants; over the
  difference, busy = (user + nice + system + irq + softirq) ÷ total and steal = steal ÷ total,
  where total also counts idle and iowait (guest time is already inside user and nice).
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from loadgen.metrics.summary import HostLoad

PROC_STAT = Path("/proc/stat")
PROC_LOADAVG = Path("/proc/loadavg")


@dataclass(frozen=True)
class CpuTimes:
    """Cumulative time of all CPUs, in clock ticks, by what they did."""

    busy: int
    idle: int
    steal: int

    @property
    def total(self) -> int:
        return self.busy + self.idle + self.steal


def parse_proc_stat(text: str) -> CpuTimes | None:
    """The aggregate `cpu` line of /proc/stat; None when there is none or it is malformed.

    Its fields are user nice system idle iowait irq softirq steal guest guest_nice; kernels
    before 2.6.11 stop before steal (counted 0), and guest time is already in user and nice."""
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0] != "cpu":
            continue
        try:
            values = [int(value) for value in fields[1:9]]
        except ValueError:
            return None
        if len(values) < 4 or any(value < 0 for value in values):
            return None
        values += [0] * (8 - len(values))
        user, nice, system, idle, iowait, irq, softirq, steal = values
        return CpuTimes(busy=user + nice + system + irq + softirq, idle=idle + iowait, steal=steal)
    return None


def parse_loadavg(text: str) -> float | None:
    """The 1-minute load average, the first field of /proc/loadavg."""
    fields = text.split()
    try:
        value = float(fields[0])
    except (IndexError, ValueError):
        return None
    return value if value >= 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


@dataclass(frozen=True)
class HostSample:
    """The host's counters at one instant."""

    load1: float | None
    cpu: CpuTimes | None
    monotonic_ns: int


def sample_host(stat: Path = PROC_STAT, loadavg: Path = PROC_LOADAVG) -> HostSample:
    stat_text = _read(stat)
    load_text = _read(loadavg)
    return HostSample(
        load1=None if load_text is None else parse_loadavg(load_text),
        cpu=None if stat_text is None else parse_proc_stat(stat_text),
        monotonic_ns=time.monotonic_ns(),
    )


def host_load(start: HostSample, end: HostSample, cpus: int | None = None) -> HostLoad:
    """What the host did between two samples; a share is None without both CPU readings or
    when no tick passed between them."""
    busy = steal = None
    if start.cpu is not None and end.cpu is not None:
        total = end.cpu.total - start.cpu.total
        if total > 0:
            busy = round(max(end.cpu.busy - start.cpu.busy, 0) / total, 4)
            steal = round(max(end.cpu.steal - start.cpu.steal, 0) / total, 4)
    return HostLoad(
        cpus=cpus if cpus is not None else os.cpu_count(),
        load1_start=start.load1,
        load1_end=end.load1,
        cpu_busy=busy,
        cpu_steal=steal,
    )
