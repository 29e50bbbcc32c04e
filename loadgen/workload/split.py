"""Dividing a workload between worker processes so that nothing is lost or duplicated."""

from loadgen.workload.spec import ClosedLoop, OpenLoop


def split_evenly(amount: int, parts: int) -> list[int]:
    """`amount` in `parts` shares that differ by at most one and sum to `amount` exactly.

    The first `amount % parts` shares get the ceiling, the rest the floor.
    """
    if parts < 1:
        raise ValueError("parts must be at least 1")
    base, extra = divmod(amount, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def usable_processes(workload: ClosedLoop | OpenLoop, requested: int) -> int:
    """How many processes can share the workload without any of them having nothing to do."""
    processes = max(1, requested)
    if isinstance(workload, ClosedLoop):
        processes = min(processes, workload.users)
        if workload.total is not None:
            processes = min(processes, workload.total)
        return processes
    processes = min(processes, workload.max_inflight)
    if workload.total is not None:
        processes = min(processes, workload.total)
    return processes


def closed_share(workload: ClosedLoop, index: int, processes: int) -> tuple[int, int | None]:
    """(users, total) for one process; totals sum to the workload's total exactly."""
    users = split_evenly(workload.users, processes)[index]
    total = None
    if workload.total is not None:
        total = split_evenly(workload.total, processes)[index]
    return users, total


def max_inflight_share(workload: OpenLoop, index: int, processes: int) -> int:
    return split_evenly(workload.max_inflight, processes)[index]
