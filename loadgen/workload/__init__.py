"""Workloads: when requests are sent (closed-loop users, open-loop schedules)."""

from loadgen.workload.closed import ClosedLoopDriver
from loadgen.workload.driver import Driver, Recorder
from loadgen.workload.open import OpenLoopDriver
from loadgen.workload.schedule import constant_offsets, poisson_offsets, process_schedule
from loadgen.workload.spec import ClosedLoop, OpenLoop, Workload
from loadgen.workload.split import split_evenly, usable_processes

__all__ = [
    "ClosedLoop",
    "ClosedLoopDriver",
    "Driver",
    "OpenLoop",
    "OpenLoopDriver",
    "Recorder",
    "Workload",
    "constant_offsets",
    "poisson_offsets",
    "process_schedule",
    "split_evenly",
    "usable_processes",
]
