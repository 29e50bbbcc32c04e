"""Dealing a run's processes out to the loaders, deterministically.

The run has one list of processes, numbered 0..P-1 across all loaders; loader i takes a
consecutive range of them. Every process's share of the workload is a pure function of its
number, P and the workload (its seed included: `loadgen.workload.schedule`), so the loaders'
schedules together are exactly the schedule one machine runs with P processes for the same
seed; for constant arrivals and closed loops that is the same for any P.
"""

from loadgen.processes.plan import RunPlan
from loadgen.workload.spec import ClosedLoop, OpenLoop
from loadgen.workload.split import split_evenly, usable_processes


def loader_processes(workload: ClosedLoop | OpenLoop, wanted: list[int]) -> list[int]:
    """How many processes each loader runs: `wanted` (one count per loader), or fewer when the
    workload cannot keep that many busy (fewer users, in-flight slots or requests than
    processes: then the usable count is spread evenly, and a loader may get none)."""
    if not wanted or any(count < 1 for count in wanted):
        raise ValueError("every loader needs at least one process")
    usable = usable_processes(workload, sum(wanted))
    if usable == sum(wanted):
        return list(wanted)
    shares = split_evenly(usable, len(wanted))
    # A loader never gets more processes than it asked for; what it cannot take moves on.
    counts = [min(share, cap) for share, cap in zip(shares, wanted, strict=True)]
    spare = usable - sum(counts)
    for index, cap in enumerate(wanted):
        extra = min(spare, cap - counts[index])
        counts[index] += extra
        spare -= extra
    return counts


def loader_plans(run: RunPlan, counts: list[int]) -> list[RunPlan | None]:
    """Each loader's plan: `run` (which describes the whole run) narrowed to its processes;
    None for a loader with none."""
    total = sum(counts)
    if total < 1:
        raise ValueError("a run needs at least one process")
    plans: list[RunPlan | None] = []
    first = 0
    for count in counts:
        if count == 0:
            plans.append(None)
            continue
        plans.append(
            run.model_copy(
                update={"processes": count, "first_index": first, "all_processes": total}
            )
        )
        first += count
    return plans
