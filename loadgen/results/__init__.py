"""The results tree of a benchmark campaign: what the campaign loop writes, the analysis reads."""

from loadgen.results.models import (
    CampaignManifest,
    CellInfo,
    CellSummary,
    ClockInfo,
    ColdStartEvent,
    FirstRequest,
    MetricsFile,
    PlatformInfo,
    PlatformRecord,
    PlatformVersions,
    SegmentEvent,
    Series,
    Sweep,
)
from loadgen.results.tree import Cell, ResultsError, ResultsTree, open_results

__all__ = [
    "CampaignManifest",
    "Cell",
    "CellInfo",
    "CellSummary",
    "ClockInfo",
    "ColdStartEvent",
    "FirstRequest",
    "MetricsFile",
    "PlatformInfo",
    "PlatformRecord",
    "PlatformVersions",
    "ResultsError",
    "ResultsTree",
    "SegmentEvent",
    "Series",
    "Sweep",
    "open_results",
]
