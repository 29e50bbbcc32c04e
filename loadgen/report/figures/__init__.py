"""The report's figures, drawn with matplotlib's Agg backend into PNG and SVG bytes: every figure
in order (`FIGURES`) and `all_figures`, the entry point. Each family has its module here;
`common` holds what they share.

Every figure function returns a `Figure` even without data: an empty figure says so in the
image and in its caption, so a reader never mistakes a missing plot for a blank one.
"""

from collections.abc import Callable, Sequence

from loadgen.analysis.aggregate import Aggregate
from loadgen.report.figures.cold_starts import cold_breakdown
from loadgen.report.figures.common import Figure
from loadgen.report.figures.completions import completions_figure
from loadgen.report.figures.distributions import box_replicas, box_users, latency_cdf
from loadgen.report.figures.errors import error_rates
from loadgen.report.figures.memory import cost_memory, latency_memory
from loadgen.report.figures.queue import queue_over_time
from loadgen.report.figures.resources import resource_usage
from loadgen.report.figures.sweeps import medians_ci, throughput_users
from loadgen.report.figures.timeline import latency_over_time

FIGURES: tuple[Callable[[Sequence[Aggregate]], Figure], ...] = (
    latency_cdf,
    box_users,
    box_replicas,
    medians_ci,
    throughput_users,
    latency_memory,
    cost_memory,
    latency_over_time,
    queue_over_time,
    completions_figure,
    cold_breakdown,
    error_rates,
    resource_usage,
)


def all_figures(
    results: Sequence[Aggregate], on_figure: Callable[[str], None] | None = None
) -> list[Figure]:
    """Every figure of `FIGURES`, in order; `on_figure` gets each one's function name as it
    starts (for progress)."""
    figures = []
    for make in FIGURES:
        if on_figure is not None:
            on_figure(make.__name__)
        figures.append(make(results))
    return figures
