"""Warnings about cells and groups: one caveat each, grouped by message, and the signs that a
cell measured the client or its host rather than the platform."""

from collections.abc import Iterable
from dataclasses import dataclass

from loadgen.analysis.runs import Run, to_ms
from loadgen.analysis.stats import exact_percentile
from loadgen.metrics.validity import late_sends


@dataclass(frozen=True)
class Caveat:
    """One warning about one cell or group.

    `message` says what is wrong in words shared by every cell or group it concerns, so equal
    messages make one warning; `detail` holds this subject's own figures.
    """

    message: str
    subject: str
    """A cell id or a group label."""
    detail: str = ""


@dataclass(frozen=True)
class GroupedWarning:
    """One warning, once, with every cell or group it concerns and their figures."""

    message: str
    subjects: tuple[tuple[str, str], ...]
    """(cell id or group label, its figures), in the order they were found."""

    def text(self) -> str:
        """One line: the message, then each subject with its figures."""
        return f"{self.message}: " + "; ".join(
            f"{subject} ({detail})" if detail else subject for subject, detail in self.subjects
        )

    def document(self) -> dict[str, object]:
        return {
            "message": self.message,
            "subjects": [{"subject": s, "detail": d} for s, d in self.subjects],
        }


def group_caveats(caveats: Iterable[Caveat]) -> list[GroupedWarning]:
    """Equal messages merged, in order of first appearance; a subject named twice under one
    message (p50 and p99 of one group) keeps one entry with both details."""
    merged: dict[str, dict[str, list[str]]] = {}
    for caveat in caveats:
        details = merged.setdefault(caveat.message, {}).setdefault(caveat.subject, [])
        if caveat.detail:
            details.append(caveat.detail)
    return [
        GroupedWarning(message, tuple((s, "; ".join(d)) for s, d in subjects.items()))
        for message, subjects in merged.items()
    ]


def cell_warnings(run: Run) -> list[Caveat]:
    """Signs that the cell measured the client or its host rather than the platform."""
    cell_id = run.cell.info.id
    requests = run.requests
    found: list[Caveat] = []
    if requests.torn_files:
        found.append(Caveat("incomplete record files", cell_id, ", ".join(requests.torn_files)))
    if requests.count and not requests.ok.any():
        found.append(Caveat("every request failed", cell_id, f"{requests.count} requests"))
    if requests.open_loop and requests.count and run.latency_ms.size:
        lag_p99 = exact_percentile(to_ms(requests.sched_lag_ns), 99)
        latency_p99 = exact_percentile(run.latency_ms, 99)
        late = late_sends(
            sched_lag_p99_ms=lag_p99,
            latency_p99_ms=latency_p99,
            cpu_share=[share for load in run.loads for share in load.client_cpu],
            hosts=[load.host for load in run.loads if load.host is not None],
        )
        if late is not None:
            found.append(Caveat(late.message, cell_id, late.detail))
    if requests.dropped:
        found.append(Caveat("open-loop arrivals dropped", cell_id, f"{requests.dropped} dropped"))
    return found
