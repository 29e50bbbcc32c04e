"""The results tree of a benchmark campaign: what the runner writes and the analysis reads."""

from loadgen.results.models import (
    CampaignManifest,
    CellInfo,
    ClockInfo,
    MetricsFile,
    PlatformInfo,
    PlatformRecord,
    PlatformVersions,
    Series,
    Sweep,
)
from loadgen.results.tree import Cell, ResultsError, ResultsTree, open_results

__all__ = [
    "CampaignManifest",
    "Cell",
    "CellInfo",
    "ClockInfo",
    "MetricsFile",
    "PlatformInfo",
    "PlatformRecord",
    "PlatformVersions",
    "ResultsError",
    "ResultsTree",
    "Series",
    "Sweep",
    "open_results",
]
